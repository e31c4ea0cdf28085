"""The bundled demo (make demo): flowswitchd replays examples/demo.pcap
through examples/demo-flows.txt and prints a summary.

Pinned here: the capture is what examples/make-demo-pcap.py generates
(byte for byte) and has what the README promises (ARP, ICMP, TCP, UDP,
thousands of flows, under 1 MB); the flow file loads; and scripts/demo runs
the switch to the end, with a summary whose accounting holds and output
captures that carry exactly what the flow table says: the ACL's drops
missing, the gateway's rewrites applied (MACs, TTL, the 203.0.113.80 →
192.0.2.80 rewrite), DNS copied to the monitor with VLAN 100.
"""

import os
import subprocess

import pytest

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Dot1Q, Ether
from scapy.utils import RawPcapReader

from daemon_util import (TOP, assert_conserved, build_path, daemon_env,
                         parse_summary)

DEMO_PCAP = os.path.join(TOP, "examples", "demo.pcap")
DEMO_FLOWS = os.path.join(TOP, "examples", "demo-flows.txt")
GENERATOR = os.path.join(TOP, "examples", "make-demo-pcap.py")
GATEWAY_MAC, UPLINK_MAC = "02:00:00:00:00:fe", "02:00:00:00:0a:01"


@pytest.mark.skipif(os.environ.get("FLOWSWITCH_SANITIZER")
                    in ("asan", "tsan"),
                    reason="the capture does not depend on the build; "
                    "checked once, in the default build")
def test_demo_capture_is_what_its_generator_writes(tmp_path):
    out = tmp_path / "demo.pcap"
    subprocess.run(["/usr/bin/python3", GENERATOR, str(out)], check=True,
                   capture_output=True, timeout=300)
    assert out.read_bytes() == open(DEMO_PCAP, "rb").read()
    assert os.path.getsize(DEMO_PCAP) < 1024 * 1024

    summary = subprocess.run([build_path("flowswitch-parse"), "pcap",
                              DEMO_PCAP], capture_output=True, text=True,
                             check=True).stdout
    rows = {}
    for line in summary.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            rows[parts[0]] = int(parts[1])
        if line.startswith("distinct flows:"):
            rows["flows"] = int(line.split(":")[1])
    for proto in ("arp", "icmp", "tcp", "udp"):
        assert rows[proto] > 0, proto
    assert rows["flows"] >= 3000


def test_demo_flow_file_loads():
    res = subprocess.run([build_path("flowswitch-parse"), "flows",
                          DEMO_FLOWS], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.splitlines()) == 9


def frames(path):
    """The frames of a capture as bytes (scapy's reader, no dissection)."""
    reader = RawPcapReader(path)
    try:
        return [data for data, _ in reader]
    finally:
        reader.close()


def ipv4(frame):
    """(ttl, proto, src, dst, dport) of an untagged IPv4 frame, else None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    l4 = 14 + (frame[14] & 0xf) * 4
    dport = int.from_bytes(frame[l4 + 2:l4 + 4], "big") \
        if frame[23] in (6, 17) else None
    return (frame[22], frame[23], ".".join(map(str, frame[26:30])),
            ".".join(map(str, frame[30:34])), dport)


def expected_outputs():
    """What ports wan and mon must carry, from the capture and the table."""
    wan = mon = dnat = dns = 0
    for frame in frames(DEMO_PCAP):
        if len(frame) < 14:
            continue  # Runts: unparsable.
        ip = ipv4(frame)
        if frame[12:14] == b"\x08\x06":
            # Requests flood.  Replies go back to the LAN port, that is
            # nowhere, once the request taught NORMAL where the asker is;
            # a reply translated before that (another handler) floods.
            if frame[:6] == b"\xff" * 6:
                wan, mon = wan + 1, mon + 1
        elif ip:
            ttl, proto, src, dst, dport = ip
            if (proto == 6 and dport == 23) or src == "10.0.0.66" \
                    or ttl <= 1:
                continue  # ACL drops; TTL 1 goes to the controller.
            wan += 1
            if proto == 17 and dport == 53:
                mon, dns = mon + 1, dns + 1
            dnat += dst == "203.0.113.80"
        else:
            wan, mon = wan + 1, mon + 1  # IPv6 multicast: flooded.
    return wan, mon, dnat, dns


def test_demo_script_replays_the_capture_and_summarizes(tmp_path):
    env = daemon_env()
    env.update(BUILD=os.environ.get("FLOWSWITCH_BUILD", "build"),
               DEMO_OUT=str(tmp_path), DEMO_RATE="0")
    res = subprocess.run([os.path.join(TOP, "scripts", "demo")], cwd=TOP,
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "replay finished" in res.stdout
    summary = parse_summary(res.stdout)
    assert_conserved(summary)
    n_frames = len(frames(DEMO_PCAP))
    assert summary["rx"]["rx"] == n_frames
    assert summary["rx"]["unparsable"] == 2
    assert summary["rx"]["lost"] == 0
    assert summary["no_port"] == 0
    assert f"wan          {tmp_path}/wan.pcap" in res.stdout

    want_wan, want_mon, want_dnat, want_dns = expected_outputs()
    wan = frames(str(tmp_path / "wan.pcap"))
    mon = frames(str(tmp_path / "mon.pcap"))
    flooded_replies = [f for f in wan if f[12:14] == b"\x08\x06"
                       and f[20:22] == b"\x00\x02"]
    assert len(wan) == want_wan + len(flooded_replies)
    assert len(mon) == want_mon + len(flooded_replies)
    assert summary["ports"]["wan"]["tx"] == len(wan)

    routed = [(f, ipv4(f)) for f in wan if ipv4(f)]
    for f, (ttl, proto, src, dst, dport) in routed:
        assert f[:12] == bytes.fromhex(UPLINK_MAC.replace(":", "") +
                                       GATEWAY_MAC.replace(":", ""))
        assert ttl == 63
        assert dst != "203.0.113.80" and src != "10.0.0.66"
        assert not (proto == 6 and dport == 23)
    assert sum(ip[3] == "192.0.2.80" for _, ip in routed) == want_dnat
    # scapy agrees on a sample: checksums of the rewritten packets hold.
    for f, _ in routed[:50]:
        p = Ether(f)
        del p[IP].chksum
        if p.haslayer(TCP):
            del p[TCP].chksum
        assert bytes(Ether(bytes(p))) == f

    copies = [Ether(f) for f in mon if f[12:14] == b"\x81\x00"]
    assert len(copies) == want_dns
    assert all(p[Dot1Q].vlan == 100 and p.haslayer(UDP) for p in copies)
