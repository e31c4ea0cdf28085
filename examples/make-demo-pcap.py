#!/usr/bin/python3
"""Writes examples/demo.pcap: the traffic `make demo` replays through the
switch (flowswitchd, port 1 "lan", with examples/demo-flows.txt).

Thirty seconds of what an office LAN sends towards its uplink, seen on the
switch port the LAN hangs off (so only frames the LAN's hosts send):

  - ARP: hosts resolving the gateway and each other;
  - long flows: four TCP connections with several hundred segments each,
    to 192.0.2.0/24 on ports 443 and 80, one of them to the public address
    203.0.113.80 that the flow table rewrites (mod_nw_dst) to 192.0.2.80;
  - thousands of short flows: one-packet DNS queries from random source
    ports, and three-packet TCP connection attempts to random services;
  - ICMP echo requests to the uplink, a few with TTL 1 (which dec_ttl
    turns into a controller packet-in, the slow path);
  - what the ACL drops: telnet attempts and a quarantined host (10.0.0.66);
  - a little IPv6 neighbour discovery (plain L2 switching) and two runt
    frames too short for an Ethernet header (counted as unparsable).

Deterministic (fixed seed and timestamps): running it again writes the same
bytes.  Small on purpose (< 1 MB).

usage: examples/make-demo-pcap.py [OUTPUT]
"""

import logging
import os
import random
import sys

from scapy.config import conf

conf.verb = 0
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.dns import DNS, DNSQR  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6)
from scapy.layers.l2 import ARP, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import PcapWriter  # noqa: E402

SEED = 2026
T0 = 1767225600.0  # 2026-01-01T00:00:00Z
DURATION = 30.0

BROADCAST = "ff:ff:ff:ff:ff:ff"
GATEWAY_MAC = "02:00:00:00:00:fe"  # The switch's routing MAC (demo-flows).
GATEWAY_IP = "10.0.0.1"
QUARANTINED = "10.0.0.66"
N_HOSTS = 20
N_DNS = 2500
N_TCP_SHORT = 800
LONG_FLOWS = [("192.0.2.10", 443, 700), ("192.0.2.20", 443, 500),
              ("203.0.113.80", 80, 400), ("192.0.2.30", 80, 300)]


def host_mac(i):
    return "02:00:00:00:01:%02x" % i


def host_ip(i):
    return "10.0.0.%d" % (10 + i)


class Capture:
    def __init__(self, rng):
        self.rng = rng
        self.frames = []  # (time, sequence, frame bytes)

    def add(self, t, frame):
        data = frame if isinstance(frame, bytes) else bytes(frame)
        self.frames.append((t, len(self.frames), data))

    def from_host(self, i):
        return Ether(src=host_mac(i), dst=GATEWAY_MAC)

    def random_time(self):
        return self.rng.uniform(0.0, DURATION)


def arp(cap):
    """Every host resolves the gateway once, and a few hosts each other."""
    for i in range(N_HOSTS):
        cap.add(cap.rng.uniform(0, 0.5),
                Ether(src=host_mac(i), dst=BROADCAST) /
                ARP(op=1, hwsrc=host_mac(i), psrc=host_ip(i),
                    pdst=GATEWAY_IP))
    for _ in range(30):
        a, b = cap.rng.sample(range(N_HOSTS), 2)
        t = cap.random_time()
        cap.add(t, Ether(src=host_mac(a), dst=BROADCAST) /
                ARP(op=1, hwsrc=host_mac(a), psrc=host_ip(a),
                    pdst=host_ip(b)))
        cap.add(t + 0.0003, Ether(src=host_mac(b), dst=host_mac(a)) /
                ARP(op=2, hwsrc=host_mac(b), psrc=host_ip(b),
                    hwdst=host_mac(a), pdst=host_ip(a)))


def tcp_flow(cap, t, host, dst, dport, n_data, gap):
    """One TCP connection from 'host' (client side only: the switch port
    sees the LAN's frames)."""
    rng = cap.rng
    sport = rng.randrange(32768, 61000)
    seq = rng.randrange(1 << 32)
    ip = IP(src=host_ip(host), dst=dst, ttl=64, flags="DF")

    def seg(flags, payload=b""):
        p = cap.from_host(host) / ip / TCP(sport=sport, dport=dport,
                                           flags=flags, seq=seq % (1 << 32),
                                           ack=1, window=64240)
        return p / Raw(payload) if payload else p

    cap.add(t, seg("S"))
    seq += 1
    cap.add(t + 0.01, seg("A"))
    for _ in range(n_data):
        t += gap * rng.uniform(0.5, 1.5)
        if rng.random() < 0.3:
            payload = b"x" * rng.choice([8, 16, 24])
            cap.add(t, seg("PA", payload))
            seq += len(payload)
        else:
            cap.add(t, seg("A"))
    cap.add(t + gap, seg("FA"))


def long_flows(cap):
    for k, (dst, dport, n) in enumerate(LONG_FLOWS):
        start = cap.rng.uniform(0.2, 2.0)
        tcp_flow(cap, start, k, dst, dport, n, (DURATION - 3.0) / n)


def short_flows(cap):
    rng = cap.rng
    for _ in range(N_DNS):
        h = rng.randrange(N_HOSTS)
        cap.add(cap.random_time(),
                cap.from_host(h) / IP(src=host_ip(h), dst="192.0.2.53") /
                UDP(sport=rng.randrange(1024, 65536), dport=53) /
                DNS(id=rng.randrange(65536), rd=1,
                    qd=DNSQR(qname="h%d.example.com" % rng.randrange(1000))))
    for _ in range(N_TCP_SHORT):
        h = rng.randrange(N_HOSTS)
        dst = "192.0.2.%d" % rng.randrange(100, 200)
        tcp_flow(cap, cap.random_time(), h, dst,
                 rng.choice([22, 25, 110, 143, 993, 8080, 8443]), 0, 0.02)


def icmp(cap):
    for k in range(60):
        h = k % N_HOSTS
        ttl = 1 if k % 12 == 0 else 64
        cap.add(cap.random_time(),
                cap.from_host(h) / IP(src=host_ip(h), dst="192.0.2.1",
                                      ttl=ttl) /
                ICMP(type=8, id=h, seq=k) / Raw(b"flowswitch-demo!"))


def acl_drops(cap):
    rng = cap.rng
    for _ in range(25):
        h = rng.randrange(N_HOSTS)
        cap.add(cap.random_time(),
                cap.from_host(h) / IP(src=host_ip(h), dst="192.0.2.23") /
                TCP(sport=rng.randrange(32768, 61000), dport=23, flags="S"))
    for _ in range(30):
        cap.add(cap.random_time(),
                Ether(src="02:00:00:00:01:42", dst=GATEWAY_MAC) /
                IP(src=QUARANTINED, dst="192.0.2.%d" % rng.randrange(1, 255)) /
                UDP(sport=rng.randrange(1024, 65536), dport=4444) /
                Raw(b"beacon"))


def ipv6_and_runts(cap):
    for i in range(6):
        mac = host_mac(i)
        cap.add(cap.random_time(),
                Ether(src=mac, dst="33:33:ff:00:00:01") /
                IPv6(src="fe80::%x" % (0x100 + i), dst="ff02::1:ff00:1",
                     hlim=255) /
                ICMPv6ND_NS(tgt="fe80::1") / ICMPv6NDOptSrcLLAddr(lladdr=mac))
    cap.add(cap.random_time(), b"\x02\x00\x00\x00\x01\x01runt")
    cap.add(cap.random_time(), b"\xff" * 9)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here,
                                                             "demo.pcap")
    cap = Capture(random.Random(SEED))
    arp(cap)
    long_flows(cap)
    short_flows(cap)
    icmp(cap)
    acl_drops(cap)
    ipv6_and_runts(cap)
    cap.frames.sort()
    writer = PcapWriter(out, linktype=1, sync=False)
    for t, _, data in cap.frames:
        pkt = Raw(data)
        pkt.time = T0 + t
        writer.write(pkt)
    writer.close()
    size = os.path.getsize(out)
    print(f"{out}: {len(cap.frames)} frames, {size} bytes")


if __name__ == "__main__":
    main()
