#!/usr/bin/python3
"""Records what Open vSwitch 3.1 does with flows that use meters whose
rates the packets never reach: the bytes it transmits on port 2, its
datapath flows (megaflow count and actions, meter(N) included) after the
packets, for each case below.  tests/system/test_meters_vs_ovs.py replays
the same meters, flows and packets through flowswitchd.

Run it once (root, openvswitch-switch and python3-scapy installed) with
the path of an ovs-sandbox.sh-style script (usage in its header: start -n
N, inject PCAP INPORT, env, stop):

    tests/system/data/meters/record_ovs.py /path/to/ovs-sandbox.sh

It writes tests/system/data/meters/ovs-meters.json.  The sandbox runs
under a private ORACLE_BASE; the tests never run Open vSwitch.
"""
import json
import os
import sys
import tempfile
import time

from scapy.all import ARP, IP, TCP, UDP, Ether, Raw  # noqa: E402
from scapy.utils import rdpcap, wrpcap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# sh() and n_packets() of the rewrite recording, the same helpers.
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "rewrite"))

from record_ovs import n_packets, sh  # noqa: E402

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"


def udp(sport, dport, tos=0):
    return Ether(src=MAC1, dst=MAC2) / IP(src="10.1.0.1", dst="10.1.0.2",
                                          tos=tos) / \
        UDP(sport=sport, dport=dport) / Raw(b"meter" * 8)


def tcp(sport, dport):
    return Ether(src=MAC1, dst=MAC2) / IP(src="10.1.0.1", dst="10.1.0.2") / \
        TCP(sport=sport, dport=dport, flags="S") / Raw(b"meter" * 8)


ARP_REQ = Ether(src=MAC1, dst="ff:ff:ff:ff:ff:ff") / ARP(
    psrc="10.1.0.1", pdst="10.1.0.2", hwsrc=MAC1)

# (name, meters, flows, packets): rates far above the few packets sent.
CASES = [
    ("pktps-drop", ["meter=1,pktps,bands=type=drop,rate=100000"],
     ["in_port=1,ip,actions=meter:1,output:2"],
     [ARP_REQ, udp(1, 2), udp(3, 4), tcp(5, 6), udp(1, 2)]),
    ("kbps-burst-rewrite",
     ["meter=1,kbps,burst,stats,bands=type=drop,rate=100000,"
      "burst_size=10000"],
     ["in_port=1,udp,actions=meter:1,mod_nw_dst:10.1.0.9,output:2",
      "in_port=1,tcp,actions=output:2"],
     [udp(1, 2), tcp(5, 6), udp(7, 8), tcp(5, 6)]),
    ("two-meters-two-tables",
     ["meter=1,pktps,bands=type=drop,rate=100000",
      "meter=2,kbps,stats,bands=type=drop,rate=200000,type=drop,"
      "rate=400000"],
     ["table=0,in_port=1,ip,actions=meter:1,goto_table:1",
      "table=1,udp,tp_dst=2,actions=meter:2,output:2",
      "table=1,priority=0,actions=output:2"],
     [udp(1, 2), udp(1, 3), tcp(5, 6), udp(9, 2)]),
    ("second-meter-id", ["meter=7,pktps,bands=type=drop,rate=50000",
                         "meter=3,pktps,bands=type=drop,rate=50000"],
     ["in_port=1,tcp,actions=meter:3,output:2",
      "in_port=1,udp,actions=meter:7,output:2"],
     [tcp(5, 6), udp(1, 2), udp(1, 2)]),
]


def record_case(env, sandbox, base, case):
    name, meters, flows, packets = case
    tx = os.path.join(base, "out", "p2.pcap")
    of13 = ["ovs-ofctl", "-O", "OpenFlow13"]
    sh(env, *of13, "del-flows", "br0")
    sh(env, *of13, "del-meters", "br0")
    sh(env, "ovs-appctl", "dpctl/del-flows")
    for m in meters:
        sh(env, *of13, "add-meter", "br0", m)
    for f in flows:
        sh(env, *of13, "add-flow", "br0", f)
    frames = [bytes(p) for p in packets]
    before = n_packets(tx)
    with tempfile.NamedTemporaryFile(suffix=".pcap") as cap:
        wrpcap(cap.name, frames, linktype=1)
        sh(env, sandbox, "inject", cap.name, "1")
    time.sleep(1)  # A recording by hand: let OVS settle.
    dump = sh(env, "ovs-appctl", "dpctl/dump-flows").stdout
    megaflows = [ln for ln in dump.splitlines() if "actions:" in ln]
    return {"meters": meters, "flows": flows,
            "in": [f.hex() for f in frames],
            "out": [bytes(p).hex() for p in rdpcap(tx)[before:]]
            if os.path.exists(tx) else [],
            "megaflows": len(megaflows),
            "datapath_actions": sorted(ln.split("actions:", 1)[1]
                                       for ln in megaflows),
            "meter_stats": sh(env, *of13, "meter-stats", "br0").stdout}


def start_oracle(env, sandbox):
    """Starts a fresh oracle and adds its env exports to 'env'."""
    sh(env, sandbox, "start", "-n", "3")
    exports = sh(env, sandbox, "env").stdout.split()
    env.update(kv.split("=", 1) for kv in exports if "=" in kv)
    env.update({k: v.strip("'\"") for k, v in env.items()})


def main():
    sandbox = sys.argv[1]
    base = tempfile.mkdtemp(prefix="ovs-meters-")
    env = dict(os.environ, ORACLE_BASE=base)
    results = {}
    for case in CASES:
        # A fresh oracle per case: OVS numbers datapath meters from 0.
        start_oracle(env, sandbox)
        try:
            r = results[case[0]] = record_case(env, sandbox, base, case)
        finally:
            sh(env, sandbox, "stop", check=False)
        print(f"{case[0]}: {len(r['out'])}/{len(r['in'])} out, "
              f"{r['megaflows']} megaflows, {r['datapath_actions']}")
    out = os.path.join(HERE, "ovs-meters.json")
    text = json.dumps({"ovs_version": "3.1", "cases": results}, indent=1,
                      sort_keys=True)
    with open(out, "w") as f:
        f.write(text + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
