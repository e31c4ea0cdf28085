"""A meter that an os-ken application installs drops above its rate.

Debian's os-ken (python3-os-ken) runs tests/system/osken_meter_app.py,
which adds meter 1 with an OFPMeterMod and a flow in_port=1 with the
meter instruction (os-ken's own encoding of both).  Traffic sent far
above the rate into port 1 comes out of port 2 at no more than the
meter's burst plus its rate over the time the test measured, and the
meter statistics (read with ovs-ofctl) account for every frame.
"""

import os
import subprocess

import pytest

from daemon_util import wait_for
from test_meters import Switch, flood_meter
from test_meters import pytestmark as meters_marks
from test_openflow_controller import Controller, free_tcp_port, have_osken

pytestmark = [meters_marks,
              pytest.mark.skipif(not have_osken(),
                                 reason="needs os-ken (python3-os-ken)")]

HERE = os.path.dirname(os.path.abspath(__file__))
RATE, BURST, N_SEND = 100, 10, 600


class MeterController(Controller):
    def start(self):
        env = dict(os.environ, OSKEN_METER_RATE=str(RATE),
                   OSKEN_METER_BURST=str(BURST))
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                ["osken-manager", "--ofp-listen-host", "127.0.0.1",
                 "--ofp-tcp-listen-port", str(self.port),
                 os.path.join(HERE, "osken_meter_app.py")],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_for(lambda: self.proc.poll() is not None or self._listens(),
                 "os-ken to listen")
        assert self.proc.poll() is None, self.read_log()
        return self


def test_osken_meter_drops_above_its_rate(tmp_path):
    ctl = MeterController(tmp_path, free_tcp_port()).start()
    sw = None
    try:
        sw = Switch(tmp_path, "--controller", f"tcp:127.0.0.1:{ctl.port}")
        wait_for(lambda: "meter:1,output:2" in sw.d.ctl("dump-flows"),
                 "the controller's metered flow")
        assert "meter=1 pktps burst stats bands=\ntype=drop rate=100 " \
            "burst_size=10\n" in sw.d.ctl("dump-meters")
        elapsed, n_out, (flow_count, packet_in, _, bands) = \
            flood_meter(sw, 1, N_SEND)
        passed = packet_in - bands[0][0]
        assert flow_count == 1 and n_out == passed
        assert BURST <= passed <= BURST + RATE * elapsed + 1, \
            (passed, elapsed)
    finally:
        if sw:
            sw.close()
        ctl.stop()
