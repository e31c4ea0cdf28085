"""ovs-ofctl -O OpenFlow13 against flowswitchd's OpenFlow listeners.

The scenario (tests/system/openflow_scenario.py) adds, modifies, deletes
and dumps flows, sends packet-outs and dumps ports and tables; what
ovs-ofctl prints against flowswitchd must equal what it printed against
Open vSwitch 3.1 for the same commands (recorded in
tests/system/data/openflow/ovs-expected.json), after the normalisation
the scenario module documents.  Open vSwitch is not run here.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

import openflow_scenario as sc
from daemon_util import TOP, Daemon, stopped_cleanly, wait_for

pytestmark = pytest.mark.skipif(shutil.which("ovs-ofctl") is None,
                                reason="ovs-ofctl (openvswitch-common) "
                                       "is not installed")

EXPECTED = os.path.join(TOP, "tests", "system", "data", "openflow",
                        "ovs-expected.json")


def memory_ports():
    return [a for i in (1, 2, 3)
            for a in ("--port", f"p{i},type=memory,ofport={i}")]


def ofctl(target, *args, check=True):
    res = subprocess.run(sc.OFCTL + [args[0], target] + list(args[1:]),
                         capture_output=True, text=True, timeout=60)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def bound_tcp_port(d):
    """The port a ptcp:0 listener got, from openflow/show."""
    text = d.ctl("openflow/show")
    m = re.search(r"listener ptcp:(\d+):", text)
    assert m, text
    return int(m.group(1))


@pytest.fixture
def punix_switch(tmp_path):
    sock = str(tmp_path / "of.sock")
    d = Daemon(*memory_ports(), "--listen", f"punix:{sock}",
               tmpdir=str(tmp_path)).start()
    try:
        yield d, f"unix:{sock}"
    finally:
        stopped_cleanly(d)


def test_scenario_matches_open_vswitch(punix_switch, tmp_path):
    d, target = punix_switch
    flows = tmp_path / "batch.flows"
    flows.write_text(sc.ADD_FLOWS_FILE)
    got = sc.run(target, str(flows))
    with open(EXPECTED) as f:
        expected = json.load(f)["steps"]
    assert set(got) == set(expected)
    for name in expected:
        want = sc.normalize(name, expected[name], "TARGET")
        have = sc.normalize(name, got[name], target)
        assert have == want, f"step {name}"


def test_ptcp_listener_serves_ovs_ofctl(tmp_path):
    d = Daemon(*memory_ports(), "--listen", "ptcp:0:127.0.0.1",
               tmpdir=str(tmp_path)).start()
    try:
        target = f"tcp:127.0.0.1:{bound_tcp_port(d)}"
        ofctl(target, "add-flow", "priority=7,udp,actions=output:2")
        out = ofctl(target, "dump-flows", "udp").stdout
        assert "priority=7,udp actions=output:2" in out
        # The same flow, seen through the control socket.
        assert "priority=7,udp actions=output:2" in d.ctl("dump-flows")
    finally:
        stopped_cleanly(d)


def flows_without_durations(d):
    return re.sub(r"duration=[0-9.]+s", "", d.ctl("dump-flows"))


def test_refused_flow_mod_changes_nothing(punix_switch):
    d, target = punix_switch
    ofctl(target, "add-flow", "priority=5,ip,actions=drop")
    before = flows_without_durations(d)
    # Overlaps ip at the same priority: only the switch can tell.
    res = ofctl(target, "add-flow", "check_overlap,priority=5,tcp,"
                "actions=output:1", check=False)
    assert res.returncode != 0
    assert "OFPFMFC_OVERLAP" in res.stderr
    assert flows_without_durations(d) == before
    wait_for(lambda: "ofconn_flow_mod_refused" in d.ctl("coverage/show"),
             "the refusal counted")


def test_openflow_10_is_refused_with_hello_failed(punix_switch):
    d, target = punix_switch
    res = subprocess.run(["ovs-ofctl", "-O", "OpenFlow10", "show", target],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert "version negotiation failed" in res.stderr
    wait_for(lambda: "ofconn_hello_failed" in d.ctl("coverage/show"),
             "the refusal counted")


def test_send_flow_rem_flow_removed_reaches_monitor(punix_switch, tmp_path):
    d, target = punix_switch
    # ovs-ofctl monitor opens a control socket of its own in OVS_RUNDIR.
    env = dict(os.environ, OVS_RUNDIR=str(tmp_path))
    mon = subprocess.Popen(sc.OFCTL + ["monitor", target, "65000"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env)
    try:
        wait_for(lambda: "service" in d.ctl("openflow/show")
                 and "miss_send_len 65000" in d.ctl("openflow/show"),
                 "the monitor to ask for asynchronous messages")
        ofctl(target, "add-flow", "send_flow_rem,priority=9,cookie=0x77,"
              "icmp,actions=drop")
        ofctl(target, "del-flows", "--strict", "priority=9,icmp")
        wait_for(lambda: "flow_removed 1" in d.ctl("openflow/show"),
                 "the flow-removed to be queued")
    finally:
        mon.terminate()
        out, err = mon.communicate(timeout=30)
    out += err  # ovs-ofctl may print what it receives on either.
    assert "OFPT_FLOW_REMOVED" in out
    assert "priority=9,icmp reason=delete" in out
    assert "cookie:0x77" in out
