#!/usr/bin/python3
"""Writes the seed corpora of the fuzz_packet, fuzz_actions, fuzz_pcap,
fuzz_control and fuzz_offload targets.

packet: one small file per seed in tests/fuzz/corpus/packet/: the first
byte is the input port (fuzz_packet.c takes it off), the rest an Ethernet
frame.  The
seeds cover every protocol and every branch of the parser that a frame can
reach (VLAN stacks, 802.3 with and without SNAP, ARP, IPv4 options and
fragments, IPv6 extension headers, TCP/UDP/SCTP/ICMP/IGMP, ICMPv6 and
neighbour discovery with its options), plus a few truncated and malformed
frames, so that the fuzzer starts next to every edge instead of having to
discover the Ethernet type field first.

actions: the same frames, each behind a short list of datapath actions in
fuzz_actions.c's encoding (sets of every header, VLAN pushes and pops).

pcap: capture files (behind fuzz_pcap.c's loop byte): well-formed ones in both byte orders and timestamp
precisions, pcapng, and damaged ones (cut headers and records, a record
longer than the snap length, a non-Ethernet link type).

control: byte streams a client may send to the control socket: requests
whole, pipelined, cut short, with bad JSON, escapes and odd ids.

Deterministic: running it again rewrites the same bytes.

offload: frames behind fuzz_offload.c's virtio-net description (partial
checksums, TCPv4/v6 and UDP GSO, a VLAN tag, refused types).

usage: tests/fuzz/make-corpus.py [packet|actions|pcap|control|offload|all]
                                 [OUTPUT_DIR]
       tests/fuzz/make-corpus.py OUTPUT_DIR    (the packet corpus)
"""

import json
import struct

import os
import sys

from scapy.config import conf

conf.verb = 0
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_RR  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)
from scapy.layers.l2 import ARP, LLC, SNAP, Dot1AD, Dot1Q, Dot3, Ether  # noqa
from scapy.layers.sctp import SCTP  # noqa: E402
from scapy.packet import Raw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

A = "52:54:00:aa:bb:cc"
B = "00:16:3e:11:22:33"
ETH = Ether(dst=A, src=B)
IP4 = dict(src="192.0.2.1", dst="198.51.100.2")
IP6 = dict(src="2001:db8::1", dst="2001:db8::2")


def dot3(payload):
    """An 802.3 frame: the type field holds the payload length."""
    return Dot3(dst=A, src=B) / payload


def seeds():
    tcp = TCP(sport=40000, dport=443, flags="S",
              options=[("MSS", 1460), ("NOP", None), ("WScale", 7)])
    ns = IPv6(src="fe80::1", dst="ff02::1:ff00:2") / ICMPv6ND_NS(
        tgt="fe80::2")
    na = IPv6(src="fe80::2", dst="fe80::1") / ICMPv6ND_NA(tgt="fe80::2")
    yield "eth-unknown-type", Ether(dst=A, src=B, type=0x88cc) / Raw(b"\0" * 46)
    yield "eth-ipv4-tcp", ETH / IP(**IP4) / tcp
    yield "eth-ipv4-tcp-ns-flags", ETH / IP(**IP4) / TCP(flags=0x1ff)
    yield "eth-ipv4-udp", ETH / IP(**IP4) / UDP(sport=5353, dport=53)
    yield "eth-ipv4-sctp", ETH / IP(**IP4) / SCTP(sport=2905, dport=2906)
    yield "eth-ipv4-icmp", ETH / IP(**IP4) / ICMP(type=8, code=0)
    yield "eth-ipv4-igmp", ETH / IP(src="10.0.0.1", dst="224.0.0.1",
                                    proto=2) / Raw(b"\x11\x64\0\0\0\0\0\0")
    yield "eth-ipv4-options", ETH / IP(options=[IPOption_RR(
        routers=["10.0.0.1"])], **IP4) / UDP()
    yield "eth-ipv4-frag-first", ETH / IP(flags="MF", **IP4) / UDP() / Raw(
        b"x" * 32)
    yield "eth-ipv4-frag-later", ETH / IP(frag=185, proto=17, **IP4) / Raw(
        b"x" * 32)
    yield "eth-ipv4-padded", ETH / IP(**IP4) / UDP() / Raw(b"\0" * 30)
    yield "vlan-ipv4-tcp", ETH / Dot1Q(vlan=100, prio=5) / IP(**IP4) / tcp
    yield "qinq-ipv4-udp", ETH / Dot1AD(vlan=200) / Dot1Q(vlan=300) / IP(
        **IP4) / UDP()
    yield "qinq-reversed", ETH / Dot1Q(vlan=1) / Dot1AD(vlan=2, type=0x88cc) / Raw(
        b"\0" * 40)
    yield "three-tags", ETH / Dot1AD(vlan=1) / Dot1Q(vlan=2) / Dot1Q(
        vlan=3) / IP(**IP4) / UDP()
    yield "8023-snap-ipv4", dot3(LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(
        OUI=0, code=0x0800) / IP(**IP4) / UDP())
    yield "8023-llc-stp", dot3(LLC(dsap=0x42, ssap=0x42, ctrl=3) / Raw(
        b"\0" * 35))
    yield "8023-snap-cisco", dot3(LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(
        OUI=0x0c, code=0x2000) / Raw(b"\0" * 30))
    yield "arp-request", Ether(dst="ff:ff:ff:ff:ff:ff", src=B) / ARP(
        op=1, hwsrc=B, psrc="10.0.0.1", pdst="10.0.0.254")
    yield "arp-reply", Ether(dst=B, src=A) / ARP(
        op=2, hwsrc=A, psrc="10.0.0.254", hwdst=B, pdst="10.0.0.1")
    yield "rarp", Ether(dst="ff:ff:ff:ff:ff:ff", src=B, type=0x8035) / ARP(
        op=3, hwsrc=B, hwdst=B)
    yield "eth-ipv6-tcp", ETH / IPv6(tc=0x28, fl=0x12345, **IP6) / tcp
    yield "eth-ipv6-ext-headers", ETH / IPv6(**IP6) / IPv6ExtHdrHopByHop() / (
        IPv6ExtHdrRouting()) / IPv6ExtHdrFragment(m=1) / IPv6ExtHdrDestOpt() / (
        UDP(sport=1, dport=2))
    yield "eth-ipv6-frag-later", ETH / IPv6(**IP6) / IPv6ExtHdrFragment(
        offset=100, nh=17) / Raw(b"x" * 24)
    yield "eth-ipv6-ah-udp", ETH / IPv6(nh=51, **IP6) / Raw(
        bytes([17, 4]) + b"\0" * 22) / UDP(sport=500, dport=4500)
    yield "eth-ipv6-sctp", ETH / IPv6(**IP6) / SCTP(sport=1, dport=2)
    yield "eth-ipv6-icmpv6-echo", ETH / IPv6(**IP6) / ICMPv6EchoRequest()
    yield "nd-ns-sll", ETH / ns / ICMPv6NDOptSrcLLAddr(lladdr=B)
    yield "nd-na-tll", ETH / na / ICMPv6NDOptMTU() / ICMPv6NDOptDstLLAddr(
        lladdr=A)
    yield "nd-ns-duplicate-sll", ETH / ns / ICMPv6NDOptSrcLLAddr(
        lladdr=B) / ICMPv6NDOptSrcLLAddr(lladdr=A)
    yield "nd-ns-zero-length-option", ETH / ns / ICMPv6NDOptSrcLLAddr(
        lladdr=B, len=0)
    yield "vlan-nd-ns", ETH / Dot1Q(vlan=7) / ns / ICMPv6NDOptSrcLLAddr(
        lladdr=B)
    # Malformed: cut or lying lengths.
    yield "short-frame", bytes(ETH)[:10]
    yield "cut-vlan", bytes(ETH / Dot1Q(vlan=5))[:16]
    yield "cut-ipv4-header", bytes(ETH / IP(**IP4) / UDP())[:30]
    yield "ipv4-tot-len-lies", bytes(ETH / IP(len=200, **IP4) / UDP())
    yield "ipv4-ihl-4", bytes(ETH / IP(ihl=4, **IP4) / UDP())
    yield "cut-ipv6-ext", ETH / IPv6(nh=0, plen=4, **IP6) / Raw(b"\x06\0\0\0")
    yield "cut-tcp-options", ETH / IP(proto=6, **IP4) / Raw(
        bytes(TCP(dataofs=10))[:24])
    yield "cut-arp", bytes(ETH / ARP())[:30]


def packet_seeds():
    for port, (name, frame) in enumerate(seeds(), start=1):
        yield name, bytes([port & 0xff]) + bytes(frame)


# ---- fuzz_actions ----------------------------------------------------------
# A set is its kind byte (enum dp_set_header) and the value and mask of the
# header's struct, laid out as the C structs are (with their padding).
SET_ETH, SET_VLAN, SET_IPV4, SET_IPV6, SET_TCP, SET_UDP, SET_SCTP = range(7)
PUSH_VLAN, POP_VLAN = 7, 8


def ip4(text):
    return bytes(int(x) for x in text.split("."))


def set_action(kind, value, mask):
    return bytes([kind]) + value + mask


ACTION_LISTS = [
    [set_action(SET_IPV4, ip4("10.1.2.3") + ip4("10.3.2.1") + b"\x28\x3f\0\0",
                b"\xff" * 10 + b"\0\0")],
    [set_action(SET_TCP, struct.pack("!HH", 8080, 443), b"\xff" * 4),
     set_action(SET_UDP, struct.pack("!HH", 53, 5353), b"\xff" * 4),
     set_action(SET_SCTP, struct.pack("!HH", 1, 2), b"\xff" * 4)],
    [bytes([PUSH_VLAN, 0, 0x20, 0x05]),
     set_action(SET_VLAN, struct.pack("!H", 0xa00f), b"\xff\xff"),
     bytes([POP_VLAN])],
    [set_action(SET_IPV6, bytes(range(16)) + bytes(range(16, 32)) +
                struct.pack("!I", 0xabcde) + b"\x10\x05\0\0",
                b"\xff" * 38 + b"\0\0")],
    [set_action(SET_ETH, bytes.fromhex("02000000000a02000000000b"),
                b"\xff" * 6 + b"\xff\xff\xff\0\0\0"),
     bytes([PUSH_VLAN, 1, 0, 7]), bytes([PUSH_VLAN, 0, 0, 8]),
     bytes([POP_VLAN])],
    [set_action(SET_IPV4, b"\0" * 8 + b"\0\x01\0\0", b"\0" * 9 + b"\xff\0\0"),
     set_action(SET_IPV4, ip4("0.0.0.255") + b"\0" * 8, b"\0\0\0\xff" +
                b"\0" * 8)],
]


def action_seeds():
    for i, (name, frame) in enumerate(seeds()):
        actions = ACTION_LISTS[i % len(ACTION_LISTS)]
        yield name, bytes([len(actions)]) + b"".join(actions) + bytes(frame)


# ---- fuzz_pcap -------------------------------------------------------------

def pcap_file(frames, magic=0xa1b2c3d4, endian="<", linktype=1,
              snaplen=65535):
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen,
                      linktype)
    for i, frame in enumerate(frames):
        out += struct.pack(endian + "IIII", 1700000000 + i, 1000 * i,
                           len(frame), len(frame) + (i % 2) * 10)
        out += frame
    return out


def pcapng_file(frames):
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    out = block(0x0a0d0d0a, struct.pack("<IHHq", 0x1a2b3c4d, 1, 0, -1))
    out += block(1, struct.pack("<HHI", 1, 0, 65535))
    for i, frame in enumerate(frames):
        out += block(6, struct.pack("<IIIII", 0, 0, i, len(frame),
                                    len(frame)) + frame)
    return out


def pcap_files():
    frames = [bytes(f) for _, f in list(seeds())[:8]]
    good = pcap_file(frames)
    yield "le-usec", good
    yield "be-usec", pcap_file(frames, endian=">")
    yield "le-nsec", pcap_file(frames, magic=0xa1b23c4d)
    yield "pcapng", pcapng_file(frames)
    yield "empty", pcap_file([])
    yield "cut-file-header", good[:20]
    yield "cut-record-header", good[:24 + 10]
    yield "cut-record-data", good[:24 + 16 + 20]
    yield "caplen-over-snaplen", pcap_file([b"\0" * 200], snaplen=64)
    yield "huge-caplen", good[:24] + struct.pack("<IIII", 0, 0, 0x7fffffff,
                                                 0x7fffffff) + b"\0" * 64
    yield "not-ethernet", pcap_file(frames[:2], linktype=101)
    yield "bad-magic", b"\x00\x01\x02\x03" + good[4:]


def pcap_seeds():
    # fuzz_pcap.c's first byte: replay once (0) or twice (1).
    for i, (name, data) in enumerate(pcap_files()):
        yield name, bytes([i % 2]) + data


# ---- fuzz_control ----------------------------------------------------------

def request(rid, method, *params):
    return json.dumps({"id": rid, "method": method,
                       "params": list(params)}).encode()


def control_seeds():
    yield "version", request(0, "version")
    yield "echo", request(1, "echo", "a", "b c", "\u00e9\n")
    yield "pipelined", (request(1, "echo", "x") + b" \n" +
                        request("two", "deferred", "y") +
                        request(None, "version") + request(3, "big", "4"))
    yield "list-commands", request([1, 2], "list-commands")
    yield "unknown", request(5, "no/such")
    yield "too-many-args", request(6, "version", "x")
    yield "too-few-args", request(7, "echo-two")
    yield "cut-short", request(8, "echo", "abc")[:-3]
    yield "bad-json", b'{"id": 1, "method": nonsense}'
    yield "not-object", b"[1, 2, 3]"
    yield "garbage", b"hello"
    yield "strings-with-braces", request(9, "echo", "}{][", '\\"}')
    yield "nested", b'{"id": {"a": [1, {"b": 2}]}, "method": "echo", ' \
        b'"params": ["x"]}'
    yield "param-not-string", b'{"id": 1, "method": "echo", "params": [1]}'
    yield "deferred-then-close", request(10, "deferred", "z")
    # Found by fuzz_control: NUL bytes are not JSON white space.
    yield "nul-before-message", b"\0" * 8 + request(11, "version")
    # Found by fuzz_control: an error message quoting bytes that are not
    # UTF-8 made the reply impossible to encode.
    yield "escape-before-non-ascii", b'{"id": 1, "method": "echo", ' \
        b'"params": ["\\\xd7\xae"]}'


def offload_seed(frame, gso_type, gso_size, csum_start, csum_offset,
                 needs_csum=True):
    """fuzz_offload.c's input: type and partial-checksum flag, gso_size,
    csum_start, csum_offset (big endian), then the frame."""
    flag = 0x80 if needs_csum else 0
    return struct.pack(">BHHH", gso_type | flag, gso_size, csum_start,
                       csum_offset) + bytes(frame)


def offload_seeds():
    payload = Raw(bytes(range(256)) * 12)
    tcp4 = ETH / IP(**IP4) / TCP(sport=40000, dport=443, flags="PA") / payload
    tcp6 = ETH / IPv6(src="fe80::1", dst="fe80::2") / TCP(flags="FPA") / payload
    udp4 = ETH / IP(**IP4) / UDP(sport=5000, dport=6000) / payload
    tagged = (Ether(dst=A, src=B) / Dot1Q(vlan=10) / IP(**IP4) / TCP()
              / payload)
    yield "csum-tcp4", offload_seed(tcp4, 0, 0, 34, 16)
    yield "csum-udp4", offload_seed(udp4, 0, 0, 34, 6)
    yield "csum-outside", offload_seed(tcp4, 0, 0, 4000, 16)
    yield "gso-tcp4", offload_seed(tcp4, 1, 1448, 34, 16)
    yield "gso-tcp4-small", offload_seed(tcp4, 1, 100, 34, 16)
    yield "gso-tcp6", offload_seed(tcp6, 2, 1428, 54, 16)
    yield "gso-udp4", offload_seed(udp4, 3, 1000, 34, 6)
    yield "gso-tcp4-vlan", offload_seed(tagged, 1, 500, 38, 16)
    yield "gso-unknown", offload_seed(tcp4, 4, 1448, 34, 16)
    yield "gso-no-csum", offload_seed(tcp4, 1, 1448, 34, 16, False)


CORPORA = {
    "packet": packet_seeds,
    "actions": action_seeds,
    "pcap": pcap_seeds,
    "control": control_seeds,
    "offload": offload_seeds,
}


def write_corpus(target, out):
    os.makedirs(out, exist_ok=True)
    n = 0
    for name, data in CORPORA[target]():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        n += 1
    print(f"{n} {target} seeds in {out}")


def main():
    args = sys.argv[1:]
    if args and (args[0] in CORPORA or args[0] == "all"):
        target, args = args[0], args[1:]
    else:
        target = "packet"
    targets = list(CORPORA) if target == "all" else [target]
    for t in targets:
        out = args[0] if args and target != "all" else \
            os.path.join(HERE, "corpus", t)
        write_corpus(t, out)


if __name__ == "__main__":
    main()
