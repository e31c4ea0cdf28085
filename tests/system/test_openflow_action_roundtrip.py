"""A controller reads back the flows it wrote: every action of
ofp_action_corpus.py, installed with an OpenFlow 1.3 flow-mod, comes back
in the flow-stats reply as Open vSwitch 3.1 sends it back.

tests/system/data/openflow/record_ovs_actions.py recorded, once, what OVS
re-encodes for each action list (ovs-actions.json); OVS sends back the
bytes it was given except where noted there.  Memory ports only: no root
needed.
"""

import json
import os
import struct

import ofp_action_corpus as corpus
import ofp_client as oc
from daemon_util import Daemon, stopped_cleanly

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "openflow", "ovs-actions.json")) as f:
    RECORDED = json.load(f)["actions"]
with open(os.path.join(HERE, "data", "openflow",
                       "ovs-instructions.json")) as f:
    RECORDED_INSTRUCTIONS = json.load(f)["instructions"]

MULTIPART_REQUEST, MULTIPART_REPLY, OFPMP_FLOW = 18, 19, 1
OFPIT_APPLY_ACTIONS = 4
COOKIE_BASE = 0x5100


def flow_mod_add(cookie, priority, match, instructions, xid):
    body = struct.pack("!QQBBHHHIIIH2x", cookie, 0, 0, 0, 0, 0, priority,
                       oc.NO_BUFFER, 0xffffffff, 0xffffffff, 0)
    return oc.msg(oc.FLOW_MOD, body + match + instructions, xid)


def flow_stats(client):
    """{cookie: instructions bytes} of every flow of table 0."""
    req = struct.pack("!HH4xB3xII4xQQ", OFPMP_FLOW, 0, 0xff, 0xffffffff,
                      0xffffffff, 0, 0) + corpus.match_bytes([])
    client.send(oc.msg(MULTIPART_REQUEST, req, xid=7))
    flows = {}
    while True:
        m = client.recv_type(MULTIPART_REPLY)
        more = struct.unpack("!H", m[10:12])[0] & 1
        p = m[16:]
        while p:
            length = struct.unpack("!H", p[:2])[0]
            entry, p = p[:length], p[length:]
            cookie = struct.unpack("!Q", entry[24:32])[0]
            match_len = struct.unpack("!H", entry[50:52])[0]
            ofs = 48 + match_len + (-match_len % 8)
            flows[cookie] = entry[ofs:]
        if not more:
            return flows


def apply_actions(actions):
    return corpus.instruction(OFPIT_APPLY_ACTIONS, actions)


def read_back(tmp_path, entries, recorded, wrap):
    """Installs every entry (name, match, bytes) that OVS accepted, as the
    instructions wrap(bytes), and returns {name: (want, got)} for those
    that do not come back as wrap(the bytes OVS sends back), and the names
    of those OVS refused and flowswitch did not."""
    sock = str(tmp_path / "of.sock")
    d = Daemon("--port", "p1,type=memory", "--port", "p2,type=memory",
               "--port", "p3,type=memory", "--listen", f"punix:{sock}",
               tmpdir=str(tmp_path)).start()
    try:
        c = oc.Client(sock)
        accepted, refused = {}, {}
        for i, (name, match, data) in enumerate(entries):
            rec = recorded[name]
            assert rec["in"] == data.hex(), "re-run record_ovs_actions.py"
            c.send(flow_mod_add(COOKIE_BASE + i, 100 + i,
                                corpus.match_bytes(match), wrap(data), xid=i))
            (refused if "refused" in rec else accepted)[i] = name
        errors = {struct.unpack("!I", m[4:8])[0]: oc.error_of(m)
                  for m in c.barrier() if m[1] == oc.ERROR}
        assert set(errors) <= set(accepted) | set(refused)
        assert not set(errors) & set(accepted), errors
        flows = flow_stats(c)
        wrong = {}
        for i, name in accepted.items():
            want = wrap(bytes.fromhex(recorded[name]["out"]))
            got = flows.get(COOKIE_BASE + i)
            if got != want:
                wrong[name] = (want.hex(), got.hex() if got else None)
        c.close()
    finally:
        stopped_cleanly(d)
    return wrong, sorted(refused[i] for i in set(refused) - set(errors))


def assert_all_right(wrong):
    assert not wrong, "\n".join(f"{n}: want {w}\n{' ' * len(n)}  got  {g}"
                                for n, (w, g) in sorted(wrong.items()))


def test_actions_read_back_as_open_vswitch_sends_them(tmp_path):
    wrong, _ = read_back(tmp_path, corpus.CORPUS, RECORDED, apply_actions)
    assert_all_right(wrong)


def test_instructions_read_back_as_open_vswitch_sends_them(tmp_path):
    """write_actions and clear_actions come back in OpenFlow's order, an
    empty write_actions not at all; what OVS refuses, flowswitch refuses
    too."""
    wrong, not_refused = read_back(tmp_path, corpus.INSTRUCTIONS,
                                   RECORDED_INSTRUCTIONS, lambda b: b)
    assert_all_right(wrong)
    assert not not_refused


def test_open_vswitch_keeps_an_outputs_max_len():
    # What the recording says about the bug this file was written for.
    for name in ("output-max_len-ffe5", "output-max_len-128"):
        assert RECORDED[name]["out"] == RECORDED[name]["in"]
