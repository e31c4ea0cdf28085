"""ovs-ofctl -O OpenFlow13 reads and writes the MPLS, TTL and tun_id
flows of flowswitchd as it does those of Open vSwitch 3.1.

mpls_cases.ofctl_steps() adds flows with every new match field and
action, a few that ovs-ofctl or the switch refuses, and dumps the table;
tests/system/data/mpls/record_ovs.py recorded what ovs-ofctl printed
against Open vSwitch (ovs-mpls.json, "ofctl").  Against flowswitchd it
must print the same, up to durations, xids and log timestamps.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

import mpls_cases
import openflow_scenario as sc
from daemon_util import Daemon, stopped_cleanly

pytestmark = pytest.mark.skipif(shutil.which("ovs-ofctl") is None,
                                reason="ovs-ofctl (openvswitch-common) "
                                       "is not installed")

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "mpls", "ovs-mpls.json")) as f:
    RECORDED = json.load(f)["ofctl"]


def normalize(name, result, target):
    """sc.normalize(), and ovs-ofctl's own log lines without their time."""
    n = sc.normalize(name, result, target)
    n["stderr"] = re.sub(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|\d+\|", "",
                         n["stderr"], flags=re.M)
    return n


def test_ofctl_prints_the_mpls_flows_as_against_ovs(tmp_path):
    sock = str(tmp_path / "of.sock")
    d = Daemon(*[a for i in (1, 2, 3)
                 for a in ("--port", f"p{i},type=memory,ofport={i}")],
               "--listen", f"punix:{sock}", tmpdir=str(tmp_path)).start()
    target = f"unix:{sock}"
    try:
        for name, argv in mpls_cases.ofctl_steps(target):
            res = subprocess.run(argv, capture_output=True, text=True,
                                 timeout=60)
            got = normalize(name, {"rc": res.returncode,
                                   "stdout": res.stdout,
                                   "stderr": res.stderr}, target)
            want = normalize(name, RECORDED[name], "br0")
            assert got == want, name
    finally:
        stopped_cleanly(d)
