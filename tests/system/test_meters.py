"""OpenFlow 1.3 meters: ovs-ofctl -O OpenFlow13 against flowswitchd, and a
meter that drops above its rate on real interfaces.

The switch runs on two veth pairs (AF_PACKET ports).  The ovs-ofctl texts
expected here are what ovs-ofctl printed against Open vSwitch 3.1 for the
same commands (ovs-sandbox, by hand); Open vSwitch is not run here.  The
rate test sends a burst far above the meter's rate and bounds what
passed by the meter's own arithmetic over the time the test measured
(burst + rate × elapsed, plus one packet of slack), never by a sleep.
"""

import os
import re
import shutil
import socket
import struct
import subprocess
import time

import pytest

import ofp_client as oc
from daemon_util import Daemon, stopped_cleanly, wait_for
from test_barrier import Wires, frame

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip")
    or not shutil.which("ovs-ofctl"),
    reason="needs root, iproute2 and ovs-ofctl")

OFCTL = ["ovs-ofctl", "-O", "OpenFlow13"]
RATE = 200       # packets per second
BURST = 20       # packets
N_SEND = 1000


class Switch:
    """flowswitchd on test_barrier's three veth pairs, with an OpenFlow
    listener for ovs-ofctl."""

    def __init__(self, tmp_path, *extra):
        self.w = Wires()
        self.w.create()
        self.socks = self.w.socks
        sock = str(tmp_path / "of.sock")
        args = []
        for port in self.w.ports:
            args += ["--port", port]
        self.d = Daemon(*args, "--listen", f"punix:{sock}", *extra,
                        tmpdir=str(tmp_path)).start()
        self.target = f"unix:{sock}"
        self.sock = sock

    def ofctl(self, *args, check=True):
        res = subprocess.run(OFCTL + [args[0], self.target] + list(args[1:]),
                             capture_output=True, text=True, timeout=60)
        if check:
            assert res.returncode == 0, res.stderr
        return res

    def received(self, seen):
        """Drains port 2's peer; adds the sequence numbers it got."""
        while True:
            try:
                data, addr = self.socks[1].recvfrom(65536)
            except BlockingIOError:
                return seen
            if addr[2] != socket.PACKET_OUTGOING \
                    and b"flowswitch-barrier" in data:
                seen.add(data[-4:])

    def close(self):
        stopped_cleanly(self.d)
        self.w.destroy()


@pytest.fixture(scope="module")
def switch(tmp_path_factory):
    s = Switch(tmp_path_factory.mktemp("meters"))
    try:
        yield s
    finally:
        s.close()


def meter_stats(sw, meter):
    text = sw.ofctl("meter-stats", f"meter={meter}").stdout
    m = re.search(r"flow_count:(\d+) packet_in_count:(\d+) "
                  r"byte_in_count:(\d+)", text)
    assert m, text
    bands = [(int(p), int(b)) for p, b in
             re.findall(r"\d+: packet_count:(\d+) byte_count:(\d+)", text)]
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), bands


def test_meter_mods_print_as_open_vswitch(switch):
    sw = switch
    sw.ofctl("add-meter", "meter=1,pktps,burst,stats,bands=type=drop,"
             "rate=100,burst_size=10")
    sw.ofctl("add-meter", "meter=5,kbps,stats,bands=type=drop,rate=1000,"
             "type=drop,rate=2000")
    out = sw.ofctl("dump-meters").stdout
    assert out.split("\n", 1)[1] == (
        "meter=1 pktps burst stats bands=\n"
        "type=drop rate=100 burst_size=10\n\n"
        "meter=5 kbps stats bands=\n"
        "type=drop rate=1000\n"
        "type=drop rate=2000\n")
    feats = sw.ofctl("meter-features").stdout
    assert "max_meter:4096 max_bands:8 max_color:0" in feats
    assert "band_types: drop dscp_remark" in feats
    assert "capabilities: kbps pktps burst stats" in feats

    err = sw.ofctl("add-meter", "meter=1,pktps,bands=type=drop,rate=100",
                   check=False)
    assert err.returncode and "OFPMMFC_METER_EXISTS" in err.stderr
    err = sw.ofctl("mod-meter", "meter=9,pktps,bands=type=drop,rate=1",
                   check=False)
    assert err.returncode and "OFPMMFC_UNKNOWN_METER" in err.stderr
    err = sw.ofctl("add-meter", "meter=7,kbps,pktps,bands=type=drop,rate=1",
                   check=False)
    assert err.returncode and "OFPMMFC_BAD_FLAGS" in err.stderr
    err = sw.ofctl("add-flow", "in_port=1,actions=meter:99,output:2",
                   check=False)
    assert err.returncode and "OFPMMFC_INVALID_METER" in err.stderr

    sw.ofctl("del-flows")
    sw.ofctl("add-flow", "in_port=1,actions=meter:5,output:2")
    assert "actions=meter:5,output:2" in sw.ofctl("dump-flows").stdout
    assert meter_stats(sw, 5)[0] == 1
    sw.ofctl("del-meters", "meter=5")
    assert "meter:5" not in sw.ofctl("dump-flows").stdout
    assert "meter=5" not in sw.ofctl("dump-meters").stdout
    sw.ofctl("del-meters", "meter=55")      # Missing: not an error.
    sw.ofctl("del-meters")
    assert sw.ofctl("dump-meters").stdout.count("meter=") == 0


def send_paced(sock, n, seconds):
    """Sends 'n' frames spread evenly over about 'seconds' (far above the
    meter's rate), so that the rate, not only the burst, shows."""
    start = time.monotonic()
    for seq in range(n):
        while time.monotonic() < start + seconds * seq / n:
            pass
        sock.send(frame(seq))


def flood_meter(sw, meter, n_send):
    """Sends 'n_send' frames into port 1 over 0.3 s and waits until meter
    'meter' has seen them all and port 2 has sent every one it passed.
    Returns (elapsed s, frames out of port 2, meter_stats())."""
    seen = set()
    start = time.monotonic()
    send_paced(sw.socks[0], n_send, 0.3)
    wait_for(lambda: meter_stats(sw, meter)[1] == n_send,
             "every frame through the meter")
    elapsed = time.monotonic() - start
    stats = meter_stats(sw, meter)
    passed = stats[1] - stats[3][0][0]
    wait_for(lambda: len(sw.received(seen)) >= passed,
             f"{passed} frames out of port 2")
    print(f"meter: {passed} of {n_send} passed in {elapsed:.3f} s")
    return elapsed, len(seen), stats


def test_meter_drops_above_its_rate_and_counts_exactly(switch):
    sw = switch
    sw.ofctl("del-flows")
    sw.ofctl("add-meter", f"meter=2,pktps,burst,stats,bands=type=drop,"
             f"rate={RATE},burst_size={BURST}")
    sw.ofctl("add-flow", "in_port=1,actions=meter:2,output:2")
    elapsed, n_out, (flow_count, packet_in, byte_in, bands) = \
        flood_meter(sw, 2, N_SEND)
    dropped, dropped_bytes = bands[0]
    passed = packet_in - dropped
    # Every frame through the meter either passed (and came out of port
    # 2) or was dropped by the band; the bucket starts full, so the
    # first BURST frames pass, and after that no more than the rate over
    # the time the test measured (+1 for a part-filled token).
    assert flow_count == 1
    assert n_out == passed
    assert BURST <= passed <= BURST + RATE * elapsed + 1, (passed, elapsed)
    size = len(frame(0))
    assert byte_in == N_SEND * size and dropped_bytes == dropped * size
    assert "meter(0),2" in sw.d.ctl("dpctl/dump-flows")
    assert re.search(r"meter:(\d+)", sw.d.ctl("dpctl/show")).group(1) \
        == str(dropped)


def test_control_socket_meter_commands_speak_ovs_ofctl_text(switch):
    d = switch.d
    d.ctl("del-meters")
    d.ctl("add-meter", "br0", "meter=3,kbps,burst,stats,bands="
          "type=dscp_remark,rate=1000,burst_size=5,prec_level=2,"
          "type=drop,rate=5000,burst_size=7")
    d.ctl("add-meter", "meter=4,pktps,bands=type=drop,rate=10")
    text = ("meter=3 kbps burst stats bands=\n"
            "type=dscp_remark rate=1000 burst_size=5 prec_level=2\n"
            "type=drop rate=5000 burst_size=7\n\n"
            "meter=4 pktps bands=\n"
            "type=drop rate=10\n")
    assert d.ctl("dump-meters") == text
    # The same meters read over OpenFlow: ovs-ofctl adds its header.
    assert switch.ofctl("dump-meters").stdout.split("\n", 1)[1] == text
    stats = d.ctl("meter-stats", "meter=3")
    assert re.fullmatch(r"meter:3 flow_count:0 packet_in_count:0 "
                        r"byte_in_count:0 duration:\d+\.\d{3}s bands:\n"
                        r"0: packet_count:0 byte_count:0\n"
                        r"1: packet_count:0 byte_count:0\n", stats), stats
    d.ctl("mod-meter", "meter=4,pktps,bands=type=drop,rate=20")
    assert "type=drop rate=20\n" in d.ctl("dump-meters", "meter=4")
    for bad, msg in [
            ("meter=5,pktps,bands=type=drop", "a band has no rate="),
            ("meter=5,bands=type=drop,rate=1", "expected kbps or pktps"),
            ("meter=5,pktps,bands=type=drop,rate=1,burst_size=2",
             "burst_size= needs the burst flag"),
            ("meter=0,pktps,bands=type=drop,rate=1", "bad meter id \"0\""),
            ("meter=5,pktps,bands=type=red,rate=1", "bad band type"),
            ("meter=4,pktps,bands=type=drop,rate=1",
             "OFPMMFC_METER_EXISTS")]:
        res = d.ctl_run("add-meter", bad, check=False)
        assert res.returncode and msg in res.stderr, (bad, res.stderr)
        assert res.stderr.count("\n") == 2, res.stderr  # Ours + the ctl's.
    res = d.ctl_run("add-flow", "in_port=2,actions=meter:9,output:1",
                    check=False)
    assert res.returncode and "no meter 9" in res.stderr
    d.ctl("add-flow", "in_port=2,actions=meter:4,output:1")
    assert "actions=meter:4,output:1" in d.ctl("dump-flows")
    d.ctl("del-meters", "meter=all")
    assert d.ctl("dump-meters") == ""
    assert "meter:4" not in d.ctl("dump-flows")


METER_MOD, MULTIPART_REQUEST, MULTIPART_REPLY = 29, 18, 19
OFPMP_FLOW, OFPMP_METER, OFPMP_METER_CONFIG, OFPMP_METER_FEATURES = \
    1, 9, 10, 11


def band(type_, rate, burst, prec=0):
    return struct.pack("!HHIIB3x", type_, 16, rate, burst, prec)


def meter_mod(command, flags, meter_id, *bands):
    return oc.msg(METER_MOD, struct.pack("!HHI", command, flags, meter_id)
                  + b"".join(bands))


def in_port_match(port):
    return struct.pack("!HHHBBI4x", 1, 12, 0x8000, 0, 4, port)


def flow_mod(cookie, port, instructions):
    body = struct.pack("!QQBBHHHIIIH2x", cookie, 0, 0, 0, 0, 0, 10,
                       oc.NO_BUFFER, 0xffffffff, 0xffffffff, 0)
    return oc.msg(oc.FLOW_MOD, body + in_port_match(port) + instructions)


METER_10 = struct.pack("!HHI", 6, 8, 10)
APPLY_OUT2 = struct.pack("!HH4x", 4, 24) + oc.output(2)


def multipart(c, type_, body=b""):
    """The entries' bytes of a one-message multipart reply."""
    c.send(oc.msg(MULTIPART_REQUEST, struct.pack("!HH4x", type_, 0) + body,
                  xid=5))
    m = c.recv_type(MULTIPART_REPLY)
    assert struct.unpack("!H", m[8:10])[0] == type_
    return m[16:]


def test_meter_mods_and_instructions_read_back_as_written(switch):
    sw = switch
    sw.ofctl("del-flows")
    sw.ofctl("del-meters")
    c = oc.Client(sw.sock)
    bands = band(1, 100, 10) + band(2, 50, 5, 2)
    c.send(meter_mod(0, 0x2 | 0x4 | 0x8, 10, band(1, 100, 10),
                     band(2, 50, 5, 2)))
    refused = [
        (meter_mod(0, 0x2, 11, band(1, 0, 0)), (12, 6)),      # BAD_RATE
        (meter_mod(0, 0x2, 11, band(0xffff, 1, 0)), (12, 8)),  # BAD_BAND
        (meter_mod(0, 0x3, 11, band(1, 1, 0)), (12, 5)),      # BAD_FLAGS
        (meter_mod(0, 0x2, 0, band(1, 1, 0)), (12, 2)),       # INVALID
        (meter_mod(0, 0x2, 10, band(1, 1, 0)), (12, 1)),      # EXISTS
        (meter_mod(1, 0x2, 11, band(1, 1, 0)), (12, 3)),      # UNKNOWN
        (meter_mod(0, 0x2, 11, band(1, 1, 0)[:12]), (1, 6)),  # BAD_LEN
        (meter_mod(0, 0x2, 11), (12, 11)),                    # No band.
        (meter_mod(5, 0x2, 11, band(1, 1, 0)), (12, 4)),      # BAD_COMMAND
        (flow_mod(9, 3, struct.pack("!HHI", 6, 8, 11) + APPLY_OUT2),
         (12, 2)),                                    # No meter 11.
    ]
    for i, (m, _) in enumerate(refused):
        c.send(m[:4] + struct.pack("!I", 100 + i) + m[8:])
    c.send(meter_mod(2, 0, 0))      # Deleting meter 0: nothing, no error.
    c.send(flow_mod(1, 1, METER_10 + APPLY_OUT2))
    c.send(flow_mod(2, 3, APPLY_OUT2 + METER_10))
    errors = {struct.unpack("!I", m[4:8])[0]: oc.error_of(m)
              for m in c.barrier() if m[1] == oc.ERROR}
    assert errors == {100 + i: want for i, (_, want) in enumerate(refused)}

    config = multipart(c, OFPMP_METER_CONFIG,
                       struct.pack("!I4x", 0xffffffff))
    assert config == struct.pack("!HHI", 8 + len(bands), 0xe, 10) + bands
    assert multipart(c, OFPMP_METER_FEATURES) == struct.pack(
        "!IIIBB2x", 4096, 1 << 1 | 1 << 2, 0xf, 8, 0)
    stats = multipart(c, OFPMP_METER, struct.pack("!I4x", 10))
    meter_id, length, flow_count = struct.unpack("!IH6xI", stats[:16])
    assert (meter_id, length, flow_count) == (10, 40 + 2 * 16, 2)

    # Both flows read back with the meter instruction first, then the
    # actions, as Open vSwitch encodes them.
    req = struct.pack("!B3xII4xQQ", 0xff, 0xffffffff, 0xffffffff, 0, 0) + \
        struct.pack("!HH4x", 1, 4)
    entries = multipart(c, OFPMP_FLOW, req)
    insts = []
    while entries:
        length = struct.unpack("!H", entries[:2])[0]
        entry, entries = entries[:length], entries[length:]
        match_len = struct.unpack("!H", entry[50:52])[0]
        insts.append(entry[48 + match_len + (-match_len % 8):])
    assert insts == [METER_10 + APPLY_OUT2] * 2
    c.close()
