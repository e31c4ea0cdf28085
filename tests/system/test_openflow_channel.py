"""The OpenFlow channel's rules, poked with a raw client
(tests/system/ofp_client.py) on a punix listener: roles, framing and
length errors, echo, unknown messages, packet-ins (content, max_len) and
their per-connection rate limit.  Memory ports only: no root needed."""

import re
import socket
import struct

import pytest

import ofp_client as oc
from daemon_util import Daemon, stopped_cleanly, wait_for

FRAME = bytes.fromhex("ffffffffffff000000000001080600010800060400010000"
                      "000000010a0000010000000000000a000002") + bytes(18)

# OFPET_BAD_REQUEST codes and others, as the specification numbers them.
BAD_REQUEST, BAD_TYPE, BAD_LEN, IS_SLAVE = 1, 1, 6, 10
ROLE_FAILED, STALE = 11, 0
HELLO_FAILED, INCOMPATIBLE = 0, 0


@pytest.fixture
def switch(tmp_path):
    sock = str(tmp_path / "of.sock")
    d = Daemon("--port", "p1,type=memory", "--port", "p2,type=memory",
               "--listen", f"punix:{sock}", "--packet-in-rate", "5",
               tmpdir=str(tmp_path)).start()
    try:
        yield d, sock
    finally:
        stopped_cleanly(d)


def role_of(m):
    assert m[1] == oc.ROLE_REPLY, m
    return struct.unpack("!I4xQ", m[8:24])


def test_master_demotes_the_other_master_and_a_slave_cannot_write(switch):
    d, sock = switch
    a, b = oc.Client(sock), oc.Client(sock)
    a.send(oc.role_request(oc.ROLE_MASTER, 1))
    assert role_of(a.recv()) == (oc.ROLE_MASTER, 1)
    b.send(oc.role_request(oc.ROLE_MASTER, 2))
    assert role_of(b.recv()) == (oc.ROLE_MASTER, 2)
    # a is a slave now: its flow-mod is refused and changes nothing.
    a.send(oc.role_request(0, 0))  # NOCHANGE reads the role.
    assert role_of(a.recv()) == (oc.ROLE_SLAVE, 2)
    a.send(oc.flow_mod_add_drop(priority=77))
    assert oc.error_of(a.recv()) == (BAD_REQUEST, IS_SLAVE)
    assert "priority=77" not in d.ctl("dump-flows")
    # The master may write.
    b.send(oc.flow_mod_add_drop(priority=78))
    assert b.barrier() == []
    assert "priority=78 actions=drop" in d.ctl("dump-flows")
    # An older generation is stale.
    a.send(oc.role_request(oc.ROLE_MASTER, 1))
    assert oc.error_of(a.recv()) == (ROLE_FAILED, STALE)
    assert "role slave" in d.ctl("openflow/show")


def test_bad_lengths_are_answered_and_framing_errors_close(switch):
    d, sock = switch
    c = oc.Client(sock)
    # A FLOW_MOD that is only a header: BAD_LEN, the connection lives on.
    c.send(oc.header(oc.FLOW_MOD, 8, 5))
    assert oc.error_of(c.recv()) == (BAD_REQUEST, BAD_LEN)
    # A truncated match inside a longer message.
    fm = bytearray(oc.flow_mod_add_drop())
    fm[50:52] = struct.pack("!H", 200)  # match length beyond the message
    c.send(bytes(fm))
    e = c.recv()
    assert e[1] == oc.ERROR and struct.unpack("!H", e[8:10])[0] == 4
    c.send(oc.msg(oc.ECHO_REQUEST, b"still-here", xid=9))
    echo = c.recv()
    assert echo[1] == oc.ECHO_REPLY and echo[8:] == b"still-here"
    # An unknown type.
    c.send(oc.msg(200))
    assert oc.error_of(c.recv()) == (BAD_REQUEST, BAD_TYPE)
    # A length below the header cannot be framed: error, then closed.
    c.send(oc.header(oc.ECHO_REQUEST, 4, 7))
    assert oc.error_of(c.recv()) == (BAD_REQUEST, BAD_LEN)
    with pytest.raises(EOFError):
        c.recv()
    wait_for(lambda: "ofconn_bad_length" in d.ctl("coverage/show"),
             "the framing error counted")


def test_hello_without_1_3_is_refused(switch):
    _, sock = switch
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock)
    s.sendall(struct.pack("!BBHI", 1, oc.HELLO, 8, 1))  # OpenFlow 1.0 only
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    # Our HELLO, then HELLO_FAILED/INCOMPATIBLE, then the close.
    assert data[1] == oc.HELLO
    err = data[struct.unpack("!H", data[2:4])[0]:]
    assert err[1] == oc.ERROR
    assert struct.unpack("!HH", err[8:12]) == (HELLO_FAILED, INCOMPATIBLE)
    assert b"support" in err[12:]


def test_packet_in_from_a_packet_out_is_cut_to_max_len(switch):
    d, sock = switch
    c = oc.Client(sock)
    c.set_miss_send_len(128)
    c.send(oc.packet_out(FRAME, oc.output(oc.OFPP_CONTROLLER, 20),
                         in_port=1))
    pin = c.recv_type(oc.PACKET_IN)
    buffer_id, total_len, reason, table_id = struct.unpack("!IHBB",
                                                           pin[8:16])
    assert buffer_id == oc.NO_BUFFER
    assert total_len == len(FRAME) and reason == 1  # OFPR_ACTION
    match_len = struct.unpack("!H", pin[26:28])[0]
    # The match says in_port=1 (OXM_OF_IN_PORT).
    assert pin[28:36] == struct.pack("!IL", 0x80000004, 1)
    data = pin[24 + ((match_len + 7) // 8) * 8 + 2:]
    assert data == FRAME[:20]


def test_packet_ins_over_the_rate_are_dropped_and_counted(switch):
    d, sock = switch
    c = oc.Client(sock)
    c.set_miss_send_len(128)
    n = 40
    for i in range(n):
        c.send(oc.packet_out(FRAME, oc.output(oc.OFPP_CONTROLLER, 0xffff),
                             xid=100 + i))
    c.barrier()

    def counts():
        m = re.search(r"packet_in (\d+) \(dropped: rate (\d+)",
                      d.ctl("openflow/show"))
        sent, dropped = int(m.group(1)), int(m.group(2))
        return (sent, dropped) if sent + dropped == n else None

    sent, dropped = wait_for(counts, "every packet-in accounted for")
    assert sent >= 5 and dropped > 0
    wait_for(lambda: "ofconn_packet_in_rate_drop" in d.ctl("coverage/show"),
             "the drops counted")


class FakeController:
    """A TCP listener that completes HELLO and then answers nothing."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(60)
        self.port = self.sock.getsockname()[1]

    def accept(self):
        conn, _ = self.sock.accept()
        conn.settimeout(60)
        conn.sendall(oc.msg(oc.HELLO))
        return conn

    @staticmethod
    def messages(conn):
        """Yields the types of what the switch sends, until it closes."""
        buf = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 8 and len(buf) >= struct.unpack(
                    "!H", buf[2:4])[0]:
                n = struct.unpack("!H", buf[2:4])[0]
                yield buf[1]
                buf = buf[n:]


def test_a_silent_controller_is_probed_dropped_and_retried(tmp_path):
    ctl = FakeController()
    d = Daemon("--port", "p1,type=memory", "--controller",
               f"tcp:127.0.0.1:{ctl.port}", "--probe-interval", "200",
               tmpdir=str(tmp_path)).start()
    try:
        conn = ctl.accept()
        seen = list(FakeController.messages(conn))  # Until it hangs up.
        conn.close()
        assert seen[0] == oc.HELLO
        assert oc.ECHO_REQUEST in seen
        wait_for(lambda: "ofconn_inactivity_drop" in d.ctl("coverage/show"),
                 "the drop counted")
        # It comes back, after the backoff.
        ctl.accept().close()
        wait_for(lambda: re.search(r"attempts [2-9]",
                                   d.ctl("openflow/show")),
                 "the second attempt")
    finally:
        stopped_cleanly(d)
