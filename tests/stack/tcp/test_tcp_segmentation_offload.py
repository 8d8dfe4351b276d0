"""Segmentation offload (TSO): a connection whose route's device cuts large segments itself sends new
data several MSS at once, as one segment — Linux's ``tcp_write_xmit`` with ``tso_segs`` — and what the
device makes of it is exactly what the connection sends without offload.

Each test runs the same transfer twice from the same start: once plainly, once with ``gso_max_size``
set on A and A's outbox cut at the MSS on its way to the wire (:func:`cut_at_mss`, what the kernel does
with a GSO frame it forwards). The wire's logs — every segment both ways, every header field, every
payload, lost or not — must be equal: the congestion and flow control, the timers, SACK and the
retransmissions run in MSS units as before; only the emission is batched.
"""

from __future__ import annotations

import pytest
from harness import AB, MASK, Pair, Record, established

from wirelab.stack.tcp.config import MILLISECOND, SECOND
from wirelab.stack.tcp.output import cut_at_mss
from wirelab.wire.tcp import TcpFlags, TcpHeader

GSO_MAX = 65535
DATA = bytes(range(256)) * 1200  # 300 KB, no two MSS-sized pieces alike at every offset


def _offloading(pair: Pair) -> list[tuple[TcpHeader, bytes]]:
    """Give A segmentation offload; A's segments are cut at the MSS on the way out. Returns the list
    that collects A's segments as A made them."""
    a = pair.a
    a.gso_max_size = GSO_MAX
    made: list[tuple[TcpHeader, bytes]] = []
    take = a.take_outbox

    def take_and_cut() -> list[tuple[TcpHeader, bytes]]:
        outbox = take()
        made.extend(outbox)
        return [piece for header, payload in outbox for piece in cut_at_mss(header, payload, a.send_mss)]

    a.take_outbox = take_and_cut  # type: ignore[method-assign]
    return made


def _transfer(
    offload: bool, *, options: bool = True, lose: tuple[int, ...] = ()
) -> tuple[Pair, list[Record], list[tuple[TcpHeader, bytes]]]:
    pair = established(options=options, delay=5 * MILLISECOND)
    made = _offloading(pair) if offload else []
    first = pair.a.snd_nxt & MASK
    mss = pair.a.send_mss
    wanted = {(first + (n - 1) * mss) & MASK for n in lose}  # the full segments numbered ``lose``, from 1
    if lose:
        pair.wire.lose(AB, lambda header, payload: bool(payload) and header.seq in wanted, count=len(lose))
    queued = 0
    while queued < len(DATA):  # as an application would: what the send buffer takes, then wait a little
        queued += pair.a.send(DATA[queued:], pair.now)
        pair.wire.run_for(MILLISECOND)
    pair.a.close(pair.now)
    pair.wire.run_for(30 * SECOND)
    assert pair.wire.received_b == DATA
    assert pair.states() == ("FIN-WAIT-2", "CLOSE-WAIT")  # A's FIN arrived and was acknowledged
    return pair, pair.wire.log, made


@pytest.mark.parametrize("options", [True, False], ids=["timestamps-sack-wscale", "no-options"])
@pytest.mark.parametrize("lose", [(), (3,), (20, 22, 60)], ids=["no-loss", "one-lost", "three-lost"])
def test_a_large_segment_cut_at_the_mss_is_the_segments_sent_without_offload(
    options: bool, lose: tuple[int, ...]
) -> None:
    plain, plain_log, _ = _transfer(False, options=options, lose=lose)
    offloaded, offloaded_log, made = _transfer(True, options=options, lose=lose)
    assert offloaded_log == plain_log  # both ways: same times, headers, payloads and fates
    mss = offloaded.a.send_mss
    assert max(len(payload) for _header, payload in made) >= 10 * mss  # large segments: the initial window at once
    first, highest = made[0][0].seq, 0
    for header, payload in made:
        offset = (header.seq - first) & MASK
        if len(payload) > mss:
            # New data only (beyond all sent before: a retransmission stays MSS-sized), whole MSS-sized
            # segments, within the largest IPv4 packet.
            assert offset >= highest and len(payload) % mss == 0
            assert 20 + header.header_len + len(payload) <= GSO_MAX
        highest = max(highest, offset + len(payload))
    assert offloaded.a.counters == plain.a.counters  # tx.data, tx.retransmit… counted per MSS segment
    assert offloaded.a.counters.get("tx.retransmit", 0) >= len(lose)
    assert sum(r.fate == "lost" for r in offloaded_log) == len(lose)
    assert (offloaded.a.cc.cwnd, offloaded.a.srtt, offloaded.a.rto) == (plain.a.cc.cwnd, plain.a.srtt, plain.a.rto)
    # Fewer segments made than sent: each ACK (for two segments) lets the next two go as one.
    assert len(made) < len([r for r in offloaded_log if r.direction == AB]) * 2 / 3


def test_cut_at_mss_keeps_psh_and_fin_on_the_last_segment_and_cwr_on_the_first() -> None:
    flags = TcpFlags.ACK | TcpFlags.PSH | TcpFlags.FIN | TcpFlags.CWR
    header = TcpHeader(40000, 80, MASK - 999, 7, flags, 512)
    pieces = cut_at_mss(header, bytes(2500), 1000)
    assert [(h.seq, int(h.flags), len(p)) for h, p in pieces] == [
        (MASK - 999, TcpFlags.ACK | TcpFlags.CWR, 1000),
        (0, TcpFlags.ACK, 1000),  # the sequence number wraps
        (1000, TcpFlags.ACK | TcpFlags.PSH | TcpFlags.FIN, 500),
    ]
    assert all((h.ack, h.window, h.options) == (7, 512, ()) for h, _ in pieces)
    assert cut_at_mss(header, bytes(1000), 1000) == [(header, bytes(1000))]
