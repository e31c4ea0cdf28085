"""dump-flows prints every flow of the syntax corpus as Open vSwitch 3.1.

For each flow of tests/system/data/flows-corpus.txt, alone in the table:

  - added through the control socket (add-flows FILE) and dumped with
    flowswitchd's own dump-flows, it prints exactly what `ovs-ofctl
    dump-flows br0` printed against Open vSwitch after `ovs-ofctl
    add-flows` of the same line, with ovs-ofctl's default protocol;
  - added with `ovs-ofctl -O OpenFlow13 add-flows` against flowswitchd's
    OpenFlow listener, `ovs-ofctl -O OpenFlow13 dump-flows` prints what it
    printed against Open vSwitch.

Only durations and ages (duration=, idle_age=, hard_age=) are normalised.
What Open vSwitch printed is in data/flows-corpus.dump-ovs.json, recorded
by data/record_dump_ovs.py; the tests never run Open vSwitch.  Lines Open
vSwitch refused in a way are skipped in that way.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

from daemon_util import TOP, Daemon, rpc, stopped_cleanly

DATA = os.path.join(TOP, "tests", "system", "data")
RECORDED = os.path.join(DATA, "flows-corpus.dump-ovs.json")
OFCTL13 = ["ovs-ofctl", "--no-names", "-O", "OpenFlow13"]


def ctl(d, method, *params):
    """A control command's text, straight over the socket (a flowswitch-ctl
    process per command would cost most of the test's time under a
    sanitizer, over three commands for each of ~390 flows)."""
    reply = rpc(d.sock, json.dumps({"id": 1, "method": method,
                                    "params": list(params)}).encode())
    assert reply is not None and reply.get("error") is None, (method, reply)
    return reply["result"]


def recorded_flows():
    with open(RECORDED) as f:
        return json.load(f)["flows"]


def flow_lines(text):
    """The flow lines of a dump, durations and ages normalised."""
    out = []
    for line in text.splitlines():
        if not line.startswith(" "):
            continue    # The reply header ovs-ofctl prints.
        line = re.sub(r"duration=[0-9.]+s", "duration=X", line)
        line = re.sub(r"idle_age=\d+", "idle_age=X", line)
        line = re.sub(r"hard_age=\d+", "hard_age=X", line)
        out.append(line)
    return out


def cases(way):
    return [(e["flow"], flow_lines(e[way]["dump"]["stdout"]))
            for e in recorded_flows() if e[way]["add"]["rc"] == 0]


def memory_ports():
    return [a for i in (1, 2, 3)
            for a in ("--port", f"p{i},type=memory,ofport={i}")]


@pytest.fixture(scope="module")
def switch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dumpcorpus")
    sock = str(tmp / "of.sock")
    empty = tmp / "none.flows"
    empty.write_text("\n")
    d = Daemon(*memory_ports(), "--flows", str(empty),
               "--listen", f"punix:{sock}", tmpdir=str(tmp)).start()
    try:
        yield d, f"unix:{sock}", tmp
    finally:
        stopped_cleanly(d)


# Where flowswitch prints something else on purpose.  ovs-ofctl sends a
# masked set_field on a field that has an OpenFlow 1.0 action as that
# action, which writes the whole field (the mask is lost, the packet
# changes in bits the rule does not name); flowswitch keeps the rule's
# meaning and stores it as the loads Open vSwitch uses for masked writes
# of the other fields.
OWN_SPELLING = {
    "actions=set_field:0x1005/0x1fff->vlan_tci":
        ("actions=mod_vlan_vid:5,mod_vlan_pcp:0",
         "actions=load:0x1005->NXM_OF_VLAN_TCI[0..12]"),
    "tcp,actions=set_field:80/0xff->tcp_dst":
        ("actions=mod_tp_dst:80", "actions=load:0x50->NXM_OF_TCP_DST[0..7]"),
}


def compare(cases, dump_one, own_spelling=None):
    mismatches = []
    for flow, want in cases:
        if own_spelling and flow in own_spelling:
            ovs, own = own_spelling[flow]
            assert len(want) == 1 and want[0].endswith(ovs), want
            want = [want[0][:-len(ovs)] + own]
        got = dump_one(flow)
        if got != want:
            mismatches.append("%s\n   got: %s\n  want: %s" % (flow, got, want))
    return mismatches


def test_recording_covers_the_corpus():
    flows = recorded_flows()
    assert len(flows) >= 380
    # The few lines Open vSwitch refuses with its default protocol need
    # OpenFlow 1.1+ (push_vlan, importance with the OF1.3 flags) or are
    # out of OpenFlow 1.1's instruction order.
    assert len(cases("default")) >= len(flows) - 8
    assert len(cases("of13")) >= len(flows) - 4


def test_local_dump_prints_what_ovs_ofctl_dump_flows_prints(switch):
    d, _, tmp = switch
    path = tmp / "one.flows"

    def dump_one(flow):
        path.write_text(flow + "\n")
        ctl(d, "del-flows")
        ctl(d, "add-flows", str(path))
        return flow_lines(ctl(d, "dump-flows"))

    mismatches = compare(cases("default"), dump_one, OWN_SPELLING)
    assert not mismatches, "\n".join(mismatches)


def test_local_dump_reads_back_to_the_same_flows(switch):
    # dump-flows -> add-flows -> dump-flows changes nothing (the spelling
    # of every action survives the round trip).
    d, _, tmp = switch
    path = tmp / "again.flows"
    for flow, want in cases("default"):
        path.write_text(flow + "\n")
        ctl(d, "del-flows")
        ctl(d, "add-flows", str(path))
        first = ctl(d, "dump-flows")
        path.write_text(first)
        ctl(d, "del-flows")
        ctl(d, "add-flows", str(path))
        assert flow_lines(ctl(d, "dump-flows")) == flow_lines(first), flow


@pytest.mark.skipif(shutil.which("ovs-ofctl") is None,
                    reason="ovs-ofctl (openvswitch-common) is not installed")
def test_openflow13_dump_prints_what_ovs_prints(switch):
    _, target, tmp = switch
    path = tmp / "of13.flows"

    def ofctl(*args):
        res = subprocess.run(OFCTL13 + [args[0], target] + list(args[1:]),
                             capture_output=True, text=True, timeout=60)
        return res

    def dump_one(flow):
        path.write_text(flow + "\n")
        ofctl("del-flows")
        add = ofctl("add-flows", str(path))
        if add.returncode:
            return ["refused: " + add.stderr.strip()]
        return flow_lines(ofctl("dump-flows").stdout)

    mismatches = compare(cases("of13"), dump_one)
    assert not mismatches, "\n".join(mismatches)
