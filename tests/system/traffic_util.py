"""Traffic for the reliability tests (test_reliability*.py), fast.

scapy builds a few thousand packets a second, and these tests replay tens
of thousands, so the frames here are packed by hand: Ethernet, IPv4 (with
its header checksum) and UDP (checksum 0, "none").  Each frame's payload
starts with its index in the capture, so that whatever comes out of the
switch can be traced back to the frame that went in.  Captures are
written and read in classic pcap format with microsecond timestamps.

Helpers to read the daemon's counters through its control commands live
here too.
"""

import os
import re
import struct

PCAP_HEADER = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)

SANITIZER = os.environ.get("FLOWSWITCH_SANITIZER", "default")
SANITIZED = SANITIZER not in ("", "default")


def scaled(default, sanitized):
    """'default' in the plain build, 'sanitized' under ASan or TSan (which
    run the same tests several times slower)."""
    return sanitized if SANITIZED else default


def mac(n):
    return bytes([2, 0, 0, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff])


def ip4(a, b, c, d):
    return (a << 24) | (b << 16) | (c << 8) | d


def ip4_text(addr):
    return ".".join(str((addr >> s) & 0xff) for s in (24, 16, 8, 0))


def _csum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def udp_frame(index, src, dst, sport, dport, eth_src=mac(1), eth_dst=mac(2),
              tos=0, size=64):
    """An Ethernet/IPv4/UDP frame of 'size' bytes whose payload starts with
    'index' (4 bytes, big-endian)."""
    payload = struct.pack("!I", index)
    payload += bytes(max(0, size - 14 - 20 - 8 - len(payload)))
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBHII", 0x45, tos, 20 + len(udp), index & 0xffff,
                     0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return eth_dst + eth_src + b"\x08\x00" + ip + udp


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(PCAP_HEADER)
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000000,
                                i % 1000000, len(frame), len(frame)))
            f.write(frame)


def read_pcap(path):
    """The frames of a classic little-endian pcap file (what libpcap, and
    so flowswitchd's pcap ports, write on this machine)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == PCAP_HEADER[:4], f"{path}: not a pcap file"
    frames, ofs = [], 24
    while ofs + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, ofs + 8)[0]
        frames.append(data[ofs + 16:ofs + 16 + caplen])
        ofs += 16 + caplen
    return frames


class Ipv4Udp:
    """The fields of an Ethernet/IPv4/UDP frame the tests look at."""

    def __init__(self, frame):
        assert frame[12:14] == b"\x08\x00", frame[:16].hex()
        self.tos = frame[15]
        self.src, self.dst = struct.unpack_from("!II", frame, 26)
        self.sport, self.dport = struct.unpack_from("!HH", frame, 34)
        self.index = struct.unpack_from("!I", frame, 42)[0]


# ---- Reading the daemon's counters ----------------------------------------

PORT_RX = re.compile(r"^\s+rx: packets (\d+), bytes \d+, dropped (\d+), "
                     r"errors (\d+); lost (\d+) \(over its share \d+\), "
                     r"unparsable (\d+)$")
PORT_TX = re.compile(r"^\s+tx: packets (\d+), bytes \d+, dropped (\d+)"
                     r"(?: \(interface missing (\d+)\))?, errors (\d+)$")
PORT_HEAD = re.compile(r"^  port (\S+): (\S+) \((\w+)\)(.*), datapath port "
                       r"(\d+)$")


def port_stats(daemon):
    """port/show as {name: {rx, rx_dropped, rx_errors, lost, unparsable,
    tx, tx_dropped, tx_missing, tx_errors, ended, missing}}."""
    ports, cur = {}, None
    for line in daemon.ctl("port/show").splitlines():
        m = PORT_HEAD.match(line)
        if m:
            cur = ports.setdefault(m.group(2), {})
            cur["ended"] = "(replay ended)" in m.group(4)
            cur["missing"] = "(missing)" in m.group(4)
            continue
        m = PORT_RX.match(line)
        if m and cur is not None:
            cur.update(zip(["rx", "rx_dropped", "rx_errors", "lost",
                            "unparsable"], map(int, m.groups())))
            continue
        m = PORT_TX.match(line)
        if m and cur is not None:
            cur.update(zip(["tx", "tx_dropped", "tx_missing", "tx_errors"],
                           (int(g or 0) for g in m.groups())))
    return ports


def coverage(daemon, name):
    """The total of coverage counter 'name' (0 if never hit)."""
    for line in daemon.ctl("coverage/show").splitlines():
        parts = line.split()
        if parts and parts[0] == name:
            return int(parts[-1])
    return 0


DP_SHOW_LOST = re.compile(r"^  lost: queue-full:(\d+) port-share:(\d+) "
                          r"no-handler:(\d+) shutdown:(\d+)$")
DP_SHOW_LOOKUPS = re.compile(r"^  lookups: hit:(\d+) missed:(\d+) lost:(\d+)$")
DP_SHOW_FLOWS = re.compile(r"^  flows: (\d+)$")
DP_SHOW_IDLE = re.compile(r"^  idle work: batches:(\d+) wakes-deferred:(\d+) "
                          r"ports-paused:(\d+)$")


def dp_show(daemon, timeout=None):
    """dpctl/show's numbers: hit, missed, lost, flows, lost by reason and
    idle work (idle_batches, wakes_deferred, ports_paused)."""
    args = ["dpctl/show"]
    out = (daemon.ctl_run(*args, timeout=timeout).stdout if timeout
           else daemon.ctl(*args))
    res = {}
    for line in out.splitlines():
        m = DP_SHOW_LOOKUPS.match(line)
        if m:
            res.update(zip(["hit", "missed", "lost"], map(int, m.groups())))
        m = DP_SHOW_FLOWS.match(line)
        if m:
            res["flows"] = int(m.group(1))
        m = DP_SHOW_LOST.match(line)
        if m:
            res.update(zip(["lost_queue_full", "lost_port_share",
                            "lost_no_handler", "lost_shutdown"],
                           map(int, m.groups())))
        m = DP_SHOW_IDLE.match(line)
        if m:
            res.update(zip(["idle_batches", "wakes_deferred",
                            "ports_paused"], map(int, m.groups())))
    return res


def built(wires):
    """For a fixture: `yield from built(Wires())` creates the test's
    interfaces, yields them, and destroys them afterwards, asserting that
    nothing named by wires.leftovers() is left behind."""
    try:
        wires.create()
        yield wires
    finally:
        wires.destroy()
        assert wires.leftovers() == []
