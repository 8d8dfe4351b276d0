"""TCP's frames on the wire, pinned: bytes and virtual timestamps equal to golden digests.

Speed work on the TCP/IP send and receive paths (header templates, fast paths, batching) must not
change a single frame or the instant it is put on a link. Each scenario below captures every link
(both directions: sends stamped when they start on the wire, arrivals when they land) and hashes the
pcap files (nanosecond timestamps); the traced one hashes its rendered trace too. The digests were
computed from the code *before* the optimisations (commit 0924fda), so every later change is held to
the frames, timings and decisions of the straightforward implementation.

If a digest ever has to change, that is a change in behaviour: say which and why in the commit.
"""

from __future__ import annotations

import hashlib
import random
from ipaddress import IPv4Address
from typing import Any

import pytest

from wirelab.apps.bulk import BulkSink, BulkSource
from wirelab.sim.network import Network
from wirelab.stack.tcp.config import TcpConfig
from wirelab.stack.tcp.endpoint import TcpEndpoint
from wirelab.stack.tcp.output import TcpOutput

BIG_BUFFERS = TcpConfig(send_buffer=4 << 20, receive_buffer=4 << 20)
IMPAIRED = {"loss": "5%", "reorder": "5%", "duplicate": "1%", "corrupt": "1%", "corrupt_past_fcs": True}


def pattern(seed: int, size: int) -> bytes:
    block = random.Random(seed).randbytes(4096)
    return (block * (size // len(block) + 1))[:size]


def lan_transfer(
    size: int,
    config: TcpConfig | None,
    *,
    seed: int = 1,
    impaired: bool = False,
    counters: dict[str, Any] | None = None,
) -> str:
    """The benchmark's topology (1 Gbit/s, 10 µs, one switch, MTU 1500), a -> b; fills ``counters``."""
    net = Network(seed=seed, trace=False)
    sw = net.switch("sw", ports=4)
    a = net.host("a", "10.0.0.1/24")
    b = net.host("b", "10.0.0.2/24")
    settings = IMPAIRED if impaired else {}
    net.link(a, sw, delay="10us", bandwidth="1Gbit", mtu=1500, **settings)  # type: ignore[arg-type]
    net.link(b, sw, delay="10us", bandwidth="1Gbit", mtu=1500, **settings)  # type: ignore[arg-type]
    captures = [net.capture(link) for link in net.links]
    data = pattern(seed, size)
    sink = BulkSink(b, 5001, config=config)
    source = BulkSource(a, IPv4Address("10.0.0.2"), 5001, data, config=config)
    net.run()
    key = (IPv4Address("10.0.0.1"), source.connection.local[1])
    assert sink.digests.get(key) == hashlib.sha256(data).hexdigest()
    if counters is not None:
        counters.update({name: dict(values) for name, values in net.counters.items()})
    digest = hashlib.sha256()
    for capture in captures:
        assert capture.missed == 0
        digest.update(capture.to_bytes())
    return digest.hexdigest()


def routed_traced_transfer(size: int) -> str:
    """a on a LAN with a switch, a router, b on a LAN of MTU 1000 (so a smaller MSS); tracing on."""
    net = Network(seed=4, trace=True)
    sw = net.switch("sw", ports=4)
    r = net.router("r")
    a = net.host("a", "192.168.1.10/24", gateway="192.168.1.1")
    b = net.host("b", "10.0.0.2/24", gateway="10.0.0.1", mtu=1000)
    net.link(a, sw, delay="10us")
    net.link(r, sw, address="192.168.1.1/24", delay="10us")
    net.link(r, b, address="10.0.0.1/24", delay="20us", bandwidth="100Mbit", mtu=1000)
    captures = [net.capture(link) for link in net.links]
    data = pattern(4, size)
    sink = BulkSink(a, 80)
    source = BulkSource(b, IPv4Address("192.168.1.10"), 80, data)
    net.run()
    key = (IPv4Address("10.0.0.2"), source.connection.local[1])
    assert sink.digests.get(key) == hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    for capture in captures:
        digest.update(capture.to_bytes())
    digest.update(net.trace.render().encode())
    return digest.hexdigest()


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("default buffers", "84f42d3c7e657a478f60222b379ac3e2d9b7ff8282ceb769e491b3c6556b6775"),
        ("4 MiB buffers", "fb65296b26c9d7cc29bea477cf014648a81bb18a8121e0b554b8a59c30170de7"),
        ("impaired wire", "0f391319d1b89802e0f4b63fd89c27e7cb8e9e3ca1cbfc82dd4b6d9662ca0dda"),
    ],
)
def test_lan_transfer_frames_and_timings_are_unchanged(scenario: str, expected: str) -> None:
    if scenario == "default buffers":
        digest = lan_transfer(3_000_000, None)
    elif scenario == "4 MiB buffers":
        digest = lan_transfer(3_000_000, BIG_BUFFERS)
    else:
        digest = lan_transfer(1_000_000, None, seed=11, impaired=True)
    assert digest == expected


def test_routed_transfer_frames_timings_and_trace_are_unchanged() -> None:
    assert routed_traced_transfer(200_000) == "888930191fddc6e6bbafb3d9d3d66264a396d645c078cde5395e4bce9cc41c41"


@pytest.mark.parametrize("impaired", [False, True], ids=["clean", "impaired"])
def test_the_one_step_paths_count_what_the_layered_paths_count(impaired: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames in and out of established connections skip layers; every node's and link's counters must
    still be the layered paths' (which run when the one-step paths are switched off)."""
    fused: dict[str, Any] = {}
    fused_digest = lan_transfer(500_000, None, seed=3, impaired=impaired, counters=fused)
    monkeypatch.setattr(TcpOutput, "_ready", lambda self: None)
    original_init = TcpEndpoint.__init__

    def layered_init(self: TcpEndpoint, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.node.handlers.tcp_flow = None

    monkeypatch.setattr(TcpEndpoint, "__init__", layered_init)
    layered: dict[str, Any] = {}
    assert lan_transfer(500_000, None, seed=3, impaired=impaired, counters=layered) == fused_digest
    assert layered == fused
    assert fused["a"]["tcp.tx"] > 300 and fused["b"]["ip.rx.local"] > 300
