"""Codec speed: parse and build an Ethernet/IPv4/TCP frame, wirelab vs dpkt vs scapy.

The frame is the one the issue names: Ethernet II, IPv4 (20 octets), TCP with NOP, NOP, timestamps
(32 octets) and 512 octets of payload: 578 octets. In one run, on one machine:

- parse: wirelab verifies both checksums (IPv4 header, TCP with pseudo-header) and builds a value
  per layer; dpkt decodes every layer but verifies no checksum; scapy dissects every layer.
- build: each library builds the three headers from field values and produces the bytes, computing
  both checksums.
- the RFC 1071 checksum of 1500 octets.

Each figure is the best of several timed rounds (the least disturbed by the rest of the machine).
The same frame is parsed over and over, as the frames of one flow are: wirelab interns what repeats
within a flow (the 14-octet Ethernet header, MAC and IPv4 address objects) in bounded LRU caches, and
this benchmark sees those caches warm, as a long-lived flow does.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from ipaddress import IPv4Address

import dpkt  # the peers are bench-only dependencies (pyproject's "bench" extra)
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from wirelab.wire.checksum import internet_checksum
from wirelab.wire.ethernet import EthernetHeader, EtherType
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.mac import MacAddress
from wirelab.wire.tcp import NOP, TcpFlags, TcpHeader, Timestamps

PAYLOAD = bytes(range(256)) * 2  # 512 octets
SRC_MAC = MacAddress("00:11:22:33:44:55")
DST_MAC = MacAddress("66:77:88:99:aa:bb")
SRC_IP = IPv4Address("192.168.1.10")
DST_IP = IPv4Address("192.168.1.11")

TARGET_PARSE_PER_S = 300_000
TARGET_PARSE_VS_DPKT = 1.5
TARGET_BUILD_PER_S = 150_000
TARGET_BUILD_VS_DPKT = 2.5
TARGET_CHECKSUM_1500_US = 2.0


def wirelab_build() -> bytes:
    tcp = TcpHeader(
        51234,
        8080,
        seq=1_000_000,
        ack=2_000_000,
        flags=TcpFlags.PSH | TcpFlags.ACK,
        window=502,
        options=(NOP, NOP, Timestamps(123456, 654321)),
    )
    ip = Ipv4Header(SRC_IP, DST_IP, IpProtocol.TCP, identification=4321, dont_fragment=True)
    return EthernetHeader(DST_MAC, SRC_MAC, EtherType.IPV4).emit(ip.emit(tcp.emit(PAYLOAD, SRC_IP, DST_IP)))


def wirelab_parse(frame: bytes) -> object:
    ethernet, packet = EthernetHeader.parse(frame)
    ip, segment = Ipv4Header.parse(packet)
    tcp, payload = TcpHeader.parse(segment, ip.src, ip.dst)
    return ethernet, ip, tcp, payload


def best_seconds_per_call(function: Callable[[], object], rounds: int, number: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=rounds)) / number


def _target(what: str, measured: str, ok: bool) -> None:
    print(f"  {what:28s} {measured:>14s}  {'meets target' if ok else 'MISSES target'}")


def main(quick: bool = False) -> None:
    rounds, number = (3, 5_000) if quick else (7, 20_000)
    frame = wirelab_build()
    assert len(frame) == 578, len(frame)

    # Every library must agree on the bytes before its speed means anything.
    def scapy_build() -> bytes:
        packet = (
            Ether(dst=str(DST_MAC), src=str(SRC_MAC))
            / IP(src=str(SRC_IP), dst=str(DST_IP), id=4321, flags="DF", ttl=64)
            / TCP(
                sport=51234,
                dport=8080,
                seq=1_000_000,
                ack=2_000_000,
                flags="PA",
                window=502,
                options=[("NOP", None), ("NOP", None), ("Timestamp", (123456, 654321))],
            )
            / Raw(PAYLOAD)
        )
        return bytes(packet)

    def dpkt_build() -> bytes:
        tcp = dpkt.tcp.TCP(
            sport=51234,
            dport=8080,
            seq=1_000_000,
            ack=2_000_000,
            flags=dpkt.tcp.TH_PUSH | dpkt.tcp.TH_ACK,
            win=502,
            off=8,  # dpkt does not derive the data offset from the options
            opts=b"\x01\x01\x08\x0a" + (123456).to_bytes(4, "big") + (654321).to_bytes(4, "big"),
            data=PAYLOAD,
        )
        ip = dpkt.ip.IP(src=SRC_IP.packed, dst=DST_IP.packed, p=dpkt.ip.IP_PROTO_TCP, id=4321, df=1, ttl=64, data=tcp)
        return bytes(dpkt.ethernet.Ethernet(dst=DST_MAC.packed, src=SRC_MAC.packed, data=ip))

    assert scapy_build() == frame, "scapy builds different bytes"
    assert dpkt_build() == frame, "dpkt builds different bytes"

    def dpkt_parse() -> object:
        ethernet = dpkt.ethernet.Ethernet(frame)
        return ethernet.data.data.data  # Ethernet -> IP -> TCP -> payload, decoded eagerly

    def scapy_parse() -> object:
        return Ether(frame)[TCP].load

    rows: list[tuple[str, float]] = []
    results: dict[str, float] = {}
    for name, function, scale in (
        ("parse wirelab (both checksums verified)", lambda: wirelab_parse(frame), 1),
        ("parse dpkt (no checksum verified)", dpkt_parse, 1),
        ("parse scapy", scapy_parse, 20),
        ("build wirelab (both checksums computed)", wirelab_build, 1),
        ("build dpkt", dpkt_build, 1),
        ("build scapy", scapy_build, 20),
    ):
        seconds = best_seconds_per_call(function, rounds, max(number // scale, 50))
        results[name.split(" (")[0]] = seconds
        rows.append((name, seconds))

    print("\n## codec: Ethernet/IPv4/TCP, NOP NOP TS, 512-octet payload (578 octets)")
    for name, seconds in rows:
        print(f"{name:44s} {seconds * 1e6:8.2f} µs  {1 / seconds:12,.0f} frames/s")

    parse_rate = 1 / results["parse wirelab"]
    build_rate = 1 / results["build wirelab"]
    parse_vs_dpkt = results["parse dpkt"] / results["parse wirelab"]
    build_vs_dpkt = results["build dpkt"] / results["build wirelab"]
    parse_vs_scapy = results["parse scapy"] / results["parse wirelab"]
    build_vs_scapy = results["build scapy"] / results["build wirelab"]
    data = PAYLOAD * 3
    checksum_us = best_seconds_per_call(lambda: internet_checksum(data[:1500]), rounds, number * 5) * 1e6
    print(f"wirelab parse vs dpkt  {parse_vs_dpkt:6.2f}x   vs scapy {parse_vs_scapy:7.1f}x")
    print(f"wirelab build vs dpkt  {build_vs_dpkt:6.2f}x   vs scapy {build_vs_scapy:7.1f}x")
    print(f"RFC 1071 checksum of 1500 octets: {checksum_us:.2f} µs")
    print("targets:")
    _target(f"parse >= {TARGET_PARSE_PER_S:,}/s", f"{parse_rate:,.0f}/s", parse_rate >= TARGET_PARSE_PER_S)
    _target(f"parse >= {TARGET_PARSE_VS_DPKT}x dpkt", f"{parse_vs_dpkt:.2f}x", parse_vs_dpkt >= TARGET_PARSE_VS_DPKT)
    _target(f"build >= {TARGET_BUILD_PER_S:,}/s", f"{build_rate:,.0f}/s", build_rate >= TARGET_BUILD_PER_S)
    _target(f"build >= {TARGET_BUILD_VS_DPKT}x dpkt", f"{build_vs_dpkt:.2f}x", build_vs_dpkt >= TARGET_BUILD_VS_DPKT)
    checksum_ok = checksum_us <= TARGET_CHECKSUM_1500_US
    _target(f"checksum(1500) <= {TARGET_CHECKSUM_1500_US} µs", f"{checksum_us:.2f} µs", checksum_ok)
