"""System tests of the kernel-facing port back ends (afpacket, afxdp, tap).

The real checks live in the cmocka binary tests/unit/test_netdev.c, groups
netdev-afpacket, netdev-afxdp and netdev-tap: as root, they create a TAP device, and a
veth pair whose peer sits in a fresh network namespace, open afpacket ports
on both ends and check that frames cross byte-identical in both directions,
that VLAN tags the kernel strips come back, that a port does not receive
its own transmissions, that kernel ring drops are counted, and that a port
can be closed mid-traffic (the afxdp group: the same over a shared UMEM,
plus zero-copy forwarding, a full tx ring, UMEM packets through every
packet function in another thread, one socket per queue).  This file runs
those groups on their own (with
NETDEV_TEST_FILTER) and checks what a unit test cannot check about itself:

  - as root, every kernel test ran (none skipped) and passed;
  - afterwards, no interface or namespace the run created is left behind;
  - without root, the run still succeeds, every kernel test is reported
    skipped with its reason, and nothing is created.

The binary is $FLOWSWITCH_BUILD/tests/unit/test_netdev (FLOWSWITCH_BUILD
defaults to "build", relative to the top of the repository).

Run with: /usr/bin/python3 -m pytest tests/system/test_netdev_afpacket.py
"""

import os
import shutil
import subprocess

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

AFPACKET_TESTS = 7
AFXDP_TESTS = 9
TAP_TESTS = 4
# Tests of those groups that need neither root nor kernel support.
UNPRIVILEGED_TESTS = {"test_afpacket_nonexistent_interface_is_one_clear_line",
                      "test_afxdp_nonexistent_interface_is_one_clear_line",
                      "test_afxdp_bad_xdp_mode_is_one_clear_line"}
# What the afxdp group prints when the kernel refuses AF_XDP (as root).
AFXDP_REFUSED = "# skipped: the kernel refuses afxdp ports: "


def binary():
    build = os.environ.get("FLOWSWITCH_BUILD", "build")
    path = os.path.join(TOP, build, "tests", "unit", "test_netdev")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built (set FLOWSWITCH_BUILD)")
    return path


def sanitizer_env():
    env = dict(os.environ)
    env["CMOCKA_MESSAGE_OUTPUT"] = "TAP"
    supp = os.path.join(TOP, "tests", "tsan.supp")
    env.setdefault("TSAN_OPTIONS", f"suppressions={supp}:halt_on_error=1")
    return env


def run_group(pattern, preexec=None):
    """Runs the tests matching 'pattern'; returns (process, its pid,
    {test name: "ok" | "fail" | "skip"})."""
    env = sanitizer_env()
    env["NETDEV_TEST_FILTER"] = pattern
    proc = subprocess.Popen([binary()], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=preexec)
    out, _ = proc.communicate(timeout=600)
    results = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("not ok") and "# SKIP" in line:
            results[line.split("# SKIP", 1)[1].strip()] = "skip"
        elif line.startswith("not ok"):
            results[line.split(" - ", 1)[-1].strip()] = "fail"
        elif line.startswith("ok ") and " - " in line:
            results[line.split(" - ", 1)[1].strip()] = "ok"
    proc.output = out
    return proc, proc.pid, results


def leftovers(pid):
    """Interfaces and namespaces named after test process 'pid'."""
    tag = str(pid % 10000000)
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True,
                           text=True).stdout
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True,
                           text=True).stdout
    found = []
    for line in links.splitlines() + netns.splitlines():
        for word in line.replace(":", " ").replace("@", " ").split():
            if word.startswith("fs") and word.endswith(tag):
                found.append(word)
    return found


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists("/dev/net/tun")
    or not shutil.which("ip"),
    reason="needs root, /dev/net/tun and iproute2")


@needs_root
@pytest.mark.parametrize("pattern,count", [("test_afpacket_*",
                                            AFPACKET_TESTS),
                                           ("test_afxdp_*", AFXDP_TESTS),
                                           ("test_tap_*", TAP_TESTS)])
def test_kernel_port_tests_all_run_and_pass_as_root(pattern, count):
    proc, pid, results = run_group(pattern)
    assert proc.returncode == 0, proc.output[-6000:]
    assert len(results) == count, proc.output[-6000:]
    if "skip" in results.values() and AFXDP_REFUSED in proc.output:
        assert leftovers(pid) == []
        pytest.skip(proc.output.split(AFXDP_REFUSED, 1)[1].splitlines()[0])
    assert set(results.values()) == {"ok"}, proc.output[-6000:]
    assert leftovers(pid) == []


@needs_root
def test_kernel_port_tests_skip_cleanly_without_root():
    def drop_root():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)

    path = binary()
    if any(not os.stat(d).st_mode & 0o001
           for d in [path] + parents(os.path.dirname(path))):
        pytest.skip("the build directory is not accessible to nobody")
    for pattern, count in [("test_afpacket_*", AFPACKET_TESTS),
                           ("test_afxdp_*", AFXDP_TESTS),
                           ("test_tap_*", TAP_TESTS)]:
        proc, pid, results = run_group(pattern, preexec=drop_root)
        assert proc.returncode == 0, proc.output[-6000:]
        assert len(results) == count, proc.output[-6000:]
        for name, result in results.items():
            expected = "ok" if name in UNPRIVILEGED_TESTS else "skip"
            assert result == expected, (name, proc.output[-6000:])
        assert "# skipped: needs root" in proc.output
        assert leftovers(pid) == []


def parents(path):
    """'path' and every directory above it."""
    out = []
    while True:
        out.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            return out
        path = parent
