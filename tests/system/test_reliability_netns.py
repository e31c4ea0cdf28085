"""Malicious frames on an AF_PACKET port, under good traffic (issue 9).

As root, the test creates three network namespaces, each with one end of
a veth pair whose other end is one of flowswitchd's AF_PACKET ports (the
default table: NORMAL, a learning switch).  Namespaces a and b carry the
good traffic: pings and a TCP connection that moves 100 KiB each way.
Meanwhile namespace c sends, over and over, frames built to hurt:
scapy fuzz() frames (random fields at every layer, VLAN-tagged too),
every header cut short, IPv6 extension-header chains (long, cut, with
lying lengths), VLAN stacks three to eight deep, ARP and ND garbage.

What must hold:
  - the good traffic gets through whole (TCP byte for byte, pings
    answered);
  - the daemon keeps serving its control socket and exits cleanly
    (under a sanitizer: no report);
  - the malformed frames were seen and counted (parse_* coverage
    counters), and the accounting adds up: every frame port 3 received
    has one fate (the summary's conservation lines), and port 3 received
    every frame c sent that the kernel delivered.
The kernel refuses to send frames shorter than an Ethernet header on a
veth (EINVAL), so runts cannot reach an AF_PACKET port; the pcap tests
cover them.

Everything the test creates is named after its process id and removed
afterwards.  Without root (or iproute2) it is skipped with the reason.
"""

import random
import socket
import subprocess
import threading

import pytest

from daemon_util import Daemon, assert_conserved, parse_summary, wait_for
import test_daemon_netns
from test_daemon_netns import CLIENT, PING, PY, SERVER, built_topology
from traffic_util import coverage, port_stats, scaled, write_pcap

# Needs what test_daemon_netns needs (root, iproute2): skipped alike.
pytestmark = test_daemon_netns.pytestmark

# Sends every frame of a capture ROUNDS times on eth0; prints how many the
# kernel took (fuzz() frames may exceed the MTU: EMSGSIZE).
SENDER = r"""
import socket, struct, sys
path, rounds = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
frames, ofs = [], 24
while ofs + 16 <= len(data):
    n = struct.unpack_from("<I", data, ofs + 8)[0]
    frames.append(data[ofs + 16:ofs + 16 + n])
    ofs += 16 + n
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
sent = 0
for _ in range(rounds):
    for f in frames:
        try:
            s.send(f)
            sent += 1
        except OSError:
            pass
print(sent)
"""


def malicious_frames():
    """Deterministic (seeded) frames that parse badly, one list."""
    from scapy.config import conf
    conf.verb = 0
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.inet6 import (ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6,
                                    IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                    IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)
    from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
    from scapy.packet import Raw, fuzz
    from scapy.volatile import RandMAC  # noqa: F401 (fuzz uses it)

    random.seed(9)
    eth = Ether(src="02:00:00:00:0c:01", dst="02:00:00:00:0c:02")
    frames = []
    for template in (Ether() / IP() / TCP(), Ether() / IP() / UDP(),
                     Ether() / IP() / ICMP(), Ether() / IPv6() / UDP(),
                     Ether() / Dot1Q() / IP() / TCP(), Ether() / ARP(),
                     Ether() / IPv6() / ICMPv6ND_NS()):
        for _ in range(40):
            frames.append(bytes(fuzz(template))[:1514])
    valid = [eth / IP(dst="10.78.9.9") / TCP(dport=80, options=[
                 ("MSS", 1460), ("WScale", 7)]),
             eth / IP(dst="10.78.9.9") / UDP(dport=53) / Raw(b"q" * 20),
             eth / Dot1Q(vlan=5) / IPv6() / UDP(),
             eth / IPv6() / ICMPv6ND_NS(tgt="fe80::1") /
             ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:0c:01"),
             eth / ARP(pdst="10.78.9.9")]
    for pkt in valid:  # Every header cut short...
        raw = bytes(pkt)
        frames += [raw[:n] for n in range(14, len(raw))]
    for pkt in valid[:2]:  # ...and with an IPv4 length that agrees.
        raw = bytes(pkt)
        frames += [raw[:16] + (n - 14).to_bytes(2, "big") + raw[18:n]
                   for n in range(34, len(raw))]
    chain = IPv6()
    for i in range(12):
        chain = chain / [IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt(),
                         IPv6ExtHdrRouting(), IPv6ExtHdrFragment()][i % 4]
    long_chain = bytes(eth / chain / UDP(sport=1, dport=2))
    frames += [long_chain, long_chain[:90], long_chain[:200]]
    lying = bytearray(bytes(eth / IPv6(nh=0) / IPv6ExtHdrHopByHop(nh=60) /
                            IPv6ExtHdrDestOpt(nh=17) / UDP()))
    lying[14 + 40 + 1] = 200  # A hop-by-hop length past the frame.
    frames.append(bytes(lying))
    frames.append(bytes(eth / IPv6(plen=4000) / UDP()))
    for depth in (3, 4, 8):
        pkt = eth
        for i in range(depth):
            pkt = pkt / (Dot1AD(vlan=i + 1) if i % 2 else Dot1Q(vlan=i + 1))
        frames.append(bytes(pkt / IP() / UDP()))
        frames.append(bytes(pkt)[:14 + 4 * depth])
    return frames


@pytest.fixture
def topology():
    yield from built_topology("rl", ("10.78.0.1", "10.78.0.2", None))


class Observer:
    """Counts the frames the kernel delivers on interface 'ifname' (not
    those sent on it), through an AF_PACKET socket of its own: the kernel
    drops some malformed frames itself (a VLAN tag cut short), so what c
    sent is not what a port can receive."""

    PACKET_OUTGOING = 4
    SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; not in Python's module.

    def __init__(self, ifname):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(0x0003))
        self.sock.setsockopt(socket.SOL_SOCKET, self.SO_RCVBUFFORCE,
                             64 << 20)
        self.sock.bind((ifname, 0))
        self.sock.settimeout(0.2)
        self.count = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                _, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            if addr[2] != self.PACKET_OUTGOING:
                self.count += 1

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def test_malicious_frames_do_not_stop_good_traffic(topology, tmp_path):
    t = topology
    frames = malicious_frames()
    cap = str(tmp_path / "bad.pcap")
    write_pcap(cap, frames)
    rounds = scaled(20, 5)
    d = Daemon("--port", t.ports[0], "--port", t.ports[1],
               "--port", t.ports[2], "--handlers", "2",
               tmpdir=str(tmp_path)).start()
    sender = server = None
    observer = Observer(t.ports[2])
    try:
        # The garbage starts first and goes on while the good traffic
        # runs.
        sender = subprocess.Popen(
            ["ip", "netns", "exec", t.ns[2], PY, "-c", SENDER, cap,
             str(rounds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        res = t.nsexec(t.ns[0], PY, "-c", PING, t.addr[1], "5", check=False)
        assert res.returncode == 0 and int(res.stdout) >= 4, res
        server = subprocess.Popen(
            ["ip", "netns", "exec", t.ns[1], PY, "-c", SERVER, t.addr[1]],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert server.stdout.readline().strip() == "listening"
        res = t.nsexec(t.ns[0], PY, "-c", CLIENT, t.addr[1], check=False)
        assert res.stdout.strip() == "ok", res
        server.communicate(timeout=60)
        assert server.returncode == 0
        out, err = sender.communicate(timeout=120)
        assert sender.returncode == 0, err
        sent = int(out)
        assert sent >= len(frames) * rounds * 9 // 10, (sent, len(frames))

        # Everything the kernel delivered on port 3 reached the switch (the
        # observer and the port see the same frames; the kernel dropped a
        # few malformed ones before either).
        port = t.ports[2]

        def p3_received():
            st = port_stats(d)[port]
            return st["rx"] + st["rx_dropped"]

        wait_for(lambda: p3_received() == observer.count > 0 and
                 p3_received() == observer.count,
                 "port 3 to receive what the kernel delivered")
        delivered = observer.count
        assert delivered <= sent
        assert delivered >= sent * 9 // 10, (delivered, sent)
        # The malformed frames were seen for what they are, and counted.
        for counter in ("parse_vlan_limit", "parse_truncated_ip",
                        "parse_ip_tot_len_too_big", "parse_truncated_tcp",
                        "parse_truncated_tcp_options", "parse_truncated_udp",
                        "parse_truncated_ipv6", "parse_ipv6_plen_too_big",
                        "parse_truncated_ipv6_ext", "parse_truncated_arp"):
            assert coverage(d, counter) > 0, counter
        assert d.ctl("dpctl/show").startswith("system@br0:")
    finally:
        observer.close()
        for p in (sender, server):
            if p and p.poll() is None:
                p.kill()
                p.communicate()
        assert d.stop() == 0, d.stderr + d.read_log()[-3000:]
    summary = parse_summary(d.stdout)
    assert_conserved(summary)
    p3 = summary["ports"][t.ports[2]]
    # Nothing else spoke on c's link since (no address, IPv6 off).
    assert p3["rx"] + p3["rx_drop"] == delivered, (p3, delivered)
