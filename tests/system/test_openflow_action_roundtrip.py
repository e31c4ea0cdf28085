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

MULTIPART_REQUEST, MULTIPART_REPLY, OFPMP_FLOW = 18, 19, 1
OFPIT_APPLY_ACTIONS = 4
COOKIE_BASE = 0x5100


def flow_mod_add(cookie, priority, match, actions, xid):
    body = struct.pack("!QQBBHHHIIIH2x", cookie, 0, 0, 0, 0, 0, priority,
                       oc.NO_BUFFER, 0xffffffff, 0xffffffff, 0)
    instruction = struct.pack("!HH4x", OFPIT_APPLY_ACTIONS,
                              8 + len(actions)) + actions
    return oc.msg(oc.FLOW_MOD, body + match + instruction, xid)


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


def test_actions_read_back_as_open_vswitch_sends_them(tmp_path):
    sock = str(tmp_path / "of.sock")
    d = Daemon("--port", "p1,type=memory", "--port", "p2,type=memory",
               "--port", "p3,type=memory", "--listen", f"punix:{sock}",
               tmpdir=str(tmp_path)).start()
    try:
        c = oc.Client(sock)
        accepted = {}
        for i, (name, match, actions) in enumerate(corpus.CORPUS):
            rec = RECORDED[name]
            assert rec["in"] == actions.hex(), "re-run record_ovs_actions.py"
            if "refused" in rec:
                continue
            c.send(flow_mod_add(COOKIE_BASE + i, 100 + i,
                                corpus.match_bytes(match), actions, xid=i))
            accepted[COOKIE_BASE + i] = name
        errors = [m for m in c.barrier() if m[1] == oc.ERROR]
        assert not errors, [(struct.unpack("!I", m[4:8])[0],
                             oc.error_of(m)) for m in errors]
        flows = flow_stats(c)
        wrong = {}
        for cookie, name in accepted.items():
            want = bytes.fromhex(RECORDED[name]["out"])
            want = struct.pack("!HH4x", OFPIT_APPLY_ACTIONS,
                               8 + len(want)) + want
            got = flows.get(cookie)
            if got != want:
                wrong[name] = (want.hex(), got.hex() if got else None)
        assert not wrong, "\n".join(f"{n}: want {w}\n{' ' * len(n)}  got  {g}"
                                    for n, (w, g) in sorted(wrong.items()))
        c.close()
    finally:
        stopped_cleanly(d)


def test_open_vswitch_keeps_an_outputs_max_len():
    # What the recording says about the bug this file was written for.
    for name in ("output-max_len-ffe5", "output-max_len-128"):
        assert RECORDED[name]["out"] == RECORDED[name]["in"]
