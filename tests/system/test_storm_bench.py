"""System test of the upcall queues under a storm, through
`flowswitch-bench storm --quick --json`: real datapath threads, memory
ports, a udpif with a real ofproto for the handler rows.

Speed is never checked (benchmarks never assert speed; see bench.h), only
what the datapath counted, which holds however fast the machine is:

- every packet received ends in exactly one counted fate, and "lost" is
  the sum of its reasons;
- the established flows' packets all hit their pre-installed megaflows,
  storm or no storm (datapath threads never translate);
- a storm alone in an undrained queue of 512 holds exactly half of it and
  every other storm packet is lost to its port's share, never to a full
  queue; with a handler draining, still never to a full queue;
- with per-port shares, every first packet of the quiet port is queued,
  whether a handler drains the queue or not; without them, a storm in an
  undrained queue makes every one of them lost, and none is ever refused
  by a share.

The binary is $FLOWSWITCH_BUILD/flowswitch-bench (FLOWSWITCH_BUILD defaults
to "build", relative to the top of the repository).

Run with: /usr/bin/python3 -m pytest tests/system/test_storm_bench.py
"""

import json
import subprocess

import pytest

from daemon_util import bench_path


QUEUE = 512


@pytest.fixture(scope="module")
def rows():
    res = subprocess.run([bench_path(), "storm", "--quick", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines()]


def row(rows, case, handlers, share=True):
    found = [r for r in rows if r["case"] == case
             and r["handlers"] == handlers and r["share"] == share]
    assert len(found) == 1, (case, handlers, share, rows)
    return found[0]


def test_every_row_accounts_for_every_packet(rows):
    assert len(rows) == 6
    for r in rows:
        assert r["bench"] == "storm"
        assert r["rx"] > 0, r
        assert r["rx"] == (r["hit"] + r["missed"] + r["lost"]
                           + r["parse_drop"]), r
        assert r["lost"] == (r["lost_queue_full"] + r["lost_port_share"]
                             + r["lost_other"]), r
        assert r["parse_drop"] == 0, r
        assert r["lost_other"] == 0, r
        assert r["storm_lost"] <= r["storm_rx"], r


@pytest.mark.parametrize("handlers", [0, 1])
def test_established_flows_hit_with_and_without_a_storm(rows, handlers):
    r = row(rows, "storm", handlers)
    assert r["alone_mpps"] > 0 and r["est_mpps"] > 0, r
    assert r["storm_rx"] > 0, r
    # Every packet of port 1, in the windows with and without the storm,
    # hit its pre-installed megaflow: only the storm missed.
    assert r["est_packets"] > 0, r
    assert r["est_not_hit"] == 0, r
    assert r["hit"] == r["est_packets"], r
    assert r["missed"] + r["storm_lost"] == r["storm_rx"], r


def test_undrained_storm_holds_half_the_queue_and_loses_the_rest(rows):
    r = row(rows, "storm", 0)
    assert r["storm_rx"] > QUEUE, r
    # Nothing drains the queue: the storm, alone in it, stops at its share
    # (half the queue) and every later packet is lost to that share.
    assert r["missed"] == QUEUE // 2, r
    assert r["lost_queue_full"] == 0, r
    assert r["storm_lost"] == r["storm_rx"] - QUEUE // 2, r
    assert r["storm_lost_port_share"] == r["storm_lost"], r


def test_drained_storm_never_fills_the_queue(rows):
    r = row(rows, "storm", 1)
    assert r["lost_queue_full"] == 0, r
    assert r["storm_lost"] == r["storm_lost_port_share"], r


def test_undrained_queue_keeps_room_for_a_quiet_port_only_with_shares(rows):
    on = row(rows, "fairness", 0, share=True)
    assert on["quiet_sent"] > 0, on
    # The storm holds its share, half the queue; the quiet port's first
    # packets all go in beside it.
    assert on["quiet_queued"] == on["quiet_sent"], on
    assert on["quiet_lost"] == 0, on
    assert on["missed"] == QUEUE // 2 + on["quiet_sent"], on
    assert on["lost_queue_full"] == 0, on
    assert on["lost"] == on["storm_lost_port_share"], on

    off = row(rows, "fairness", 0, share=False)
    # Without shares the storm fills the queue and every first packet of
    # the quiet port is lost to a full queue.
    assert off["quiet_queued"] == 0, off
    assert off["quiet_lost"] == off["quiet_sent"] > 0, off
    assert off["missed"] == QUEUE, off
    assert off["lost"] == off["lost_queue_full"], off
    assert off["lost_port_share"] == 0, off


def test_with_shares_every_first_packet_of_a_quiet_port_is_queued(rows):
    r = row(rows, "fairness", 1, share=True)
    assert r["quiet_sent"] > 0, r
    assert r["quiet_queued"] == r["quiet_sent"], r
    assert r["quiet_lost"] == 0, r
    assert r["quiet_queued_ratio"] == 1.0, r
    assert r["lost_queue_full"] == 0, r
    # The quiet port's packets are misses too.
    assert r["rx"] == r["storm_rx"] + r["quiet_sent"], r


def test_without_shares_nothing_is_refused_by_a_share(rows):
    r = row(rows, "fairness", 1, share=False)
    assert r["quiet_sent"] > 0, r
    assert r["quiet_queued"] + r["quiet_lost"] == r["quiet_sent"], r
    assert r["quiet_lost_port_share"] == 0, r
    assert r["lost_port_share"] == 0, r
    assert r["storm_lost_port_share"] == 0, r
    assert r["lost"] == r["lost_queue_full"], r
    assert r["rx"] == r["storm_rx"] + r["quiet_sent"], r


def test_bad_option_is_refused_with_one_line():
    res = subprocess.run([bench_path(), "storm", "--slow"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1
    assert "--quick or --json" in res.stderr
