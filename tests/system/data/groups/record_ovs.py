#!/usr/bin/python3
"""Records what Open vSwitch 3.1 does with every case of
tests/system/group_cases.py: the bytes it transmits on ports 2 and 3, its
datapath flows (dpctl/dump-flows) and their number, the megaflow count.

Run it once (root, openvswitch-switch and python3-scapy installed) with the
path of an ovs-sandbox.sh-style script that runs OVS with a dummy
datapath (usage in its header: start -n N, inject PCAP INPORT, env, stop):

    tests/system/data/groups/record_ovs.py /path/to/ovs-sandbox.sh

It writes tests/system/data/groups/ovs-groups.json.  The sandbox runs under
a private ORACLE_BASE.  The tests never run Open vSwitch themselves.
"""
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "rewrite"))

from scapy.utils import rdpcap, wrpcap  # noqa: E402

import group_cases as gc  # noqa: E402
from record_ovs import oracle_env, sh  # noqa: E402  (the rewrite recording's)

OFCTL = ["ovs-ofctl", "-O", "OpenFlow13"]


def frames_of(path):
    return [bytes(p) for p in rdpcap(path)] if os.path.exists(path) else []


def sandbox_env(sandbox, base):
    """Starts the sandbox under 'base'; the environment that reaches it."""
    env = oracle_env(sandbox, base)
    sh(env, sandbox, "start", "-n", "3")
    return env


def record_case(env, sandbox, base, case):
    name, groups, flows, packets = case
    frames = [bytes(p) for p in packets]
    tx = {p: os.path.join(base, "out", f"p{p}.pcap") for p in (2, 3)}
    before = {p: len(frames_of(tx[p])) for p in tx}
    sh(env, *OFCTL, "del-flows", "br0")
    sh(env, *OFCTL, "del-groups", "br0")
    sh(env, "ovs-appctl", "revalidator/purge")
    for g in groups:
        # A selection method travels only in OpenFlow 1.5 (ovs-ofctl drops
        # it over 1.3).
        ofctl = OFCTL[:2] + ["OpenFlow15"] if "selection_method" in g \
            else OFCTL
        sh(env, *ofctl, "add-group", "br0", g)
    for f in flows:
        sh(env, *OFCTL, "add-flow", "br0", f)
    with tempfile.NamedTemporaryFile(suffix=".pcap") as cap:
        wrpcap(cap.name, frames, linktype=1)
        sh(env, sandbox, "inject", cap.name, "1")
    time.sleep(1.0)  # A recording, run by hand: let the dummy ports drain.
    dump = sh(env, "ovs-appctl", "dpctl/dump-flows").stdout
    megaflows = sorted(ln for ln in dump.splitlines()
                       if ln and not ln.startswith("flow-dump"))
    return {"groups": groups, "flows": flows,
            "in": [f.hex() for f in frames],
            "out": {str(p): [f.hex() for f in frames_of(tx[p])[before[p]:]]
                    for p in tx},
            "megaflows": [ln.split(", packets:")[0] + " actions:" +
                          ln.split("actions:")[1] for ln in megaflows],
            "n_megaflows": len(megaflows)}


def record_all(sandbox):
    base = tempfile.mkdtemp(prefix="ovs-groups-")
    env = sandbox_env(sandbox, base)
    results = {}
    try:
        for case in gc.CASES:
            results[case[0]] = rec = record_case(env, sandbox, base, case)
            print(f"{case[0]}: {rec['n_megaflows']} megaflows, out "
                  f"{ {p: len(v) for p, v in rec['out'].items()} }")
    finally:
        sh(env, sandbox, "stop", check=False)
    return results


def main():
    text = json.dumps({"ovs_version": "3.1",
                       "cases": record_all(sys.argv[1])},
                      indent=1, sort_keys=True)
    out = os.path.join(HERE, "ovs-groups.json")
    with open(out, "w") as f:
        print(text, file=f)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
