#!/usr/bin/python3
"""Writes examples/demo.pcap: a small, realistic capture for demos and tests.

About 2000 frames (< 300 kB) of three minutes of an office LAN segment:
  - six IPv4 hosts and a router on the untagged segment (10.0.0.0/24) that
    resolve each other with ARP, open TCP connections (handshake, data,
    teardown) to the router-side servers, query a DNS server over UDP and
    ping;
  - two of the hosts speak IPv6 too: neighbour solicitations and
    advertisements (with link-layer address options), ICMPv6 echo, TCP;
  - a VLAN-tagged segment (802.1Q VLAN 100, PCP 5) with two more hosts, and
    a little QinQ (802.1ad 300 outside 802.1Q 100) traffic to a provider
    edge;
  - a few large UDP datagrams sent as IPv4 fragments, one IPv6 fragment pair;
  - spanning-tree BPDUs (802.3 + LLC) and LLDP;
  - and a handful of broken frames: a capture-truncated TCP segment, an IPv4
    header with IHL 4, a runt, a cut VLAN tag and a neighbour solicitation
    with a repeated source link-layer option.

Deterministic (fixed seed, fixed timestamps): running it again writes the
same bytes.  `flowswitch-parse pcap examples/demo.pcap` summarizes it.

usage: examples/make-demo-pcap.py [OUTPUT]
"""

import ipaddress
import logging
import os
import random
import sys

from scapy.config import conf

conf.verb = 0
# Raw (non-Ethernet-dissectable) runts make scapy warn about link types.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.dns import DNS, DNSQR, DNSRR  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,
    ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrFragment)
from scapy.layers.l2 import ARP, LLC, STP, Dot1AD, Dot1Q, Dot3, Ether  # noqa
from scapy.packet import Raw  # noqa: E402
from scapy.utils import PcapWriter  # noqa: E402

SEED = 1122
T0 = 1767225600.0  # 2026-01-01T00:00:00Z
DURATION = 190.0   # Seconds of traffic.

BROADCAST = "ff:ff:ff:ff:ff:ff"


class Host:
    def __init__(self, name, mac, ip, ip6=None, vlan=None):
        self.name, self.mac, self.ip, self.ip6, self.vlan = (
            name, mac, ip, ip6, vlan)

    @property
    def lla(self):
        """IPv6 link-local address derived from the MAC (EUI-64)."""
        b = [int(x, 16) for x in self.mac.split(":")]
        b[0] ^= 2
        eui = b[:3] + [0xff, 0xfe] + b[3:]
        return "fe80::" + ":".join(
            "%x" % (eui[i] << 8 | eui[i + 1]) for i in range(0, 8, 2))


ROUTER = Host("router", "00:1b:21:00:00:01", "10.0.0.1", "2001:db8:0:1::1")
DNS_SERVER_IP = "10.0.0.53"
HOSTS = [
    Host("alice", "52:54:00:00:00:0a", "10.0.0.10", "2001:db8:0:1::a"),
    Host("bob", "52:54:00:00:00:0b", "10.0.0.11", "2001:db8:0:1::b"),
    Host("carol", "52:54:00:00:00:0c", "10.0.0.12"),
    Host("dave", "52:54:00:00:00:0d", "10.0.0.13"),
    Host("erin", "52:54:00:00:00:0e", "10.0.0.14"),
    Host("frank", "52:54:00:00:00:0f", "10.0.0.15"),
]
DNS_SERVER = Host("dns", "00:1b:21:00:00:35", DNS_SERVER_IP)
VLAN_HOSTS = [
    Host("cam1", "02:00:0c:00:01:01", "10.0.100.21", vlan=100),
    Host("nvr", "02:00:0c:00:01:ff", "10.0.100.250", vlan=100),
]
PE = Host("pe", "00:1b:21:00:01:00", "192.168.255.1")
SERVERS = ["93.184.216.34", "151.101.1.69", "140.82.112.3", "13.107.42.14"]
NAMES = ["example.com", "github.com", "debian.org", "openvswitch.org",
         "wikipedia.org", "kernel.org"]


class Capture:
    def __init__(self, rng):
        self.rng = rng
        self.frames = []  # (time, frame)

    def add(self, t, frame):
        self.frames.append((t, frame))

    def l2(self, src, dst_mac):
        """Ethernet header from 'src' (with its VLAN tag, if any)."""
        eth = Ether(src=src.mac, dst=dst_mac)
        if src.vlan:
            return eth / Dot1Q(vlan=src.vlan, prio=5)
        return eth


def arp_exchange(cap, t, asker, target):
    cap.add(t, cap.l2(asker, BROADCAST) / ARP(
        op=1, hwsrc=asker.mac, psrc=asker.ip, pdst=target.ip))
    cap.add(t + 0.0002, cap.l2(target, asker.mac) / ARP(
        op=2, hwsrc=target.mac, psrc=target.ip, hwdst=asker.mac,
        pdst=asker.ip))


def tcp_session(cap, t, client, server_ip, server_mac, dport, n_data,
                ipv6=False):
    rng = cap.rng
    sport = rng.randrange(32768, 61000)
    cseq, sseq = rng.randrange(1 << 32), rng.randrange(1 << 32)
    if ipv6:
        c2s = IPv6(src=client.ip6, dst=server_ip, hlim=64)
        s2c = IPv6(src=server_ip, dst=client.ip6, hlim=57)
    else:
        c2s = IP(src=client.ip, dst=server_ip, ttl=64, flags="DF")
        s2c = IP(src=server_ip, dst=client.ip, ttl=57, flags="DF")
    out = cap.l2(client, server_mac) / c2s
    back = Ether(src=server_mac, dst=client.mac)
    if client.vlan:
        back = back / Dot1Q(vlan=client.vlan, prio=5)
    back = back / s2c
    rtt = rng.uniform(0.002, 0.03)

    def seg(direction, flags, seq, ack, payload=b""):
        tcp = TCP(sport=sport if direction is out else dport,
                  dport=dport if direction is out else sport,
                  flags=flags, seq=seq % (1 << 32), ack=ack % (1 << 32),
                  window=64240)
        return direction / tcp / Raw(payload) if payload else direction / tcp

    cap.add(t, seg(out, "S", cseq, 0))
    cap.add(t + rtt, seg(back, "SA", sseq, cseq + 1))
    cap.add(t + rtt + 0.0001, seg(out, "A", cseq + 1, sseq + 1))
    cseq, sseq, t = cseq + 1, sseq + 1, t + rtt + 0.001
    for _ in range(n_data):
        req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[:rng.randrange(20, 40)]
        cap.add(t, seg(out, "PA", cseq, sseq, req))
        cseq += len(req)
        size = rng.choice([40, 80, 160, 400, 1000])
        cap.add(t + rtt, seg(back, "PA", sseq, cseq, bytes(size)))
        sseq += size
        cap.add(t + rtt + 0.0002, seg(out, "A", cseq, sseq))
        t += rtt + rng.uniform(0.01, 0.5)
    cap.add(t, seg(out, "FA", cseq, sseq))
    cap.add(t + rtt, seg(back, "FA", sseq, cseq + 1))
    cap.add(t + rtt + 0.0001, seg(out, "A", cseq + 1, sseq + 1))


def dns_lookup(cap, t, client):
    rng = cap.rng
    name = rng.choice(NAMES)
    qid = rng.randrange(65536)
    sport = rng.randrange(1024, 65536)
    cap.add(t, cap.l2(client, DNS_SERVER.mac) /
            IP(src=client.ip, dst=DNS_SERVER.ip) /
            UDP(sport=sport, dport=53) /
            DNS(id=qid, rd=1, qd=DNSQR(qname=name)))
    cap.add(t + rng.uniform(0.0005, 0.02),
            Ether(src=DNS_SERVER.mac, dst=client.mac) /
            IP(src=DNS_SERVER.ip, dst=client.ip) /
            UDP(sport=53, dport=sport) /
            DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name),
                an=DNSRR(rrname=name, ttl=300,
                         rdata=rng.choice(SERVERS))))


def ping(cap, t, a, b, count):
    for seq in range(count):
        cap.add(t + seq, cap.l2(a, b.mac) / IP(src=a.ip, dst=b.ip) /
                ICMP(type=8, id=0x4242, seq=seq) / Raw(bytes(range(32))))
        cap.add(t + seq + 0.0003, cap.l2(b, a.mac) / IP(src=b.ip, dst=a.ip) /
                ICMP(type=0, id=0x4242, seq=seq) / Raw(bytes(range(32))))


def nd_exchange(cap, t, asker, target):
    low24 = int(ipaddress.IPv6Address(target.ip6)) & 0xffffff
    snm = str(ipaddress.IPv6Address(
        int(ipaddress.IPv6Address("ff02::1:ff00:0")) | low24))
    snm_mac = "33:33:ff:%02x:%02x:%02x" % (
        low24 >> 16, (low24 >> 8) & 0xff, low24 & 0xff)
    cap.add(t, Ether(src=asker.mac, dst=snm_mac) /
            IPv6(src=asker.ip6, dst=snm, hlim=255) /
            ICMPv6ND_NS(tgt=target.ip6) /
            ICMPv6NDOptSrcLLAddr(lladdr=asker.mac))
    cap.add(t + 0.0002, Ether(src=target.mac, dst=asker.mac) /
            IPv6(src=target.ip6, dst=asker.ip6, hlim=255) /
            ICMPv6ND_NA(tgt=target.ip6, R=0, S=1, O=1) /
            ICMPv6NDOptDstLLAddr(lladdr=target.mac))


def ping6(cap, t, a, b, count):
    for seq in range(count):
        cap.add(t + seq, Ether(src=a.mac, dst=b.mac) /
                IPv6(src=a.ip6, dst=b.ip6) /
                ICMPv6EchoRequest(id=7, seq=seq, data=b"ping6"))
        cap.add(t + seq + 0.0002, Ether(src=b.mac, dst=a.mac) /
                IPv6(src=b.ip6, dst=a.ip6) /
                ICMPv6EchoReply(id=7, seq=seq, data=b"ping6"))


def big_udp(cap, t, a, b, ip_id):
    datagram = IP(src=a.ip, dst=b.ip, id=ip_id) / UDP(
        sport=5004, dport=5004) / Raw(bytes(1400))
    for i, frag in enumerate(fragment(datagram, fragsize=480)):
        cap.add(t + i * 0.00005, Ether(src=a.mac, dst=b.mac) / frag)


def ipv6_fragments(cap, t, a, b):
    eth = Ether(src=a.mac, dst=b.mac)
    ip6 = IPv6(src=a.ip6, dst=b.ip6)
    cap.add(t, eth / ip6 / IPv6ExtHdrFragment(id=99, m=1, offset=0, nh=17) /
            UDP(sport=4000, dport=4001, len=1008) / Raw(bytes(592)))
    cap.add(t + 0.0001, eth / ip6 / IPv6ExtHdrFragment(
        id=99, m=0, offset=75, nh=17) / Raw(bytes(408)))


def bpdu(cap, t):
    cap.add(t, Dot3(src=ROUTER.mac, dst="01:80:c2:00:00:00") /
            LLC(dsap=0x42, ssap=0x42, ctrl=3) / STP(rootmac=ROUTER.mac,
                                                      bridgemac=ROUTER.mac))


def lldp(cap, t):
    # Chassis ID (MAC), port ID ("eth1"), TTL 120 s, end; padded.
    tlvs = bytes.fromhex("020704001b21000001" "04050565746831" "06020078"
                         "0000")
    cap.add(t, Ether(src=ROUTER.mac, dst="01:80:c2:00:00:0e",
                     type=0x88cc) / Raw(tlvs + bytes(46 - len(tlvs))))


def broken_frames(cap, t):
    a, r = HOSTS[2], ROUTER
    tcp = bytes(Ether(src=a.mac, dst=r.mac) / IP(src=a.ip, dst=SERVERS[0]) /
                TCP(sport=40000, dport=443, flags="PA") / Raw(bytes(600)))
    cap.add(t, Ether(tcp[:54 + 20]))  # Cut by a short snap length.
    bad_ihl = bytearray(bytes(Ether(src=a.mac, dst=r.mac) /
                              IP(src=a.ip, dst=SERVERS[1]) / UDP()))
    bad_ihl[14] = 0x44
    cap.add(t + 1, Ether(bytes(bad_ihl)))
    cap.add(t + 2, Raw(bytes.fromhex("ffffffffffff5254000000")))  # Runt.
    cut_vlan = bytes(Ether(src=VLAN_HOSTS[0].mac, dst=BROADCAST) /
                     Dot1Q(vlan=100))[:16]
    cap.add(t + 3, Raw(cut_vlan))
    h1, h2 = HOSTS[0], HOSTS[1]
    cap.add(t + 4, Ether(src=h1.mac, dst=h2.mac) /
            IPv6(src=h1.ip6, dst=h2.ip6, hlim=255) /
            ICMPv6ND_NS(tgt=h2.ip6) / ICMPv6NDOptSrcLLAddr(lladdr=h1.mac) /
            ICMPv6NDOptSrcLLAddr(lladdr=h2.mac))


def qinq(cap, t, n):
    for i in range(n):
        cap.add(t + i * 0.5, Ether(src=PE.mac, dst=VLAN_HOSTS[1].mac) /
                Dot1AD(vlan=300, prio=3) / Dot1Q(vlan=100) /
                IP(src=PE.ip, dst=VLAN_HOSTS[1].ip) /
                UDP(sport=4789, dport=4789) / Raw(bytes(40)))


def build(rng):
    cap = Capture(rng)
    # Start of the capture: everyone resolves the router and the DNS server.
    for i, h in enumerate(HOSTS):
        arp_exchange(cap, 0.5 + i * 0.1, h, ROUTER)
        arp_exchange(cap, 1.5 + i * 0.1, h, DNS_SERVER)
    arp_exchange(cap, 2.5, VLAN_HOSTS[0], VLAN_HOSTS[1])
    for h in HOSTS[:2]:
        for other in HOSTS[:2]:
            if other is not h:
                nd_exchange(cap, 3.0 + rng.random(), h, other)
        nd_exchange(cap, 3.5 + rng.random(), h, ROUTER)

    t = 5.0
    while t < DURATION:
        h = rng.choice(HOSTS)
        r = rng.random()
        if r < 0.30:
            dns_lookup(cap, t, h)
            tcp_session(cap, t + 0.03, h, rng.choice(SERVERS), ROUTER.mac,
                        rng.choice([80, 443, 443, 22]), rng.randrange(1, 5))
        elif r < 0.55:
            dns_lookup(cap, t, h)
        elif r < 0.62:
            ping(cap, t, h, rng.choice([ROUTER] + HOSTS), rng.randrange(1, 4))
        elif r < 0.70 and h.ip6:
            tcp_session(cap, t, h, "2001:db8:ffff::80", ROUTER.mac, 443,
                        rng.randrange(1, 3), ipv6=True)
        elif r < 0.74:
            ping6(cap, t, HOSTS[0], HOSTS[1], 2)
        elif r < 0.84:
            cam = VLAN_HOSTS[0]
            tcp_session(cap, t, cam, VLAN_HOSTS[1].ip, VLAN_HOSTS[1].mac,
                        554, rng.randrange(1, 4))
        elif r < 0.87:
            big_udp(cap, t, h, rng.choice(HOSTS), rng.randrange(1, 65535))
        elif r < 0.93:
            arp_exchange(cap, t, h, rng.choice(HOSTS))
        else:
            qinq(cap, t, 2)
        t += rng.expovariate(1 / 0.75)
    for s in range(0, int(DURATION), 2):
        bpdu(cap, s + 0.25)
    for s in range(0, int(DURATION), 30):
        lldp(cap, s + 0.75)
    ipv6_fragments(cap, 100.0, HOSTS[0], HOSTS[1])
    broken_frames(cap, 120.0)
    return cap


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "demo.pcap")
    cap = build(random.Random(SEED))
    frames = sorted(cap.frames, key=lambda tf: tf[0])
    writer = PcapWriter(out, linktype=1, sync=False)
    for t, frame in frames:
        frame.time = T0 + round(t, 6)
        writer.write(frame)
    writer.close()
    print(f"{len(frames)} frames, {os.path.getsize(out)} bytes in {out}")


if __name__ == "__main__":
    main()
