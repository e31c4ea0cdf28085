"""Helpers for the flowswitchd system tests (tests/system/test_daemon*.py).

A Daemon runs build/flowswitchd with its control socket in a private
temporary directory, so tests run in parallel with each other and with
anything else on the machine.  Every wait polls with a deadline; nothing
sleeps to synchronise.  Deadlines are generous because the same tests run
under ThreadSanitizer on a busy 2-core machine; a passing run never waits
for them.

Binaries come from $FLOWSWITCH_BUILD (default "build", relative to the top
of the repository).  Under a sanitizer the daemon's exit status is the
verdict: ASan's leak check and TSan's halt_on_error make a clean run exit
0 and anything else not.
"""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DEADLINE = 60.0  # Seconds; only a failing run waits this long.


def build_path(name):
    build = os.environ.get("FLOWSWITCH_BUILD", "build")
    return os.path.join(TOP, build, name)


def bench_path():
    """The flowswitch-bench of $FLOWSWITCH_BUILD; fails the caller's test
    when it is not built."""
    path = build_path("flowswitch-bench")
    assert os.access(path, os.X_OK), \
        f"{path} is not built (set FLOWSWITCH_BUILD)"
    return path


def stopped_cleanly(d):
    """Stops Daemon 'd' with SIGTERM and asserts it exited 0: under a
    sanitizer the exit status is the verdict."""
    status = d.stop()
    assert status == 0, d.stderr + d.read_log()


def daemon_env():
    env = dict(os.environ)
    supp = os.path.join(TOP, "tests", "tsan.supp")
    env.setdefault("TSAN_OPTIONS", f"suppressions={supp}:halt_on_error=1")
    return env


@contextlib.contextmanager
def daemon_in_rundir(rundir, preexec_fn=None):
    """Runs flowswitchd with one memory port and FLOWSWITCH_RUNDIR set to
    'rundir' (a pathlib.Path), its socket left where it puts it by default;
    yields (env, socket path) once the socket exists, then stops it with
    SIGTERM and asserts it exited 0."""
    env = daemon_env()
    env["FLOWSWITCH_RUNDIR"] = str(rundir)
    proc = subprocess.Popen([build_path("flowswitchd"), "--port",
                             "p1,type=memory"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=preexec_fn)
    sock = rundir / "flowswitchd.ctl"
    try:
        wait_for(lambda: proc.poll() is not None or sock.exists(),
                 "the default socket")
        yield env, sock
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 0


def wait_for(predicate, what, deadline=DEADLINE):
    """Polls 'predicate' until it returns something true; returns that."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Daemon:
    """flowswitchd with a private control socket."""

    def __init__(self, *args, tmpdir=None):
        self.dir = tmpdir or tempfile.mkdtemp(prefix="fsd-test-")
        self.sock = os.path.join(self.dir, "flowswitchd.ctl")
        self.log = os.path.join(self.dir, "flowswitchd.log")
        self.args = [build_path("flowswitchd"), "--ctl", self.sock,
                     "--log-file", self.log] + list(args)
        self.proc = None
        self.stdout = None
        self.stderr = None

    def start(self, wait=True):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=daemon_env())
        if wait:
            wait_for(lambda: self.proc.poll() is not None
                     or self._answers(), "the control socket")
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"flowswitchd exited {self.proc.returncode}"
                                     f": {err}\n{self.read_log()}")
        return self

    def _answers(self):
        if not os.path.exists(self.sock):
            return False
        return self.ctl_run("version", check=False).returncode == 0

    def ctl_run(self, *args, check=True, timeout=DEADLINE):
        res = subprocess.run([build_path("flowswitch-ctl"), "-t", self.sock,
                              "-T", str(int(timeout))] + list(args),
                             capture_output=True, text=True, env=daemon_env(),
                             timeout=timeout + 5)
        if check and res.returncode != 0:
            raise AssertionError(f"flowswitch-ctl {' '.join(args)}: exit "
                                 f"{res.returncode}: {res.stderr}")
        return res

    def ctl(self, *args):
        return self.ctl_run(*args).stdout

    def wait(self, timeout=DEADLINE):
        """Waits for the daemon to exit; returns its exit status."""
        self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        return self.proc.returncode

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait()

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def start_afxdp_or_skip(d):
    """Starts Daemon 'd', whose ports may be afxdp ports; skips the calling
    test with the daemon's own words when the kernel refuses them."""
    d.start(wait=False)
    wait_for(lambda: d.proc.poll() is not None or d._answers(),
             "the control socket")
    if d.proc.poll() is not None:
        d.wait()
        lines = [line for line in d.stderr.splitlines() if "(afxdp)" in line]
        if lines:
            pytest.skip("the kernel refuses afxdp ports: " + lines[0])
        raise AssertionError(f"flowswitchd exited {d.proc.returncode}: "
                             f"{d.stderr}")
    return d


def rpc(path, message, read=True, timeout=DEADLINE):
    """Sends raw bytes 'message' to the control socket and returns the first
    JSON reply (a dict), or None if the server closed without one."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    try:
        s.sendall(message)
    except (BrokenPipeError, ConnectionResetError):
        pass
    if not read:
        return s
    buf = b""
    decoder = json.JSONDecoder()
    try:
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            try:
                obj, _ = decoder.raw_decode(buf.decode())
                return obj
            except ValueError:
                continue
    finally:
        s.close()
    return None


def parse_summary(text):
    """The numbers of flowswitchd's final summary: per-port rows, the cache
    lines and the two conservation lines."""
    summary = {"ports": {}, "conservation": []}
    for line in text.splitlines():
        parts = line.split()
        m = re.match(r"\((\d+) removed\)\s+-\s+-((?:\s+\d+){6})$", line)
        if m:
            summary["removed"] = dict(zip(
                ["rx", "rx_drop", "tx", "tx_drop", "lost", "unparsable"],
                [int(p) for p in m.group(2).split()]))
            summary["removed"]["ports"] = int(m.group(1))
        if len(parts) == 9 and parts[3].isdigit() and parts[2] in (
                "pcap", "afpacket", "afxdp", "tap", "memory"):
            summary["ports"][parts[0]] = dict(zip(
                ["ofport", "type", "rx", "rx_drop", "tx", "tx_drop", "lost",
                 "unparsable"],
                [parts[1], parts[2]] + [int(p) for p in parts[3:]]))
        m = re.match(r"\s+rx = hit \+ missed \+ lost \+ unparsable: "
                     r"(\d+) = (\d+) \+ (\d+) \+ (\d+) \+ (\d+) \((\w+)\)",
                     line)
        if m:
            v = [int(x) for x in m.groups()[:5]]
            summary["rx"] = dict(zip(["rx", "hit", "missed", "lost",
                                      "unparsable"], v))
            summary["conservation"].append(m.group(6))
        m = re.match(r"\s+missed \+ action upcalls \+ draining hits \+ "
                     r"recirculated misses = handled: (\d+) \+ (\d+) \+ "
                     r"(\d+) \+ (\d+) = (\d+) \((\w+)\)", line)
        if m:
            v = [int(x) for x in m.groups()[:5]]
            summary["upcalls"] = dict(zip(["missed", "action", "drain",
                                           "recirc", "handled"], v))
            summary["conservation"].append(m.group(6))
        m = re.match(r"\s+flows\s+installed (\d+), expired (\d+)", line)
        if m:
            summary["installed"] = int(m.group(1))
            summary["expired"] = int(m.group(2))
        m = re.match(r"\s+dropped\s+unparsable (\d+), by drop actions "
                     r"(\d+), to missing ports (\d+)", line)
        if m:
            summary["drop_action"] = int(m.group(2))
            summary["no_port"] = int(m.group(3))
        m = re.match(r"\s+governor\s+(\d+) packets sent without an "
                     r"install", line)
        if m:
            summary["governor_suppressed"] = int(m.group(1))
        m = re.match(r"\s+batches\s+(\d+) run by datapath threads, (\d+) "
                     r"by handler threads \(upcall mode (\w+)\)", line)
        if m:
            summary["batches"] = {"datapath": int(m.group(1)),
                                  "handler": int(m.group(2)),
                                  "mode": m.group(3)}
        m = re.match(r"\s+revalidators\s+(\d+) rounds", line)
        if m:
            summary["rounds"] = int(m.group(1))
    return summary


def assert_conserved(summary):
    """Both identities hold, as printed and as recomputed here."""
    assert summary["conservation"] == ["holds", "holds"], summary
    rx = summary["rx"]
    assert rx["rx"] == rx["hit"] + rx["missed"] + rx["lost"] + \
        rx["unparsable"], summary
    up = summary["upcalls"]
    assert up["missed"] + up["action"] + up["drain"] + up["recirc"] == \
        up["handled"], summary
    assert up["missed"] == rx["missed"], summary
    # Every frame a port received reached the datapath's accounting
    # (ports removed at run time included).
    removed = summary.get("removed", {}).get("rx", 0)
    assert sum(p["rx"] for p in summary["ports"].values()) + removed == \
        rx["rx"], summary
