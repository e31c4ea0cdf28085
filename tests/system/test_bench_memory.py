"""System test of `flowswitch-bench memory`: the bytes a cached flow costs
(datapath megaflow, then its ukey with an xlate cache), measured as RSS
deltas over real datapath, udpif and ofproto objects.

Speed is never checked and the byte figures are only bounded loosely (a
sanitizer build multiplies them), but what the run counted must hold:

- the quick run prints one JSON object on stdout and nothing else (the
  progress lines go to stderr), with every field present;
- every flow put got exactly one ukey, and memory grew at both steps
  (flows, then ukeys), so neither figure is zero or negative;
- the per-flow total is the sum of its parts;
- a bad option is one clear error line and exit status 2.

The binary is $FLOWSWITCH_BUILD/flowswitch-bench (FLOWSWITCH_BUILD defaults
to "build", relative to the top of the repository).

Run with: /usr/bin/python3 -m pytest tests/system/test_bench_memory.py
"""

import json
import subprocess

import pytest

from daemon_util import bench_path


QUICK_FLOWS = 20000
FIELDS = ("flows", "ukeys", "rss_before_kb", "rss_flows_kb", "rss_ukeys_kb",
          "dp_bytes_per_flow", "ukey_bytes_per_flow", "bytes_per_flow")


@pytest.fixture(scope="module")
def quick_json():
    res = subprocess.run([bench_path(), "memory", "--quick", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return res


def test_quick_json_is_one_object_with_every_field(quick_json):
    lines = quick_json.stdout.splitlines()
    assert len(lines) == 1, quick_json.stdout
    row = json.loads(lines[0])
    assert row["bench"] == "memory"
    for field in FIELDS:
        assert isinstance(row[field], (int, float)), (field, row)


def test_every_flow_put_has_one_ukey(quick_json):
    row = json.loads(quick_json.stdout)
    assert row["flows"] == QUICK_FLOWS
    assert row["ukeys"] == row["flows"]


def test_memory_grows_with_the_flows_then_with_their_ukeys(quick_json):
    row = json.loads(quick_json.stdout)
    assert row["rss_before_kb"] < row["rss_flows_kb"] < row["rss_ukeys_kb"]
    assert row["dp_bytes_per_flow"] > 0
    assert row["ukey_bytes_per_flow"] > 0
    # A loose ceiling that a leak per flow (or a mistaken divisor) would
    # pass; sanitizer builds stay well below it.
    assert row["bytes_per_flow"] < 64 * 1024, row


def test_total_is_the_sum_of_its_parts(quick_json):
    row = json.loads(quick_json.stdout)
    parts = row["dp_bytes_per_flow"] + row["ukey_bytes_per_flow"]
    assert abs(row["bytes_per_flow"] - parts) <= 1, row


def test_bad_option_is_one_error_line():
    res = subprocess.run([bench_path(), "memory", "--fast"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        'bench memory: unknown option "--fast" (expected --quick or --json)'
    ]
