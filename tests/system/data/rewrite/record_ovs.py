#!/usr/bin/python3
"""Records what Open vSwitch 3.1 does to the packets of every case of
tests/system/rewrite_cases.py: the bytes it transmits on port 2 and the
datapath actions ofproto/trace shows, or the error with which ovs-ofctl
refuses the flow.

Run it once (root, openvswitch-switch and python3-scapy installed) with the
path of an ovs-sandbox.sh-style script that runs OVS with a dummy
datapath (usage in its header: start -n N, inject PCAP INPORT, env, stop):

    tests/system/data/rewrite/record_ovs.py /path/to/ovs-sandbox.sh

It writes tests/system/data/rewrite/ovs-rewrites.json.  The sandbox runs
under a private ORACLE_BASE, so it does not disturb another one.  The
tests never run Open vSwitch themselves.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from scapy.utils import rdpcap, wrpcap  # noqa: E402

import rewrite_cases as rc  # noqa: E402


def oracle_env(sandbox, base):
    """The environment that reaches the sandbox under 'base': ORACLE_BASE
    and the words of its "export K=V ..." line.  (The other recorders
    under tests/system/data use it too.)"""
    env = dict(os.environ, ORACLE_BASE=base)
    words = shlex.split(sh(env, sandbox, "env").stdout)
    env.update(w.split("=", 1) for w in words if "=" in w)
    return env


def sh(env, *args, check=True):
    res = subprocess.run(list(args), env=env, capture_output=True, text=True)
    if check and res.returncode:
        sys.exit(f"{' '.join(args)}: {res.stderr}")
    return res


def n_packets(path):
    return len(rdpcap(path)) if os.path.exists(path) else 0


def main():
    sandbox = sys.argv[1]
    base = tempfile.mkdtemp(prefix="ovs-rewrite-")
    env = oracle_env(sandbox, base)
    sh(env, sandbox, "start", "-n", "3")
    tx = os.path.join(base, "out", "p2.pcap")
    results = {}
    try:
        for case in rc.CASES:
            name = case[0]
            flow = rc.flow_line(case)
            frames = [bytes(make()) for make in case[4]]
            sh(env, "ovs-ofctl", "del-flows", "br0")
            sh(env, "ovs-appctl", "dpctl/del-flows")
            # OpenFlow 1.3: over 1.0 ovs-ofctl sends a masked set_field
            # of eth/ip addresses as the legacy mod_dl_dst/mod_nw_dst,
            # which drops the mask.
            add = sh(env, "ovs-ofctl", "-O", "OpenFlow13", "add-flow", "br0",
                     flow, check=False)
            entry = {"field": case[1], "flow": flow,
                     "in": [f.hex() for f in frames]}
            results[name] = entry
            if add.returncode:
                entry["refused"] = add.stderr.strip()
                continue
            before = n_packets(tx)
            with tempfile.NamedTemporaryFile(suffix=".pcap") as cap:
                wrpcap(cap.name, frames, linktype=1)
                sh(env, sandbox, "inject", cap.name, "1")
            end = time.monotonic() + 10
            while n_packets(tx) < before + len(frames) \
                    and time.monotonic() < end:
                time.sleep(0.05)
            entry["out"] = [bytes(p).hex() for p in rdpcap(tx)[before:]]
            entry["datapath_actions"] = []
            for f in frames:
                trace = sh(env, "ovs-appctl", "ofproto/trace", "br0",
                           "in_port=1", f.hex()).stdout
                acts = [ln.split(":", 1)[1].strip()
                        for ln in trace.splitlines()
                        if ln.startswith("Datapath actions:")]
                entry["datapath_actions"].append(acts[-1] if acts else None)
            print(f"{name}: {len(entry['out'])}/{len(frames)} out, "
                  f"{entry['datapath_actions'][0]}")
    finally:
        sh(env, sandbox, "stop", check=False)
    out = os.path.join(HERE, "ovs-rewrites.json")
    with open(out, "w") as f:
        json.dump({"ovs_version": "3.1", "cases": results}, f, indent=1,
                  sort_keys=True)
        f.write("\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
