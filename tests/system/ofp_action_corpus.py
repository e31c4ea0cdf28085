"""OpenFlow 1.3 actions as a controller writes them, one per entry, for the
round-trip test (tests/system/test_openflow_action_roundtrip.py) and its
recording (tests/system/data/openflow/record_ovs_actions.py).

Each entry is (name, match, actions): 'match' a list of OXM fields
(name, value bytes) that the action's prerequisites need, 'actions' the
encoded action list.  The standard actions are all here, and the Nicira
extensions that ovs-ofctl and controllers send.
"""

import struct

OFPP_IN_PORT, OFPP_NORMAL, OFPP_FLOOD = 0xfffffff8, 0xfffffffa, 0xfffffffb
OFPP_ALL, OFPP_CONTROLLER, OFPP_LOCAL = 0xfffffffc, 0xfffffffd, 0xfffffffe

# OXM_OF_* (class 0x8000): field number and value length.
OXM = {
    "in_port": (0, 4), "metadata": (2, 8), "eth_dst": (3, 6),
    "eth_src": (4, 6), "eth_type": (5, 2), "vlan_vid": (6, 2),
    "vlan_pcp": (7, 1), "ip_dscp": (8, 1), "ip_ecn": (9, 1),
    "ip_proto": (10, 1), "ipv4_src": (11, 4), "ipv4_dst": (12, 4),
    "tcp_src": (13, 2), "tcp_dst": (14, 2), "udp_src": (15, 2),
    "udp_dst": (16, 2), "sctp_src": (17, 2), "sctp_dst": (18, 2),
    "icmpv4_type": (19, 1), "icmpv4_code": (20, 1), "arp_op": (21, 2),
    "arp_spa": (22, 4), "arp_tpa": (23, 4), "arp_sha": (24, 6),
    "arp_tha": (25, 6), "ipv6_src": (26, 16), "ipv6_dst": (27, 16),
    "ipv6_flabel": (28, 4), "icmpv6_type": (29, 1), "icmpv6_code": (30, 1),
    "ipv6_nd_target": (31, 16), "ipv6_nd_sll": (32, 6),
    "ipv6_nd_tll": (33, 6), "mpls_label": (34, 4), "mpls_tc": (35, 1),
    "mpls_bos": (36, 1), "tunnel_id": (38, 8),
}

NX_VENDOR = 0x2320
NXM_NX_REG0, NXM_NX_REG1 = 0x00010004, 0x00010204
NXM_NX_REG1_W = 0x00010308
NXM_OF_ETH_SRC, NXM_OF_ETH_DST = 0x00000406, 0x00000206


def oxm(name, value, mask=None):
    field, length = OXM[name]
    assert len(value) == length, name
    if mask is None:
        return struct.pack("!HBB", 0x8000, field << 1, length) + value
    return struct.pack("!HBB", 0x8000, field << 1 | 1, 2 * length) + \
        value + mask


def pad8(b):
    return b + bytes(-len(b) % 8)


def action(type_, body):
    length = 4 + len(body)
    length += -length % 8
    return struct.pack("!HH", type_, length) + pad8(body + bytes(4))[:length - 4]


def output(port, max_len=0):
    return struct.pack("!HHIH6x", 0, 16, port, max_len)


def set_field(name, value):
    tlv = oxm(name, value)
    return pad8(struct.pack("!HH", 25, ((4 + len(tlv) + 7) // 8) * 8) + tlv)


def nx(subtype, body):
    raw = struct.pack("!HHIH", 0xffff, 0, NX_VENDOR, subtype) + body
    raw = pad8(raw)
    return raw[:2] + struct.pack("!H", len(raw)) + raw[4:]


def u8(v):
    return bytes([v])


def u16(v):
    return struct.pack("!H", v)


def u32(v):
    return struct.pack("!I", v)


IP = [("eth_type", u16(0x0800))]
IP6 = [("eth_type", u16(0x86dd))]
ARP = [("eth_type", u16(0x0806))]
TCP = IP + [("ip_proto", u8(6))]
UDP = IP + [("ip_proto", u8(17))]
SCTP = IP + [("ip_proto", u8(132))]
ICMP = IP + [("ip_proto", u8(1))]
ICMP6 = IP6 + [("ip_proto", u8(58))]
NS = ICMP6 + [("icmpv6_type", u8(135)), ("icmpv6_code", u8(0))]
NA = ICMP6 + [("icmpv6_type", u8(136)), ("icmpv6_code", u8(0))]
TAGGED = [("vlan_vid", u16(0x1000 | 10))]
MPLS = [("eth_type", u16(0x8847))]
MPLS_FIELDS = MPLS + [("mpls_label", u32(16)), ("mpls_tc", u8(5)),
                      ("mpls_bos", u8(1))]
NXM_NX_MPLS_TTL = 0x00013c01

MAC = bytes.fromhex("020000000007")
V6 = bytes.fromhex("20010db8000000000000000000000099")

CORPUS = [
    ("output", [], output(2)),
    ("output-max_len-ffe5", [], output(2, 0xffe5)),
    ("output-max_len-128", [], output(2, 128)),
    ("output-max_len-ffff", [], output(2, 0xffff)),
    ("output-in_port", [], output(OFPP_IN_PORT)),
    ("output-normal", [], output(OFPP_NORMAL, 0xffe5)),
    ("output-flood", [], output(OFPP_FLOOD)),
    ("output-all", [], output(OFPP_ALL)),
    ("output-local", [], output(OFPP_LOCAL, 64)),
    ("output-controller-128", [], output(OFPP_CONTROLLER, 128)),
    ("output-controller-no_buffer", [], output(OFPP_CONTROLLER, 0xffff)),
    ("two-outputs", [], output(2, 0xffe5) + output(3, 0)),
    ("push_vlan-8100", [], action(17, u16(0x8100))),
    ("push_vlan-88a8", [], action(17, u16(0x88a8))),
    ("pop_vlan", TAGGED, action(18, b"")),
    ("dec_nw_ttl", IP, action(24, b"")),
    ("set_field-eth_dst", [], set_field("eth_dst", MAC)),
    ("set_field-eth_src", [], set_field("eth_src", MAC)),
    ("set_field-vlan_vid", TAGGED, set_field("vlan_vid", u16(0x1007))),
    ("set_field-vlan_pcp", TAGGED, set_field("vlan_pcp", u8(5))),
    ("set_field-ip_dscp", IP, set_field("ip_dscp", u8(46))),
    ("set_field-ip_ecn", IP, set_field("ip_ecn", u8(2))),
    ("set_field-ipv4_src", IP, set_field("ipv4_src", bytes([10, 9, 9, 9]))),
    ("set_field-ipv4_dst", IP, set_field("ipv4_dst", bytes([10, 8, 8, 8]))),
    ("set_field-tcp_src", TCP, set_field("tcp_src", u16(1000))),
    ("set_field-tcp_dst", TCP, set_field("tcp_dst", u16(1001))),
    ("set_field-udp_src", UDP, set_field("udp_src", u16(1002))),
    ("set_field-udp_dst", UDP, set_field("udp_dst", u16(1003))),
    ("set_field-sctp_src", SCTP, set_field("sctp_src", u16(1004))),
    ("set_field-sctp_dst", SCTP, set_field("sctp_dst", u16(1005))),
    ("set_field-icmpv4_type", ICMP, set_field("icmpv4_type", u8(0))),
    ("set_field-icmpv4_code", ICMP, set_field("icmpv4_code", u8(3))),
    ("set_field-arp_op", ARP, set_field("arp_op", u16(2))),
    ("set_field-arp_spa", ARP, set_field("arp_spa", bytes([10, 0, 0, 9]))),
    ("set_field-arp_tpa", ARP, set_field("arp_tpa", bytes([10, 0, 0, 8]))),
    ("set_field-arp_sha", ARP, set_field("arp_sha", MAC)),
    ("set_field-arp_tha", ARP, set_field("arp_tha", MAC)),
    ("set_field-ipv6_src", IP6, set_field("ipv6_src", V6)),
    ("set_field-ipv6_dst", IP6, set_field("ipv6_dst", V6)),
    ("set_field-ipv6_flabel", IP6, set_field("ipv6_flabel", u32(0x54321))),
    ("set_field-icmpv6_type", ICMP6, set_field("icmpv6_type", u8(129))),
    ("set_field-icmpv6_code", ICMP6, set_field("icmpv6_code", u8(1))),
    ("set_field-ipv6_nd_target", NS, set_field("ipv6_nd_target", V6)),
    ("set_field-ipv6_nd_sll", NS, set_field("ipv6_nd_sll", MAC)),
    ("set_field-ipv6_nd_tll", NA, set_field("ipv6_nd_tll", MAC)),
    ("set_field-metadata", [], set_field("metadata", bytes(7) + u8(5))),
    ("set_mpls_ttl", MPLS, action(15, u8(9))),
    ("dec_mpls_ttl", MPLS_FIELDS, action(16, b"")),
    ("push_mpls-8847", IP, action(19, u16(0x8847))),
    ("push_mpls-8848", [], action(19, u16(0x8848))),
    ("pop_mpls-0800", MPLS, action(20, u16(0x0800))),
    ("set_nw_ttl", IP6, action(23, u8(5))),
    ("set_field-mpls_label", MPLS, set_field("mpls_label", u32(7))),
    ("set_field-mpls_tc", MPLS_FIELDS, set_field("mpls_tc", u8(2))),
    ("set_field-tunnel_id", [], set_field("tunnel_id", bytes(6) + u16(9))),
    ("nx-reg_load2-mpls_ttl", MPLS, nx(33, u32(NXM_NX_MPLS_TTL) + u8(4))),
    ("nx-resubmit", [], nx(1, u16(3) + bytes(4))),
    ("nx-resubmit_table", [], nx(14, u16(OFPP_IN_PORT & 0xffff) + u8(1)
                                 + bytes(3))),
    ("nx-note", [], nx(8, bytes([1, 2, 3, 4, 5, 6]))),
    ("nx-reg_move", [], nx(6, u16(48) + u16(0) + u16(0)
                           + u32(NXM_OF_ETH_SRC) + u32(NXM_OF_ETH_DST))),
    ("nx-reg_load", [], nx(7, u16(3) + u32(NXM_NX_REG0)
                           + struct.pack("!Q", 5))),
    ("nx-controller-no_match", [], nx(20, u16(0xffff) + u16(3) + u8(0)
                                      + u8(0))),
    ("nx-controller-action", [], nx(20, u16(128) + u16(0) + u8(1) + u8(0))),
    ("nx-controller2-max_len", [],
     nx(37, bytes(6) + struct.pack("!HHH2x", 0, 6, 128))),
    ("nx-controller2-reason-id", [],
     nx(37, bytes(6) + struct.pack("!HHH2x", 1, 6, 7)
        + struct.pack("!HHB3x", 2, 5, 0))),
    ("nx-controller2-padded-u16", [],
     nx(37, bytes(6) + struct.pack("!HHH2x", 0, 8, 128)
        + struct.pack("!HHH2x", 1, 8, 9))),
    ("nx-reg_load2-eth_dst", [], nx(33, oxm("eth_dst", MAC))),
    ("nx-reg_load2-masked-eth_dst", [],
     nx(33, oxm("eth_dst", bytes.fromhex("000000000007"),
                bytes.fromhex("0000000000ff")))),
    ("nx-reg_load2-masked-reg1", [],
     nx(33, u32(NXM_NX_REG1_W) + u32(5) + u32(0xf))),
    ("set_queue", [], action(21, u32(7))),
    ("set_queue-max", [], action(21, u32(0xffffffff))),
]


def instruction(type_, body):
    """An OpenFlow 1.3 instruction: a header, 4 bytes of padding, 'body'."""
    return struct.pack("!HH4x", type_, 8 + len(body)) + body


def apply_actions(*acts):
    return instruction(4, b"".join(acts))


def write_actions(*acts):
    return instruction(3, b"".join(acts))


CLEAR_ACTIONS = instruction(5, b"")
GOTO_TABLE_1 = struct.pack("!HHB3x", 1, 8, 1)
WRITE_METADATA = struct.pack("!HH4xQQ", 2, 24, 5, 0xff)

# Instruction lists (the action set's), for the same round trip: entries
# (name, match, instructions).
INSTRUCTIONS = [
    ("write_actions-output", [], write_actions(output(2))),
    ("clear_actions", [], CLEAR_ACTIONS),
    ("clear_actions-write_actions", [],
     CLEAR_ACTIONS + write_actions(output(2))),
    # Sent in another order than OpenFlow's: read back in OpenFlow's.
    ("write_actions-clear_actions", [],
     write_actions(output(3)) + CLEAR_ACTIONS),
    ("write_actions-empty", [], write_actions()),
    ("apply-set_queue-write-set_queue", [],
     apply_actions(action(21, u32(7)), output(2))
     + write_actions(action(21, u32(3)), output(3))),
    ("write_actions-rewrites", IP + TAGGED,
     write_actions(set_field("eth_src", MAC), action(24, b""),
                   action(18, b""), output(2))),
    ("write_actions-nx", [],
     write_actions(nx(1, u16(3) + bytes(4)),
                   nx(7, u16(3) + u32(NXM_NX_REG0) + struct.pack("!Q", 5)))),
    ("every-instruction", [],
     apply_actions(output(2)) + CLEAR_ACTIONS
     + write_actions(output(3)) + WRITE_METADATA + GOTO_TABLE_1),
    ("write_actions-note", [],
     write_actions(nx(8, bytes([1, 2, 3, 4, 5, 6])))),
    ("write_actions-twice", [],
     write_actions(output(2)) + write_actions(output(3))),
]


def match_bytes(fields):
    """An OXM match (ofp_match) holding 'fields', padded to 8."""
    tlvs = b"".join(oxm(name, value) for name, value in fields)
    return pad8(struct.pack("!HH", 1, 4 + len(tlvs)) + tlvs)
