"""An OpenFlow 1.3 pipeline with groups, a meter and the action set,
installed by a real controller (os-ken, tests/system/osken_pipeline_app.py),
carrying real traffic between network namespaces.

The sending host lives in a namespace behind switch port 1 and sends UDP
datagrams with its kernel's stack; ports 2, 3 and 4 are veths whose other
ends the test reads with AF_PACKET sockets.  Each datagram carries a
marker, its destination port and a sequence number, so that every frame
that comes out is accounted for.  The test shows:

  - select group: 64 five-tuples spread over both buckets, each datagram
    out of exactly one port;
  - fast-failover group: everything leaves by port 2 until the veth
    behind port 2 loses its carrier, then by port 3;
  - meter: of a burst far above the band's rate, at most
    rate * elapsed + burst datagrams pass (elapsed measured from the first
    send to the moment the meter had seen them all), at least one passes,
    and the band drops the rest;
  - write_actions / clear_actions: the action set written in table 0 runs
    at the end of table 1, or is cleared there and nothing leaves;
  - group, bucket, meter, band and table statistics read back through
    ovs-ofctl equal what was sent and received.

Names carry the test's process id and are removed afterwards.
"""

import errno
import os
import re
import shutil
import socket
import struct
import subprocess
import time

import pytest

from daemon_util import DEADLINE, Daemon, wait_for
from test_daemon_netns import PY, sh
from test_openflow_controller import Controller, have_osken
from traffic_util import built

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "osken_pipeline_app.py")
RATE, BURST = 200, 20  # As in osken_pipeline_app.py.

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip"),
                       reason="needs root and iproute2 (network namespaces)"),
    pytest.mark.skipif(not have_osken(),
                       reason="needs os-ken (python3-os-ken)"),
    pytest.mark.skipif(not shutil.which("ovs-ofctl"),
                       reason="needs ovs-ofctl (openvswitch-common)"),
]

ETH_P_ALL = 0x0003
MARK = b"fsw-pipeline"
SRC, DST = "10.79.0.1", "10.79.0.2"
DST_MAC = "02:00:00:79:00:02"

# PY -c SEND DPORT N FIRST_SEQ: N UDP datagrams to DST:DPORT from 64
# source ports (one socket each), payload MARK + (dport, seq); prints the
# seconds the sending took.
SEND = r"""
import socket, struct, sys, time
dport, n, first = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks = []
for i in range(64):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("%s", 20000 + i))
    socks.append(s)
start = time.monotonic()
for seq in range(first, first + n):
    socks[seq %% 64].sendto(b"%s" + struct.pack("!HI", dport, seq),
                           ("%s", dport))
print(time.monotonic() - start)
""" % (SRC, MARK.decode(), DST)


class Wires:
    """Port 1: a veth to namespace <tag>n1 (the sender, SRC/24, DST's MAC
    entered by hand: no ARP); ports 2..4: veths whose peers we read."""

    def __init__(self):
        self.tag = f"fop{os.getpid() % 100000}"
        self.ns = f"{self.tag}n1"
        self.ports = [f"{self.tag}p{i}" for i in (1, 2, 3, 4)]
        self.peers = {i: f"{self.tag}h{i}" for i in (2, 3, 4)}
        self.socks = {}
        self.seen = {}  # (port, dport) -> set of sequence numbers.

    def _up(self, name):
        sh("sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1")
        sh("ip", "link", "set", name, "up")

    def nsexec(self, *args, check=True):
        return sh("ip", "netns", "exec", self.ns, *args, check=check)

    def create(self):
        sh("ip", "netns", "add", self.ns)
        sh("ip", "link", "add", self.ports[0], "type", "veth", "peer",
           "name", "eth0", "netns", self.ns)
        self._up(self.ports[0])
        for cmd in (["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"],
                    ["ip", "addr", "add", SRC + "/24", "dev", "eth0"],
                    ["ip", "link", "set", "eth0", "up"],
                    ["ip", "neigh", "add", DST, "lladdr", DST_MAC, "dev",
                     "eth0"]):
            self.nsexec(*cmd)
        for i, peer in self.peers.items():
            sh("ip", "link", "add", self.ports[i - 1], "type", "veth",
               "peer", "name", peer)
            self._up(self.ports[i - 1])
            self._up(peer)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                              socket.htons(ETH_P_ALL))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind((peer, 0))
            s.setblocking(False)
            self.socks[i] = s

    def destroy(self):
        for s in self.socks.values():
            s.close()
        for port in self.ports:
            sh("ip", "link", "del", port, check=False)
        sh("ip", "netns", "del", self.ns, check=False)

    def leftovers(self):
        text = sh("ip", "-o", "link", "show").stdout + \
            sh("ip", "netns", "list").stdout
        return [n for n in self.ports + list(self.peers.values()) + [self.ns]
                if n in text]

    def send(self, dport, n, first):
        """Sends datagrams first..first+n-1 to 'dport'; returns the
        sender's elapsed seconds."""
        return float(self.nsexec(PY, "-c", SEND, str(dport), str(n),
                                 str(first)).stdout)

    def drain(self):
        for i, s in self.socks.items():
            while True:
                try:
                    data, addr = s.recvfrom(65536)
                except BlockingIOError:
                    break
                except OSError as e:
                    # The peer set down (fast-failover) reports ENETDOWN
                    # once; what it had queued is read on the next pass.
                    assert e.errno == errno.ENETDOWN, e
                    break
                if addr[2] == socket.PACKET_OUTGOING or MARK not in data:
                    continue
                at = data.index(MARK) + len(MARK)
                dport, seq = struct.unpack("!HI", data[at:at + 6])
                self.seen.setdefault((i, dport), set()).add(seq)

    def got(self, port, dport, seqs=None):
        """How many of 'seqs' (default: all) left 'port' for 'dport'."""
        self.drain()
        s = self.seen.get((port, dport), set())
        return len(s) if seqs is None else len(s & set(seqs))

    def wait_all(self, dport, seqs, ports):
        """Waits until every datagram of 'seqs' left one of 'ports'."""
        wait_for(lambda: sum(self.got(p, dport, seqs) for p in ports)
                 >= len(seqs), f"datagrams to {dport} out of {ports}")
        return [self.got(p, dport, seqs) for p in ports]


@pytest.fixture
def wires():
    yield from built(Wires())


@pytest.fixture
def controller(tmp_path):
    c = Controller(tmp_path, app=APP)
    try:
        yield c
    finally:
        c.stop()


def ofctl(d, *args):
    sock = os.path.join(d.dir, "of.sock")
    res = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", args[0],
                          f"unix:{sock}"] + list(args[1:]),
                         capture_output=True, text=True, timeout=DEADLINE)
    assert res.returncode == 0, res
    return res.stdout


def numbers(text, *names):
    """The values of 'names' (name=N or name:N) in 'text', in order."""
    return [int(re.search(rf"\b{n}[=:](\d+)", text).group(1)) for n in names]


def group_stats(d, group_id):
    """(packet_count, [bucket packet counts]) of a group."""
    line = next(ln for ln in ofctl(d, "dump-group-stats").splitlines()
                if f"group_id={group_id}," in ln)
    buckets = [int(n) for n in
               re.findall(r"bucket\d+:packet_count=(\d+)", line)]
    return numbers(line, "packet_count")[0], buckets


def meter_stats(d):
    """(packet_in_count, band 0 packet_count) of meter 1."""
    text = ofctl(d, "meter-stats")
    packet_in = numbers(text, "packet_in_count")[0]
    band = int(re.search(r"0: packet_count:(\d+)", text).group(1))
    return packet_in, band


def table_stats(d, table):
    text = ofctl(d, "dump-tables")
    block = re.search(rf"table {table}[^\n]*\n\s*active=\d+, lookup=(\d+), "
                      r"matched=(\d+)", text)
    assert block, text
    return int(block.group(1)), int(block.group(2))


def rx_total(d):
    return sum(int(n) for n in
               re.findall(r"rx pkts=(\d+)", ofctl(d, "dump-ports")))


def test_osken_pipeline(wires, controller, tmp_path):
    controller.start()
    args = []
    for port in wires.ports:
        args += ["--port", port]
    d = Daemon(*args, "--controller", f"tcp:127.0.0.1:{controller.port}",
               "--listen", f"punix:{tmp_path / 'of.sock'}",
               "--fail-mode", "secure", "--handlers", "1",
               tmpdir=str(tmp_path)).start()
    try:
        wait_for(lambda: "pipeline installed" in controller.read_log(),
                 "the controller's pipeline")
        assert "switch error" not in controller.read_log(), \
            controller.read_log()
        seq = 0

        # Select group: one datagram from each of 64 source ports.
        select = range(seq, seq + 64)
        seq += 64
        wires.send(1000, 64, select[0])
        on2, on3, on4 = wires.wait_all(1000, select, (2, 3, 4))
        assert on2 + on3 == 64 and on4 == 0 and on2 > 0 and on3 > 0

        # Fast-failover: port 2 while its carrier is up, then port 3.
        ff = list(range(seq, seq + 20))
        seq += 20
        wires.send(2000, 20, ff[0])
        assert wires.wait_all(2000, ff, (2, 3)) == [20, 0]
        sh("ip", "link", "set", wires.peers[2], "down")

        def moved():
            nonlocal seq
            wires.send(2000, 1, seq)
            ff.append(seq)
            seq += 1
            return wires.got(3, 2000, ff[-1:]) == 1
        wait_for(moved, "fast-failover to move to port 3")
        after = range(seq, seq + 20)
        seq += 20
        ff.extend(after)
        wires.send(2000, 20, after[0])
        assert wires.wait_all(2000, after, (3,)) == [20]

        # Meter: a burst far above its rate.
        n_meter = 1000
        metered = range(seq, seq + n_meter)
        seq += n_meter
        start = time.monotonic()
        wires.send(3000, n_meter, metered[0])
        wait_for(lambda: meter_stats(d)[0] == n_meter,
                 "the meter to see the burst")
        elapsed = time.monotonic() - start
        passed = wires.got(4, 3000)
        _, dropped = meter_stats(d)
        print(f"meter: {passed} of {n_meter} passed in {elapsed:.3f} s "
              f"(rate {RATE}/s, burst {BURST})")
        assert passed + dropped == n_meter
        assert 1 <= passed <= RATE * elapsed + BURST + 1
        assert dropped >= 1

        # The action set: written in table 0, run at the end of table 1,
        # or cleared there.
        written = range(seq, seq + 10)
        cleared = range(seq + 10, seq + 20)
        seq += 20
        wires.send(4000, 10, written[0])
        wires.send(5000, 10, cleared[0])
        assert wires.wait_all(4000, written, (4,)) == [10]

        # Statistics, once the revalidators have pushed what the cached
        # megaflows counted.
        d.ctl("revalidator/wait")
        d.ctl("revalidator/wait")
        assert wires.got(4, 5000) == 0
        assert wires.got(2, 4000) + wires.got(3, 4000) == 0
        packets, buckets = group_stats(d, 1)
        assert (packets, buckets) == (64, [on2, on3])
        packets, buckets = group_stats(d, 2)
        assert packets == len(ff) and sum(buckets) == len(ff)
        assert buckets[1] == wires.got(3, 2000) >= 21
        assert meter_stats(d) == (n_meter, dropped)
        ours = 64 + len(ff) + n_meter + 20
        lookups, matched = table_stats(d, 0)
        assert matched == ours
        assert lookups == rx_total(d) >= ours
        assert table_stats(d, 1) == (20, 20)
    finally:
        status = d.stop()
        assert status == 0, d.stderr + d.read_log()
