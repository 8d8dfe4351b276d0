"""TCP over the simulated network: every octet arrives exactly once, in order, whatever the wire does.

10 MB each way under 10% loss, 5% reordering, 1% duplication and 1% corruption (past the FCS, so
TCP's checksum must catch it), for 20 seeds; the receiver's SHA-256 must equal the sender's.
"""

from __future__ import annotations

import hashlib
import random
from ipaddress import IPv4Address

import pytest

from wirelab.apps.bulk import BulkSink, BulkSource
from wirelab.sim.network import Network
from wirelab.stack.tcp.state import TcpState

SIZE = 10_000_000
IMPAIRED = {"loss": "10%", "reorder": "5%", "duplicate": "1%", "corrupt": "1%", "corrupt_past_fcs": True}


def payload(seed: int, size: int) -> bytes:
    block = random.Random(seed).randbytes(4096)
    return (block * (size // len(block) + 1))[:size]


def transfer(seed: int, *, reverse: bool, size: int = SIZE, impaired: bool = True) -> tuple[Network, str, str]:
    net = Network(seed=seed, trace=False)
    sw = net.switch("sw", ports=4)
    a = net.host("a", "10.0.0.1/24")
    b = net.host("b", "10.0.0.2/24")
    settings = IMPAIRED if impaired else {}
    net.link(a, sw, delay="10us", **settings)  # type: ignore[arg-type]
    net.link(b, sw, delay="10us", **settings)  # type: ignore[arg-type]
    sender, receiver = (b, a) if reverse else (a, b)
    data = payload(seed, size)
    sink = BulkSink(receiver, 5001)
    target = receiver.interfaces[0].ip
    assert target is not None
    source = BulkSource(sender, target, 5001, data)
    net.run()
    assert source.error is None
    key = (sender.interfaces[0].ip, source.connection.local[1])
    return net, hashlib.sha256(data).hexdigest(), sink.digests.get(key, "nothing arrived")  # type: ignore[arg-type]


@pytest.mark.parametrize("reverse", [False, True], ids=["a-to-b", "b-to-a"])
@pytest.mark.parametrize("seed", range(1, 21))
def test_ten_megabytes_arrive_byte_exact_through_a_bad_wire(seed: int, reverse: bool) -> None:
    net, sent, received = transfer(seed, reverse=reverse)
    assert received == sent
    # The wire really was bad, and TCP really worked for it.
    corrupted = sum(counters["link.corrupted"] for counters in net.counters.values())
    lost = sum(counters["link.lost"] for counters in net.counters.values())
    assert corrupted > 0 and lost > 0
    caught = sum(
        counters["tcp.drop.bad-checksum"] + counters["ipv4.drop.bad-checksum"] for counters in net.counters.values()
    )
    assert caught > 0


def test_a_clean_wire_needs_no_retransmission() -> None:
    net, sent, received = transfer(7, reverse=False, size=2_000_000, impaired=False)
    assert received == sent
    assert net.counters["a"]["tcp.tx"] > 1000


def test_close_right_after_a_large_send_delivers_every_byte_before_the_fin() -> None:
    net = Network(seed=3, trace=False)
    sw = net.switch("sw", ports=4)
    a = net.host("a", "10.0.0.1/24")
    b = net.host("b", "10.0.0.2/24")
    net.link(a, sw)
    net.link(b, sw)
    sink = BulkSink(b, 80)
    data = payload(3, 1_000_000)
    source = BulkSource(a, IPv4Address("10.0.0.2"), 80, data)  # queues, then close() at once when all is queued
    net.run()
    key = (IPv4Address("10.0.0.1"), source.connection.local[1])
    assert sink.received[key] == len(data)
    assert sink.digests[key] == hashlib.sha256(data).hexdigest()
    assert source.connection.state is TcpState.CLOSED  # through TIME-WAIT
