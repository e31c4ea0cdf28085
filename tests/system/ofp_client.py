"""A minimal OpenFlow 1.3 client for the channel tests: just enough
framing and message building to poke at flowswitchd's listener with
messages ovs-ofctl would never send (roles, bad lengths, bursts)."""

import socket
import struct
import time

VERSION = 4
HELLO, ERROR, ECHO_REQUEST, ECHO_REPLY = 0, 1, 2, 3
SET_CONFIG, PACKET_IN, PACKET_OUT, FLOW_MOD = 9, 10, 13, 14
BARRIER_REQUEST, BARRIER_REPLY = 20, 21
ROLE_REQUEST, ROLE_REPLY = 24, 25
ROLE_EQUAL, ROLE_MASTER, ROLE_SLAVE = 1, 2, 3
OFPP_CONTROLLER = 0xfffffffd
NO_BUFFER = 0xffffffff


def header(type_, length, xid):
    return struct.pack("!BBHI", VERSION, type_, length, xid)


def msg(type_, body=b"", xid=1):
    return header(type_, 8 + len(body), xid) + body


def flow_mod_add_drop(priority=5, xid=1):
    """An add of a catch-all flow with no instructions."""
    body = struct.pack("!QQBBHHHIIIH2x", 0, 0, 0, 0, 0, 0, priority,
                       NO_BUFFER, 0xffffffff, 0xffffffff, 0)
    match = struct.pack("!HH4x", 1, 4)  # OXM, empty, padded to 8.
    return msg(FLOW_MOD, body + match, xid)


def flow_mod_in_port_output(command, in_port, out_port, priority=10,
                            xid=1):
    """A flow-mod ('command': 0 add, 1 modify, 2 modify-strict) of the
    rule "priority=P,in_port=IN actions=output:OUT" in table 0."""
    body = struct.pack("!QQBBHHHIIIH2x", 0, 0, 0, command, 0, 0, priority,
                       NO_BUFFER, 0xffffffff, 0xffffffff, 0)
    # OXM in_port (class 0x8000, field 0, 4 bytes), padded to 8.
    match = struct.pack("!HHII4x", 1, 12, 0x80000004, in_port)
    actions = output(out_port)
    apply_actions = struct.pack("!HH4x", 4, 8 + len(actions)) + actions
    return msg(FLOW_MOD, body + match + apply_actions, xid)


def packet_out(frame, actions, in_port=OFPP_CONTROLLER, xid=1):
    body = struct.pack("!IIH6x", NO_BUFFER, in_port, len(actions))
    return msg(PACKET_OUT, body + actions + frame, xid)


def output(port, max_len=0):
    return struct.pack("!HHIH6x", 0, 16, port, max_len)


def role_request(role, generation, xid=1):
    return msg(ROLE_REQUEST, struct.pack("!I4xQ", role, generation), xid)


class Client:
    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.send(msg(HELLO))
        hello = self.recv()
        assert hello[1] == HELLO, hello

    def send(self, data):
        self.sock.sendall(data)

    def recv(self):
        """One whole message."""
        while True:
            if len(self.buf) >= 8:
                length = struct.unpack("!H", self.buf[2:4])[0]
                if len(self.buf) >= length:
                    m, self.buf = self.buf[:length], self.buf[length:]
                    return m
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def recv_type(self, type_, deadline=30.0):
        """The next message of 'type_', skipping others."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            m = self.recv()
            if m[1] == type_:
                return m
        raise AssertionError(f"no message of type {type_}")

    def barrier(self, xid=99):
        """Every message before the barrier has been handled; returns the
        messages that came before its reply."""
        self.send(msg(BARRIER_REQUEST, xid=xid))
        before = []
        while True:
            m = self.recv()
            if m[1] == BARRIER_REPLY:
                return before
            before.append(m)

    def set_miss_send_len(self, n):
        self.send(msg(SET_CONFIG, struct.pack("!HH", 0, n)))

    def close(self):
        self.sock.close()


def error_of(m):
    """(type, code) of an ERROR message."""
    assert m[1] == ERROR, m
    return struct.unpack("!HH", m[8:12])
