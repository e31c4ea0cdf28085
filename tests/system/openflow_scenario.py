"""The ovs-ofctl scenario of tests/system/test_openflow_ofctl.py.

One list of `ovs-ofctl -O OpenFlow13` commands, run in order against a
switch, and the normalisation that makes two runs comparable (durations,
port durations, the LOCAL port only Open vSwitch has, reply order).  The
same steps were run once against Open vSwitch 3.1 (a dummy-datapath
ovs-vswitchd with ports p1..p3, fail_mode secure, no flows) by
tests/system/data/openflow/record_ovs.py, which wrote what ovs-ofctl
printed there to tests/system/data/openflow/ovs-expected.json; the test
runs the same steps against flowswitchd and compares.
"""

import re
import subprocess

OFCTL = ["ovs-ofctl", "-O", "OpenFlow13"]

# Flows that exercise every kind of match field and action the codec
# carries: L2, VLAN, IPv4/IPv6 prefixes, L4 ports, ICMP, ND, ARP, TCP
# flags, registers, metadata, cookies, timeouts and flags; output,
# controller, set_field (mod_*), load, move, dec_ttl, VLAN push/pop,
# resubmit, note, write_metadata, goto_table.
ADD_FLOWS = [
    "priority=100,tcp,tp_dst=80,actions=output:2",
    "priority=200,in_port=1,dl_src=00:00:00:00:00:01,"
    "dl_dst=ff:ff:ff:ff:ff:ff,actions=output:3",
    "priority=50,ip,nw_src=10.0.0.0/8,nw_dst=192.168.1.1,"
    "actions=mod_nw_dst:10.1.1.1,dec_ttl,output:2",
    "priority=40,udp,tp_src=53,actions=mod_tp_src:5353,output:1",
    "priority=30,dl_vlan=10,actions=strip_vlan,output:2",
    "priority=20,arp,arp_op=1,actions=NORMAL",
    "priority=25,ipv6,ipv6_src=2001:db8::/32,actions=output:3",
    "priority=26,icmp,icmp_type=8,icmp_code=0,actions=CONTROLLER:128",
    "priority=27,icmp6,icmp_type=135,nd_target=fe80::1,actions=drop",
    "cookie=0x1234,priority=10,reg0=5,actions=resubmit(,1)",
    "priority=11,ip,nw_tos=32,actions=mod_nw_tos:64,output:3",
    "priority=12,dl_type=0x0800,nw_proto=6,tcp_flags=+syn-ack,"
    "actions=output:1",
]

ADD_FLOWS_FILE = """\
# A second batch, through add-flows.
table=1,priority=5,ip,actions=mod_dl_src:00:11:22:33:44:55,goto_table:2
table=2,idle_timeout=60,hard_timeout=120,send_flow_rem,priority=7,\
metadata=0x5/0xff,actions=write_metadata:0x10/0xff,goto_table:3
table=3,priority=1,actions=note:01.02,move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],\
output:in_port
table=3,priority=2,udp6,actions=load:0x3->NXM_NX_REG1[0..7],push_vlan:0x8100,\
controller(reason=no_match,id=3)
table=4,priority=9,tcp,nw_src=10.1.0.0/16,tp_src=1000,actions=output:LOCAL
"""

# The packets of the packet-outs: 60-byte frames.
PACKET = ("ffffffffffff00000000000108060001080006040001000000000001"
          "0a0000010000000000000a000002" + "00" * 18)


def steps(target, flows_file):
    """The scenario against 'target': (name, argv, stdin) in order."""
    s = [("del-all", OFCTL + ["del-flows", target], None)]
    for i, flow in enumerate(ADD_FLOWS):
        s.append((f"add-flow-{i}", OFCTL + ["add-flow", target, flow], None))
    s += [
        ("add-flows", OFCTL + ["add-flows", target, flows_file], None),
        ("overlap", OFCTL + ["add-flow", target,
                             "check_overlap,priority=100,tcp,tp_dst=80,"
                             "actions=output:3"], None),
        ("dump-1", OFCTL + ["dump-flows", target], None),
        ("dump-filtered", OFCTL + ["dump-flows", target, "table=0,tcp"],
         None),
        ("aggregate", OFCTL + ["dump-aggregate", target], None),
        ("mod-loose", OFCTL + ["mod-flows", target,
                               "tcp,actions=output:3"], None),
        ("mod-strict", OFCTL + ["mod-flows", "--strict", target,
                                "priority=20,arp,arp_op=1,actions=output:1"],
         None),
        ("del-loose", OFCTL + ["del-flows", target, "udp"], None),
        ("del-strict", OFCTL + ["del-flows", "--strict", target,
                                "priority=25,ipv6,ipv6_src=2001:db8::/32"],
         None),
        ("del-cookie", OFCTL + ["del-flows", target,
                                "cookie=0x1234/-1"], None),
        ("dump-2", OFCTL + ["dump-flows", target], None),
        ("packet-out-2", OFCTL + ["packet-out", target,
                                  f"in_port=controller packet={PACKET} "
                                  "actions=output:2"], None),
        ("packet-out-3", OFCTL + ["packet-out", target,
                                  f"in_port=controller packet={PACKET} "
                                  "actions=output:3,output:2"], None),
        ("dump-ports", OFCTL + ["dump-ports", target], None),
        ("dump-port-2", OFCTL + ["dump-ports", target, "2"], None),
        ("dump-tables", OFCTL + ["dump-tables", target], None),
    ]
    return s


def run(target, flows_file, timeout=60):
    """Runs every step; returns {name: {"rc", "stdout", "stderr"}}."""
    results = {}
    for name, argv, stdin in steps(target, flows_file):
        res = subprocess.run(argv, input=stdin, capture_output=True,
                             text=True, timeout=timeout)
        results[name] = {"rc": res.returncode, "stdout": res.stdout,
                         "stderr": res.stderr}
    return results


def _port_blocks(text):
    """dump-ports text -> {port: block text} (durations removed)."""
    blocks, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"\s+port\s+(\S+):", line)
        if m:
            cur = m.group(1)
            blocks[cur] = []
        if cur is None or "duration=" in line:
            continue
        # Open vSwitch's dummy ports count no drops or errors ("?", all
        # ones on the wire); flowswitch's ports do (0 here).  Packets and
        # bytes are compared exactly.
        line = re.sub(r"(drop|errs)=(\?|\d+)", r"\1=N", line)
        blocks[cur].append(line.strip())
    return blocks


def normalize(name, result, target):
    """What of a step's output must be equal between two switches."""
    out = result["stdout"].replace(target, "TARGET")
    err = result["stderr"].replace(target, "TARGET")
    out = re.sub(r"duration=[0-9.]+s", "duration=X", out)
    # ovs-ofctl names itself and the xid it chose; both are its own.
    err = re.sub(r"xid=0x[0-9a-f]+", "xid=X", err)
    if name.startswith("dump-port"):
        blocks = _port_blocks(out)
        blocks.pop("LOCAL", None)  # Only Open vSwitch has a LOCAL port.
        return {"rc": result["rc"], "ports": blocks, "stderr": err}
    if name.startswith("dump-") or name == "aggregate":
        lines = out.splitlines()
        # Replies come in the switch's own order: compare as sets.
        return {"rc": result["rc"], "head": lines[:1],
                "lines": sorted(lines[1:]), "stderr": err}
    return {"rc": result["rc"], "stdout": out, "stderr": err}
