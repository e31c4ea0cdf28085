"""The cases of the action-set differential test (test_actset_vs_ovs.py):
flows that use write_actions, clear_actions and set_queue, and the packets
sent through them.  tests/system/data/actset/record_ovs.py ran them through
Open vSwitch 3.1 once; the test replays them through flowswitchd.

Each case is (name, flows, tagged): flows in ovs-ofctl add-flows syntax
(OpenFlow 1.3); the packets are three TCP packets of each of two
connections (source ports 1000 and 1001) from port 1, VLAN-tagged (VID 5)
when 'tagged'.
"""

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Dot1Q, Ether

CASES = [
    ("later_write_replaces_output", [
        "table=0,tcp,actions=write_actions(output:2),goto_table:1",
        "table=1,tcp,tp_src=1000,actions=write_actions(output:3,"
        "set_field:9.9.9.9->ip_src)",
    ], False),
    ("clear_actions_empties_the_set", [
        "table=0,tcp,actions=write_actions(output:2),goto_table:1",
        "table=1,tcp,tp_src=1000,actions=clear_actions",
    ], False),
    ("set_runs_in_openflow_order", [
        "table=0,tcp,actions=write_actions(output:2,dec_ttl,strip_vlan,"
        "set_field:1.1.1.1->ip_src,set_queue:3)",
    ], True),
    ("push_vlan_before_set_field", [
        "table=0,tcp,actions=write_actions(output:3,set_field:4101->vlan_vid,"
        "push_vlan:0x8100)",
    ], False),
    ("set_queue_applied", [
        "table=0,tcp,actions=set_queue:3,output:2,set_queue:4,output:3",
    ], False),
    ("writes_collect_across_resubmit", [
        "table=0,tcp,actions=write_actions(output:2),goto_table:1",
        "table=1,tcp,actions=resubmit(,2),write_actions("
        "set_field:1.1.1.1->ip_src)",
        "table=2,tcp,tp_src=1000,actions=write_actions("
        "set_field:2.2.2.2->ip_src,set_field:00:00:00:00:00:09->eth_src)",
    ], False),
    ("applied_actions_run_before_the_set", [
        "table=0,tcp,actions=output:3,write_actions(output:2),goto_table:1",
        "table=1,tcp,actions=mod_nw_tos:8,output:3",
    ], False),
    ("set_without_output_drops", [
        "table=0,tcp,actions=write_actions(set_field:1.1.1.1->ip_src,"
        "set_queue:3)",
    ], False),
    ("resubmit_in_the_set", [
        "table=0,tcp,actions=write_actions(resubmit(,2))",
        "table=2,tcp,tp_src=1001,actions=output:3",
    ], False),
    ("write_metadata_with_write_actions", [
        "table=0,tcp,actions=write_actions(output:2),write_metadata:0x1,"
        "goto_table:1",
        "table=1,metadata=0x1,tcp,tp_src=1000,actions=write_actions(output:3)",
    ], False),
]

N_PER_CONNECTION = 3


def packets(tagged):
    """The frames of a case, in sending order."""
    frames = []
    for i in range(N_PER_CONNECTION):
        for sport in (1000, 1001):
            eth = Ether(src="00:00:00:00:00:01", dst="00:00:00:00:00:02")
            l3 = IP(src="10.0.0.1", dst="10.0.0.2", ttl=64) / \
                TCP(sport=sport, dport=80, seq=i)
            frames.append(bytes(eth / Dot1Q(vlan=5) / l3 if tagged
                                else eth / l3))
    return frames
