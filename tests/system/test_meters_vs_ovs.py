"""Flows with meters forward and cache exactly as in Open vSwitch, while
the packets stay under the meters' rates: a differential test against
recorded OVS output.

tests/system/data/meters/record_ovs.py ran each case (meters, OpenFlow 1.3
flows that use them, packets) through Open vSwitch 3.1 once and stored
the bytes OVS sent on port 2, how many megaflows it cached and their
datapath actions (meter(N) as its dpctl prints it).  Here flowswitchd, on
veth pairs, gets the same meters and flows through ovs-ofctl and the same
packets; port 2 must carry the same bytes, and the datapath must hold the
same number of megaflows with the same actions.
"""

import json
import os
import re
import socket

import pytest

from daemon_util import wait_for
# The module's switch: test_meters's fixture, a daemon of its own here.
from test_meters import pytestmark, switch  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "meters", "ovs-meters.json")) as f:
    RECORDED = json.load(f)["cases"]


def drain(sock, got):
    while True:
        try:
            data, addr = sock.recvfrom(65536)
        except BlockingIOError:
            return got
        if addr[2] != socket.PACKET_OUTGOING:
            got.append(data.hex())


def megaflow_actions(sw):
    dump = sw.d.ctl("dpctl/dump-flows")
    return sorted(m.group(1) for m in re.finditer(r"actions:(\S+)", dump))


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_metered_flows_forward_and_cache_as_ovs_does(switch, name):
    sw, rec = switch, RECORDED[name]
    sw.ofctl("del-flows")
    sw.ofctl("del-meters")
    sw.d.ctl("dpctl/del-flows")
    for m in rec["meters"]:
        sw.ofctl("add-meter", m)
    for f in rec["flows"]:
        sw.ofctl("add-flow", f)
    got = []
    drain(sw.socks[1], got)
    for frame in rec["in"]:
        sw.socks[0].send(bytes.fromhex(frame))
    wait_for(lambda: len(drain(sw.socks[1], got)) >= len(rec["out"]),
             f"{len(rec['out'])} frames out of port 2")
    assert sorted(got) == sorted(rec["out"])
    want = rec["datapath_actions"]
    wait_for(lambda: megaflow_actions(sw) == want,
             f"megaflows {want} (have {megaflow_actions(sw)})")
    assert len(want) == rec["megaflows"]
    n_in = sum(int(n) for n in re.findall(
        r"packet_in_count:(\d+)", sw.ofctl("meter-stats").stdout))
    ovs_in = sum(int(n) for n in re.findall(r"packet_in_count:(\d+)",
                                            rec["meter_stats"]))
    assert n_in == ovs_in
