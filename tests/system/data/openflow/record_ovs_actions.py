#!/usr/bin/python3
"""Records how Open vSwitch 3.1 reads and writes back every action (and
every instruction list) of tests/system/ofp_action_corpus.py over
OpenFlow 1.3.

`ovs-ofctl parse-actions OpenFlow13` decodes an action list the way
ovs-vswitchd does, prints it, re-encodes it the way ovs-vswitchd encodes a
flow-stats reply and prints the bytes that changed ("N: XX -> YY").  This
script applies those changes to the input, so the JSON it writes
(ovs-actions.json, and ovs-instructions.json for the instruction lists
that `ovs-ofctl parse-instructions` reads, next to it) holds for every entry the text OVS shows and
the bytes OVS would send back, or the error with which it refuses the
actions.  Needs only the openvswitch-common package; the tests never run
it.
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

import ofp_action_corpus as corpus  # noqa: E402


def reencode(data, diff_lines):
    out = bytearray(data)
    extra = {}
    for line in diff_lines:
        m = re.match(r"\s*(\d+): (\w\w|\(none\)) -> (\w\w|\(none\))$", line)
        if not m:
            raise ValueError(f"unexpected line {line!r}")
        i, new = int(m.group(1)), m.group(3)
        if new == "(none)":
            del out[i:]
        elif i < len(data):
            out[i] = int(new, 16)
        else:
            extra[i] = int(new, 16)
    for i in sorted(extra):
        assert i == len(out), "gap in the re-encoding"
        out.append(extra[i])
    return bytes(out)


def record(entries, command, key, filename):
    """Records what `ovs-ofctl COMMAND OpenFlow13` makes of each entry's
    bytes into FILENAME, under KEY."""
    results = {}
    for name, match, data in entries:
        res = subprocess.run(["ovs-ofctl", command, "OpenFlow13"],
                             input=data.hex() + "\n", capture_output=True,
                             text=True)
        lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
        entry = {"in": data.hex()}
        if res.returncode or not lines or not lines[0].startswith("actions="):
            entry["refused"] = (res.stdout + res.stderr).strip()
        else:
            entry["text"] = lines[0][len("actions="):]
            entry["out"] = reencode(data, lines[1:]).hex()
        results[name] = entry
        print(f"{name}: {entry.get('text', 'REFUSED')}"
              f"{'' if entry.get('out', entry['in']) == entry['in'] else ' (re-encoded differently)'}")
    out = os.path.join(HERE, filename)
    with open(out, "w") as f:
        json.dump({"ovs_version": "3.1", key: results}, f, indent=1,
                  sort_keys=True)
        f.write("\n")
    print(f"wrote {out}")


def main():
    record(corpus.CORPUS, "parse-actions", "actions", "ovs-actions.json")
    # Instruction lists: the action set's write_actions and clear_actions.
    record(corpus.INSTRUCTIONS, "parse-instructions", "instructions",
           "ovs-instructions.json")


if __name__ == "__main__":
    main()
