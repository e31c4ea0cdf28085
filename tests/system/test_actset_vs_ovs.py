"""The OpenFlow 1.3 action set (write_actions, clear_actions) and
set_queue forward packets exactly as Open vSwitch 3.1 does, with as many
megaflows: a differential test against recorded OVS output.

tests/system/data/actset/record_ovs.py ran each case of actset_cases.py
through Open vSwitch 3.1 (dummy datapath) once and stored the bytes it
transmitted on ports 2 and 3, its datapath flows and their number, or the
error with which it refused the flows.  Here flowswitchd replays the same
packets (replay mode, pcap ports) through the same flows: each port must
carry the same bytes and the cache must end with as many megaflows; flows
OVS refuses, flowswitchd refuses too, with one error line.  (OVS also
emits set(skb_priority(N)) for set_queue:N, which changes no byte:
flowswitch has no QoS queues and emits nothing.)
"""

import json
import os
import re

import pytest
from scapy.utils import rdpcap, wrpcap

import actset_cases
from daemon_util import Daemon, assert_conserved, parse_summary

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "actset", "ovs-actset.json")) as f:
    RECORDED = json.load(f)["cases"]


def test_every_case_has_a_recording():
    cases = {c[0]: c for c in actset_cases.CASES}
    assert set(RECORDED) == set(cases), "re-run record_ovs.py"
    for name, rec in RECORDED.items():
        assert rec["flows"] == cases[name][1], name
        if "refused" not in rec:
            assert rec["in"] == [f.hex() for f in
                                 actset_cases.packets(cases[name][2])], name


def replay(tmp_path, rec):
    cap = tmp_path / "in.pcap"
    wrpcap(str(cap), [bytes.fromhex(h) for h in rec.get("in", [])]
           or actset_cases.packets(rec["tagged"]), linktype=1)
    flows = tmp_path / "flows.txt"
    flows.write_text("\n".join(rec["flows"]) + "\n")
    d = Daemon("--port", f"p1,rx={cap}",
               "--port", f"p2,tx={tmp_path / 'p2.pcap'}",
               "--port", f"p3,tx={tmp_path / 'p3.pcap'}",
               "--flows", str(flows), "--exit-when-drained",
               tmpdir=str(tmp_path)).start(wait=False)
    return d, d.wait()


def megaflows_in_cache(stdout):
    m = re.search(r"in the cache now (\d+)", stdout)
    assert m, stdout
    return int(m.group(1))


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_action_set_forwards_as_ovs_does(tmp_path, name):
    rec = RECORDED[name]
    d, status = replay(tmp_path, rec)
    if "refused" in rec:
        # One error line that names the flow language's complaint.
        lines = [ln for ln in d.stderr.splitlines() if "flowswitchd:" in ln]
        assert status and len(lines) == 1 and "flow:" in lines[0], \
            f"{rec['flows']}: status {status}, stderr {d.stderr}"
        return
    assert status == 0, d.stderr + d.read_log()
    assert_conserved(parse_summary(d.stdout))
    for port, want in rec["out"].items():
        path = tmp_path / f"p{port}.pcap"
        got = [bytes(p).hex() for p in rdpcap(str(path))] \
            if path.exists() else []
        assert sorted(got) == sorted(want), \
            f"port {port}; OVS's datapath flows: {rec['datapath_flows']}"
    assert megaflows_in_cache(d.stdout) == rec["megaflows"], \
        f"OVS's datapath flows: {rec['datapath_flows']}"
