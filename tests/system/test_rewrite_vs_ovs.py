"""Every field the flow language can write reaches the packet exactly as
Open vSwitch writes it: a differential test against recorded OVS output.

tests/system/data/rewrite/record_ovs.py ran each case of rewrite_cases.py
through Open vSwitch 3.1 (dummy datapath) once and stored, per case, the
input packets, the bytes OVS transmitted on port 2 (checksums included) and
its datapath actions, or the error with which it refused the flow.  Here
flowswitchd replays the same packets (replay mode, pcap ports) with the
same flow, and port 2 must carry the same bytes; a flow OVS refuses,
flowswitchd refuses too, with one error line.  (Packets of different flows
may leave in another order than they came, so each case compares sorted
lists.)
"""

import json
import os

import pytest
from scapy.utils import rdpcap, wrpcap

import mpls_cases
import rewrite_cases
from daemon_util import Daemon, assert_conserved, parse_summary
from traffic_util import SANITIZER

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "rewrite", "ovs-rewrites.json")) as f:
    RECORDED = json.load(f)["cases"]

# Fields OVS 3.1 accepts in set_field but cannot write: ovs-ofctl encodes
# set_field:7->dl_vlan (a field with no NXM or OXM header) as a set_field
# to in_port, so the tag never changes; dl_vlan_pcp the switch refuses
# (OFPBAC_BAD_SET_LEN).  flowswitch refuses both as read-only; vlan_vid,
# vlan_pcp and mod_vlan_vid/mod_vlan_pcp write the same bits.
OVS_CANNOT_WRITE = {"dl_vlan", "dl_vlan_pcp"}


def test_every_writable_field_has_a_recorded_case():
    cases = {c[0]: c for c in rewrite_cases.CASES}
    assert set(RECORDED) == set(cases), "re-run record_ovs.py"
    for name, rec in RECORDED.items():
        assert rec["flow"] == rewrite_cases.flow_line(cases[name]), name
    written = {rec["field"] for rec in RECORDED.values()
               if "refused" not in rec and rec["field"] not in OVS_CANNOT_WRITE}
    # The MPLS fields and tun_id are compared with OVS by
    # test_mpls_vs_ovs.py.
    missing = set(rewrite_cases.writable_fields()) - written \
        - mpls_cases.fields_written()
    assert not missing, f"writable fields without a case OVS accepts: {missing}"
    assert not OVS_CANNOT_WRITE & set(rewrite_cases.writable_fields())


def replay(tmp_path, rec):
    cap = tmp_path / "in.pcap"
    wrpcap(str(cap), [bytes.fromhex(h) for h in rec["in"]], linktype=1)
    flows = tmp_path / "flows.txt"
    flows.write_text(rec["flow"] + "\n")
    tx = tmp_path / "p2.pcap"
    d = Daemon("--port", f"p1,rx={cap}", "--port", f"p2,tx={tx}",
               "--flows", str(flows), "--exit-when-drained",
               tmpdir=str(tmp_path)).start(wait=False)
    status = d.wait()
    return d, status, tx


# Every case runs in the default and ASan builds.  Under ThreadSanitizer
# (which looks for races: one rewrite more adds none, and each case costs a
# daemon start at TSan speed) every fourth, a fixed sample, to keep the
# suite within its CI budget.
CASE_NAMES = sorted(RECORDED)
if SANITIZER == "tsan":
    CASE_NAMES = CASE_NAMES[::4]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_rewrite_leaves_the_packet_as_ovs_does(tmp_path, name):
    rec = RECORDED[name]
    d, status, tx = replay(tmp_path, rec)
    if "refused" in rec or rec["field"] in OVS_CANNOT_WRITE:
        assert status != 0, f"{rec['flow']} was accepted"
        errors = [ln for ln in d.stderr.splitlines()
                  if ln.startswith("flowswitchd:")]
        assert len(errors) == 1, d.stderr
        assert "flow:" in errors[0], errors[0]
        return
    assert status == 0, d.stderr + d.read_log()
    summary = parse_summary(d.stdout)
    assert_conserved(summary)
    got = sorted(bytes(p).hex() for p in rdpcap(str(tx))) \
        if tx.exists() else []
    assert got == sorted(rec["out"]), \
        f"{rec['flow']}\nOVS datapath actions: {rec['datapath_actions']}"
