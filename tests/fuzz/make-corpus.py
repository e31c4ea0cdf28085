#!/usr/bin/python3
"""Writes the seed corpus of the fuzz_packet target.

One small file per seed in tests/fuzz/corpus/packet/: the first byte is the
input port (fuzz_packet.c takes it off), the rest an Ethernet frame.  The
seeds cover every protocol and every branch of the parser that a frame can
reach (VLAN stacks, 802.3 with and without SNAP, ARP, IPv4 options and
fragments, IPv6 extension headers, TCP/UDP/SCTP/ICMP/IGMP, ICMPv6 and
neighbour discovery with its options), plus a few truncated and malformed
frames, so that the fuzzer starts next to every edge instead of having to
discover the Ethernet type field first.

Deterministic: running it again rewrites the same bytes.

usage: tests/fuzz/make-corpus.py [OUTPUT_DIR]
"""

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
DEFAULT_DIR = os.path.join(HERE, "corpus", "packet")

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


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    os.makedirs(out, exist_ok=True)
    n = 0
    for port, (name, frame) in enumerate(seeds(), start=1):
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([port & 0xff]) + bytes(frame))
        n += 1
    print(f"{n} seeds in {out}")


if __name__ == "__main__":
    main()
