"""flowswitchd's command line and control surface.

Each test starts its own daemon with a private control socket (see
daemon_util.py) on pcap and memory ports, so nothing here needs root.  The
daemon replays a tiny capture into port 1 once and then idles, so command
outputs are stable.

What is pinned:
  - the command line: --help documents every option with its default; a
    bad option or SPEC is one clear line and exit status 1;
  - start and stop: SIGTERM, SIGINT and `exit` each shut down cleanly (exit
    0, summary printed, socket removed); a second signal exits at once;
  - every command answers, in Open vSwitch's layouts where OVS has the
    command, and list-commands / `flowswitch-ctl help` name them all;
  - Debian's ovs-appctl drives the daemon unchanged;
  - malformed requests get a JSON-RPC error and never crash or block the
    daemon, and a silent client blocks nobody.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.utils import wrpcap

from daemon_util import (Daemon, assert_conserved, build_path, daemon_env,
                         daemon_in_rundir, parse_summary, rpc, wait_for)

COMMANDS = [
    # DESIGN.md section 5
    "upcall/show", "upcall/set-flow-limit", "upcall/enable-megaflows",
    "upcall/disable-megaflows", "revalidator/wait", "revalidator/purge",
    "dpctl/show", "dpctl/dump-flows", "dpctl/del-flows", "ofproto/trace",
    "coverage/show", "memory/show", "vlog/set", "exit",
    "add-flow", "add-flows", "del-flows", "dump-flows",
    # issue 7
    "mod-flows", "port/add", "port/del", "port/show", "fdb/show",
    "version", "vlog/list", "list-commands",
    # issue 6
    "revalidator/pause", "revalidator/resume", "revalidator/check",
    "revalidator/set-max-idle", "revalidator/set-max-revalidator",
    "revalidator/set-min-revalidate-pps",
    # issue 9
    "upcall/set-handlers", "upcall/set-revalidators",
]

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"


def small_capture(path):
    pkts = [Ether(src=MAC1, dst="ff:ff:ff:ff:ff:ff") /
            ARP(psrc="10.0.0.1", pdst="10.0.0.2")]
    for i in range(10):
        pkts.append(Ether(src=MAC1, dst=MAC2) /
                    IP(src="10.0.0.1", dst="10.0.0.2") /
                    TCP(sport=1000 + i, dport=80, flags="S"))
    pkts.append(Ether(src=MAC1, dst=MAC2) / IP(src="10.0.0.1",
                                               dst="10.0.0.2") /
                UDP(sport=5, dport=53))
    wrpcap(path, pkts)
    return len(pkts)


@pytest.fixture
def daemon(tmp_path):
    """A daemon whose port 1 replayed a small capture and is now idle."""
    cap = str(tmp_path / "in.pcap")
    n = small_capture(cap)
    d = Daemon("--port", f"p1,rx={cap}",
               "--port", f"p2,tx={tmp_path / 'p2.pcap'}",
               "--port", "p3,type=memory", "--handlers", "2",
               tmpdir=str(tmp_path))
    d.start()
    wait_for(lambda: f"RX packets:{n} " in d.ctl("dpctl/show", "-s"),
             "the replay to be received")
    yield d
    if d.proc.poll() is None:
        assert d.stop() == 0, d.stderr
    assert not os.path.exists(d.sock)


def run_daemon(*args):
    return subprocess.run([build_path("flowswitchd")] + list(args),
                          capture_output=True, text=True, env=daemon_env(),
                          timeout=60)


# ---- Command line ---------------------------------------------------------

def test_help_documents_every_option_with_its_default():
    res = run_daemon("--help")
    assert res.returncode == 0
    text = res.stdout
    options = ["--port", "--flows", "--ctl", "--handlers", "--revalidators",
               "--flow-limit", "--max-idle", "--max-revalidator",
               "--min-revalidate-pps", "--datapath-threads",
               "--datapath-max-sleep",
               "--governor", "--upcall-mode", "--exit-when-drained",
               "--log-file",
               "--verbose"]
    for i, opt in enumerate(options):
        start = text.index("  " + opt)
        end = min([text.index("  " + o) for o in options[i + 1:]] +
                  [text.index("--version")])
        block = text[start:end]
        assert "default" in block, f"{opt} does not say its default:\n{block}"
    for word in ["type=afpacket|afxdp|tap|pcap|memory", "ofport=N",
                 "rx=FILE", "tx=FILE", "rate=PPS", "loop=N",
                 "xdp-mode=native|skb|auto"]:
        assert word in text


@pytest.mark.parametrize("args,expected", [
    (["--handlers", "0"], 'bad --handlers "0"'),
    (["--governor", "sometimes"], 'bad --governor "sometimes"'),
    (["--upcall-mode", "inline"], 'bad --upcall-mode "inline"'),
    (["--datapath-max-sleep", "20000"], 'bad --datapath-max-sleep "20000"'),
    (["--max-revalidator", "0"], 'bad --max-revalidator "0"'),
    (["--min-revalidate-pps", "x"], 'bad --min-revalidate-pps "x"'),
    (["--port", "p1,colour=red"], 'unknown option "colour"'),
    (["--port", "p1,type=afpacket,rx=x.pcap"], "apply to type=pcap only"),
    (["--port", "p1,ofport=0,type=memory"], 'bad ofport "0"'),
    (["--port", "p1,type=memory", "--port", "p2,type=memory,ofport=1"],
     'ofport 1 is taken by "p1"'),
    (["--port", "p1,rx=/nonexistent/in.pcap"], "/nonexistent/in.pcap"),
    (["--flows", "/nonexistent/flows.txt"], "/nonexistent/flows.txt"),
    (["--port", "p1,type=memory", "--exit-when-drained"],
     "--exit-when-drained needs a port that replays a capture"),
    (["stray"], 'unexpected argument "stray"'),
])
def test_bad_command_line_is_one_clear_line(tmp_path, args, expected):
    res = run_daemon("--ctl", str(tmp_path / "ctl"), *args)
    assert res.returncode == 1, res
    lines = [line for line in res.stderr.splitlines()
             if not re.match(r"\d{4}-\d\d-\d\dT", line)]
    assert len(lines) == 1, res.stderr
    assert expected in lines[0]
    assert not os.path.exists(tmp_path / "ctl")


def test_bad_flow_file_names_file_and_line(tmp_path):
    flows = tmp_path / "flows.txt"
    flows.write_text("# comment\npriority=1,actions=drop\n\n"
                     "priority=2,nw_dts=10.0.0.1,actions=drop\n")
    res = run_daemon("--ctl", str(tmp_path / "ctl"), "--flows", str(flows))
    assert res.returncode == 1
    assert f"{flows}:4: " in res.stderr
    assert "nw_dts" in res.stderr


# ---- Start and stop -------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_cleanly(tmp_path, sig):
    cap = str(tmp_path / "in.pcap")
    small_capture(cap)
    d = Daemon("--port", f"p1,rx={cap}", "--port", "p2,type=memory",
               tmpdir=str(tmp_path)).start()
    assert d.ctl("version") == "flowswitchd (flowswitch) 0.1.0\n"
    assert d.stop(sig) == 0, d.stderr
    assert "stopped by a signal" in d.stdout
    assert_conserved(parse_summary(d.stdout))
    assert not os.path.exists(d.sock)
    assert "shutting down" in d.read_log()


def test_second_signal_exits_at_once(tmp_path):
    """A shutdown that cannot finish: a port added at run time replays from
    a FIFO that this test holds open without writing, so the datapath
    thread that polls it sits in a read, and the teardown after the summary
    waits for it for good.  The second signal ends the process at once."""
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    d = Daemon("--port", "p1,type=memory", tmpdir=str(tmp_path))
    d.proc = subprocess.Popen(d.args, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env=daemon_env())
    writer = None
    try:
        wait_for(lambda: d.proc.poll() is not None or
                 (os.path.exists(d.sock) and
                  d.ctl_run("version", check=False).returncode == 0),
                 "the control socket")
        add = subprocess.Popen([build_path("flowswitch-ctl"), "-t", d.sock,
                                "port/add", f"p2,rx={fifo}"],
                               stdout=subprocess.PIPE, text=True)
        writer = open(fifo, "wb")  # Meets the daemon's open for reading.
        writer.write(bytes.fromhex("d4c3b2a1020004000000000000000000"
                                   "ffff000001000000"))
        writer.flush()
        assert add.communicate(timeout=60)[0] == \
            "port p2: ofport 2, datapath port 2\n"

        d.proc.send_signal(signal.SIGTERM)
        # The summary comes out; then the teardown blocks.
        lines = []
        reader = threading.Thread(
            target=lambda: lines.extend(iter(d.proc.stdout.readline, "")),
            daemon=True)
        reader.start()
        wait_for(lambda: any(line.startswith("conservation")
                             for line in list(lines)), "the summary")
        assert d.proc.poll() is None
        d.proc.send_signal(signal.SIGINT)
        assert d.proc.wait(timeout=60) == 128 + signal.SIGINT
        reader.join(timeout=60)
        assert "second signal, exiting at once" in d.proc.stderr.read()
    finally:
        if writer:
            writer.close()
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.communicate()


def test_exit_command_shuts_down_cleanly(daemon):
    assert daemon.ctl("exit") == ""
    assert daemon.wait() == 0, daemon.stderr
    assert "stopped by the exit command" in daemon.stdout
    assert_conserved(parse_summary(daemon.stdout))


def test_default_socket_lives_in_the_rundir(tmp_path):
    rundir = tmp_path / "run"
    with daemon_in_rundir(rundir) as (env, sock):
        assert (rundir.stat().st_mode & 0o777) == 0o750
        assert (sock.stat().st_mode & 0o777) == 0o660
        res = subprocess.run([build_path("flowswitch-ctl"), "version"],
                             env=env, capture_output=True, text=True,
                             timeout=60)
        assert res.stdout == "flowswitchd (flowswitch) 0.1.0\n"


# ---- Commands -------------------------------------------------------------

def test_list_commands_and_help_name_every_command(daemon):
    listed = daemon.ctl("list-commands")
    names = {line.split()[0] for line in listed.splitlines()[1:]}
    assert set(COMMANDS) <= names, set(COMMANDS) - names
    helped = daemon.ctl("help")
    assert "usage: flowswitch-ctl" in helped
    assert listed in helped


def test_dpctl_show_follows_ovs_layout(daemon):
    out = daemon.ctl("dpctl/show")
    lines = out.splitlines()
    assert lines[0] == "system@br0:"
    assert re.fullmatch(r"  lookups: hit:\d+ missed:\d+ lost:0", lines[1])
    assert re.fullmatch(r"  flows: \d+", lines[2])
    assert re.fullmatch(r"  masks: hit:\d+ total:\d+ hit/pkt:\d+\.\d\d",
                        lines[3])
    # Our lines: lost by reason, drops, draining flows (the replay is
    # over, so every flow it installed has flipped).
    assert re.search(r"^  lost: queue-full:0 port-share:0 no-handler:0 "
                     r"shutdown:0$", out, re.M)
    m = re.search(r"^  draining: flows:(\d+) hits-queued:(\d+) "
                  r"hits-lost:0 flipped:(\d+)$", out, re.M)
    assert m, out
    ports = [line for line in lines if line.startswith("  port ")]
    assert ports == ["  port 1: p1 (pcap)", "  port 2: p2 (pcap)",
                     "  port 3: p3 (memory)"]
    stats = daemon.ctl("dpctl/show", "-s")
    assert "    RX packets:12 errors:0 dropped:0 overruns:? frame:?" in stats
    assert re.search(r"    TX packets:\d+ errors:0 dropped:0 aborted:\? "
                     r"carrier:\?", stats)


def test_dpctl_dump_flows_one_flow_per_line(daemon):
    out = daemon.ctl("dpctl/dump-flows")
    flows = out.splitlines()
    assert flows
    for line in flows:
        assert re.match(r"in_port\(1\),.*, packets:\d+, bytes:\d+, "
                        r"used:(never|\d+\.\d+s)(, flags:\S+)?, actions:",
                        line), line
    verbose = daemon.ctl("dpctl/dump-flows", "-m").splitlines()
    assert len(verbose) == len(flows)
    assert all(line.startswith("ufid:") for line in verbose)
    assert daemon.ctl("dpctl/del-flows") == ""
    assert daemon.ctl("dpctl/dump-flows") == ""


def test_flow_commands_follow_ovs_ofctl(daemon, tmp_path):
    daemon.ctl("add-flow", "table=0,priority=100,tcp,tp_dst=80,"
                           "actions=output:2")
    daemon.ctl("add-flow", "br0", "table=0,priority=50,udp,actions=drop")
    out = daemon.ctl("dump-flows")
    assert re.search(r"^ cookie=0x0, duration=\d+\.\d+s, table=0, "
                     r"n_packets=\d+, n_bytes=\d+, idle_age=\d+, "
                     r"priority=100,tcp,"
                     r"tp_dst=80 actions=output:2$", out, re.M), out
    assert "priority=0 actions=NORMAL" in out
    only_udp = daemon.ctl("dump-flows", "udp")
    assert len(only_udp.splitlines()) == 1 and "udp" in only_udp

    daemon.ctl("mod-flows", "tcp,tp_dst=80,actions=output:3")
    assert "tp_dst=80 actions=output:3" in daemon.ctl("dump-flows")
    daemon.ctl("del-flows", "--strict", "udp,priority=49")
    assert "udp" in daemon.ctl("dump-flows")
    daemon.ctl("del-flows", "--strict", "udp,priority=50")
    assert "udp" not in daemon.ctl("dump-flows")

    bad = daemon.ctl_run("add-flow", "priority=1,nw_dts=1.2.3.4,"
                                     "actions=drop", check=False)
    assert bad.returncode == 2
    assert 'nw_dts' in bad.stderr
    assert daemon.ctl_run("add-flow", "br1", "actions=drop",
                          check=False).returncode == 2

    def ip_flows():
        return re.sub(r"duration=[0-9.]+s", "", daemon.ctl("dump-flows", "ip"))

    # add-flows is all or nothing: a line that does not parse...
    before = ip_flows()
    flows = tmp_path / "more.txt"
    flows.write_text("priority=7,ip,nw_dst=10.9.9.9,actions=drop\n"
                     "priority=8,ip,nw_dts=10.8.8.8,actions=drop\n")
    res = daemon.ctl_run("add-flows", str(flows), check=False)
    assert res.returncode == 2
    assert f"{flows}:2: " in res.stderr and "nw_dts" in res.stderr
    assert ip_flows() == before
    # ... or a flow-mod the bridge refuses.
    flows.write_text("priority=7,ip,nw_dst=10.9.9.9,actions=drop\n"
                     "priority=7,check_overlap,ip,actions=drop\n")
    res = daemon.ctl_run("add-flows", str(flows), check=False)
    assert res.returncode == 2
    assert "flow-mod 2 of 2; nothing changed" in res.stderr
    assert ip_flows() == before
    flows.write_text("priority=7,ip,nw_dst=10.9.9.9,actions=drop\n"
                     "modify_strict priority=7,ip,nw_dst=10.9.9.9,"
                     "actions=output:2\n"
                     "add priority=8,ip,nw_dst=10.8.8.8,actions=drop\n")
    assert daemon.ctl("add-flows", str(flows)) == ""
    after = ip_flows()
    assert "nw_dst=10.9.9.9 actions=output:2" in after
    assert "nw_dst=10.8.8.8 actions=drop" in after
    daemon.ctl("del-flows")
    assert daemon.ctl("dump-flows") == ""


def test_ofproto_trace_and_fdb_show(daemon):
    out = daemon.ctl("ofproto/trace", "br0", "in_port=1,tcp,tp_dst=80")
    assert "Datapath actions:" in out
    assert "Megaflow:" in out
    fdb = daemon.ctl("fdb/show", "br0").splitlines()
    assert fdb[0] == " port  VLAN  MAC                Age"
    assert re.fullmatch(r"\s+1\s+0\s+02:00:00:00:00:01\s+\d+", fdb[1])
    bad = daemon.ctl_run("ofproto/trace", "in_port=1,nw_dts=1", check=False)
    assert bad.returncode == 2


def test_port_add_show_and_del(daemon, tmp_path):
    out = daemon.ctl("port/add", f"p9,tx={tmp_path / 'p9.pcap'}")
    assert out == "port p9: ofport 4, datapath port 4\n"
    assert "  port 4: p9 (pcap)" in daemon.ctl("dpctl/show")
    show = daemon.ctl("port/show")
    assert re.search(r"port 4: p9 \(pcap\) tx=\S+p9\.pcap", show)
    assert re.search(r"port 1: p1 \(pcap\) rx=\S+in\.pcap \(replay ended\)",
                     show)
    res = daemon.ctl_run("port/add", "p9,type=memory", check=False)
    assert res.returncode == 2 and "exists already" in res.stderr
    res = daemon.ctl_run("port/add", "p8,type=bogus", check=False)
    assert res.returncode == 2 and 'unknown type "bogus"' in res.stderr
    assert daemon.ctl("port/del", "p9") == ""
    assert "p9" not in daemon.ctl("dpctl/show")
    res = daemon.ctl_run("port/del", "p9", check=False)
    assert res.returncode == 2 and 'no port named "p9"' in res.stderr
    assert daemon.ctl("port/add", "p9,type=memory,ofport=40") == \
        "port p9: ofport 40, datapath port 40\n"


def test_coverage_memory_and_vlog(daemon):
    cov = daemon.ctl("coverage/show").splitlines()
    assert re.fullmatch(r"Event coverage, avg rate over last: 5 seconds, "
                        r"last minute, last hour,  hash=[0-9a-f]{8}:", cov[0])
    assert re.fullmatch(r"\d+ events never hit", cov[-1])
    for line in cov[1:-1]:
        assert re.fullmatch(r"\S+ +\d+\.\d/sec +\d+\.\d{3}/sec +"
                            r"\d+\.\d{4}/sec   total: \d+", line), line
    assert any(line.startswith("handler_upcalls ") for line in cov)

    mem = daemon.ctl("memory/show")
    assert re.fullmatch(r"handlers:2 mac-entries:\d+ masks:\d+ "
                        r"megaflows:\d+ ports:3 revalidators:\d+ rules:1 "
                        r"udpif keys:\d+\n", mem), mem

    assert daemon.ctl("vlog/set", "daemon_port:dbg") == ""
    listing = daemon.ctl("vlog/list").splitlines()
    assert listing[0] == "                 console    syslog    file"
    row = [line for line in listing if line.startswith("daemon_port ")]
    assert row == ["daemon_port        OFF        OFF        DBG"]
    res = daemon.ctl_run("vlog/set", "nosuch:dbg", check=False)
    assert res.returncode == 2
    assert 'no destination, level, or module "nosuch"' in res.stderr
    daemon.ctl("port/add", "p7,type=memory")
    assert "added port p7" in daemon.read_log()


def test_upcall_commands_reach_the_upcall_module(daemon):
    out = daemon.ctl("upcall/show")
    assert out.splitlines()[0].endswith("br0:")
    assert re.search(r"flows\s+: \(current \d+\)", out)
    assert re.search(r"upcall mode   : auto \(batches: \d+ in datapath "
                     r"threads, \d+ in handler threads\)", out)
    assert "flow limit now 5000" in daemon.ctl("upcall/set-flow-limit",
                                               "5000")
    assert "(limit 5000)" in daemon.ctl("upcall/show")

    # Rounds only on demand from here on: a wait must start one and answer
    # only once it has ended.
    rounds = re.compile(r"revalidations : \(rounds (\d+)\)")
    daemon.ctl("revalidator/set-max-revalidator", "86400000")
    daemon.ctl("revalidator/set-max-idle", "86400000")
    daemon.ctl("revalidator/wait")  # One that started after the knobs.
    before = int(rounds.search(daemon.ctl("upcall/show")).group(1))
    assert daemon.ctl("revalidator/wait") == ""
    assert int(rounds.search(daemon.ctl("upcall/show")).group(1)) > before

    # The replay's flows are cached: the purge has something to delete.
    wait_for(lambda: daemon.ctl("dpctl/dump-flows") != "",
             "the replay's flows to be installed")
    n_flows = len(daemon.ctl("dpctl/dump-flows").splitlines())
    assert daemon.ctl("revalidator/purge") == ""
    assert daemon.ctl("dpctl/dump-flows") == ""
    show = daemon.ctl("upcall/show")
    assert "  ukeys         : 0\n" in show
    purged = int(re.search(r"\(purge (\d+)\)", show).group(1))
    assert purged >= n_flows > 0


def test_revalidator_knobs_change_at_run_time(daemon):
    knobs = re.compile(r"revalidator knobs : \(max-idle (\d+)ms\) "
                       r"\(max-revalidator (\d+)ms\) "
                       r"\(min-revalidate-pps (\d+)\)")
    assert knobs.search(daemon.ctl("upcall/show")).groups() == \
        ("10000", "500", "5")
    assert "max-idle now 2500" in daemon.ctl("revalidator/set-max-idle",
                                              "2500")
    assert "max-revalidator now 250" in daemon.ctl(
        "revalidator/set-max-revalidator", "250")
    assert "min-revalidate-pps now 0" in daemon.ctl(
        "revalidator/set-min-revalidate-pps", "0")
    assert knobs.search(daemon.ctl("upcall/show")).groups() == \
        ("2500", "250", "0")
    # Bad values: one line each, nothing changed.
    for cmd, value in [("revalidator/set-max-idle", "0"),
                       ("revalidator/set-max-idle", "-5"),
                       ("revalidator/set-max-revalidator", "1ms"),
                       ("revalidator/set-min-revalidate-pps", "4294967296")]:
        res = daemon.ctl_run(cmd, value, check=False)
        assert res.returncode == 2, (cmd, value)
        line = res.stderr.splitlines()[0]
        assert line.startswith(f'{cmd}: bad value "{value}" (expected'), \
            res.stderr
    assert knobs.search(daemon.ctl("upcall/show")).groups() == \
        ("2500", "250", "0")
    daemon.ctl("revalidator/wait")


# ---- ovs-appctl -----------------------------------------------------------

@pytest.mark.skipif(not shutil.which("ovs-appctl"),
                    reason="ovs-appctl not installed (openvswitch-common)")
def test_ovs_appctl_drives_the_daemon_unchanged(daemon):
    def appctl(*args):
        return subprocess.run(["ovs-appctl", "-t", daemon.sock] + list(args),
                              capture_output=True, text=True, timeout=60)

    res = appctl("upcall/show")
    assert res.returncode == 0, res.stderr
    ours = daemon.ctl("upcall/show")
    assert res.stdout.splitlines()[0] == ours.splitlines()[0]
    assert [line.split(":")[0] for line in res.stdout.splitlines()] == \
        [line.split(":")[0] for line in ours.splitlines()]
    # The same text, but for the datapath threads' busy and idle times,
    # which move between the two calls.
    def times_out(text):
        return re.sub(r"(busy|idle):\d+ms", r"\1:Nms", text)

    assert times_out(appctl("dpctl/show").stdout) == \
        times_out(daemon.ctl("dpctl/show"))
    assert appctl("version").stdout == "flowswitchd (flowswitch) 0.1.0\n"
    res = appctl("no/such-command")
    assert res.returncode == 2
    assert '"no/such-command" is not a valid command' in res.stderr
    res = appctl("port/del")
    assert res.returncode == 2
    assert '"port/del" command requires at least 1 arguments' in res.stderr


# ---- Bad requests ---------------------------------------------------------

def still_answers(daemon):
    assert daemon.ctl("version") == "flowswitchd (flowswitch) 0.1.0\n"


@pytest.mark.parametrize("message,expected", [
    (b'{"id":1,"method":', None),  # Cut short: the client gives up.
    (b'{"id": 1, "method": nonsense}', "bad JSON"),
    (b'[1, 2, 3]', "not a JSON object"),
    (b'{"id": 7, "method": "no/such", "params": []}',
     '"no/such" is not a valid command'),
    (b'{"id": 8, "method": "port/del", "params": []}',
     '"port/del" command requires at least 1 arguments'),
    (b'{"id": 9, "method": "version", "params": ["x"]}',
     '"version" command takes at most 0 arguments'),
    (b'{"id": 10, "method": "version", "params": [1]}',
     "must be an array of strings"),
    (b'{"id": 11, "method": 5, "params": []}', "must be a string"),
])
def test_malformed_requests_get_an_error_and_harm_nothing(daemon, message,
                                                          expected):
    if expected is None:
        s = rpc(daemon.sock, message, read=False)
        still_answers(daemon)
        s.close()
    else:
        reply = rpc(daemon.sock, message)
        assert reply is not None
        assert expected in reply["error"], reply
        assert reply.get("result") is None
    still_answers(daemon)


def test_huge_request_is_refused(daemon):
    huge = b'{"id": 1, "method": "version", "params": ["' + \
        b"x" * (2 * 1024 * 1024) + b'"]}'
    reply = rpc(daemon.sock, huge)
    assert reply is not None and "longer than 1 MiB" in reply["error"]
    still_answers(daemon)


def test_silent_client_blocks_nobody(daemon):
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(daemon.sock)
    try:
        for _ in range(3):
            still_answers(daemon)
        reply = rpc(daemon.sock, json.dumps(
            {"id": "a", "method": "port/show", "params": []}).encode())
        assert reply["id"] == "a" and "p1" in reply["result"]
    finally:
        silent.close()
    still_answers(daemon)


def test_requests_on_one_connection_are_answered_in_order(daemon):
    msgs = b"".join(json.dumps({"id": i, "method": m, "params": []}).encode()
                    for i, m in enumerate(["version", "no/such",
                                           "port/show"]))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(daemon.sock)
    s.sendall(msgs)
    decoder = json.JSONDecoder()
    buf, replies = "", []
    while len(replies) < 3:
        chunk = s.recv(65536)
        assert chunk
        buf += chunk.decode()
        while buf.strip():
            try:
                obj, end = decoder.raw_decode(buf.lstrip())
            except ValueError:
                break
            replies.append(obj)
            buf = buf.lstrip()[end:]
    s.close()
    assert [r["id"] for r in replies] == [0, 1, 2]
    assert replies[1]["error"] and not replies[0].get("error")
