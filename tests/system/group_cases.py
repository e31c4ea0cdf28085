"""The group cases of the differential test against Open vSwitch
(tests/system/test_groups_vs_ovs.py, recorded by
tests/system/data/groups/record_ovs.py).

Each case is (name, groups, flows, packets): ovs-ofctl add-group lines, an
add-flows file's lines, and the frames sent into port 1 of a switch with
ports 1, 2 and 3 (port 9 does not exist, so a fast-failover bucket that
watches it is dead).  The bucket a select group picks depends on the
switch's hash function, which is not Open vSwitch's: the select cases are
those where no hash can matter (one bucket with a weight), and the
hash_fields cases (selection_method=hash, which ovs-ofctl sends over
OpenFlow 1.5 and flowswitch takes as text), where flowswitch hashes and
picks as Open vSwitch does: the same bytes on the same ports, through as
many megaflows (both un-wildcard exactly the hashed fields).
"""

import struct

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"


def udp(sport, dport=53, src="10.0.0.1", dst="10.0.0.2"):
    return (Ether(src=MAC1, dst=MAC2) / IP(src=src, dst=dst, ttl=64) /
            UDP(sport=sport, dport=dport) / Raw(b"g" * 24))


def tcp(sport, dport=80):
    return (Ether(src=MAC1, dst=MAC2) / IP(src="10.0.0.1", dst="10.0.0.3") /
            TCP(sport=sport, dport=dport, flags="S"))


def mpls_over(packet, label=16):
    """'packet' (an Ethernet frame) behind one MPLS entry."""
    entry = struct.pack("!I", (label << 12) | (1 << 8) | 64)
    return (Ether(src=MAC1, dst=MAC2, type=0x8847) /
            Raw(entry + bytes(packet[IP])))


# Four packets of four 5-tuples: what a group un-wildcards decides how
# many megaflows they make.
MIXED = [udp(1000), udp(1001), tcp(2000), tcp(2001)]

CASES = [
    ("all_rewrite_in_one_bucket",
     ["group_id=1,type=all,bucket=actions=mod_dl_src:02:00:00:00:00:aa,"
      "output:2,bucket=actions=output:3"],
     ["in_port=1,actions=group:1"], MIXED),
    ("all_then_output_after_group",
     ["group_id=1,type=all,bucket=actions=mod_nw_dst:10.9.9.9,output:2,"
      "bucket=actions=dec_ttl,output:3"],
     ["in_port=1,ip,actions=group:1,output:3"], MIXED),
    ("indirect",
     ["group_id=2,type=indirect,bucket=actions=mod_tp_dst:99,output:3"],
     ["in_port=1,udp,actions=group:2", "in_port=1,tcp,actions=output:2"],
     MIXED),
    ("chained_groups",
     ["group_id=1,type=indirect,bucket=actions=output:3",
      "group_id=5,type=all,bucket=actions=group:1,bucket=actions=output:2"],
     ["in_port=1,actions=group:5"], MIXED),
    ("fast_failover_first_live",
     ["group_id=4,type=ff,bucket=watch_port:2,actions=output:2,"
      "bucket=watch_port:3,actions=output:3"],
     ["in_port=1,actions=group:4"], MIXED),
    ("fast_failover_skips_missing_port",
     ["group_id=4,type=ff,bucket=watch_port:9,actions=output:2,"
      "bucket=watch_port:3,actions=output:3"],
     ["in_port=1,actions=group:4"], MIXED),
    ("fast_failover_no_live_bucket",
     ["group_id=4,type=ff,bucket=watch_port:9,actions=output:2"],
     ["in_port=1,actions=group:4,output:3"], MIXED),
    ("select_one_bucket",
     ["group_id=3,type=select,bucket=weight:7,actions=output:2"],
     ["in_port=1,actions=group:3"], MIXED),
    ("select_one_weighted_bucket",
     ["group_id=3,type=select,bucket=weight:0,actions=output:2,"
      "bucket=weight:5,actions=output:3"],
     ["in_port=1,actions=group:3"], MIXED),
    # A bucket's actions run as an action set (OpenFlow 1.3 §5.6.1), as
    # Open vSwitch runs them: the rewrite before the output whatever the
    # order written, and of two outputs only the last.
    ("hash_fields_dst_prefix",
     ["group_id=7,type=select,selection_method=hash,"
      "fields(ip_dst=255.255.255.0),bucket=actions=output:2,"
      "bucket=actions=output:3"],
     ["in_port=1,actions=group:7"],
     MIXED + [udp(1000, dst="10.0.7.1"), udp(1002, dst="10.0.7.200")]),
    ("hash_fields_l4_port",
     ["group_id=7,type=select,selection_method=hash,"
      "selection_method_param=99,fields(nw_proto,tcp_dst),"
      "bucket=actions=output:2,bucket=actions=output:3"],
     ["in_port=1,actions=group:7"],
     MIXED + [tcp(2002, 443), udp(1003, 443)]),
    # Four weighted buckets, each marking the frames it sends: sixteen
    # sources must take the very buckets Open vSwitch's hash gave them.
    ("hash_fields_four_weighted_buckets",
     ["group_id=8,type=select,selection_method=hash,fields(ip_src),"
      + ",".join(f"bucket=weight:{w},actions=mod_dl_dst:02:00:00:00:0{w}:00,"
                 f"output:{2 + w % 2}" for w in (1, 2, 3, 4))],
     ["in_port=1,actions=group:8"],
     [udp(1000 + i, src=f"10.0.0.{i + 1}") for i in range(16)]),
    # After pop_mpls a select group waits for the recirculation, so that
    # it hashes the inner header: one megaflow before, one per /24 after.
    ("hash_fields_after_pop_mpls",
     ["group_id=7,type=select,selection_method=hash,"
      "fields(ip_dst=255.255.255.0),bucket=actions=output:2,"
      "bucket=actions=output:3"],
     ["in_port=1,mpls,actions=pop_mpls:0x0800,group:7"],
     [mpls_over(p) for p in MIXED + [udp(1000, dst="10.0.7.1"),
                                     udp(1002, dst="10.0.9.200")]]),
    ("bucket_runs_as_an_action_set",
     ["group_id=6,type=all,bucket=actions=output:2,"
      "mod_dl_src:02:00:00:00:00:bb,bucket=actions=output:2,output:3"],
     ["in_port=1,actions=group:6"], MIXED),
]
