#!/usr/bin/python3
"""Writes the seed corpus of the fuzz_openflow target.

One file per seed in tests/fuzz/corpus/openflow/: a stream of OpenFlow 1.3
messages as a connection would receive them (fuzz_openflow.c frames the
input by the length fields).  The seeds hold one of each message the
switch decodes: HELLO with a version bitmap, FLOW_MODs whose matches use
basic OXM, Nicira and ONF experimenter fields with and without masks and
whose instructions carry every action the codec knows (output,
controller, set_field, push/pop VLAN, dec_ttl, push/pop MPLS,
set/dec MPLS TTL, set_nw_ttl, set_queue, the action set's
write_actions and clear_actions, and the Nicira resubmit,
note, reg_load, reg_load2, reg_move, controller, controller2),
PACKET_OUT, GROUP_MODs of every type and command and a flow naming a
group, METER_MODs (add with drop and dscp_remark bands, modify,
delete all) and a FLOW_MOD with a meter instruction, every MULTIPART
request (the meter ones too), ROLE_REQUEST, SET_CONFIG, ECHO and BARRIER,
so the fuzzer starts next to every decoder.

Deterministic: running it again rewrites the same bytes.

usage: tests/fuzz/make-openflow-corpus.py [OUTPUT_DIR]
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.join(HERE, "corpus", "openflow")


def msg(type_, body=b"", xid=1):
    return struct.pack("!BBHI", 4, type_, 8 + len(body), xid) + body


def pad8(b):
    return b + bytes(-len(b) % 8)


def oxm(cls, field, value, mask=None, exp=None):
    payload = (struct.pack("!I", exp) if exp is not None else b"") + value
    if mask is not None:
        payload += mask
    return struct.pack("!HBB", cls, (field << 1) | (mask is not None),
                       len(payload)) + payload


def match(*tlvs):
    body = b"".join(tlvs)
    return pad8(struct.pack("!HH", 1, 4 + len(body)) + body)


def _fix(a):
    """Sets the length field (bytes 2..3) of a TLV to its length."""
    return a[:2] + struct.pack("!H", len(a)) + a[4:]


def action(type_, body):
    return _fix(pad8(struct.pack("!HH", type_, 0) + body))


def nx(subtype, body):
    return action(0xffff, struct.pack("!IH", 0x2320, subtype) + body)


def instruction(type_, body):
    return _fix(struct.pack("!HH", type_, 0) + body)


def apply(*acts):
    return instruction(4, bytes(4) + b"".join(acts))


def flow_mod(m, insts, command=0, table=0, flags=0, priority=0x8000):
    body = struct.pack("!QQBBHHHIIIH2x", 0x1, 0, table, command, 10, 0,
                       priority, 0xffffffff, 0xffffffff, 0xffffffff, flags)
    return msg(14, body + m + b"".join(insts))


B, N0, N1 = 0x8000, 0x0000, 0x0001
IP = oxm(B, 5, b"\x08\x00")
TCP = oxm(B, 10, b"\x06")
OUT2 = action(0, struct.pack("!IH6x", 2, 0))
TO_CTL = action(0, struct.pack("!IH6x", 0xfffffffd, 128))


def meter_band(type_, rate, burst, prec=0):
    return struct.pack("!HHIIB3x", type_, 16, rate, burst, prec)


def meter_mod(command, flags, meter_id, *bands):
    return msg(29, struct.pack("!HHI", command, flags, meter_id) +
               b"".join(bands))


def meter_seeds():
    yield meter_mod(0, 0x2 | 0x4 | 0x8, 1, meter_band(1, 100, 10)) + \
        flow_mod(match(oxm(B, 0, struct.pack("!I", 1))),
                 [instruction(6, struct.pack("!I", 1)), apply(OUT2)])
    yield meter_mod(0, 0x1, 7, meter_band(2, 1000, 0, 1),
                    meter_band(1, 5000, 0)) + \
        meter_mod(1, 0x1, 7, meter_band(1, 2000, 0))
    yield meter_mod(2, 0, 0xffffffff)
    for mp in (9, 10):
        yield msg(18, struct.pack("!HH4xI4x", mp, 0, 0xffffffff))
    yield msg(18, struct.pack("!HH4x", 11, 0))


def seeds():
    hello = msg(0, struct.pack("!HHI", 1, 8, 1 << 4))
    yield hello
    yield hello + flow_mod(match(IP, TCP, oxm(B, 14, b"\x00\x50")),
                           [apply(OUT2)])
    yield flow_mod(match(oxm(B, 0, struct.pack("!I", 1)),
                         oxm(B, 3, bytes(6), b"\xff" * 3 + bytes(3)),
                         oxm(B, 6, b"\x10\x0a"), oxm(B, 7, b"\x03")),
                   [apply(action(18, bytes(4)), OUT2)])
    yield flow_mod(match(IP, oxm(B, 11, b"\x0a\0\0\0", b"\xff\0\0\0"),
                         oxm(N1, 29, b"\x05"), oxm(N1, 26, b"\x01", b"\x03")),
                   [apply(action(25, oxm(B, 12, b"\x0a\x01\x01\x01")),
                          action(24, bytes(4)), OUT2),
                    instruction(2, bytes(4) + struct.pack("!QQ", 5, 0xff)),
                    instruction(1, b"\x03" + bytes(3))])
    yield flow_mod(match(IP, TCP,
                         oxm(0xffff, 42, b"\x00\x02", b"\x00\x12",
                             exp=0x4f4e4600),
                         oxm(N1, 0, b"\0\0\0\5")),
                   [apply(nx(7, struct.pack("!HIQ", 3, 0x00010004, 5)),
                          nx(6, struct.pack("!HHHII", 48, 0, 0, 0x00000406,
                                            0x00000206)),
                          nx(14, struct.pack("!HB3x", 0xfff8, 1)),
                          nx(1, struct.pack("!H4x", 3)),
                          nx(8, b"\x01\x02\x03\x04\x05\x06"),
                          nx(33, oxm(N1, 1, b"\0\0\0\5", b"\0\0\0\x0f")),
                          nx(20, struct.pack("!HHBx", 64, 3, 0)),
                          nx(37, bytes(6) + pad8(struct.pack("!HHH", 0, 6,
                                                             100))),
                          action(17, b"\x81\x00\0\0"), TO_CTL)])
    ipv6 = oxm(B, 5, b"\x86\xdd")
    yield flow_mod(match(ipv6, oxm(B, 10, b"\x3a"), oxm(B, 29, b"\x87"),
                         oxm(B, 31, bytes(15) + b"\x01"),
                         oxm(B, 26, b"\x20\x01\x0d\xb8" + bytes(12),
                             b"\xff" * 4 + bytes(12))),
                   [apply(), instruction(5, bytes(4))], table=2, flags=1)
    arp = oxm(B, 5, b"\x08\x06")
    yield flow_mod(match(arp, oxm(B, 21, b"\x00\x01"),
                         oxm(B, 22, b"\x0a\0\0\1"), oxm(B, 24, bytes(6))),
                   [apply(action(0, struct.pack("!IH6x", 0xfffffffa, 0)))])
    yield flow_mod(match(IP, TCP), [], command=3, table=0xff)
    yield flow_mod(match(), [], command=4, priority=7)
    yield flow_mod(match(oxm(N0, 4, b"\x10\x05", b"\x1f\xff")),
                   [instruction(3, bytes(4) + OUT2)], command=1)
    # The action set: set_queue applied, then clear_actions and a
    # write_actions with a rewrite, dec_ttl, set_queue and output, then
    # goto_table; and the same instructions in the wrong order.
    write = instruction(3, bytes(4) + action(25, oxm(B, 4, bytes(6)))
                        + action(24, bytes(4))
                        + action(21, struct.pack("!I", 3)) + OUT2)
    clear = instruction(5, bytes(4))
    yield flow_mod(match(IP, TCP),
                   [apply(action(21, struct.pack("!I", 7)), OUT2), clear,
                    write, instruction(1, b"\x03" + bytes(3))])
    yield flow_mod(match(IP), [write, clear, apply(TO_CTL)], table=1)
    frame = bytes.fromhex("ffffffffffff0000000000010806") + bytes(46)
    yield msg(13, struct.pack("!IIH6x", 0xffffffff, 0xfffffffd, 16) + OUT2 +
              frame)
    yield msg(13, struct.pack("!IIH6x", 0xffffffff, 1, 16) +
              action(0, struct.pack("!IH6x", 0xfffffff9, 0)) + frame)
    for mp in (0, 3, 12, 13):
        yield msg(18, struct.pack("!HH4x", mp, 0))
    flow_req = struct.pack("!B3xII4xQQ", 0xff, 0xffffffff, 0xffffffff, 0, 0)
    yield msg(18, struct.pack("!HH4x", 1, 0) + flow_req + match(IP))
    yield msg(18, struct.pack("!HH4x", 2, 0) + flow_req + match())
    yield msg(18, struct.pack("!HH4x", 4, 0) + struct.pack("!I4x",
                                                           0xffffffff))
    yield msg(24, struct.pack("!I4xQ", 2, 1)) + msg(24, struct.pack(
        "!I4xQ", 3, 0))
    yield msg(9, struct.pack("!HH", 0, 128)) + msg(7) + msg(5)
    yield msg(2, b"ping") + msg(20) + msg(3)
    yield msg(1, struct.pack("!HH", 1, 1) + msg(200))
    # MPLS, TTL and tun_id (appended: earlier seeds keep their names).
    mpls = oxm(B, 5, b"\x88\x47")
    yield flow_mod(match(mpls, oxm(B, 34, struct.pack("!I", 16)),
                         oxm(B, 35, b"\x05"), oxm(B, 36, b"\x01"),
                         oxm(N1, 30, b"\x40"),
                         oxm(B, 38, struct.pack("!Q", 5),
                             struct.pack("!Q", 0xff))),
                   [apply(action(15, b"\x09" + bytes(3)),
                          action(16, bytes(4)),
                          action(25, oxm(B, 34, struct.pack("!I", 7))),
                          action(25, oxm(B, 35, b"\x02")),
                          action(25, oxm(B, 38, struct.pack("!Q", 0x1234))),
                          action(20, b"\x08\x00\0\0"),
                          action(23, b"\x05" + bytes(3)),
                          action(19, b"\x88\x48\0\0"), OUT2)])
    yield flow_mod(match(IP, oxm(N1, 16, struct.pack("!Q", 9))),
                   [apply(action(11, bytes(4)), action(12, bytes(4)),
                          action(19, b"\x08\x00\0\0"), OUT2)])
    yield from meter_seeds()
    yield from group_seeds()


def bucket(weight, watch_port, watch_group, *acts):
    return _fix(struct.pack("!HHII4x", 0, weight, watch_port, watch_group) +
                b"".join(acts))


def group_mod(command, type_, group_id, *buckets):
    return msg(15, struct.pack("!HBxI", command, type_, group_id) +
               b"".join(buckets))


def group_seeds():
    """GROUP_MODs of every type and command, a flow naming a group, and
    the group multiparts."""
    any_port, any_group = 0xffffffff, 0xffffffff
    out3 = action(0, struct.pack("!IH6x", 3, 0))
    group1 = action(22, struct.pack("!I", 1))
    yield (group_mod(0, 1, 1, bucket(10, any_port, any_group, OUT2),
                     bucket(20, any_port, any_group,
                            action(25, oxm(B, 4, bytes(5) + b"\xaa")),
                            out3)) +
           flow_mod(match(IP), [apply(group1)]))
    yield group_mod(0, 3, 2, bucket(0, 2, any_group, OUT2),
                    bucket(0, any_port, 1, group1))
    yield (group_mod(0, 0, 3, bucket(0, any_port, any_group, OUT2),
                     bucket(0, any_port, any_group, out3)) +
           group_mod(1, 2, 3, bucket(0, any_port, any_group,
                                     action(18, bytes(4)), OUT2)) +
           group_mod(2, 0, 0xfffffffc))
    for mp in (7, 8):
        yield msg(18, struct.pack("!HH4x", mp, 0))
    yield msg(18, struct.pack("!HH4x", 6, 0) + struct.pack("!I4x",
                                                           0xfffffffc))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    os.makedirs(out, exist_ok=True)
    for i, seed in enumerate(seeds()):
        with open(os.path.join(out, f"seed-{i:03d}"), "wb") as f:
            f.write(seed)
    print(f"wrote {i + 1} seeds to {out}")


if __name__ == "__main__":
    main()
