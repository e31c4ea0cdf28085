"""flowswitchd between two network namespaces, on AF_PACKET ports.

As root, the test creates two namespaces, each with one end of a veth pair
(10.77.0.1/24 and 10.77.0.2/24); the other ends stay in the test's own
namespace and become flowswitchd's ports 1 and 2, with the default table
(priority=0,actions=normal, a learning switch).  Then, through the switch:

  - ICMP echo from one namespace to the other gets its replies;
  - a TCP connection carries data both ways byte for byte;
  - fdb/show has learned both MACs on the right ports, and
    dpctl/dump-flows shows the megaflows that carried the traffic;
  - SIGTERM stops the daemon cleanly, with every packet accounted for.

Everything the test creates is named after its process id and removed
afterwards, whatever happens.  Without root (or without iproute2) it is
skipped with the reason.
"""

import os
import shutil
import signal
import subprocess

import pytest

from daemon_util import Daemon, assert_conserved, parse_summary

PY = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip"),
    reason="needs root and iproute2 (network namespaces, AF_PACKET)")

# PY -c PING DST COUNT [SIZE]: ICMP echoes with SIZE bytes of payload
# (default 16), fragmented by the sender's kernel if they exceed the MTU
# (IP_PMTUDISC_DONT); prints how many replies came back with the payload
# intact.
PING = r"""
import os, socket, struct, sys, time
dst, count = sys.argv[1], int(sys.argv[2])
size = int(sys.argv[3]) if len(sys.argv) > 3 else 16
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER: DONT.
ident, ok = os.getpid() & 0xffff, 0
for seq in range(count):
    body = struct.pack("!HH", ident, seq) + (b"flowswitch-test!" *
                                             (size // 16 + 1))[:size]
    s.sendto(struct.pack("!BBH", 8, 0, csum(b"\x08\0\0\0" + body)) + body,
             (dst, 0))
    end = time.time() + 5
    while time.time() < end:
        s.settimeout(end - time.time())
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        ihl = (data[0] & 15) * 4
        if data[ihl] == 0 and data[ihl + 4:] == body:
            ok += 1
            break
print(ok)
"""

# Frames a local TCP stack sends through a veth carry a partial checksum
# that the sender expects hardware to finish.  afpacket (and tap) ports
# finish them (netdev-vnet.h), so their tests leave offloads on, as a user
# would; afxdp ports cannot (AF_XDP has no vnet header), so theirs turn tx
# checksum offload off as `ethtool -K eth0 tx off` would (SIOCETHTOOL,
# ETHTOOL_STXCSUM) without needing ethtool: `PY -c TX_CSUM IFACE 0` (1
# turns it back on).
TX_CSUM = r"""
import ctypes, fcntl, socket, struct, sys
SIOCETHTOOL, ETHTOOL_STXCSUM = 0x8946, 0x17
value = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM,
                                                int(sys.argv[2])))
ifreq = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(value))
ifreq += bytes(40 - len(ifreq))
fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), SIOCETHTOOL,
            ifreq)
"""

SERVER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5001))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
c.settimeout(30)
data = b""
while not data.endswith(b"END"):
    chunk = c.recv(65536)
    if not chunk:
        break
    data += chunk
c.sendall(data[::-1])
c.close()
"""

CLIENT = r"""
import socket, sys
payload = bytes(range(256)) * 400 + b"END"
c = socket.create_connection((sys.argv[1], 5001), timeout=30)
c.sendall(payload)
back = b""
while len(back) < len(payload):
    chunk = c.recv(65536)
    if not chunk:
        break
    back += chunk
print("ok" if back == payload[::-1] else "mismatch %d" % len(back))
"""


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True,
                          check=check, timeout=60)


class Topology:
    """Network namespaces, each joined to the host by a veth whose host end
    is a switch port: namespace i is PREFIX<pid>a, b, ..., its port
    PREFIX<pid>p1, p2, ..., its eth0 at addrs[i] (/24; None: no address),
    with the kernel's default offloads unless 'tx_csum_off' (for ports that
    cannot finish partial checksums: afxdp)."""

    def __init__(self, prefix="fsd", addrs=("10.77.0.1", "10.77.0.2"),
                 tx_csum_off=False):
        tag = os.getpid() % 100000
        self.ns = [f"{prefix}{tag}{chr(ord('a') + i)}"
                   for i in range(len(addrs))]
        self.ports = [f"{prefix}{tag}p{i + 1}" for i in range(len(addrs))]
        self.addr = list(addrs)
        self.tx_csum_off = tx_csum_off

    def create(self):
        for ns, port, addr in zip(self.ns, self.ports, self.addr):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", port, "type", "veth", "peer", "name",
               "eth0", "netns", ns)
            sh("ip", "link", "set", port, "up")
            self.nsexec(ns, "sysctl", "-qw",
                        "net.ipv6.conf.all.disable_ipv6=1")
            if addr:
                self.nsexec(ns, "ip", "addr", "add", addr + "/24", "dev",
                            "eth0")
            self.nsexec(ns, "ip", "link", "set", "eth0", "up")
            self.nsexec(ns, "ip", "link", "set", "lo", "up")
            if self.tx_csum_off:
                self.nsexec(ns, PY, "-c", TX_CSUM, "eth0", "0")

    def destroy(self):
        for port in self.ports:
            sh("ip", "link", "del", port, check=False)
        for ns in self.ns:
            sh("ip", "netns", "del", ns, check=False)

    @staticmethod
    def nsexec(ns, *args, check=True):
        return sh("ip", "netns", "exec", ns, *args, check=check)

    def leftovers(self):
        links = sh("ip", "-o", "link", "show").stdout
        netns = sh("ip", "netns", "list").stdout
        return [name for name in self.ns + self.ports
                if name in links or name in netns]


def built_topology(*args):
    """A Topology(*args), created; removed (and checked gone) after."""
    topo = Topology(*args)
    try:
        topo.create()
        yield topo
    finally:
        topo.destroy()
        assert topo.leftovers() == []


@pytest.fixture
def topology():
    yield from built_topology()


def test_ping_and_tcp_cross_the_switch(topology, tmp_path):
    t = topology
    d = Daemon("--port", t.ports[0], "--port", t.ports[1],
               "--handlers", "2", tmpdir=str(tmp_path)).start()
    try:
        # ICMP: the first echo also resolves ARP through the switch.
        res = t.nsexec(t.ns[0], PY, "-c", PING, t.addr[1], "5", check=False)
        assert res.returncode == 0 and int(res.stdout) >= 4, res

        # TCP, 100 KiB each way.
        server = subprocess.Popen(
            ["ip", "netns", "exec", t.ns[1], PY, "-c", SERVER, t.addr[1]],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert server.stdout.readline().strip() == "listening"
            res = t.nsexec(t.ns[0], PY, "-c", CLIENT, t.addr[1],
                           check=False)
            assert res.stdout.strip() == "ok", res
        finally:
            server.communicate(timeout=60)
        assert server.returncode == 0

        fdb = d.ctl("fdb/show")
        macs = {}
        for ns in t.ns:
            link = t.nsexec(ns, "ip", "-o", "link", "show", "eth0").stdout
            macs[ns] = link.split("link/ether ")[1].split()[0]
        rows = {line.split()[2]: line.split()[0]
                for line in fdb.splitlines()[1:]}
        assert rows.get(macs[t.ns[0]]) == "1", fdb
        assert rows.get(macs[t.ns[1]]) == "2", fdb

        flows = d.ctl("dpctl/dump-flows")
        assert "in_port(1)" in flows and "in_port(2)" in flows
        show = d.ctl("upcall/show")
        assert "flows" in show
        port_show = d.ctl("dpctl/show")
        assert f"port 1: {t.ports[0]} (afpacket)" in port_show
    finally:
        status = d.stop(signal.SIGTERM)
    assert status == 0, d.stderr + d.read_log()
    summary = parse_summary(d.stdout)
    assert_conserved(summary)
    assert summary["ports"][t.ports[0]]["rx"] > 0
    assert summary["ports"][t.ports[1]]["tx"] > 0


def test_missing_interface_is_one_clear_line(tmp_path):
    d = Daemon("--port", "fsd-no-such-if", tmpdir=str(tmp_path))
    d.start(wait=False)
    assert d.wait() == 1
    assert "fsd-no-such-if" in d.stderr


def test_local_port_is_a_tap_device(tmp_path):
    name = f"fsd{os.getpid() % 100000}t"
    d = Daemon("--port", f"{name},ofport=LOCAL", "--port", "p1,type=memory",
               tmpdir=str(tmp_path)).start()
    try:
        assert f"  port 0: {name} (tap)" in d.ctl("dpctl/show")
        assert f"port LOCAL: {name} (tap)" in d.ctl("port/show")
        assert sh("ip", "link", "show", name, check=False).returncode == 0
    finally:
        status = d.stop()
    assert status == 0, d.stderr
    assert sh("ip", "link", "show", name, check=False).returncode != 0
