"""The rewrite cases of the differential test against Open vSwitch
(tests/system/test_rewrite_vs_ovs.py, recorded by
tests/system/data/rewrite/record_ovs.py).

Every field the flow language can write (the 'writable' column of
src/flow/field.c) has at least one case: a flow that writes it with
set_field (and, for the fields that once were silently not written, with
load and move too), then outputs to port 2, and a few packets that carry
the field.  writable_fields() reads the list from field.c so that a field
made writable later without a case here fails the test.
"""

import os
import re

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,
                                ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr,
                                IPv6)
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.layers.sctp import SCTP
from scapy.packet import Raw

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"


def writable_fields():
    """Canonical names of the fields src/flow/field.c marks writable."""
    with open(os.path.join(TOP, "src", "flow", "field.c")) as f:
        text = f.read()
    names = []
    if re.search(r"#define REG\(N\).*?regs\[N\], true, true", text, re.S):
        names += [f"reg{n}" for n in range(8)]
    for m in re.finditer(r"FIELD\((FIELD_\w+),\s*\"(\w+)\",(.*?)\),?\n\s*(?=FIELD|REG|\})",
                         text, re.S):
        args = [a.strip() for a in re.sub(r"ALIASES\([^)]*\)", "A",
                                          m.group(3)).split(",")]
        # NO_ALIASES|A, NXM, OXM, n_bytes, n_bits, member, maskable,
        # writable, ...
        if args[7] == "true":
            names.append(m.group(2))
    return names


def eth(dst=MAC2):
    return Ether(src=MAC1, dst=dst)


def udp4(**ip):
    ip = {"src": "10.0.0.1", "dst": "10.0.0.2", "tos": 0x11, "ttl": 64,
          **ip}
    return eth() / IP(**ip) / UDP(sport=1234, dport=53) / Raw(b"q" * 21)


def udp4_nocsum():
    p = eth() / IP(src="10.0.0.1", dst="10.0.0.2") / \
        UDP(sport=1234, dport=53, chksum=0) / Raw(b"z" * 9)
    return p


def tcp4():
    return eth() / IP(src="10.0.0.1", dst="10.0.0.2", ttl=9) / \
        TCP(sport=40000, dport=80, flags="PA", seq=7) / Raw(b"GET /")


def sctp4():
    return eth() / IP(src="10.0.0.1", dst="10.0.0.2") / \
        SCTP(sport=3000, dport=4000, tag=0xdeadbeef) / Raw(b"\x00" * 16)


def icmp4():
    return eth() / IP(src="10.0.0.1", dst="10.0.0.2") / \
        ICMP(type=8, code=0, id=7, seq=1) / Raw(b"ping")


def udp6():
    return eth() / IPv6(src="2001:db8::1", dst="2001:db8::2", tc=0x21,
                        fl=0x12345, hlim=64) / \
        UDP(sport=1234, dport=53) / Raw(b"q6" * 7)


def tcp6():
    return eth() / IPv6(src="2001:db8::1", dst="2001:db8::2") / \
        TCP(sport=40000, dport=443, flags="S")


def echo6():
    return eth() / IPv6(src="2001:db8::1", dst="2001:db8::2") / \
        ICMPv6EchoRequest(id=7, seq=1, data=b"ping6")


def ns():
    return eth("33:33:ff:00:00:02") / \
        IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255) / \
        ICMPv6ND_NS(tgt="fe80::2") / ICMPv6NDOptSrcLLAddr(lladdr=MAC1)


def na():
    return eth() / IPv6(src="fe80::2", dst="fe80::1", hlim=255) / \
        ICMPv6ND_NA(tgt="fe80::2", R=0, S=1, O=1) / \
        ICMPv6NDOptDstLLAddr(lladdr=MAC2)


def arp(op=1):
    return eth("ff:ff:ff:ff:ff:ff") / \
        ARP(op=op, hwsrc=MAC1, psrc="10.0.0.1", hwdst="00:00:00:00:00:00",
            pdst="10.0.0.2")


def tagged():
    return Ether(src=MAC1, dst=MAC2) / Dot1Q(vlan=10, prio=2) / \
        IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5, dport=6) / \
        Raw(b"v" * 10)


# (case id, field written, match, actions before output:2, packet makers).
CASES = [
    ("in_port", "in_port", "", "set_field:3->in_port", [udp4]),
    ("metadata", "metadata", "", "set_field:0x1234->metadata", [udp4]),
] + [
    (f"reg{n}", f"reg{n}", "", f"set_field:0x{n + 5:x}->reg{n}", [udp4])
    for n in range(8)
] + [
    ("eth_src", "eth_src", "", "set_field:02:00:00:00:00:aa->eth_src",
     [udp4, arp]),
    ("eth_dst", "eth_dst", "", "set_field:02:00:00:00:00:bb->eth_dst",
     [udp4]),
    ("eth_dst-masked", "eth_dst", "",
     "set_field:00:00:00:00:00:bb/00:00:00:00:00:ff->eth_dst", [udp4]),
    ("vlan_tci-push", "vlan_tci", "ip", "set_field:0x3005->vlan_tci",
     [udp4]),
    ("vlan_tci", "vlan_tci", "dl_vlan=10", "set_field:0x3007->vlan_tci",
     [tagged]),
    ("dl_vlan", "dl_vlan", "dl_vlan=10", "set_field:7->dl_vlan", [tagged]),
    ("dl_vlan_pcp", "dl_vlan_pcp", "dl_vlan=10", "set_field:5->dl_vlan_pcp",
     [tagged]),
    ("vlan_vid", "vlan_vid", "dl_vlan=10", "set_field:4103->vlan_vid",
     [tagged]),
    ("vlan_pcp", "vlan_pcp", "dl_vlan=10", "set_field:6->vlan_pcp",
     [tagged]),
    ("ip_src", "ip_src", "ip", "set_field:192.168.7.1->ip_src",
     [udp4, tcp4, icmp4, sctp4, udp4_nocsum]),
    ("ip_dst", "ip_dst", "ip", "set_field:192.168.7.2->ip_dst",
     [udp4, tcp4, icmp4, sctp4]),
    ("ip_dst-masked", "ip_dst", "ip",
     "set_field:172.16.0.0/255.255.0.0->ip_dst", [udp4, tcp4]),
    ("ipv6_src", "ipv6_src", "ipv6", "set_field:2001:db8::99->ipv6_src",
     [udp6, tcp6, echo6]),
    ("ipv6_dst", "ipv6_dst", "ipv6", "set_field:2001:db8::98->ipv6_dst",
     [udp6, tcp6, echo6]),
    ("ipv6_label", "ipv6_label", "ipv6", "set_field:0x54321->ipv6_label",
     [udp6]),
    ("nw_tos", "nw_tos", "ip", "set_field:40->nw_tos", [udp4]),
    ("nw_tos-ipv6", "nw_tos", "ipv6", "set_field:40->nw_tos", [udp6]),
    ("ip_dscp", "ip_dscp", "ip", "set_field:46->ip_dscp", [udp4]),
    ("nw_ecn", "nw_ecn", "ip", "set_field:2->nw_ecn", [udp4]),
    ("nw_ecn-ipv6", "nw_ecn", "ipv6", "set_field:3->nw_ecn", [udp6]),
    ("nw_ttl", "nw_ttl", "ip", "set_field:3->nw_ttl", [udp4, tcp4]),
    ("nw_ttl-ipv6", "nw_ttl", "ipv6", "set_field:7->nw_ttl", [udp6]),
    ("arp_op", "arp_op", "arp", "set_field:2->arp_op", [arp]),
    ("arp_op-load", "arp_op", "arp", "load:2->NXM_OF_ARP_OP[]", [arp]),
    ("arp_spa", "arp_spa", "arp", "set_field:10.9.9.9->arp_spa", [arp]),
    ("arp_tpa", "arp_tpa", "arp", "set_field:10.8.8.8->arp_tpa", [arp]),
    ("arp_tpa-masked", "arp_tpa", "arp",
     "set_field:192.168.0.0/255.255.0.0->arp_tpa", [arp]),
    ("arp_tpa-move", "arp_tpa", "arp",
     "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]", [arp]),
    ("arp_sha", "arp_sha", "arp", "set_field:02:00:00:00:00:77->arp_sha",
     [arp]),
    ("arp_tha", "arp_tha", "arp", "set_field:02:00:00:00:00:88->arp_tha",
     [arp]),
    ("arp_tha-move", "arp_tha", "arp",
     "move:NXM_OF_ETH_SRC[]->NXM_NX_ARP_THA[]", [arp]),
    ("tp_src", "tp_src", "tcp", "set_field:1000->tp_src", [tcp4]),
    ("tp_dst", "tp_dst", "tcp", "set_field:1001->tp_dst", [tcp4]),
    ("tp_src-udp", "tp_src", "udp", "set_field:1000->tp_src", [udp4]),
    ("tcp_src", "tcp_src", "tcp", "set_field:1002->tcp_src", [tcp4]),
    ("tcp_dst", "tcp_dst", "tcp6", "set_field:1003->tcp_dst", [tcp6]),
    ("udp_src", "udp_src", "udp", "set_field:1004->udp_src",
     [udp4, udp4_nocsum]),
    ("udp_dst", "udp_dst", "udp6", "set_field:1005->udp_dst", [udp6]),
    ("sctp_src", "sctp_src", "sctp", "set_field:1006->sctp_src", [sctp4]),
    ("sctp_dst", "sctp_dst", "sctp", "set_field:1007->sctp_dst", [sctp4]),
    ("icmp_type", "icmp_type", "icmp", "set_field:0->icmp_type", [icmp4]),
    ("icmp_type-load", "icmp_type", "icmp", "load:13->NXM_OF_ICMP_TYPE[]",
     [icmp4]),
    ("icmp_code", "icmp_code", "icmp", "set_field:3->icmp_code", [icmp4]),
    ("icmpv6_type", "icmpv6_type", "icmp6,icmp_type=128",
     "set_field:129->icmpv6_type", [echo6]),
    ("icmpv6_code", "icmpv6_code", "icmp6,icmp_type=128",
     "set_field:5->icmpv6_code", [echo6]),
    ("icmpv6_code-load", "icmpv6_code", "icmp6,icmp_type=128",
     "load:6->NXM_NX_ICMPV6_CODE[]", [echo6]),
    ("nd_target", "nd_target", "icmp6,icmp_type=135,icmp_code=0",
     "set_field:fe80::99->nd_target", [ns]),
    ("nd_target-na", "nd_target", "icmp6,icmp_type=136,icmp_code=0",
     "set_field:fe80::98->nd_target", [na]),
    ("nd_target-move", "nd_target", "icmp6,icmp_type=135,icmp_code=0",
     "move:NXM_NX_IPV6_SRC[]->NXM_NX_ND_TARGET[]", [ns]),
    ("nd_sll", "nd_sll", "icmp6,icmp_type=135,icmp_code=0",
     "set_field:02:00:00:00:00:55->nd_sll", [ns]),
    ("nd_sll-load", "nd_sll", "icmp6,icmp_type=135,icmp_code=0",
     "load:0x020000000056->NXM_NX_ND_SLL[]", [ns]),
    ("nd_tll", "nd_tll", "icmp6,icmp_type=136,icmp_code=0",
     "set_field:02:00:00:00:00:66->nd_tll", [na]),
    ("icmpv6_type-nd", "icmpv6_type", "icmp6,icmp_type=135,icmp_code=0",
     "set_field:fe80::97->nd_target,set_field:136->icmpv6_type", [ns]),
]


def flow_line(case):
    _, _, match, actions, _ = case
    m = f"{match}," if match else ""
    return f"priority=10,{m}in_port=1,actions={actions},output:2"
