#!/usr/bin/python3
"""Records what Open vSwitch 3.1 does with every case of
tests/system/mpls_cases.py: the bytes it transmits on each case's output
port, its datapath actions (ofproto/trace) and how many megaflows each
case's packets installed, or the error with which ovs-ofctl refuses a
case's flows; and what ovs-ofctl -O OpenFlow13 prints for the
mpls_cases.ofctl_steps() scenario.

Run it once (root, openvswitch-switch and python3-scapy installed) with the
path of an ovs-sandbox.sh-style script that runs OVS with a dummy datapath
(usage in its header: start -n N, inject PCAP INPORT, env, stop):

    ORACLE_BASE=/tmp/ovs-oracle-x tests/system/data/mpls/record_ovs.py \\
        /path/to/ovs-sandbox.sh

All cases share one bridge, as in the test: case k receives on port 2k-1
and sends to port 2k.  It writes tests/system/data/mpls/ovs-mpls.json.
The tests never run Open vSwitch themselves.
"""
import importlib.util
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from scapy.utils import rdpcap, wrpcap  # noqa: E402

import mpls_cases as mc  # noqa: E402

# sh() and n_packets() of the rewrite recorder.
_spec = importlib.util.spec_from_file_location(
    "rewrite_record_ovs",
    os.path.join(os.path.dirname(HERE), "rewrite", "record_ovs.py"))
_rewrite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rewrite)
sh, n_packets = _rewrite.sh, _rewrite.n_packets


def add_flows(env, index, case, entry):
    for flow in mc.flow_lines(index, case):
        add = sh(env, "ovs-ofctl", "-O", "OpenFlow13", "add-flow", "br0",
                 flow, check=False)
        if add.returncode:
            entry["refused"] = add.stderr.strip()
            return False
    return True


def inject_and_wait(env, sandbox, base, rx, frames, tx_path):
    with tempfile.NamedTemporaryFile(suffix=".pcap") as cap:
        wrpcap(cap.name, frames, linktype=1)
        sh(env, sandbox, "inject", cap.name, str(rx))
    # Nothing tells when OVS is done: wait until the output stops growing
    # (OVS handles these few packets within milliseconds).
    last, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 1.0:
        n = n_packets(tx_path)
        if n != last:
            last, stable_since = n, time.monotonic()
        time.sleep(0.1)


def megaflows_by_port(env):
    counts = {}
    out = sh(env, "ovs-appctl", "dpctl/dump-flows").stdout
    for line in out.splitlines():
        m = re.search(r"in_port\((\d+)\)", line)
        if m:
            counts[int(m.group(1))] = counts.get(int(m.group(1)), 0) + 1
    return counts, out


def trace(env, rx, frame):
    out = sh(env, "ovs-appctl", "ofproto/trace", "br0", f"in_port={rx}",
             bytes(frame).hex()).stdout
    acts = [ln.split(":", 1)[1].strip() for ln in out.splitlines()
            if ln.startswith("Datapath actions:")]
    return acts[-1] if acts else None


def main():
    sandbox = sys.argv[1]
    base = os.environ.get("ORACLE_BASE") or tempfile.mkdtemp(
        prefix="ovs-mpls-")
    env = _rewrite.oracle_env(sandbox, base)
    # Megaflows must outlive the whole recording to be counted.
    sh(env, sandbox, "start", "-n", str(2 * len(mc.CASES)), "-c",
       "max-idle=600000")
    results = {}
    try:
        for i, case in enumerate(mc.CASES):
            frames = [bytes(p) for p in case[2]]
            entry = {"flows": mc.flow_lines(i, case),
                     "in": [f.hex() for f in frames]}
            results[case[0]] = entry
            if not add_flows(env, i, case, entry):
                continue
            tx = os.path.join(base, "out", f"p{2 * i + 2}.pcap")
            inject_and_wait(env, sandbox, base, 2 * i + 1, frames, tx)
            entry["out"] = [bytes(p).hex() for p in rdpcap(tx)] \
                if os.path.exists(tx) else []
            entry["datapath_actions"] = [trace(env, 2 * i + 1, f)
                                         for f in frames]
        counts, dump = megaflows_by_port(env)
        ofctl = {}
        for name, argv in mc.ofctl_steps("br0"):
            res = sh(env, *argv, check=False)
            ofctl[name] = {"rc": res.returncode, "stdout": res.stdout,
                           "stderr": res.stderr}
        for i, case in enumerate(mc.CASES):
            results[case[0]]["megaflows"] = counts.get(2 * i + 1, 0)
            print(f"{case[0]}: {len(results[case[0]].get('out', []))} out, "
                  f"{results[case[0]]['megaflows']} megaflows, "
                  f"{results[case[0]].get('datapath_actions')}")
    finally:
        sh(env, sandbox, "stop", check=False)
    out = os.path.join(HERE, "ovs-mpls.json")
    with open(out, "w") as f:
        json.dump({"ovs_version": "3.1", "dump_flows": dump.splitlines(),
                   "cases": results, "ofctl": ofctl}, f, indent=1,
                  sort_keys=True)
        f.write("\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
