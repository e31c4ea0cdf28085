"""Checksum and segmentation offload through flowswitchd, offloads left on.

As root, two namespaces each get one end of a veth pair (10.77.0.x/24,
the kernel's default offloads: tx checksum and TSO on, as a user leaves
them); the other ends are flowswitchd's afpacket ports 1 and 2 with the
default table (NORMAL).  Then:

  - 10 MB of TCP go each way byte for byte (sha256 of what each side
    received against what the other sent), and the daemon's counters show
    that the frames came as GSO frames and partial checksums that the
    ports finished (netdev_vnet_*), with nothing refused or truncated and
    every packet accounted for;
  - an ICMP echo with 3000 bytes of payload on a 1500-byte MTU, which the
    sender's kernel fragments, gets its (fragmented, reassembled) reply
    back whole, as through a kernel bridge;
  - the same over IPv6 (TCPv6 GSO frames);
  - UDP datagrams sent with UDP_SEGMENT (one GSO frame of ten datagrams
    per send) arrive as the ten datagrams, each whole;
  - the same 10 MB each way between the host's stack behind the switch's
    LOCAL tap port (10.79.0.1/24) and a namespace on an afpacket port: the
    tap hands over GSO frames too (IFF_VNET_HDR, TUNSETOFFLOAD).

Everything the test creates is named after its process id and removed
afterwards.  Without root (or iproute2) it is skipped with the reason.
"""

import hashlib
import os
import random
import shutil
import signal
import subprocess

import pytest

from daemon_util import Daemon, assert_conserved, parse_summary
from test_daemon_netns import PING, PY, Topology, sh
from test_daemon_netns import topology  # noqa: F401 (a fixture)
from traffic_util import coverage

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip"),
    reason="needs root and iproute2 (network namespaces, AF_PACKET)")

MB10 = 10 << 20
PORT = 5002

# Both ends: PY -c SCRIPT server|client ADDR SEED_OUT.  Each sends
# MB10 bytes of random.Random(SEED_OUT) and prints the sha256 of what it
# received; the client sends first, then the server, which prints its
# sha256 first and sends when a line arrives on its stdin.
TCP = r"""
import hashlib, random, socket, sys
role, addr, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = random.Random(seed).randbytes(%d)
if role == "server":
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, %d))
    s.listen(1)
    print("listening", flush=True)
    c, _ = s.accept()
else:
    c = socket.create_connection((addr, %d), timeout=120)
c.settimeout(120)
def receive():
    h = hashlib.sha256()
    while True:
        chunk = c.recv(1 << 16)
        if not chunk:
            return h.hexdigest()
        h.update(chunk)
if role == "client":
    c.sendall(out)
    c.shutdown(socket.SHUT_WR)
    print(receive())
else:
    print(receive(), flush=True)
    sys.stdin.readline()
    c.sendall(out)
    c.shutdown(socket.SHUT_WR)
c.close()
""" % (MB10, PORT, PORT)

def expected_sha(seed):
    return hashlib.sha256(random.Random(seed).randbytes(MB10)).hexdigest()


def tcp_both_ways(server_ns, server_addr, client_ns, between=None):
    """10 MB each way; asserts both arrived byte for byte.  Calls 'between'
    once the client's data has all arrived, before the server sends."""
    def start(ns, *args):
        prefix = ["ip", "netns", "exec", ns] if ns else []
        return subprocess.Popen(prefix + [PY, "-c", TCP] + list(args),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    server = start(server_ns, "server", server_addr, "2")
    client = None
    try:
        assert server.stdout.readline().strip() == "listening"
        client = start(client_ns, "client", server_addr, "1")
        # Client to server.
        assert server.stdout.readline().strip() == expected_sha(1)
        if between:
            between()
        server.stdin.write("go\n")
        server.stdin.flush()
        client_out, client_err = client.communicate(timeout=300)
        server_out, server_err = server.communicate(timeout=300)
    finally:
        for proc in (server, client):
            if proc and proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert client.returncode == 0, client_err
    assert server.returncode == 0, server_err
    assert client_out.strip() == expected_sha(2)  # Server to client.


def refusals(d):
    return {name: coverage(d, name)
            for name in ("netdev_vnet_rx_bad_csum", "netdev_vnet_rx_gso_bad",
                         "netdev_vnet_rx_gso_unsupported",
                         "netdev_afpacket_rx_truncated")}


def assert_offloads_finished(d):
    """The ports received GSO frames and cut them, and refused nothing:
    the test saw offloads at work, not frames the sender finished."""
    frames = coverage(d, "netdev_vnet_rx_gso_frames")
    assert frames > 0
    assert coverage(d, "netdev_vnet_rx_gso_segments") > frames
    assert set(refusals(d).values()) == {0}, refusals(d)


def start_daemon(t, tmp_path):
    """flowswitchd with the two namespaces' veths as ports 1 and 2."""
    return Daemon("--port", t.ports[0], "--port", t.ports[1],
                  tmpdir=str(tmp_path)).start()


def test_tcp_10mb_each_way_with_offloads_on(topology, tmp_path):
    t = topology
    d = start_daemon(t, tmp_path)
    try:
        tcp_both_ways(t.ns[1], t.addr[1], t.ns[0])
        assert_offloads_finished(d)
        assert coverage(d, "netdev_vnet_rx_csum_completed") > 0
    finally:
        status = d.stop(signal.SIGTERM)
    assert status == 0, d.stderr + d.read_log()
    summary = parse_summary(d.stdout)
    assert_conserved(summary)


def add_ipv6(t):
    """Gives each namespace of 't' an IPv6 address on eth0 (Topology turns
    IPv6 off); returns them."""
    addrs = []
    for i, ns in enumerate(t.ns):
        for conf in ("all", "eth0"):
            t.nsexec(ns, "sysctl", "-qw",
                     f"net.ipv6.conf.{conf}.disable_ipv6=0")
        addrs.append(f"fd00:77::{i + 1}")
        t.nsexec(ns, "ip", "addr", "add", addrs[-1] + "/64", "dev", "eth0",
                 "nodad")
    return addrs


def test_tcp_10mb_each_way_over_ipv6(topology, tmp_path):
    t = topology
    addrs = add_ipv6(t)
    d = start_daemon(t, tmp_path)
    try:
        tcp_both_ways(t.ns[1], addrs[1], t.ns[0])
        assert_offloads_finished(d)
    finally:
        status = d.stop(signal.SIGTERM)
    assert status == 0, d.stderr + d.read_log()
    assert_conserved(parse_summary(d.stdout))


# PY -c UDP_RECV ADDR N: prints "ready", then the sha256 of the first N
# datagrams to ADDR:PORT, each prefixed with its length (2 bytes).
UDP_RECV = r"""
import hashlib, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], %d))
s.settimeout(60)
print("ready", flush=True)
h = hashlib.sha256()
for _ in range(int(sys.argv[2])):
    d = s.recv(65536)
    h.update(len(d).to_bytes(2, "big") + d)
print(h.hexdigest())
""" % PORT

# PY -c UDP_GSO_SEND ADDR SENDS: SENDS sends of 9984 bytes each with
# UDP_SEGMENT 1000 (ten datagrams, the last 984 bytes).
UDP_GSO_SEND = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_UDP, 103, 1000)  # UDP_SEGMENT.
s.connect((sys.argv[1], %d))
for i in range(int(sys.argv[2])):
    s.send(bytes((i + j) & 0xff for j in range(9984)))
""" % PORT


def udp_gso_expected_sha(sends):
    h = hashlib.sha256()
    for i in range(sends):
        data = bytes((i + j) & 0xff for j in range(9984))
        for ofs in range(0, len(data), 1000):
            d = data[ofs:ofs + 1000]
            h.update(len(d).to_bytes(2, "big") + d)
    return h.hexdigest()


def test_udp_gso_frames_arrive_as_their_datagrams(topology, tmp_path):
    t = topology
    d = start_daemon(t, tmp_path)
    try:
        recv = subprocess.Popen(
            ["ip", "netns", "exec", t.ns[1], PY, "-c", UDP_RECV, t.addr[1],
             "50"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        try:
            assert recv.stdout.readline().strip() == "ready"
            t.nsexec(t.ns[0], PY, "-c", UDP_GSO_SEND, t.addr[1], "5")
            out, err = recv.communicate(timeout=120)
        finally:
            if recv.poll() is None:
                recv.kill()
                recv.communicate()
        assert recv.returncode == 0, err
        assert out.strip() == udp_gso_expected_sha(5)
        assert coverage(d, "netdev_vnet_rx_gso_frames") >= 5
        assert coverage(d, "netdev_vnet_rx_gso_segments") >= 50
        assert set(refusals(d).values()) == {0}, refusals(d)
    finally:
        status = d.stop(signal.SIGTERM)
    assert status == 0, d.stderr + d.read_log()


def test_ping_above_the_mtu_is_fragmented_and_answered(topology, tmp_path):
    t = topology
    d = start_daemon(t, tmp_path)
    try:
        mtu = t.nsexec(t.ns[0], "cat", "/sys/class/net/eth0/mtu").stdout
        assert int(mtu) == 1500
        res = t.nsexec(t.ns[0], PY, "-c", PING, t.addr[1], "3", "3000",
                       check=False)
        assert res.returncode == 0 and int(res.stdout) == 3, res
        assert set(refusals(d).values()) == {0}, refusals(d)
    finally:
        status = d.stop(signal.SIGTERM)
    assert status == 0, d.stderr + d.read_log()
    summary = parse_summary(d.stdout)
    assert_conserved(summary)
    # Three echoes of three fragments each, and as many replies.
    assert summary["ports"][t.ports[0]]["rx"] >= 9
    assert summary["ports"][t.ports[1]]["rx"] >= 9


def test_tcp_10mb_each_way_through_the_local_tap_port(tmp_path):
    """The server is the host's stack behind the tap: while it sends (after
    the client's 10 MB are in), GSO frames can only come from the tap."""
    tag = os.getpid() % 100000
    tap = f"fso{tag}t"
    topo = Topology("fso", ("10.79.0.2",))
    try:
        topo.create()
        d = Daemon("--port", f"{tap},ofport=LOCAL", "--port", topo.ports[0],
                   tmpdir=str(tmp_path)).start()
        try:
            sh("ip", "addr", "add", "10.79.0.1/24", "dev", tap)
            before = []
            tcp_both_ways(None, "10.79.0.1", topo.ns[0], lambda: before.append(
                coverage(d, "netdev_vnet_rx_gso_frames")))
            assert_offloads_finished(d)
            assert coverage(d, "netdev_vnet_rx_gso_frames") > before[0]
        finally:
            status = d.stop(signal.SIGTERM)
        assert status == 0, d.stderr + d.read_log()
        assert_conserved(parse_summary(d.stdout))
    finally:
        topo.destroy()
        assert topo.leftovers() == []
