"""The cases of the MPLS / TTL / tunnel_id differential test against Open
vSwitch (tests/system/test_mpls_vs_ovs.py, recorded by
tests/system/data/mpls/record_ovs.py).

Each case is a set of flows and a few packets.  All cases run in one
switch at once: case k receives on port 2k-1 and its flows send to port
2k, and every flow of the case pins in_port=2k-1 (a resubmit keeps the
input port), so that the cases do not see each other's packets and each
case's megaflows are those whose in_port is 2k-1.  In the flow text IN
and OUT stand for the two port numbers.

Every new match field (mpls_label, mpls_tc, mpls_bos, mpls_ttl, tun_id)
and action (push_mpls, pop_mpls, set_mpls_label, set_mpls_tc,
set_mpls_ttl, dec_mpls_ttl, mod_nw_ttl, set_field on the new fields) has
at least one case.
"""

import re
import struct

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"


def lse(label, tc=0, bos=1, ttl=64):
    return struct.pack("!I", (label << 12) | (tc << 9) | (bos << 8) | ttl)


def mpls(labels, payload=None, ethertype=0x8847, vlan=None):
    """An MPLS frame: 'labels' is a list of (label, tc, ttl), outermost
    first; the last one is the bottom of the stack."""
    stack = b"".join(lse(lb, tc, int(i == len(labels) - 1), ttl)
                     for i, (lb, tc, ttl) in enumerate(labels))
    body = bytes(payload) if payload is not None else b"\x45" + b"m" * 40
    if vlan is not None:
        return Ether(src=MAC1, dst=MAC2) / Dot1Q(vlan=vlan, type=ethertype) \
            / Raw(stack + body)
    return Ether(src=MAC1, dst=MAC2, type=ethertype) / Raw(stack + body)


def ip4(tos=0, ttl=64, **kw):
    return IP(src="10.0.0.1", dst="10.0.0.2", tos=tos, ttl=ttl, **kw) / \
        UDP(sport=1000, dport=2000) / Raw(b"u" * 18)


def ip4_to(dst):
    return IP(src="10.0.0.1", dst=dst, ttl=7) / \
        UDP(sport=1000, dport=2000) / Raw(b"v" * 18)


def udp4(tos=0, ttl=64):
    return Ether(src=MAC1, dst=MAC2) / ip4(tos, ttl)


def tcp6(tc=0, hlim=64):
    return Ether(src=MAC1, dst=MAC2) / \
        IPv6(src="2001:db8::1", dst="2001:db8::2", tc=tc, hlim=hlim) / \
        TCP(sport=1000, dport=80, flags="S") / Raw(b"t" * 10)


def arp():
    return Ether(src=MAC1, dst="ff:ff:ff:ff:ff:ff") / \
        ARP(psrc="10.0.0.1", pdst="10.0.0.2")


# (name, flows, packets).
CASES = [
    ("match_mpls_all_fields",
     ["in_port=IN,mpls,mpls_label=16,mpls_tc=5,mpls_bos=1,mpls_ttl=9,"
      "actions=output:OUT"],
     [mpls([(16, 5, 9)]), mpls([(16, 5, 8)]), mpls([(17, 5, 9)]),
      mpls([(16, 5, 9), (3, 0, 9)]), mpls([(16, 5, 9)])]),
    ("match_mpls_label_only",
     ["in_port=IN,mpls,mpls_label=100,actions=output:OUT"],
     [mpls([(100, 0, 64)]), mpls([(100, 7, 1)]), mpls([(101, 0, 64)]),
      mpls([(100, 3, 3), (5, 0, 3)])]),
    ("match_mpls_tc_bos",
     ["in_port=IN,mpls,mpls_tc=3,mpls_bos=0,actions=output:OUT"],
     [mpls([(1, 3, 64), (2, 0, 64)]), mpls([(1, 3, 64)]),
      mpls([(1, 2, 64), (2, 0, 64)])]),
    ("match_mplsm_behind_vlan",
     ["in_port=IN,mplsm,mpls_ttl=200,actions=output:OUT"],
     [mpls([(9, 0, 200)], ethertype=0x8848, vlan=7),
      mpls([(9, 0, 201)], ethertype=0x8848, vlan=7),
      mpls([(9, 0, 200)], ethertype=0x8847)]),
    ("push_mpls_ipv4",
     ["in_port=IN,ip,actions=push_mpls:0x8847,output:OUT"],
     [udp4(tos=0xb8, ttl=33), udp4(tos=0x01, ttl=2), udp4(tos=0xb8, ttl=33)]),
    ("push_mpls_ipv6_mcast",
     ["in_port=IN,ipv6,actions=push_mpls:0x8848,output:OUT"],
     [tcp6(tc=0x24, hlim=7), tcp6(tc=0, hlim=255)]),
    ("push_mpls_arp",
     ["in_port=IN,arp,actions=push_mpls:0x8847,output:OUT"],
     [arp()]),
    ("push_mpls_onto_mpls",
     ["in_port=IN,mpls,actions=push_mpls:0x8847,output:OUT"],
     [mpls([(5, 3, 9)]), mpls([(6, 1, 200), (7, 0, 9)])]),
    ("push_mpls_behind_vlan",
     ["in_port=IN,ip,actions=push_mpls:0x8847,output:OUT"],
     [Ether(src=MAC1, dst=MAC2) / Dot1Q(vlan=5) / ip4(tos=0x20, ttl=9)]),
    ("push_then_set_label",
     ["in_port=IN,ip,actions=push_mpls:0x8847,set_mpls_label:1000,"
      "set_mpls_tc:7,output:OUT"],
     [udp4(ttl=10)]),
    ("pop_mpls_to_ipv4",
     ["in_port=IN,mpls,mpls_bos=1,actions=pop_mpls:0x0800,output:OUT"],
     [mpls([(16, 0, 9)], ip4(ttl=5)), mpls([(17, 2, 1)], ip4(ttl=200))]),
    ("pop_mpls_behind_vlan",
     ["in_port=IN,mpls,actions=pop_mpls:0x0800,output:OUT"],
     [mpls([(16, 0, 9)], ip4(), vlan=3)]),
    # A pop_mpls that a later table or action needs the IPv4 header of:
    # the datapath recirculates (recirc(N)), one megaflow before it and
    # one per IPv4 flow after it.
    ("pop_mpls_recirc_goto_ipv4",
     ["in_port=IN,mpls,mpls_bos=1,actions=pop_mpls:0x0800,goto_table:1",
      "table=1,in_port=IN,ip,nw_dst=10.0.0.2,actions=dec_ttl,output:OUT",
      "table=1,priority=1,in_port=IN,ip,actions=drop"],
     [mpls([(16, 0, 9)], ip4(ttl=5)), mpls([(17, 2, 1)], ip4(ttl=5)),
      mpls([(16, 0, 9)], ip4_to("10.0.0.9"))]),
    ("pop_mpls_recirc_resubmit_rest",
     ["in_port=IN,mpls,actions=load:7->NXM_NX_REG0[],pop_mpls:0x0800,"
      "resubmit(,1),output:OUT",
      "table=1,in_port=IN,ip,reg0=7,nw_dst=10.0.0.2,actions=mod_nw_tos:8"],
     [mpls([(16, 0, 9)], ip4()), mpls([(17, 0, 9)], ip4(tos=4))]),
    ("pop_mpls_recirc_set_field",
     ["in_port=IN,mpls,actions=pop_mpls:0x0800,"
      "mod_nw_src:10.1.1.1,output:OUT"],
     [mpls([(16, 0, 9)], ip4())]),
    ("set_mpls_label_tc_ttl",
     ["in_port=IN,mpls,actions=set_mpls_label:7,set_mpls_tc:2,"
      "set_mpls_ttl:9,output:OUT"],
     [mpls([(16, 5, 64)]), mpls([(7, 2, 9)])]),
    # Alone, because of an Open vSwitch 3.1 bug: its megaflow for a set of
    # the label leaves mpls_bos wildcarded but its datapath action writes
    # the whole entry, bottom-of-stack bit included, so a bos=0 packet that
    # hits the megaflow of a bos=1 packet leaves with bos=1.  flowswitch
    # writes only the bits the actions set.
    ("set_mpls_keeps_bos",
     ["in_port=IN,mpls,actions=set_mpls_label:7,set_mpls_tc:2,"
      "set_mpls_ttl:9,output:OUT"],
     [mpls([(16, 5, 64), (1, 1, 1)])]),
    ("set_field_mpls",
     ["in_port=IN,mpls,actions=set_field:1048575->mpls_label,"
      "set_field:4->mpls_tc,output:OUT"],
     [mpls([(16, 5, 64)]), mpls([(0, 0, 0)])]),
    ("set_field_mpls_ttl_and_tun_id",
     ["in_port=IN,mpls,actions=set_field:4->mpls_ttl,"
      "set_field:0x77->tun_id,output:OUT"],
     [mpls([(16, 5, 64)])]),
    ("dec_mpls_ttl",
     ["in_port=IN,mpls,actions=dec_mpls_ttl,output:OUT"],
     [mpls([(16, 0, 64)]), mpls([(16, 0, 2)]), mpls([(16, 0, 1)]),
      mpls([(16, 0, 0)])]),
    ("mod_nw_ttl_ipv4",
     ["in_port=IN,ip,actions=mod_nw_ttl:5,output:OUT"],
     [udp4(ttl=64), udp4(ttl=5), udp4(ttl=1)]),
    ("mod_nw_ttl_ipv6",
     ["in_port=IN,ipv6,actions=mod_nw_ttl:200,output:OUT"],
     [tcp6(hlim=64)]),
    ("set_field_nw_ttl_then_push",
     ["in_port=IN,ip,actions=set_field:77->nw_ttl,push_mpls:0x8847,"
      "output:OUT"],
     [udp4(ttl=64)]),
    ("match_tun_id_zero",
     ["priority=2,in_port=IN,tun_id=5,actions=drop",
      "priority=1,in_port=IN,tun_id=0,actions=output:OUT"],
     # Both IPv4: Open vSwitch makes eth_type exact in every megaflow,
     # flowswitch only where a table looked at it.
     [udp4(), udp4(tos=4)]),
    ("set_tun_id_then_resubmit",
     ["in_port=IN,actions=set_field:0x1234->tun_id,resubmit(,1)",
      "table=1,in_port=IN,tun_id=0x1234,ip,actions=output:OUT",
      "table=1,in_port=IN,tun_id=0,actions=drop"],
     [udp4(), arp()]),
    # Popping the outer entry of a two-entry stack.  Open vSwitch's flow
    # keeps three entries and goes on with the next one; flowswitch's
    # keeps one, so a table or an MPLS action after the pop recirculates
    # (test_mpls_vs_ovs.py: MEGAFLOWS_BEYOND_OVS).
    ("pop_mpls_outer_then_output",
     ["in_port=IN,mpls,mpls_bos=0,actions=pop_mpls:0x8847,output:OUT"],
     [mpls([(16, 0, 9), (200, 0, 9)], ip4()),
      mpls([(16, 0, 9), (201, 3, 7)], ip4())]),
    ("pop_mpls_outer_then_table",
     ["in_port=IN,mpls,mpls_bos=0,actions=pop_mpls:0x8847,dec_mpls_ttl,"
      "resubmit(,1)",
      "table=1,in_port=IN,mpls,mpls_label=200,mpls_bos=1,"
      "actions=pop_mpls:0x0800,output:OUT",
      "table=1,priority=1,in_port=IN,actions=drop"],
     [mpls([(16, 0, 9), (200, 0, 9)], ip4()),
      mpls([(17, 0, 9), (201, 0, 9)], ip4()),
      mpls([(16, 0, 9), (200, 0, 5)], ip4(ttl=3))]),
    ("pop_mpls_outer_to_ipv4",
     ["in_port=IN,mpls,actions=pop_mpls:0x0800,output:OUT"],
     [mpls([(16, 0, 9), (200, 0, 9)], ip4())]),
    # A freeze inside a rule a resubmit(99,1) reached: the continuation
    # runs that rule's rest in its table, then the outer rule's rest in
    # table 0, all with the packet's own in_port (so table 2 matches
    # in_port=IN, not 99, in both switches).
    ("pop_mpls_recirc_across_rules",
     ["cookie=0x3,in_port=IN,mpls,actions=resubmit(99,1),"
      "mod_dl_src:02:00:00:00:00:99,output:OUT",
      "table=1,cookie=0x7,in_port=99,mpls,actions=pop_mpls:0x0800,dec_ttl,"
      "goto_table:2",
      "table=2,in_port=99,ip,actions=drop",
      "table=2,in_port=IN,ip,actions=mod_nw_tos:4,output:OUT"],
     [mpls([(16, 0, 9)], ip4(ttl=5)), mpls([(17, 0, 9)], ip4(ttl=7))]),
]


def fields_written():
    """The fields some case writes: set_field targets and the fields of
    the set_mpls_* actions (test_rewrite_vs_ovs.py counts them covered)."""
    text = " ".join(" ".join(c[1]) for c in CASES)
    fields = set(re.findall(r"set_field:[^,]*->(\w+)", text))
    for name in ("label", "tc", "ttl"):
        if f"set_mpls_{name}:" in text:
            fields.add(f"mpls_{name}")
    return fields


def flow_lines(index, case):
    """The flows of the case at 'index' (0-based), ports filled in."""
    rx, tx = 2 * index + 1, 2 * index + 2
    return [f.replace("IN", str(rx)).replace("OUT", str(tx))
            for f in case[1]]


# ovs-ofctl -O OpenFlow13 against the switch (test_mpls_ofctl.py): flows
# with every new field and action that must read back in dump-flows as
# Open vSwitch prints them, and flows ovs-ofctl itself refuses (the error
# line is its own, whatever the switch).
OFCTL_FLOWS = [
    "priority=40,mpls,mpls_label=5,mpls_tc=1,mpls_bos=1,mpls_ttl=3,"
    "actions=dec_mpls_ttl,set_mpls_label:7,set_mpls_tc:2,set_mpls_ttl:9,"
    "pop_mpls:0x0800,output:2",
    "priority=41,ip,actions=mod_nw_ttl:5,push_mpls:0x8847,output:2",
    "priority=42,tun_id=0x5/0xff,actions=set_field:0x7->tun_id,output:2",
    "priority=43,mplsm,mpls_ttl=200,actions=push_mpls:0x8848,"
    "set_field:4->mpls_ttl,output:2",
    "priority=44,ipv6,actions=set_field:3->nw_ttl,push_mpls:0x8847,output:2",
    "priority=45,tunnel_id=9,mpls,actions=pop_mpls:0x86dd,output:3",
]
OFCTL_REFUSED = [
    "ip,actions=set_mpls_label:1",
    "ip,actions=push_mpls:0x8847,set_field:1.2.3.4->ip_src",
    "mpls,actions=copy_ttl_in",
    "mpls,actions=copy_ttl_out",
    "ipv6,ipv6_exthdr=0x1,actions=drop",
]
# Not here: push_mpls:0x0800, which ovs-ofctl sends and the switch refuses
# with OFPBAC_BAD_ARGUMENT (a unit test pins that) - Open vSwitch's error
# carries the whole flow-mod, flowswitch's its first 64 bytes, so
# ovs-ofctl prints more for OVS.


def ofctl_steps(target):
    """(name, argv) of the ovs-ofctl scenario against 'target'."""
    ofctl = ["ovs-ofctl", "-O", "OpenFlow13"]
    steps = [("del-all", ofctl + ["del-flows", target])]
    for i, flow in enumerate(OFCTL_FLOWS):
        steps.append((f"add-{i}", ofctl + ["add-flow", target, flow]))
    for i, flow in enumerate(OFCTL_REFUSED):
        steps.append((f"refused-{i}", ofctl + ["add-flow", target, flow]))
    steps.append(("dump-flows", ofctl + ["dump-flows", target]))
    return steps
