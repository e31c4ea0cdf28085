"""OpenFlow groups through ovs-ofctl and the control socket, and in traffic.

Part one runs `ovs-ofctl -O OpenFlow13` against flowswitchd's OpenFlow
listener (memory ports): add-group, mod-group, del-groups, dump-groups,
dump-group-stats, dump-group-features and the errors print what they
printed against Open vSwitch 3.1 (/work/shared/tools/ovs-sandbox.sh, the
strings below; Open vSwitch lists groups in hash order, so lines are
compared sorted, and durations are left out).  flowswitch-ctl's commands
of the same names print the same lines.

Part two, as root, joins three network namespaces to AF_PACKET ports 1,
2 and 3 by veth pairs: UDP to port 9 from namespace 1 goes to a
fast-failover group watching ports 2 and 3.  While port 2 has its link
the packets leave through port 2; once port 2's peer goes down (carrier
lost) they leave through port 3, with no flow or group change.  The group
and bucket counters read back exactly the packets sent, each in the bucket
that carried it, through ovs-ofctl dump-group-stats.  Every wait polls
with a deadline; nothing sleeps to synchronize.
"""

import os
import re
import shutil
import struct
import subprocess

import pytest

import ofp_client as oc
from daemon_util import Daemon, stopped_cleanly, wait_for
from test_daemon_netns import PY, built_topology, sh

pytestmark = pytest.mark.skipif(shutil.which("ovs-ofctl") is None,
                                reason="ovs-ofctl (openvswitch-common) "
                                       "is not installed")

OFCTL = ["ovs-ofctl", "-O", "OpenFlow13"]

# The groups of the round trip and what `ovs-ofctl -O OpenFlow13
# dump-groups` printed for them against Open vSwitch 3.1.
GROUPS = [
    "group_id=1,type=select,bucket=weight:10,actions=output:2,"
    "bucket=weight:20,actions=output:3",
    "group_id=4,type=fast_failover,bucket=watch_port:2,actions=output:2,"
    "bucket=watch_port:3,actions=output:3",
    "group_id=5,type=all,bucket=actions=group:99",
    "group_id=6,type=all,bucket=actions=group:1",
    "group_id=13,type=ff,bucket=watch_group:10,actions=output:2,"
    "bucket=watch_port:any,watch_group:4,actions=drop",
    "group_id=14,type=all",
    "group_id=15,type=indirect,bucket=mod_dl_src:00:11:22:33:44:55,output:3",
    "group_id=16,type=indirect,bucket=actions=mod_tp_dst:99,mod_tp_src:7,"
    "output:3",
    "group_id=9,type=all,bucket=actions=resubmit(,1),controller",
]
OVS_DUMP = """\
 group_id=1,type=select,bucket=weight:10,actions=output:2,bucket=weight:20,actions=output:3
 group_id=13,type=ff,bucket=watch_group:10,actions=output:2,bucket=watch_group:4,actions=drop
 group_id=14,type=all
 group_id=15,type=indirect,bucket=actions=set_field:00:11:22:33:44:55->eth_src,output:3
 group_id=16,type=indirect,bucket=actions=mod_tp_dst:99,mod_tp_src:7,output:3
 group_id=4,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_port:3,actions=output:3
 group_id=5,type=all,bucket=actions=group:99
 group_id=6,type=all,bucket=actions=group:1
 group_id=9,type=all,bucket=actions=resubmit(,1),CONTROLLER:65535
"""
OVS_STATS_1 = ("group_id=1,ref_count=1,packet_count=0,byte_count=0,"
               "bucket0:packet_count=0,byte_count=0,"
               "bucket1:packet_count=0,byte_count=0")
OVS_FEATURES_HEAD = """\
OFPST_GROUP_FEATURES reply (OF1.3) (xid=0x2):
 Group table:
    Types:  0xf
    Capabilities:  0x7
    all group:
       max_groups=0xffffff00
"""


def ofctl(target, *args, check=True):
    res = subprocess.run(OFCTL + [args[0], target] + list(args[1:]),
                         capture_output=True, text=True, timeout=60)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def body(text):
    """The entry lines of a reply, sorted, durations left out."""
    lines = [re.sub(r"duration=[0-9.]+s,", "", line)
             for line in text.splitlines() if line.startswith(" ")]
    return "".join(sorted(line + "\n" for line in lines))


@pytest.fixture(scope="module")
def switch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("groups")
    sock = str(tmp / "of.sock")
    d = Daemon(*[a for i in (1, 2, 3)
                 for a in ("--port", f"p{i},type=memory,ofport={i}")],
               "--listen", f"punix:{sock}", tmpdir=str(tmp)).start()
    try:
        yield d, f"unix:{sock}"
    finally:
        stopped_cleanly(d)


def test_ovs_ofctl_group_round_trip_prints_as_open_vswitch(switch):
    d, target = switch
    ofctl(target, "del-groups")
    for g in GROUPS:
        ofctl(target, "add-group", g)
    ofctl(target, "add-flow", "in_port=1,actions=group:1")
    assert body(ofctl(target, "dump-groups").stdout) == OVS_DUMP
    # flowswitch-ctl prints the same lines.
    assert body(d.ctl("dump-groups")) == OVS_DUMP
    stats = ofctl(target, "dump-group-stats", "group_id=1").stdout
    assert body(stats) == " " + OVS_STATS_1 + "\n"
    assert body(d.ctl("dump-group-stats", "1")) == " " + OVS_STATS_1 + "\n"
    features = ofctl(target, "dump-group-features").stdout
    assert features.startswith(OVS_FEATURES_HEAD), features

    ofctl(target, "mod-group", "group_id=1,type=all,bucket=output:1")
    assert (" group_id=1,type=all,bucket=actions=output:1\n"
            in body(ofctl(target, "dump-groups").stdout))
    # Deleting group 1 deletes the flow that names it, not group 6.
    ofctl(target, "del-groups", "group_id=1")
    assert "group:1" not in ofctl(target, "dump-flows").stdout
    assert "group_id=6," in ofctl(target, "dump-groups").stdout
    ofctl(target, "del-groups")
    assert body(ofctl(target, "dump-groups").stdout) == ""


@pytest.mark.parametrize("args,error", [
    (("add-group", "group_id=7,type=all,bucket=output:2"), None),
    (("add-group", "group_id=7,type=all"), "OFPGMFC_GROUP_EXISTS"),
    (("mod-group", "group_id=50,type=all,bucket=output:1"),
     "OFPGMFC_UNKNOWN_GROUP"),
    (("add-group", "group_id=3,type=all,bucket=watch_port:2,actions=output:2"),
     "OFPGMFC_WATCH_UNSUPPORTED"),
    (("add-flow", "in_port=1,actions=group:44"), "OFPBAC_BAD_OUT_GROUP"),
    (("del-groups", "group_id=77"), None),
])
def test_refusals_carry_open_vswitch_codes(switch, args, error):
    d, target = switch
    if error == "OFPGMFC_GROUP_EXISTS":
        # Whether or not the first case ran before (pytest -k, workers).
        ofctl(target, "add-group", "group_id=7,type=all,bucket=output:2",
              check=False)
    res = ofctl(target, *args, check=False)
    if error is None:
        assert res.returncode == 0, res.stderr
    else:
        assert res.returncode != 0 and error in res.stderr, res.stderr


def test_control_socket_group_commands(switch):
    d, _ = switch
    d.ctl("del-groups")
    d.ctl("add-group", "group_id=8,type=select,bucket=output:2,bucket=output:3")
    d.ctl("mod-group", "group_id=8,type=indirect,bucket=output:3")
    assert d.ctl("dump-groups") == (
        " group_id=8,type=indirect,bucket=actions=output:3\n")
    res = d.ctl_run("add-group", "group_id=8,type=all", check=False)
    assert res.returncode != 0
    assert "group 8 already exists" in res.stderr
    res = d.ctl_run("add-group", "group_id=9,type=ff,bucket=output:2",
                    check=False)
    assert "fast failover bucket requires watch_port" in res.stderr
    res = d.ctl_run("add-group", "group_id=9,type=all,bucket=goto_table:1",
                    check=False)
    assert "goto_table is an instruction" in res.stderr
    d.ctl("del-groups", "group_id=8")
    assert d.ctl("dump-groups") == ""


def test_selection_method_through_the_control_socket(switch):
    """selection_method=hash reaches the bridge from the text, prints as
    ovs-ofctl -O OpenFlow15 printed it for Open vSwitch 3.1, and is left
    out of an OpenFlow 1.3 GROUP_DESC as Open vSwitch leaves it out; a
    refused method changes nothing."""
    d, target = switch
    d.ctl("del-groups")
    d.ctl("add-group", "group_id=3,type=select,selection_method=hash,"
          "selection_method_param=7,fields(tcp_src=0xff00,ip_dst=255.255.0.0),"
          "bucket=output:1,bucket=output:2")
    assert d.ctl("dump-groups") == (
        " group_id=3,type=select,selection_method=hash,"
        "selection_method_param=7,fields(ip_dst=255.255.0.0,tcp_src=65280),"
        "bucket=actions=output:1,bucket=actions=output:2\n")
    assert body(ofctl(target, "dump-groups").stdout) == (
        " group_id=3,type=select,bucket=actions=output:1,"
        "bucket=actions=output:2\n")
    res = d.ctl_run("add-group", "group_id=4,type=select,"
                    "selection_method=dp_hash,bucket=output:1", check=False)
    assert res.returncode != 0
    assert "selection_method=dp_hash is not supported" in res.stderr
    res = d.ctl_run("mod-group", "group_id=3,type=all,selection_method=hash,"
                    "bucket=output:1", check=False)
    assert "only for select groups" in res.stderr
    assert "group_id=4" not in d.ctl("dump-groups")
    assert "selection_method_param=7" in d.ctl("dump-groups")
    d.ctl("del-groups")


# ---- The wire: group-mods read back as written ----------------------------

GROUP_MOD, MULTIPART_REQUEST, MULTIPART_REPLY = 15, 18, 19
OFPMP_GROUP_DESC = 7
ANY = 0xffffffff


def wire_action(type_, body):
    a = struct.pack("!HH", type_, 0) + body
    a += bytes(-len(a) % 8)
    return a[:2] + struct.pack("!H", len(a)) + a[4:]


def wire_bucket(weight, watch_port, watch_group, *actions):
    b = struct.pack("!HHII4x", 0, weight, watch_port, watch_group)
    b += b"".join(actions)
    return struct.pack("!H", len(b)) + b[2:]


OUT2 = wire_action(0, struct.pack("!IH6x", 2, 0))
OUT3 = wire_action(0, struct.pack("!IH6x", 3, 0))
GROUP9 = wire_action(22, struct.pack("!I", 9))
SET_ETH_SRC = wire_action(25, struct.pack("!HBB", 0x8000, 4 << 1, 6) +
                          bytes.fromhex("0200000000aa"))
POP_VLAN = wire_action(18, bytes(4))
# (type, group_id, buckets): what a controller writes, as the fuzz seeds
# (tests/fuzz/make-openflow-corpus.py) write it.
WIRE_GROUPS = [
    (1, 21, [wire_bucket(10, ANY, ANY, OUT2),
             wire_bucket(20, ANY, ANY, SET_ETH_SRC, OUT3)]),
    (3, 22, [wire_bucket(0, 2, ANY, OUT2), wire_bucket(0, ANY, 9, GROUP9)]),
    (0, 23, [wire_bucket(0, ANY, ANY, POP_VLAN, OUT2),
             wire_bucket(0, ANY, ANY, OUT3)]),
    (2, 24, [wire_bucket(0, ANY, ANY, GROUP9)]),
    (0, 25, []),
]


def group_desc(client):
    """{group_id: (type, buckets bytes)} from a GROUP_DESC reply."""
    client.send(oc.msg(MULTIPART_REQUEST,
                       struct.pack("!HH4x", OFPMP_GROUP_DESC, 0), xid=5))
    groups = {}
    while True:
        m = client.recv_type(MULTIPART_REPLY)
        p = m[16:]
        while p:
            length, type_, group_id = struct.unpack("!HBxI", p[:8])
            groups[group_id] = (type_, p[8:length])
            p = p[length:]
        if not struct.unpack("!H", m[10:12])[0] & 1:
            return groups


def test_group_mods_read_back_as_written(switch):
    d, target = switch
    ofctl(target, "del-groups")
    c = oc.Client(target[len("unix:"):])
    try:
        for i, (type_, group_id, buckets) in enumerate(WIRE_GROUPS):
            c.send(oc.msg(GROUP_MOD, struct.pack("!HBxI", 0, type_, group_id)
                          + b"".join(buckets), xid=i + 1))
        errors = [m for m in c.barrier() if m[1] == oc.ERROR]
        assert not errors, [oc.error_of(m) for m in errors]
        assert group_desc(c) == {g: (t, b"".join(bs))
                                 for t, g, bs in WIRE_GROUPS}
        # A bucket that claims more bytes than the message has.
        bad = wire_bucket(0, ANY, ANY, OUT2)
        c.send(oc.msg(GROUP_MOD, struct.pack("!HBxI", 0, 0, 30) +
                      struct.pack("!H", 64) + bad[2:], xid=40))
        errors = [m for m in c.barrier() if m[1] == oc.ERROR]
        assert [oc.error_of(m) for m in errors] == [(6, 12)]  # BAD_BUCKET
    finally:
        c.close()
    ofctl(target, "del-groups")


# ---- Traffic: fast failover, exact counters -------------------------------

N_BEFORE, N_AFTER = 40, 30
PAYLOAD = 64
FRAME = 14 + 20 + 8 + PAYLOAD
SEND = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"x" * %d, (sys.argv[1], 9))
""" % PAYLOAD
DEST = "10.81.0.9"  # No host: a static neighbour in namespace 1.


def group_stats(target):
    line = ofctl(target, "dump-group-stats", "group_id=1").stdout
    m = re.search(r"packet_count=(\d+),byte_count=(\d+),bucket0:packet_count="
                  r"(\d+),byte_count=(\d+),bucket1:packet_count=(\d+),"
                  r"byte_count=(\d+)", line)
    assert m, line
    return tuple(int(x) for x in m.groups())


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip"),
    reason="needs root and iproute2 (network namespaces, AF_PACKET)")


@pytest.fixture
def topology():
    yield from built_topology("fsg", ("10.81.0.1", "10.81.0.2", "10.81.0.3"))


@needs_root
def test_fast_failover_moves_traffic_and_counts_exactly(topology, tmp_path):
    t = topology
    of_sock = str(tmp_path / "of.sock")
    target = f"unix:{of_sock}"
    d = Daemon(*[a for p in t.ports for a in ("--port", p)],
               "--listen", f"punix:{of_sock}", tmpdir=str(tmp_path)).start()
    try:
        t.nsexec(t.ns[0], "ip", "neigh", "add", DEST, "lladdr",
                 "02:00:00:00:00:09", "dev", "eth0")
        ofctl(target, "add-group", "group_id=1,type=ff,bucket=watch_port:2,"
              "actions=output:2,bucket=watch_port:3,actions=output:3")
        ofctl(target, "add-flow", "priority=10,in_port=1,udp,tp_dst=9,"
              "actions=group:1")

        t.nsexec(t.ns[0], PY, "-c", SEND, DEST, str(N_BEFORE))
        wait_for(lambda: group_stats(target)[0] == N_BEFORE,
                 "the first packets counted")
        assert group_stats(target) == (N_BEFORE, N_BEFORE * FRAME,
                                       N_BEFORE, N_BEFORE * FRAME, 0, 0)

        # Port 2 loses its carrier: the group's first bucket is dead.
        t.nsexec(t.ns[1], "ip", "link", "set", "eth0", "down")
        wait_for(lambda: "link-down" in next(
            line for line in d.ctl("port/show").splitlines()
            if f": {t.ports[1]} (" in line), "port 2 shown link-down")
        d.ctl("revalidator/wait")
        t.nsexec(t.ns[0], PY, "-c", SEND, DEST, str(N_AFTER))
        total = N_BEFORE + N_AFTER
        wait_for(lambda: group_stats(target)[0] == total,
                 "the later packets counted")
        d.ctl("revalidator/wait")
        assert group_stats(target) == (total, total * FRAME,
                                       N_BEFORE, N_BEFORE * FRAME,
                                       N_AFTER, N_AFTER * FRAME)
        flows = ofctl(target, "dump-flows", "udp").stdout
        assert f"n_packets={total}, n_bytes={total * FRAME}," in flows
    finally:
        stopped_cleanly(d)


def test_flows_deleted_with_their_group_or_meter_as_open_vswitch(switch):
    """`ovs-ofctl -O OpenFlow13 monitor` against Open vSwitch 3.1 printed
    `reason=group_delete` for a send_flow_rem flow deleted with its group,
    and nothing for one deleted with its meter (OpenFlow 1.3 has no reason
    for it): flowswitchd sends the same."""
    d, target = switch
    ofctl(target, "del-flows")
    ofctl(target, "add-group", "group_id=61,type=all,bucket=output:2")
    ofctl(target, "add-meter", "meter=61,pktps,bands=type=drop,rate=10")
    ofctl(target, "add-flow", "priority=61,in_port=1,send_flow_rem,"
          "actions=group:61")
    ofctl(target, "add-flow", "priority=62,in_port=2,send_flow_rem,"
          "actions=meter:61,output:1")
    ofctl(target, "add-flow", "priority=63,in_port=3,send_flow_rem,"
          "actions=output:1")
    # monitor opens a unixctl socket of its own in OVS_RUNDIR.
    mon = subprocess.Popen(OFCTL + ["monitor", target, "128"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=dict(os.environ, OVS_RUNDIR=d.dir))
    os.set_blocking(mon.stdout.fileno(), False)
    out = []

    def printed(text):
        try:
            out.append(os.read(mon.stdout.fileno(), 65536).decode())
        except BlockingIOError:
            pass
        return text in "".join(out)

    try:
        # The monitor's SET_CONFIG (miss_send_len 128) turns its
        # asynchronous messages on.
        wait_for(lambda: "miss_send_len 128" in d.ctl("openflow/show"),
                 "the monitor's connection")
        ofctl(target, "del-meter", "meter=61")
        ofctl(target, "del-groups", "group_id=61")
        # Sent last: once its FLOW_REMOVED is printed, the others would
        # have been printed before it.
        ofctl(target, "del-flows", "in_port=3")
        wait_for(lambda: printed("priority=63"), "the last FLOW_REMOVED")
    finally:
        mon.kill()
        mon.wait()
        mon.stdout.close()
    lines = "".join(out).splitlines()
    removed = [ln for ln in lines if "FLOW_REMOVED" in ln]
    assert len(removed) == 2, lines
    assert "priority=61,in_port=1 reason=group_delete" in removed[0]
    assert "priority=63,in_port=3 reason=delete" in removed[1]
