#!/usr/bin/python3
"""Records, for each case of tests/system/actset_cases.py, what Open
vSwitch 3.1 transmits on ports 2 and 3, its datapath flows and how many
there are (or the error with which it refuses the case's flows), into
tests/system/data/actset/ovs-actset.json, for test_actset_vs_ovs.py.

Usage, once, as root with openvswitch-switch and python3-scapy:

    tests/system/data/actset/record_ovs.py SANDBOX

where SANDBOX is an ovs-sandbox.sh-style script (subcommands start -n N,
inject PCAP INPORT, env, stop) that runs OVS over dummy ports in a
private ORACLE_BASE.  No test runs Open vSwitch.
"""
import json
import os
import pathlib
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
sys.path.insert(0, str(HERE.parent / "rewrite"))

import actset_cases as ac  # noqa: E402
from record_ovs import oracle_env, sh  # noqa: E402  (the rewrite recording's)
from scapy.utils import rdpcap, wrpcap  # noqa: E402

PORTS = (2, 3)


def sent(base, port):
    path = os.path.join(base, "out", f"p{port}.pcap")
    return [bytes(p) for p in rdpcap(path)] if os.path.exists(path) else []


def run_case(env, sandbox, base, case):
    name, flows, tagged = case
    frames = ac.packets(tagged)
    sh(env, "ovs-ofctl", "del-flows", "br0")
    # Flows and ukeys both: after dpctl/del-flows alone the old ukeys
    # stay and the handlers do not install the flows again.
    sh(env, "ovs-appctl", "revalidator/purge")
    with tempfile.NamedTemporaryFile("w", suffix=".flows") as ff:
        ff.write("\n".join(flows) + "\n")
        ff.flush()
        add = sh(env, "ovs-ofctl", "-O", "OpenFlow13", "add-flows", "br0",
                 ff.name, check=False)
    if add.returncode:
        return {"flows": flows, "tagged": tagged,
                "refused": add.stderr.strip().splitlines()[-1]}
    # The revalidators' rounds after the flow changes have run: none of
    # them deletes a megaflow of this case while it is recorded.
    sh(env, "ovs-appctl", "revalidator/wait")
    before = {p: len(sent(base, p)) for p in PORTS}
    with tempfile.NamedTemporaryFile(suffix=".pcap") as cap:
        wrpcap(cap.name, frames, linktype=1)
        sh(env, sandbox, "inject", cap.name, "1")
    # Every packet has left once the counts stop growing for 0.5 s.
    last, stable_since = None, time.monotonic()
    while time.monotonic() - stable_since < 0.5:
        now = {p: len(sent(base, p)) for p in PORTS}
        if now != last:
            last, stable_since = now, time.monotonic()
        time.sleep(0.05)
    dp = [ln for ln in
          sh(env, "ovs-appctl", "dpctl/dump-flows").stdout.splitlines()
          if not ln.startswith("flow-dump from")]
    return {"flows": flows, "tagged": tagged,
            "in": [f.hex() for f in frames],
            "out": {str(p): [b.hex() for b in sent(base, p)[before[p]:]]
                    for p in PORTS},
            "datapath_flows": dp, "megaflows": len(dp)}


def main():
    sandbox = sys.argv[1]
    base = tempfile.mkdtemp(prefix="ovs-actset-")
    env = oracle_env(sandbox, base)
    sh(env, sandbox, "start", "-n", "3")
    results = {}
    try:
        for case in ac.CASES:
            results[case[0]] = run_case(env, sandbox, base, case)
            r = results[case[0]]
            if "refused" in r:
                print(f"{case[0]}: refused: {r['refused']}")
                continue
            print(f"{case[0]}: out {[len(v) for v in r['out'].values()]}, "
                  f"{r['megaflows']} megaflows")
            for line in r["datapath_flows"]:
                print("   ", line)
    finally:
        sh(env, sandbox, "stop", check=False)
    out = HERE / "ovs-actset.json"
    out.write_text(json.dumps({"ovs_version": "3.1", "cases": results},
                              indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")

if __name__ == "__main__":
    main()
