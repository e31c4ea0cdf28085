"""System tests of `flowswitch-parse pcap`: the switch's frame parser run
over capture files, checked against an independent decoder (scapy).

The binary is $FLOWSWITCH_BUILD/flowswitch-parse (FLOWSWITCH_BUILD defaults
to "build", relative to the top of the repository).

Run with: /usr/bin/python3 -m pytest tests/system/test_parse_pcap.py
"""

import ipaddress
import json
import os
import random
import subprocess

import pytest
from scapy.config import conf

conf.verb = 0
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,
    ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)
from scapy.layers.l2 import ARP, LLC, Dot1AD, Dot1Q, Dot3, Ether  # noqa
from scapy.layers.sctp import SCTP  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import wrpcap  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def tool():
    build = os.environ.get("FLOWSWITCH_BUILD", "build")
    path = os.path.join(TOP, build, "flowswitch-parse")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built (set FLOWSWITCH_BUILD)")
    return path


def run_parse(*args):
    return subprocess.run([tool(), "pcap", *args], capture_output=True,
                          text=True, timeout=60)


def parse_json(pcap, in_port=None):
    args = ["--json"]
    if in_port is not None:
        args += ["--in-port", str(in_port)]
    res = run_parse(*args, str(pcap))
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    return [json.loads(line) for line in res.stdout.splitlines()]


# ---- What scapy says a frame contains, in the tool's JSON vocabulary ----

ZEROS = (0, "0.0.0.0", "::", "00:00:00:00:00:00", "0x00000", "0x000")
ALWAYS = ("dl_vlan", "dl_vlan_pcp", "dl_vlan1", "dl_vlan_pcp1", "nw_frag")


def nonzero(fields):
    return {k: v for k, v in fields.items() if k in ALWAYS or v not in ZEROS}


def ipv6_str(addr):
    return str(ipaddress.IPv6Address(addr))


def expected_l4(d, layer, is_ipv6):
    """Fields of an upper-layer header scapy decoded as 'layer'."""
    if isinstance(layer, TCP):
        d["tp_src"], d["tp_dst"] = layer.sport, layer.dport
        d["tcp_flags"] = "0x%03x" % (int(layer.flags) | layer.reserved << 9)
    elif isinstance(layer, (UDP, SCTP)):
        d["tp_src"], d["tp_dst"] = layer.sport, layer.dport
    elif isinstance(layer, ICMP) and not is_ipv6:
        d["icmp_type"], d["icmp_code"] = layer.type, layer.code
    elif is_ipv6 and hasattr(layer, "type") and hasattr(layer, "code"):
        d["icmp_type"], d["icmp_code"] = layer.type, layer.code
        if isinstance(layer, (ICMPv6ND_NS, ICMPv6ND_NA)):
            d["nd_target"] = ipv6_str(layer.tgt)
            opt = layer.payload
            while opt and not isinstance(opt, Raw):
                # (scapy's DstLLAddr class derives from SrcLLAddr.)
                if isinstance(opt, ICMPv6NDOptDstLLAddr):
                    d["nd_tll"] = opt.lladdr
                elif isinstance(opt, ICMPv6NDOptSrcLLAddr):
                    d["nd_sll"] = opt.lladdr
                opt = opt.payload


def expected_fields(raw, in_port):
    """The flow key of the well-formed frame 'raw', decoded by scapy (and
    the parse_error the tool reports for the one fallback a well-formed
    frame can take: an ARP opcode too big for nw_proto)."""
    eth = Ether(raw)
    d = {"in_port": in_port, "dl_src": eth.src, "dl_dst": eth.dst}
    dl_type, layer = eth.type, eth.payload
    for i in range(2):
        if not isinstance(layer, (Dot1Q, Dot1AD)):
            break
        sfx = "" if i == 0 else "1"
        assert layer.id == 0  # The generator never sets DEI.
        d["vlan_tci" + sfx] = "0x%04x" % (
            layer.prio << 13 | 0x1000 | layer.vlan)
        d["dl_vlan" + sfx] = layer.vlan
        d["dl_vlan_pcp" + sfx] = layer.prio
        d["vlan_tpid" + sfx] = "0x%04x" % dl_type
        dl_type, layer = layer.type, layer.payload
    d["dl_type"] = "0x%04x" % dl_type

    if isinstance(layer, ARP):
        d.update(arp_spa=layer.psrc, arp_tpa=layer.pdst, arp_sha=layer.hwsrc,
                 arp_tha=layer.hwdst)
        if layer.op <= 255:
            d["arp_op"] = layer.op
        else:
            d["parse_error"] = "arp_op_too_big"  # Counted fallback.
    elif isinstance(layer, IP):
        d.update(nw_src=layer.src, nw_dst=layer.dst, nw_proto=layer.proto,
                 nw_tos=layer.tos & 0xfc, nw_ecn=layer.tos & 3,
                 nw_ttl=layer.ttl)
        if layer.frag:
            d["nw_frag"] = "later"
        else:
            d["nw_frag"] = "first" if layer.flags.MF else "no"
            expected_l4(d, layer.payload, False)
    elif isinstance(layer, IPv6):
        d.update(ipv6_src=ipv6_str(layer.src), ipv6_dst=ipv6_str(layer.dst),
                 ipv6_label="0x%05x" % layer.fl, nw_tos=layer.tc & 0xfc,
                 nw_ecn=layer.tc & 3, nw_ttl=layer.hlim, nw_frag="no")
        proto, upper = layer.nh, layer.payload
        while isinstance(upper, (IPv6ExtHdrHopByHop, IPv6ExtHdrRouting,
                                 IPv6ExtHdrDestOpt, IPv6ExtHdrFragment)):
            if isinstance(upper, IPv6ExtHdrFragment):
                if upper.offset:
                    d["nw_frag"] = "later"
                    proto, upper = 44, None
                    break
                if upper.m:
                    d["nw_frag"] = "first"
            proto, upper = upper.nh, upper.payload
        d["nw_proto"] = proto
        if upper is not None:
            expected_l4(d, upper, True)
    return nonzero(d)


def ours(obj):
    obj = dict(obj)
    for key in ("ipv6_src", "ipv6_dst", "nd_target"):
        if key in obj:
            obj[key] = ipv6_str(obj[key])
    return obj


# ---- Random well-formed frames ----

def random_frame(rng):
    def mac():
        return "02:%02x:%02x:%02x:%02x:%02x" % tuple(
            rng.randrange(256) for _ in range(5))

    def ip4():
        return "%d.%d.%d.%d" % tuple(rng.randrange(1, 255) for _ in range(4))

    def ip6():
        return str(ipaddress.IPv6Address(rng.getrandbits(128)))

    def port():
        return rng.randrange(1, 65536)

    frame = Ether(src=mac(), dst=mac())
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
        tag = rng.choice([Dot1Q, Dot1AD])
        frame = frame / tag(vlan=rng.randrange(4096), prio=rng.randrange(8))

    kind = rng.choice(["tcp4", "udp4", "sctp4", "icmp4", "frag4", "tcp6",
                       "udp6", "icmp6", "ns", "na", "ext6", "frag6", "arp"])
    if kind.endswith("4"):
        ip = IP(src=ip4(), dst=ip4(), tos=rng.randrange(256),
                ttl=rng.randrange(1, 256))
        if kind == "tcp4":
            return frame / ip / TCP(sport=port(), dport=port(),
                                    flags=rng.randrange(1, 512))
        if kind == "udp4":
            return frame / ip / UDP(sport=port(), dport=port())
        if kind == "sctp4":
            return frame / ip / SCTP(sport=port(), dport=port())
        if kind == "icmp4":
            return frame / ip / ICMP(type=rng.randrange(256),
                                     code=rng.randrange(256))
        ip.flags = "MF" if rng.random() < .5 else 0
        ip.frag = rng.choice([0, rng.randrange(1, 8192)])
        if ip.frag == 0:
            ip.flags = "MF"
        return frame / ip / UDP(sport=port(), dport=port()) / Raw(b"f" * 24)
    if kind == "arp":
        return frame / ARP(op=rng.choice([1, 2, 1, 2, 3, 4, 300]),
                           hwsrc=mac(), hwdst=mac(), psrc=ip4(), pdst=ip4())
    ip6h = IPv6(src=ip6(), dst=ip6(), tc=rng.randrange(256),
                fl=rng.randrange(1 << 20), hlim=rng.randrange(1, 256))
    if kind == "tcp6":
        return frame / ip6h / TCP(sport=port(), dport=port(),
                                  flags=rng.randrange(1, 512))
    if kind == "udp6":
        return frame / ip6h / UDP(sport=port(), dport=port())
    if kind == "icmp6":
        echo = rng.choice([ICMPv6EchoRequest, ICMPv6EchoReply])
        return frame / ip6h / echo(id=rng.randrange(65536))
    if kind == "ns":
        nd = ICMPv6ND_NS(tgt=ip6())
        if rng.random() < .7:
            nd = nd / ICMPv6NDOptSrcLLAddr(lladdr=mac())
        return frame / ip6h / nd
    if kind == "na":
        nd = ICMPv6ND_NA(tgt=ip6(), R=rng.randrange(2), S=rng.randrange(2))
        if rng.random() < .7:
            nd = nd / ICMPv6NDOptDstLLAddr(lladdr=mac())
        return frame / ip6h / nd
    if kind == "ext6":
        chain = ip6h
        for _ in range(rng.randrange(1, 4)):
            chain = chain / rng.choice([IPv6ExtHdrHopByHop,
                                        IPv6ExtHdrRouting,
                                        IPv6ExtHdrDestOpt])()
        return frame / chain / UDP(sport=port(), dport=port())
    frag = IPv6ExtHdrFragment(offset=rng.choice([0, rng.randrange(1, 8192)]),
                              m=1)
    if frag.offset:
        return frame / ip6h / frag / Raw(b"g" * 32)
    return frame / ip6h / frag / TCP(sport=port(), dport=port())


def test_random_frames_parse_as_scapy_decodes_them(tmp_path):
    rng = random.Random(20261122)
    frames = [bytes(random_frame(rng)) for _ in range(300)]
    pcap = tmp_path / "random.pcap"
    wrpcap(str(pcap), [Ether(f) for f in frames])

    got = parse_json(pcap, in_port=5)
    assert len(got) == len(frames)
    for i, (raw, obj) in enumerate(zip(frames, got)):
        assert ours(obj) == expected_fields(raw, 5), (i, raw.hex())


def test_in_port_defaults_to_zero_and_is_omitted(tmp_path):
    pcap = tmp_path / "one.pcap"
    wrpcap(str(pcap), [Ether(src="02:00:00:00:00:01",
                             dst="02:00:00:00:00:02") / IP() / UDP()])
    (obj,) = parse_json(pcap)
    assert "in_port" not in obj
    (obj,) = parse_json(pcap, in_port=4294967295)
    assert obj["in_port"] == 4294967295


def test_json_of_each_protocol_uses_ovs_ofctl_field_names(tmp_path):
    a, b = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
    frames = [
        Ether(src=a, dst="ff:ff:ff:ff:ff:ff") / ARP(
            op=1, hwsrc=a, psrc="10.0.0.1", pdst="10.0.0.2"),
        Ether(src=a, dst=b) / Dot1AD(vlan=10, prio=1) / Dot1Q(vlan=20) /
        IP(src="10.0.0.1", dst="10.0.0.2", tos=0x2e, ttl=9, flags="MF") /
        TCP(sport=1, dport=2, flags="SA") / Raw(b"x" * 8),
        Ether(src=a, dst=b) / IPv6(src="fe80::1", dst="ff02::1:ff00:2",
                                   hlim=255) /
        ICMPv6ND_NS(tgt="fe80::2") / ICMPv6NDOptSrcLLAddr(lladdr=a),
        Ether(src=a, dst=b) / IPv6(src="2001:db8::1", dst="2001:db8::2",
                                   fl=0xabcde) /
        IPv6ExtHdrFragment(offset=9, nh=17) / Raw(b"y" * 16),
        Ether(src=a, dst=b) / IP(src="10.0.0.1", dst="10.0.0.2") /
        TCP(sport=1, dport=2) / Raw(b"z" * 20),
    ]
    frames[-1] = Ether(bytes(frames[-1])[:40])  # Cut: IP length lies.
    pcap = tmp_path / "each.pcap"
    wrpcap(str(pcap), frames)
    got = parse_json(pcap)
    assert got[0] == {
        "dl_src": a, "dl_dst": "ff:ff:ff:ff:ff:ff", "dl_type": "0x0806",
        "arp_spa": "10.0.0.1", "arp_tpa": "10.0.0.2", "arp_op": 1,
        "arp_sha": a}
    assert got[1] == {
        "dl_src": a, "dl_dst": b, "dl_type": "0x0800",
        "vlan_tci": "0x300a", "dl_vlan": 10, "dl_vlan_pcp": 1,
        "vlan_tpid": "0x88a8", "vlan_tci1": "0x1014", "dl_vlan1": 20,
        "dl_vlan_pcp1": 0, "vlan_tpid1": "0x8100", "nw_src": "10.0.0.1",
        "nw_dst": "10.0.0.2", "nw_proto": 6, "nw_tos": 0x2c, "nw_ecn": 2,
        "nw_ttl": 9, "nw_frag": "first", "tp_src": 1, "tp_dst": 2,
        "tcp_flags": "0x012"}
    assert got[2] == {
        "dl_src": a, "dl_dst": b, "dl_type": "0x86dd", "ipv6_src": "fe80::1",
        "ipv6_dst": "ff02::1:ff00:2", "nw_proto": 58, "nw_ttl": 255,
        "nw_frag": "no", "icmp_type": 135, "nd_target": "fe80::2",
        "nd_sll": a}
    assert got[3] == {
        "dl_src": a, "dl_dst": b, "dl_type": "0x86dd",
        "ipv6_src": "2001:db8::1", "ipv6_dst": "2001:db8::2",
        "ipv6_label": "0xabcde", "nw_proto": 44, "nw_ttl": 64,
        "nw_frag": "later"}
    assert got[4] == {
        "dl_src": a, "dl_dst": b, "dl_type": "0x0800",
        "parse_error": "ip_tot_len_too_big"}


# ---- Summary ----

def mixed_capture():
    """Frames with the summary rows each belongs to; 20 distinct flows."""
    a, b = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
    eth = Ether(src=a, dst=b)
    ip = IP(src="10.0.0.1", dst="10.0.0.2")
    ip6 = IPv6(src="2001:db8::1", dst="2001:db8::2")
    ns = IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255)
    out = []

    def add(n, frame, *rows):
        for _ in range(n):
            out.append((frame, ("ethernet",) + rows))

    add(6, eth / ip / TCP(sport=1000, dport=80), "ipv4", "tcp")
    for port in range(4):
        add(1, eth / ip / UDP(sport=2000 + port, dport=53), "ipv4", "udp")
    add(1, Ether(src=a, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=a),
        "arp")
    add(1, Ether(src=b, dst=a) / ARP(op=2, hwsrc=b, hwdst=a), "arp")
    add(3, eth / Dot1Q(vlan=10) / ip6 / TCP(sport=3, dport=4), "vlan-tagged",
        "ipv6", "tcp")
    add(2, eth / Dot1AD(vlan=1) / Dot1Q(vlan=2) / ip / UDP(), "vlan-tagged",
        "double-tagged", "ipv4", "udp")
    add(1, eth / ns / ICMPv6ND_NS(tgt="fe80::2") /
        ICMPv6NDOptSrcLLAddr(lladdr=a), "ipv6", "icmpv6", "nd")
    add(1, eth / ns / ICMPv6ND_NA(tgt="fe80::2") /
        ICMPv6NDOptDstLLAddr(lladdr=b), "ipv6", "icmpv6", "nd")
    add(1, eth / ip / ICMP(), "ipv4", "icmp")
    add(1, eth / ip6 / ICMPv6EchoRequest(), "ipv6", "icmpv6")
    add(1, eth / IP(src="10.0.0.1", dst="10.0.0.2", flags="MF") / UDP() /
        Raw(b"a" * 40), "ipv4", "udp", "fragments")
    add(1, eth / IP(src="10.0.0.1", dst="10.0.0.2", frag=6, proto=17) /
        Raw(b"b" * 40), "ipv4", "udp", "fragments")
    add(1, eth / ip / SCTP(sport=5, dport=6), "ipv4", "sctp")
    add(1, Dot3(src=a, dst="01:80:c2:00:00:00") / LLC(dsap=0x42, ssap=0x42,
                                                      ctrl=3) / Raw(b"\0" * 35),
        "802.3/llc", "other-l3")
    add(1, Ether(src=a, dst="01:80:c2:00:00:0e", type=0x88cc) /
        Raw(b"\0" * 46), "other-l3")
    add(1, Ether(bytes(eth / ip / TCP())[:40]), "ipv4",
        "malformed/truncated")
    add(1, Raw(bytes(eth)[:10]), "malformed/truncated")
    return out


def test_summary_counts_packets_and_bytes_per_protocol(tmp_path):
    frames = mixed_capture()
    pcap = tmp_path / "mixed.pcap"
    wrpcap(str(pcap), [f for f, _ in frames], linktype=1)

    res = run_parse(str(pcap))
    assert res.returncode == 0, res.stderr
    rows, reasons, distinct, ns = {}, {}, None, None
    for line in res.stdout.splitlines():
        if line.startswith("  "):
            reason, count = line.split()
            reasons[reason] = int(count)
        elif line.startswith("distinct flows:"):
            distinct = int(line.split(":")[1])
        elif line.startswith("parse:"):
            ns = float(line.split()[1])
        else:
            parts = line.rsplit(None, 2)
            if len(parts) == 3 and parts[1].isdigit():
                rows[parts[0].strip()] = (int(parts[1]), int(parts[2]))

    want = {}
    for frame, names in frames:
        for name in names:
            n, size = want.get(name, (0, 0))
            want[name] = (n + 1, size + len(bytes(frame)))
    for name in ("ethernet", "vlan-tagged", "double-tagged", "802.3/llc",
                 "arp", "ipv4", "ipv6", "tcp", "udp", "sctp", "icmp",
                 "icmpv6", "nd", "fragments", "other-l3",
                 "malformed/truncated"):
        assert rows[name] == want.get(name, (0, 0)), name
    assert rows["ethernet"][0] == 28
    assert reasons == {"ip_tot_len_too_big": 1, "truncated_eth": 1}
    assert distinct == 20
    assert ns is not None and ns > 0


# ---- Errors ----

def test_non_pcap_file_gives_one_error_line_and_exit_1(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("certainly not a capture\n" * 10)
    res = run_parse(str(bogus))
    assert res.returncode == 1
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert str(bogus) in lines[0]


def test_missing_file_gives_one_error_line_and_exit_1(tmp_path):
    missing = tmp_path / "nope.pcap"
    res = run_parse("--json", str(missing))
    assert res.returncode == 1
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and str(missing) in lines[0], res.stderr


def test_capture_cut_mid_record_is_an_error_after_the_good_packets(tmp_path):
    pcap = tmp_path / "cut.pcap"
    frame = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP() / \
        UDP(sport=7, dport=9)
    wrpcap(str(pcap), [frame, frame])
    data = pcap.read_bytes()
    pcap.write_bytes(data[:-5])
    res = run_parse("--json", str(pcap))
    assert res.returncode == 1
    assert len(res.stdout.splitlines()) == 1
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and str(pcap) in lines[0], res.stderr


def test_non_ethernet_capture_is_refused(tmp_path):
    pcap = tmp_path / "raw-ip.pcap"
    wrpcap(str(pcap), [IP() / UDP()], linktype=101)
    res = run_parse(str(pcap))
    assert res.returncode == 1
    assert "Ethernet" in res.stderr and str(pcap) in res.stderr
    assert len(res.stderr.splitlines()) == 1


def test_bad_in_port_is_a_usage_error():
    res = run_parse("--in-port", "eth0", "x.pcap")
    assert res.returncode == 2
    assert "--in-port" in res.stderr
