"""write_actions, clear_actions and set_queue over OpenFlow 1.3 with
ovs-ofctl, and exact table statistics through cached megaflows.

The flow texts and what `ovs-ofctl -O OpenFlow13 dump-flows` prints for
them (or the error it gets) are those Open vSwitch 3.1 gives for the same
add-flow (ovs-sandbox.sh, by hand).  The table statistics are computed
from the packets sent: every packet is one lookup in each table it
reaches (table 0, goto_table, resubmit), a match when a rule is hit;
packets forwarded by a cached megaflow count once the revalidators have
pushed its stats (revalidator/wait), as Open vSwitch counts them.
"""

import re
import shutil
import subprocess

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from daemon_util import Daemon, stopped_cleanly, wait_for
from traffic_util import dp_show, port_stats

pytestmark = pytest.mark.skipif(shutil.which("ovs-ofctl") is None,
                                reason="ovs-ofctl (openvswitch-common) "
                                       "is not installed")

OFCTL = ["ovs-ofctl", "-O", "OpenFlow13"]

# (flow as given to ovs-ofctl add-flow, actions as dump-flows prints them)
ROUND_TRIPS = [
    ("ip,actions=set_queue:5,clear_actions,write_actions(set_queue:3,"
     "output:2,set_field:1->ip_dscp),goto_table:1",
     "set_queue:5,clear_actions,write_actions(set_queue:3,output:2,"
     "set_field:1->ip_dscp),goto_table:1"),
    ("ip,actions=clear_actions,write_actions(output:2),"
     "write_metadata:1/0xff,goto_table:1",
     "clear_actions,write_actions(output:2),write_metadata:0x1/0xff,"
     "goto_table:1"),
    ("ip,actions=write_actions(dec_ttl,output:2,"
     "mod_dl_src:00:00:00:00:00:01,set_field:00:00:00:00:00:02->eth_src)",
     "write_actions(dec_ttl,output:2,set_field:00:00:00:00:00:01->eth_src,"
     "set_field:00:00:00:00:00:02->eth_src)"),
    ("ip,actions=write_actions(push_vlan:0x8100,mod_vlan_vid:5,strip_vlan,"
     "output:2)",
     "write_actions(push_vlan:0x8100,set_field:4101->vlan_vid,pop_vlan,"
     "output:2)"),
    ("ip,actions=write_actions(controller,output:2)",
     "write_actions(CONTROLLER:65535,output:2)"),
    ("ip,actions=write_actions(resubmit(,3))",
     "write_actions(resubmit(,3))"),
    ("ip,actions=write_actions(load:1->NXM_NX_REG0[],"
     "move:NXM_NX_REG0[]->NXM_NX_REG1[])",
     "write_actions(load:0x1->NXM_NX_REG0[],"
     "move:NXM_NX_REG0[]->NXM_NX_REG1[])"),
    ("ip,actions=write_actions()", "drop"),
    ("ip,actions=clear_actions", "clear_actions"),
    ("ip,actions=set_queue:0x10", "set_queue:16"),
    ("ip,actions=set_queue:4294967295", "set_queue:4294967295"),
]

# The pipeline of the statistics test: every packet looks up table 0,
# table 5 (a resubmit that misses) and table 1 (goto_table, a match only
# for source port 1000); the action set sends port 1000 to port 3, the
# rest to port 2.
PIPELINE = [
    "table=0,tcp,actions=resubmit(,5),write_actions(output:2),goto_table:1",
    "table=1,tcp,tp_src=1000,actions=write_actions(output:3)",
]
N_1000, N_1001 = 240, 160


def frame(sport, seq):
    return bytes(Ether(src="00:00:00:00:00:01", dst="00:00:00:00:00:02")
                 / IP(src="10.0.0.1", dst="10.0.0.2")
                 / TCP(sport=sport, dport=80, seq=seq))


@pytest.fixture(scope="module")
def switch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("actset")
    sock = tmp / "of.sock"
    d = Daemon("--port", f"p2,ofport=2,tx={tmp / 'p2.pcap'}",
               "--port", f"p3,ofport=3,tx={tmp / 'p3.pcap'}",
               "--listen", f"punix:{sock}", tmpdir=str(tmp)).start()
    try:
        yield d, f"unix:{sock}", tmp
    finally:
        stopped_cleanly(d)


def ofctl(target, cmd, *args, check=True):
    res = subprocess.run(OFCTL + [cmd, target] + list(args),
                         capture_output=True, text=True, timeout=60)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def dumped_actions(target):
    out = ofctl(target, "dump-flows", "--no-stats").stdout
    return [line.split(" actions=", 1)[1] for line in out.splitlines()
            if " actions=" in line]


@pytest.mark.parametrize("flow,printed", ROUND_TRIPS)
def test_action_set_instructions_round_trip_through_ovs_ofctl(switch, flow,
                                                              printed):
    d, target, _ = switch
    ofctl(target, "del-flows")
    ofctl(target, "add-flow", flow)
    assert dumped_actions(target) == [printed]
    # The control socket's dump-flows shows the same instructions, in its
    # OpenFlow 1.0 spelling of pop_vlan.
    printed = printed.replace("pop_vlan", "strip_vlan")
    assert f"actions={printed}" in d.ctl("dump-flows")


def test_note_in_an_action_set_is_refused_as_ovs_refuses_it(switch):
    _, target, _ = switch
    ofctl(target, "del-flows")
    res = ofctl(target, "add-flow", "ip,actions=write_actions(note:01,"
                "output:2)", check=False)
    assert res.returncode != 0
    assert "OFPBAC_BAD_TYPE" in res.stderr, res.stderr
    assert dumped_actions(target) == []


def expected_tables(n, n_1000):
    """The body of dump-tables after the pipeline saw 'n' packets, 'n_1000'
    of them from source port 1000."""
    return (f"  table 0:\n    active=1, lookup={n}, matched={n}\n\n"
            f"  table 1:\n    active=1, lookup={n}, matched={n_1000}\n\n"
            "  table 2:\n    active=0, lookup=0, matched=0\n\n"
            "  tables 3...4: ditto\n\n"
            f"  table 5:\n    active=0, lookup={n}, matched=0\n\n"
            "  table 6:\n    active=0, lookup=0, matched=0\n\n"
            "  tables 7...253: ditto\n")


def test_table_statistics_count_every_packet_of_cached_megaflows(switch):
    d, target, tmp = switch
    ofctl(target, "del-flows")
    flows = tmp / "pipeline.flows"
    flows.write_text("\n".join(PIPELINE) + "\n")
    ofctl(target, "add-flows", str(flows))
    counts = re.findall(r"lookup=(\d+), matched=(\d+)", d.ctl("dump-tables"))
    assert counts and set(counts) == {("0", "0")}

    frames = [frame(1000 if i % 5 < 3 else 1001, i)
              for i in range(N_1000 + N_1001)]
    cap = tmp / "in.pcap"
    wrpcap(str(cap), frames, linktype=1)
    before = port_stats(d)
    hits_before = dp_show(d)["hit"]
    d.ctl("port/add", f"p1,ofport=1,rx={cap},rate=4000")

    def forwarded():
        now = port_stats(d)
        return (now["p3"]["tx"] - before["p3"]["tx"] == N_1000
                and now["p2"]["tx"] - before["p2"]["tx"] == N_1001)
    wait_for(forwarded, "every packet forwarded")
    # Most packets went through the cached megaflows, not the slow path.
    assert dp_show(d)["hit"] - hits_before > (N_1000 + N_1001) // 2
    d.ctl("revalidator/wait")

    n = N_1000 + N_1001
    assert d.ctl("dump-tables") == expected_tables(n, N_1000)
    ofctl_out = ofctl(target, "dump-tables").stdout
    assert re.sub(r"^OFPST_TABLE reply \(OF1.3\) \(xid=0x[0-9a-f]+\):\n",
                  "", ofctl_out) == expected_tables(n, N_1000)

    # A packet-out through the tables counts as one more packet (OVS counts
    # it too); one that outputs to a port looks nothing up.
    ofctl(target, "packet-out", f"in_port=1 packet={frame(1000, 0).hex()} "
          "actions=output:TABLE")
    ofctl(target, "packet-out", f"in_port=1 packet={frame(1000, 1).hex()} "
          "actions=output:3")
    assert d.ctl("dump-tables") == expected_tables(n + 1, N_1000 + 1)
