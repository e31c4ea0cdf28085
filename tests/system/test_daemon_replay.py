"""flowswitchd in replay mode (--exit-when-drained) and under traffic.

A capture made here with scapy goes in on port 1; the flow table rewrites
and forwards it to ports 2 and 3, which write captures; the test computes
what each output port must carry (rewritten with scapy: mod_nw_dst,
dec_ttl, a pushed VLAN tag, a new destination MAC, checksums recomputed)
and compares the outputs with it packet by packet.  Packets of different
flows may leave in another order than they came (they cross different
handlers), so each port's packets are compared as a sorted list; every
packet must be there exactly as often as expected.  Checksums in the output
are verified by scapy independently.

Also pinned: the packets of every flow leave in the order they came, also
across the install of its megaflow (the draining state); the default table
is a learning switch; a replay looped N
times is received N times; SIGTERM in the middle of a paced replay stops
the switch with every received packet accounted for (the summary's
conservation lines hold and add up).
"""

import random
import signal

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw
from scapy.utils import rdpcap, wrpcap

from daemon_util import Daemon, assert_conserved, parse_summary, wait_for

FLOWS = """\
# The replay test's table.
table=0,priority=100,ip,nw_dst=10.1.0.1,actions=mod_nw_dst:10.2.0.1,dec_ttl,output:2
table=0,priority=90,udp,actions=mod_vlan_vid:42,output:3
table=0,priority=80,tcp,tp_dst=22,actions=drop
table=0,priority=70,icmp,actions=mod_dl_dst:02:00:00:00:00:99,output:2,output:3
table=0,priority=60,arp,actions=output:3
table=0,priority=0,actions=drop
"""

SRC_MAC, DST_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"


def eth():
    return Ether(src=SRC_MAC, dst=DST_MAC)


def make_input(rng):
    """Returns (frames, expected frames per output port)."""
    frames = []
    expected = {2: [], 3: []}

    def rewrite_to_10_2(frame):
        p = Ether(bytes(frame))
        p[IP].dst = "10.2.0.1"
        p[IP].ttl -= 1
        del p[IP].chksum
        if p.haslayer(TCP):
            del p[TCP].chksum
        if p.haslayer(UDP):
            del p[UDP].chksum
        return bytes(p)

    # Long and short TCP flows to the rewritten address.
    for flow in range(40):
        sport = 10000 + flow
        for k in range(1 if flow % 2 else 12):
            f = eth() / IP(src="10.0.0.%d" % (1 + flow % 7), dst="10.1.0.1",
                           ttl=rng.choice([64, 30, 2])) / \
                TCP(sport=sport, dport=80, flags="PA", seq=k) / \
                Raw(bytes([flow]) * rng.randrange(0, 40))
            frames.append(f)
            expected[2].append(rewrite_to_10_2(f))
    # UDP to the rewritten address (priority 100 wins over the udp flow).
    for k in range(10):
        f = eth() / IP(src="10.0.0.9", dst="10.1.0.1") / \
            UDP(sport=2000 + k, dport=53) / Raw(b"query%d" % k)
        frames.append(f)
        expected[2].append(rewrite_to_10_2(f))
    # Other UDP: tagged VLAN 42 on port 3.
    for k in range(30):
        f = eth() / IP(src="10.0.0.%d" % (k % 5 + 1), dst="10.3.0.%d" % k) / \
            UDP(sport=3000 + k, dport=4000) / Raw(b"x" * k)
        frames.append(f)
        inner = Ether(bytes(f))
        tagged = Ether(src=inner.src, dst=inner.dst) / Dot1Q(vlan=42) / \
            inner.payload
        expected[3].append(bytes(tagged))
    # ssh: dropped.
    for k in range(8):
        frames.append(eth() / IP(src="10.0.0.1", dst="10.5.0.1") /
                      TCP(sport=5000 + k, dport=22, flags="S"))
    # ICMP: new destination MAC, to both ports.
    for k in range(6):
        f = eth() / IP(src="10.0.0.1", dst="10.6.0.1") / \
            ICMP(type=8, id=7, seq=k) / Raw(b"ping")
        frames.append(f)
        p = Ether(bytes(f))
        p.dst = "02:00:00:00:00:99"
        expected[2].append(bytes(p))
        expected[3].append(bytes(p))
    # ARP: to port 3 unchanged.
    for k in range(4):
        f = Ether(src=SRC_MAC, dst="ff:ff:ff:ff:ff:ff") / \
            ARP(psrc="10.0.0.1", pdst="10.0.0.%d" % (100 + k))
        frames.append(f)
        expected[3].append(bytes(f))
    # TTL 1 to the rewritten address: dec_ttl sends it to the controller
    # (slow path), so it appears nowhere.
    for k in range(3):
        frames.append(eth() / IP(src="10.0.0.1", dst="10.1.0.1", ttl=1) /
                      TCP(sport=6000 + k, dport=80))
    rng.shuffle(frames)
    return frames, expected


def check_checksums(data):
    """scapy recomputes every checksum of 'data' and finds what it carries."""
    p = Ether(data)
    rebuilt = Ether(data)
    for layer in (IP, TCP, UDP, ICMP):
        if rebuilt.haslayer(layer):
            del rebuilt[layer].chksum
    assert bytes(Ether(bytes(rebuilt))) == bytes(p), p.summary()


def run_replay(tmp_path, frames, *extra, loop=None):
    cap = tmp_path / "in.pcap"
    wrpcap(str(cap), frames)
    flows = tmp_path / "flows.txt"
    flows.write_text(FLOWS)
    rx = f"p1,rx={cap}" + (f",loop={loop}" if loop else "")
    d = Daemon("--port", rx, "--port", f"p2,tx={tmp_path / 'p2.pcap'}",
               "--port", f"p3,tx={tmp_path / 'p3.pcap'}",
               "--flows", str(flows), "--exit-when-drained", *extra,
               tmpdir=str(tmp_path)).start(wait=False)
    assert d.wait() == 0, d.stderr + d.read_log()
    assert "replay finished" in d.stdout
    summary = parse_summary(d.stdout)
    assert_conserved(summary)
    return d, summary


@pytest.mark.parametrize("extra", [
    [],
    ["--governor", "on"],
    ["--handlers", "1", "--datapath-threads", "2"],
], ids=["default", "governor-on", "one-handler-two-threads"])
def test_replay_outputs_match_expected_packet_by_packet(tmp_path, extra):
    frames, expected = make_input(random.Random(7))
    d, summary = run_replay(tmp_path, frames, *extra)

    assert summary["rx"]["rx"] == len(frames)
    assert summary["rx"]["lost"] == 0  # An unpaced replay is lossless.
    assert summary["no_port"] == 0
    if "--governor" in extra:
        # Short flows went out without an install first.
        assert summary["governor_suppressed"] > 0
    for port in (2, 3):
        got = [bytes(p) for p in rdpcap(str(tmp_path / f"p{port}.pcap"))]
        assert len(got) == len(expected[port]), f"port {port}"
        assert summary["ports"][f"p{port}"]["tx"] == len(got)
        for data in got:
            check_checksums(data)
        assert sorted(got) == sorted(expected[port]), f"port {port}"
    # Every packet of a flow that was kept in the slow path still counts.
    assert "output captures" in d.stdout


@pytest.mark.parametrize("extra", [
    ["--handlers", "2"],
    ["--handlers", "2", "--governor", "on"],
    ["--handlers", "2", "--upcall-mode", "threads"],
    ["--handlers", "1", "--upcall-mode", "auto"],
], ids=["two-handlers", "governor-on", "threads-mode", "auto-one-handler"])
def test_each_flow_leaves_in_arrival_order_across_its_install(tmp_path,
                                                                extra):
    # 64 TCP flows of one megaflow (the table matches only tcp), their
    # packets interleaved, each carrying its sequence number: the first
    # packets of every flow miss while the others arrive, in the queues
    # of both handlers; none may overtake an older one of its flow.
    n_flows, n_per_flow = 64, 30
    frames = []
    for seq in range(n_per_flow):
        for f in range(n_flows):
            frames.append(Ether(src=SRC_MAC, dst=DST_MAC) /
                          IP(src="10.3.0.1", dst="10.3.0.2") /
                          TCP(sport=2000 + f, dport=443, flags="A") /
                          Raw(seq.to_bytes(4, "big")))
    cap = tmp_path / "in.pcap"
    wrpcap(str(cap), frames)
    flows = tmp_path / "flows.txt"
    flows.write_text("priority=10,tcp,actions=output:2\n"
                     "priority=0,actions=drop\n")
    d = Daemon("--port", f"p1,rx={cap}",
               "--port", f"p2,tx={tmp_path / 'p2.pcap'}",
               "--flows", str(flows), "--exit-when-drained", *extra,
               tmpdir=str(tmp_path)).start(wait=False)
    assert d.wait() == 0, d.stderr + d.read_log()
    summary = parse_summary(d.stdout)
    assert_conserved(summary)
    mode = "threads" if "threads" in extra else "auto"
    assert summary["batches"]["mode"] == mode
    if mode == "threads":
        assert summary["batches"]["datapath"] == 0
    got = rdpcap(str(tmp_path / "p2.pcap"))
    assert len(got) == len(frames)  # Lossless replay.
    last = {}
    for p in got:
        f, seq = p[TCP].sport, int.from_bytes(bytes(p[Raw])[:4], "big")
        assert seq == last.get(f, -1) + 1, \
            f"flow {f}: packet {seq} after {last.get(f)}"
        last[f] = seq
    assert len(last) == n_flows


def test_replay_loop_is_received_every_time(tmp_path):
    frames, expected = make_input(random.Random(8))
    _, summary = run_replay(tmp_path, frames, loop=3)
    assert summary["rx"]["rx"] == 3 * len(frames)
    got = rdpcap(str(tmp_path / "p2.pcap"))
    assert sorted(bytes(p) for p in got) == sorted(expected[2] * 3)


def test_default_table_is_a_learning_switch(tmp_path):
    a, b = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
    frames = [
        Ether(src=a, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.1",
                                                    pdst="10.0.0.2"),
        Ether(src=a, dst=b) / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(),
    ]
    cap = tmp_path / "in.pcap"
    wrpcap(str(cap), frames)
    d = Daemon("--port", f"p1,rx={cap}",
               "--port", f"p2,tx={tmp_path / 'p2.pcap'}",
               "--port", f"p3,tx={tmp_path / 'p3.pcap'}",
               "--exit-when-drained", tmpdir=str(tmp_path)).start(wait=False)
    assert d.wait() == 0, d.stderr
    assert_conserved(parse_summary(d.stdout))
    # b was never seen: both frames flood to every other port.
    for port in (2, 3):
        got = [bytes(p) for p in rdpcap(str(tmp_path / f"p{port}.pcap"))]
        assert sorted(got) == sorted(bytes(f) for f in frames)


def test_sigterm_under_traffic_accounts_for_every_packet(tmp_path):
    frames, _ = make_input(random.Random(9))
    cap = tmp_path / "in.pcap"
    wrpcap(str(cap), frames)
    flows = tmp_path / "flows.txt"
    flows.write_text(FLOWS)
    total = len(frames) * 100000
    d = Daemon("--port", f"p1,rx={cap},rate=20000,loop=100000",
               "--port", f"p2,tx={tmp_path / 'p2.pcap'}",
               "--port", "p3,type=memory", "--flows", str(flows),
               tmpdir=str(tmp_path)).start()

    def received():
        for line in d.ctl("dpctl/show", "-s").splitlines():
            if line.startswith("    RX packets:"):
                return int(line.split(":")[1].split()[0]) >= 3000
        return False

    wait_for(received, "3000 packets received")
    assert d.stop(signal.SIGTERM) == 0, d.stderr + d.read_log()
    summary = parse_summary(d.stdout)
    assert_conserved(summary)
    rx = summary["rx"]["rx"]
    assert 3000 <= rx < total
    assert summary["rx"]["missed"] > 0
    # What port 2 wrote is what it counted, and the capture is whole.
    got = rdpcap(str(tmp_path / "p2.pcap"))
    assert len(got) == summary["ports"]["p2"]["tx"]
