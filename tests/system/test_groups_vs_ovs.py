"""Groups forward as Open vSwitch forwards them, with as many megaflows:
a differential test against recorded OVS output.

tests/system/data/groups/record_ovs.py ran each case of group_cases.py
through Open vSwitch 3.1 (dummy datapath) once and stored the frames it
sent on ports 2 and 3, its datapath flows and their number.  Here one
flowswitchd (pcap ports) takes each case's groups and flows through the
control socket, then a pcap port 1 replays the same frames: ports 2 and 3
must carry the same bytes (compared sorted per port: frames of different
megaflows may leave in another order), and the datapath must hold as many
megaflows as OVS's did.

Select groups are the exception, said here rather than hidden: Open
vSwitch 3.1 picks a select bucket in the datapath (hash(sym_l4) and a
recirculation, one megaflow before it and one per dp_hash value after),
flowswitch in translation (one megaflow that un-wildcards the hashed
fields when the group has a choice, none when it has not).  The select
cases have one usable bucket, so the bytes must agree, and flowswitch
must use exactly one megaflow where OVS used 1 + its dp_hash values.
The hash_fields cases (selection_method=hash) hash in translation in
both switches, over the same fields, with Open vSwitch's hash functions
and its choice of bucket: the same bytes on the same ports, through as
many megaflows.
"""

import json
import os

import pytest
from scapy.utils import rdpcap, wrpcap

import group_cases
from daemon_util import Daemon, stopped_cleanly, wait_for
from traffic_util import port_stats

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "groups", "ovs-groups.json")) as f:
    RECORDED = json.load(f)["cases"]


def test_every_case_is_recorded():
    assert set(RECORDED) == {c[0] for c in group_cases.CASES}, \
        "re-run record_ovs.py"
    for name, groups, flows, packets in group_cases.CASES:
        rec = RECORDED[name]
        assert (rec["groups"], rec["flows"]) == (groups, flows), name
        assert rec["in"] == [bytes(p).hex() for p in packets], name


def n_megaflows(d):
    return sum(1 for line in d.ctl("dpctl/dump-flows").splitlines()
               if line.strip())


def run_case(tmp_path, rec):
    cap = tmp_path / "in.pcap"
    wrpcap(str(cap), [bytes.fromhex(h) for h in rec["in"]], linktype=1)
    tx = {p: tmp_path / f"p{p}.pcap" for p in (2, 3)}
    d = Daemon("--port", f"p2,tx={tx[2]},ofport=2",
               "--port", f"p3,tx={tx[3]},ofport=3",
               tmpdir=str(tmp_path)).start()
    try:
        d.ctl("del-flows")
        for g in rec["groups"]:
            d.ctl("add-group", g)
        for f in rec["flows"]:
            d.ctl("add-flow", f)
        d.ctl("port/add", f"p1,rx={cap},ofport=1")
        # Frames out of ports 2 and 3 together (a wrong bucket shows in
        # the comparison, not as a wait that never ends).
        want = sum(len(rec["out"][str(p)]) for p in (2, 3))
        wait_for(lambda: port_stats(d)["p1"].get("ended")
                 and sum(port_stats(d)[f"p{p}"]["tx"] for p in (2, 3))
                 >= want, "the replay forwarded")
        megaflows = n_megaflows(d)
    finally:
        stopped_cleanly(d)
    out = {p: sorted(bytes(f).hex() for f in rdpcap(str(tx[p])))
           if tx[p].exists() else [] for p in tx}
    return out, megaflows


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_group_forwards_as_ovs_does(tmp_path, name):
    rec = RECORDED[name]
    out, megaflows = run_case(tmp_path, rec)
    for p in (2, 3):
        assert out[p] == sorted(rec["out"][str(p)]), \
            f"port {p}; OVS datapath flows: {rec['megaflows']}"
    if name.startswith("select"):
        assert megaflows == 1 < rec["n_megaflows"], rec["megaflows"]
    else:
        assert megaflows == rec["n_megaflows"], rec["megaflows"]
