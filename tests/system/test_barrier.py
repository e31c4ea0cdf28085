"""Barriers mean done: once flowswitchd answers an OpenFlow BARRIER (or a
control-socket add-flow / add-flows), the flow-mods before it are in
force for packets that hit cached megaflows too (README "OpenFlow").

As root, the test builds three veth pairs; one end of each is a switch
port (AF_PACKET, OpenFlow ports 1, 2, 3), the test holds the other end.
The rule "priority=10,in_port=1 actions=output:2" forwards frames from
port 1; traffic caches its megaflow.  Then, with the flow cache busy
(an unrelated flow-mod has just started a revalidator round, so the
next round cannot start at once), the rule is changed to output:3 and
the test waits for the reply: over OpenFlow (modify + BARRIER, with an
ECHO behind it that must be answered after the barrier) and over the
control socket (add-flow, add-flows with a file, mod-flows).  At once
after the reply it sends 30 frames of the flow into port 1 and counts, on
the far ends of ports 2 and 3, where they came out: all 30 must take the
new port.  (Before barriers waited for the revalidators, all 30 took the
old one: checked against the build of main before the change.)

And at shutdown, with the revalidators paused so that a barrier and an
add-flow wait: the daemon exits cleanly (exit status 0, the sanitizers'
verdict), the barrier is answered and the add-flow gets an error.

Names are tagged with the test's process id and removed afterwards.
Without root or iproute2 the tests are skipped with the reason.
"""

import json
import os
import shutil
import socket
import struct

import pytest

import ofp_client as oc
from daemon_util import DEADLINE, Daemon, stopped_cleanly, wait_for
from test_daemon_netns import sh
from traffic_util import built

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip"),
    reason="needs root and iproute2 (veth pairs, AF_PACKET)")

N_PACKETS = 30
ETH_P_ALL = 0x0003
MARK = b"flowswitch-barrier"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff


def frame(seq):
    """An Ethernet/IPv4/UDP frame of the test's flow; 'seq' in the
    payload (UDP checksum 0: none)."""
    payload = MARK + struct.pack("!I", seq)
    udp = struct.pack("!HHHH", 4000, 5000, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq & 0xffff,
                     0, 64, 17, 0, socket.inet_aton("10.78.0.1"),
                     socket.inet_aton("10.78.0.2"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes.fromhex("02000000000202000000000108 00".replace(" ", ""))
    return eth + ip + udp


class Wires:
    """Three veth pairs: the switch's ends fsb<pid>p1..3, ours ...h1..3,
    with one AF_PACKET socket on each of ours."""

    def __init__(self):
        tag = os.getpid() % 100000
        self.ports = [f"fsb{tag}p{i}" for i in (1, 2, 3)]
        self.peers = [f"fsb{tag}h{i}" for i in (1, 2, 3)]
        self.socks = []

    def create(self):
        for port, peer in zip(self.ports, self.peers):
            sh("ip", "link", "add", port, "type", "veth", "peer", "name",
               peer)
            for name in (port, peer):
                sh("sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1")
                sh("ip", "link", "set", name, "up")
        for peer in self.peers:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                              socket.htons(ETH_P_ALL))
            s.bind((peer, 0))
            s.setblocking(False)
            self.socks.append(s)

    def destroy(self):
        for s in self.socks:
            s.close()
        for port in self.ports:
            sh("ip", "link", "del", port, check=False)

    def leftovers(self):
        links = sh("ip", "-o", "link", "show").stdout
        return [p for p in self.ports + self.peers if p in links]

    def send(self, n, first_seq):
        for seq in range(first_seq, first_seq + n):
            self.socks[0].send(frame(seq))

    def _drain(self, i, seen):
        while True:
            try:
                data, addr = self.socks[i].recvfrom(65536)
            except BlockingIOError:
                return
            if addr[2] != socket.PACKET_OUTGOING and MARK in data:
                seen[i].add(data[data.index(MARK) + len(MARK):][:4])

    def count(self, n, first_seq):
        """Waits until the 'n' frames from 'first_seq' on came out of port
        2 or 3; returns how many came out of each."""
        want = {struct.pack("!I", s) for s in range(first_seq, first_seq + n)}
        seen = {1: set(), 2: set()}

        def arrived():
            for i in (1, 2):
                self._drain(i, seen)
            return len((seen[1] | seen[2]) & want) == n

        wait_for(arrived, f"{n} frames out of ports 2 and 3")
        return len(seen[1] & want), len(seen[2] & want)


@pytest.fixture
def wires():
    yield from built(Wires())


class Switch:
    """flowswitchd on the wires with an OpenFlow listener; frames with
    sequence numbers that never repeat."""

    def __init__(self, wires, tmp_path):
        self.w = wires
        self.ofsock = str(tmp_path / "br0.mgmt")
        args = []
        for port in wires.ports:
            args += ["--port", port]
        self.d = Daemon(*args, "--listen", f"punix:{self.ofsock}",
                        tmpdir=str(tmp_path)).start()
        self.seq = 0

    def send_and_count(self, n):
        first = self.seq
        self.seq += n
        self.w.send(n, first)
        return self.w.count(n, first)

    def cache_flow(self, out_port):
        """Sends until the rule's megaflow is cached and forwards to
        'out_port'."""
        def cached():
            on2, on3 = self.send_and_count(1)
            flows = self.d.ctl("dpctl/dump-flows")
            return (on2, on3) == ((1, 0) if out_port == 2 else (0, 1)) \
                and "in_port(1)" in flows
        wait_for(cached, "the flow's megaflow")

    def busy_revalidators(self, client):
        """An unrelated flow-mod: its revalidator round starts now, so the
        next one has to wait (DESIGN.md §3, at least 5 ms apart)."""
        client.send(oc.flow_mod_in_port_output(0, 9, 9, priority=1))
        client.barrier(xid=7)


def read_reply(s):
    """The JSON reply on control socket 's' (a dict)."""
    buf, decoder = b"", json.JSONDecoder()
    while True:
        chunk = s.recv(65536)
        assert chunk, "control socket closed without a reply"
        buf += chunk
        try:
            return decoder.raw_decode(buf.decode())[0]
        except ValueError:
            continue


def control_call(path, *argv):
    """One control-socket request, answered; returns the reply object."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(DEADLINE)
    s.connect(path)
    try:
        s.sendall(json.dumps({"id": 1, "method": argv[0],
                              "params": list(argv[1:])}).encode())
        return read_reply(s)
    finally:
        s.close()


def assert_all_took(new, on2, on3, after):
    assert (on2, on3) == ((0, N_PACKETS) if new == 3 else (N_PACKETS, 0)), \
        f"after {after} {on2} frames left on port 2, {on3} on port 3; " \
        f"all {N_PACKETS} should take port {new}"


def test_packets_after_barrier_reply_take_the_new_port(wires, tmp_path):
    sw = Switch(wires, tmp_path)
    try:
        sw.d.ctl("add-flow", "priority=10,in_port=1,actions=output:2")
        c = oc.Client(sw.ofsock)
        for new, old in ((3, 2), (2, 3), (3, 2)):
            sw.cache_flow(old)
            sw.busy_revalidators(c)
            # In one write: what follows the barrier (an echo) must be
            # answered after it.
            c.send(oc.flow_mod_in_port_output(1, 1, new, xid=10)
                   + oc.msg(oc.BARRIER_REQUEST, xid=11)
                   + oc.msg(oc.ECHO_REQUEST, xid=12))
            reply = c.recv()
            assert (reply[1], reply[4:8]) == (oc.BARRIER_REPLY,
                                              struct.pack("!I", 11)), reply
            on2, on3 = sw.send_and_count(N_PACKETS)
            assert c.recv()[1] == oc.ECHO_REPLY
            assert_all_took(new, on2, on3, "the barrier")
        c.close()
    finally:
        stopped_cleanly(sw.d)


def test_packets_after_add_flow_reply_take_the_new_port(wires, tmp_path):
    sw = Switch(wires, tmp_path)
    flows_file = tmp_path / "flows.txt"
    try:
        sw.d.ctl("add-flow", "priority=10,in_port=1,actions=output:2")
        c = oc.Client(sw.ofsock)
        for method, new, old in (("add-flow", 3, 2), ("add-flows", 2, 3),
                                 ("mod-flows", 3, 2)):
            text = f"priority=10,in_port=1,actions=output:{new}"
            sw.cache_flow(old)
            sw.busy_revalidators(c)
            if method == "add-flows":
                flows_file.write_text(text + "\n")
                reply = control_call(sw.d.sock, method, str(flows_file))
            elif method == "mod-flows":
                reply = control_call(sw.d.sock, method, "--strict", text)
            else:
                reply = control_call(sw.d.sock, method, text)
            assert reply.get("error") is None, reply
            on2, on3 = sw.send_and_count(N_PACKETS)
            assert_all_took(new, on2, on3, method)
        c.close()
    finally:
        stopped_cleanly(sw.d)


def test_shutdown_answers_what_waits_for_the_cache(wires, tmp_path):
    """Revalidators paused: a barrier and an add-flow wait.  SIGTERM
    still ends the daemon cleanly, the barrier is answered (after the
    final purge, with nothing cached left) and the add-flow gets an
    error that says why."""
    sw = Switch(wires, tmp_path)
    try:
        sw.d.ctl("add-flow", "priority=10,in_port=1,actions=output:2")
        sw.cache_flow(2)
        c = oc.Client(sw.ofsock)
        sw.d.ctl("revalidator/pause")
        c.send(oc.flow_mod_in_port_output(1, 1, 3, xid=10)
               + oc.msg(oc.BARRIER_REQUEST, xid=11))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(DEADLINE)
        s.connect(sw.d.sock)
        s.sendall(json.dumps({"id": 1, "method": "add-flow", "params": [
            "priority=10,in_port=1,actions=output:2"]}).encode())
        # Both are applied to the tables, neither is answered.
        wait_for(lambda: "daemon_flow_reply_deferred"
                 in sw.d.ctl("coverage/show"), "the add-flow to wait")
        c.sock.settimeout(0.2)
        with pytest.raises(socket.timeout):
            c.recv()
        c.sock.settimeout(DEADLINE)
    finally:
        stopped_cleanly(sw.d)
    reply = read_reply(s)
    assert "shutting down before the cached flows caught up" \
        in reply["error"], reply
    s.close()
    m = c.recv()
    assert (m[1], m[4:8]) == (oc.BARRIER_REPLY, struct.pack("!I", 11)), m
    c.close()
