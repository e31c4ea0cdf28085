#!/usr/bin/python3
"""Records what ovs-ofctl prints for the scenario of
tests/system/openflow_scenario.py against Open vSwitch 3.1.

Run it (as root, with openvswitch-switch installed) against an Open
vSwitch bridge br0 with ports p1..p3 numbered 1..3, fail_mode secure and
no flows, for example the dummy-datapath sandbox:

    ovs-sandbox.sh start -n 3
    eval "$(ovs-sandbox.sh env)"
    tests/system/data/openflow/record_ovs.py unix:$OVS_RUNDIR/br0.mgmt

It writes tests/system/data/openflow/ovs-expected.json: for every step the
exit status and output as ovs-ofctl printed them (raw, so that the
normalisation can be changed without re-recording).  The tests never run
Open vSwitch themselves.
"""
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)),
                                "system"))

import openflow_scenario as sc  # noqa: E402


def main():
    target = sys.argv[1]
    with tempfile.NamedTemporaryFile("w", suffix=".flows",
                                     delete=False) as f:
        f.write(sc.ADD_FLOWS_FILE)
    try:
        results = sc.run(target, f.name)
    finally:
        os.unlink(f.name)
    for r in results.values():
        r["stdout"] = r["stdout"].replace(target, "TARGET")
        r["stderr"] = r["stderr"].replace(target, "TARGET")
    out = os.path.join(HERE, "ovs-expected.json")
    with open(out, "w") as f:
        json.dump({"ovs_version": "3.1", "target": "TARGET",
                   "steps": results}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
