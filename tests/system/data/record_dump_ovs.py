#!/usr/bin/python3
"""Records what `ovs-ofctl dump-flows` prints, against Open vSwitch 3.1,
for every flow of the syntax corpus (flows-corpus.txt), one flow at a time.

Run it (as root, with openvswitch-switch installed) against an Open
vSwitch bridge br0 with ports p1..p3 numbered 1..3, for example the
dummy-datapath sandbox:

    ovs-sandbox.sh start -n 3
    eval "$(ovs-sandbox.sh env)"
    tests/system/data/record_dump_ovs.py unix:$OVS_RUNDIR/br0.mgmt

For each corpus flow and each way of adding and dumping it, it deletes
every flow, adds the corpus flow, and dumps the table:

  "default":  `ovs-ofctl add-flow` and `ovs-ofctl dump-flows` with the
              default protocol negotiation (OpenFlow 1.0 with Nicira
              extensions for most flows): what flowswitchd's own
              dump-flows must print for a flow it got through its own
              add-flow;
  "of13":     the same with `-O OpenFlow13` on both commands: what
              ovs-ofctl must print against flowswitchd's OpenFlow listener.

It writes flows-corpus.dump-ovs.json: for every corpus flow (in corpus
order) the exit status and raw output of the add-flow and the dump-flows of
each way, so that the normalisation of durations and ages can change
without re-recording.  The tests never run Open vSwitch.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "flows-corpus.txt")
OUT = os.path.join(HERE, "flows-corpus.dump-ovs.json")

# The options of each way (none: the default negotiation).
WAYS = {"default": [], "of13": ["-O", "OpenFlow13"]}


def corpus_lines():
    lines = []
    with open(CORPUS) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.split("#", 1)[0].strip():
                lines.append(line)
    return lines


def ofctl(options, command, target, *args):
    res = subprocess.run(["ovs-ofctl", "--no-names"] + options +
                         [command, target] + list(args),
                         capture_output=True, text=True, timeout=60)
    return {"rc": res.returncode, "stdout": res.stdout,
            "stderr": res.stderr}


def record_one(target, options, line):
    """Adds 'line' alone (from a file, as add-flows reads it, so that the
    line's own spacing and comments are kept) and dumps it."""
    ofctl(options, "del-flows", target)
    with tempfile.NamedTemporaryFile("w", suffix=".flows") as f:
        f.write(line + "\n")
        f.flush()
        add = ofctl(options, "add-flows", target, f.name)
    dump = ofctl(options, "dump-flows", target)
    for r in (add, dump):
        r["stderr"] = r["stderr"].replace(target, "TARGET")
    return {"add": add, "dump": dump}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: %s TARGET" % sys.argv[0])
    target = sys.argv[1]
    flows = []
    for line in corpus_lines():
        entry = {"flow": line}
        for way, options in WAYS.items():
            entry[way] = record_one(target, options, line)
        flows.append(entry)
    ofctl([], "del-flows", target)
    with open(OUT, "w") as f:
        json.dump({"ovs_version": "3.1", "flows": flows}, f, indent=1)
        f.write("\n")
    print("wrote %d flows to %s" % (len(flows), OUT))


if __name__ == "__main__":
    main()
