"""Loss recovery and congestion control: fast retransmit on three duplicate ACKs (RFC 5681 §3.2,
NewReno RFC 6582), SACK (RFC 2018, RFC 6675), and the congestion window through slow start, fast
recovery and a timeout (RFC 5681 §3.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness import (
    AB,
    BA,
    MASK,
    Pair,
    config,
    deliver,
    established,
    segment,
)

from wirelab.stack.tcp.config import MILLISECOND, SECOND
from wirelab.wire.tcp import TcpHeader

MSS = 1448  # 1460 - 12 for the timestamps
HALF_RTT = 10 * MILLISECOND


def _warm(pair: Pair) -> int:
    """B sends one octet, so that its first segment after the SYN-ACK (which announces its full,
    scaled window) is behind us; returns the log position."""
    pair.b.send(b"!", pair.now)
    pair.wire.run_for(SECOND)
    return len(pair.wire.log)


def _nth(first_seq: int, *numbers: int) -> Callable[[TcpHeader, bytes], bool]:
    """Matches the full segments numbered ``numbers`` (from 1) of a transfer starting at ``first_seq``."""
    wanted = {(first_seq + (n - 1) * MSS) & MASK for n in numbers}

    def match(header: TcpHeader, payload: bytes) -> bool:
        return bool(payload) and header.seq in wanted

    return match


def _traced(pair: Pair, kind: str) -> list[tuple[int, dict[str, Any]]]:
    return [(now, fields) for now, k, fields in pair.trace_a if k == kind]


def _segment_number(first_seq: int, seq: int) -> int:
    return ((seq - first_seq) & MASK) // MSS + 1


# ------------------------------------------------------------------------------------------------
# Fast retransmit without SACK (NewReno)
# ------------------------------------------------------------------------------------------------
def test_fast_retransmit_on_the_third_duplicate_ack_newreno_rfc5681_3_2_and_rfc6582_3_2() -> None:
    """Segment 3 of 40 is lost (no SACK). RFC 5681 §3.2: on the third duplicate ACK — one RTT (20 ms)
    after it was sent, no timeout — retransmit it, ssthresh = FlightSize / 2 (the window is halved:
    11 MSS in flight -> 5.5 MSS) and cwnd = ssthresh + 3 MSS; each further duplicate inflates cwnd by
    one MSS. RFC 6582 §3.2 step 3: the ACK covering everything sent before the loss ends recovery with
    cwnd = min(ssthresh, FlightSize + MSS) = min(5.5, 3 + 1) MSS."""
    no_sack = config(sack=False)
    pair = established(config_a=no_sack, config_b=no_sack, delay=HALF_RTT)
    assert not pair.a.sack
    start = _warm(pair)
    first, t = pair.a.snd_nxt, pair.now
    data = bytes(range(256)) * (40 * MSS // 256) + bytes(40 * MSS % 256)
    pair.wire.lose(AB, _nth(first, 3))
    pair.a.send(data, t)
    pair.wire.run_for(2 * SECOND)
    assert bytes(pair.wire.received_b) == data

    copies = [(r.at - t, r.fate) for r in pair.wire.sent(AB, start) if _nth(first, 3)(r.header, r.payload)]
    assert copies == [(0, "lost"), (2 * HALF_RTT, "sent")]
    ((at, entered),) = _traced(pair, "tcp.fast-retransmit")
    assert at - t == 2 * HALF_RTT
    assert entered["seq"] == (first + 2 * MSS) & MASK
    assert entered["ssthresh"] == 11 * MSS // 2
    assert entered["cwnd"] == entered["ssthresh"] + 3 * MSS
    ((at, left),) = _traced(pair, "tcp.recovery.exit")
    assert (at - t, left["cwnd"]) == (4 * HALF_RTT, 4 * MSS)
    assert pair.a.counters["fast-retransmit"] == 1
    assert pair.a.counters["tx.retransmit"] == 1  # only the lost segment
    assert pair.a.counters.get("rto", 0) == 0
    # Duplicate ACKs are ACKs of 2 MSS with the same window and no data (RFC 5681 §2).
    duplicates = [r for r in pair.wire.sent(BA, start) if r.header.ack == (first + 2 * MSS) & MASK]
    assert len(duplicates) >= 1 + 3


def test_two_duplicate_acks_are_not_enough_rfc5681_3_2() -> None:
    """Two duplicate ACKs may be reordering: nothing is retransmitted until the RTO (or a third)."""
    pair = established(options=False)  # no SACK (and no window scaling: the window field is the window)
    a = pair.a
    a.send(bytes(4 * 1460), pair.now)
    pair.wire.flush()
    sent = pair.wire.in_flight
    assert sent == 4
    assert a.snd_wnd == 65535  # a duplicate ACK repeats the window too (RFC 5681 §2)
    for _ in range(2):
        deliver(a, segment(seq=301, ack=101, window=65535), pair.now)
    assert a.counters["rx.dupack"] == 2
    assert a.take_outbox() == []
    deliver(a, segment(seq=301, ack=101, window=65535), pair.now)
    ((header, payload),) = a.take_outbox()
    assert (header.seq, len(payload)) == (101, 1460)
    assert a.counters["fast-retransmit"] == 1


# ------------------------------------------------------------------------------------------------
# SACK
# ------------------------------------------------------------------------------------------------
def test_sack_receiver_reports_the_most_recent_block_first_sender_retransmits_only_the_holes_rfc2018_rfc6675() -> None:
    """Segments 3 and 6 of 20 are lost. The receiver's duplicate ACKs carry SACK blocks, the block
    holding the segment that triggered the ACK first (RFC 2018 §4); the sender retransmits exactly the
    two holes, once each, and nothing it was told the receiver holds (RFC 6675)."""
    pair = established(delay=HALF_RTT)
    assert pair.a.sack and pair.b.sack
    start = _warm(pair)
    first = pair.a.snd_nxt
    data = bytes(i % 249 for i in range(20 * MSS))
    pair.wire.lose(AB, _nth(first, 3, 6), count=2)
    pair.a.send(data, pair.now)
    pair.wire.run_for(2 * SECOND)
    assert bytes(pair.wire.received_b) == data

    def block(n: int, m: int) -> tuple[int, int]:  # segments n..m as a SACK block
        return ((first + (n - 1) * MSS) & MASK, (first + m * MSS) & MASK)

    acks = [r.header.sack_blocks for r in pair.wire.sent(BA, start) if r.header.sack_blocks]
    assert acks[:5] == [
        (block(4, 4),),
        (block(4, 5),),
        (block(7, 7), block(4, 5)),  # 7 arrived last: its block first
        (block(7, 8), block(4, 5)),
        (block(7, 9), block(4, 5)),
    ]
    retransmitted = [
        _segment_number(first, r.header.seq)
        for r in pair.wire.sent(AB, start)
        if r.payload and r.fate == "sent" and r.header.seq in {(first + 2 * MSS) & MASK, (first + 5 * MSS) & MASK}
    ]
    assert retransmitted == [3, 6]
    assert pair.a.counters["tx.retransmit"] == 2
    assert pair.a.counters.get("rto", 0) == 0


def test_sack_blocks_are_listed_most_recent_first_rfc2018_4() -> None:
    """RFC 2018 §4: the first block holds the segment that triggered the ACK; the others repeat the most
    recently reported blocks. Out-of-order arrivals at 400, 800, 600 (three separate blocks) are reported
    600, 800, 400; a fourth at 1000 — with timestamps there is room for three — leaves out the oldest
    news (400), not the highest block."""
    pair = established()
    a = pair.a
    a.take_outbox()

    def arrive(offset: int) -> tuple[tuple[int, int], ...]:
        deliver(a, segment(seq=301 + offset, ack=101, payload=bytes(100)), pair.now)
        ((header, _),) = a.take_outbox()
        assert header.ack == 301  # a duplicate ACK: the hole at 301 is still there
        return header.sack_blocks

    def b(offset: int) -> tuple[int, int]:
        return (301 + offset, 301 + offset + 100)

    assert arrive(400) == (b(400),)
    assert arrive(800) == (b(800), b(400))
    assert arrive(600) == (b(600), b(800), b(400))
    assert arrive(1000) == (b(1000), b(600), b(800))
    # 700 joins 600 and 800 into one block, reported first; then 1000, then 400.
    assert arrive(700) == ((301 + 600, 301 + 900), b(1000), b(400))


def test_sack_is_not_used_unless_both_syns_carried_it_rfc2018_2() -> None:
    pair = established(config_b=config(sack=False), delay=HALF_RTT)
    assert not pair.a.sack and not pair.b.sack
    start = _warm(pair)
    first = pair.a.snd_nxt
    pair.wire.lose(AB, _nth(first, 3))
    pair.a.send(bytes(10 * MSS), pair.now)
    pair.wire.run_for(2 * SECOND)
    assert not any(r.header.sack_blocks for r in pair.wire.log[start:])
    assert pair.a.counters["fast-retransmit"] == 1


# ------------------------------------------------------------------------------------------------
# The congestion window
# ------------------------------------------------------------------------------------------------
def _ack_each(pair: Pair, outbox: list[tuple[TcpHeader, bytes]]) -> list[tuple[TcpHeader, bytes]]:
    """ACK every segment of ``outbox`` on its own (a receiver without delayed ACKs); returns what A sent."""
    a = pair.a
    sent: list[tuple[TcpHeader, bytes]] = []
    for header, payload in outbox:
        ack = header.seq + len(payload)
        deliver(a, segment(seq=301, ack=ack, window=0xFFFF), pair.now)
        sent += a.take_outbox()
    return sent


def test_slow_start_doubles_cwnd_each_rtt_when_every_segment_is_acked_rfc5681_3_1() -> None:
    """RFC 5681 §3.1: in slow start cwnd grows by (up to) one SMSS per ACK of new data; with an ACK per
    segment a window of 10 brings 10 ACKs: 20 segments the next round trip, then 40. The initial window
    is 10 segments (RFC 6928)."""
    pair = established()
    a = pair.a
    a.send(bytes(200 * MSS), pair.now)
    round_1 = a.take_outbox()
    assert (len(round_1), a.cc.cwnd) == (10, 10 * MSS)
    round_2 = _ack_each(pair, round_1)
    assert (len(round_2), a.cc.cwnd) == (20, 20 * MSS)
    round_3 = _ack_each(pair, round_2)
    assert (len(round_3), a.cc.cwnd) == (40, 40 * MSS)
    assert all(len(payload) == MSS for _h, payload in round_3)


def test_slow_start_counts_acks_not_octets_so_delayed_acks_grow_it_by_half_per_rtt_rfc5681_3_1() -> None:
    """The same rule with a receiver that ACKs every second segment: cwnd += min(N, SMSS) per ACK
    (RFC 5681 eq. 2, RFC 3465 with L = 1 SMSS) — five ACKs for ten segments: 15 segments, not 20."""
    pair = established(delay=HALF_RTT)
    _warm(pair)
    before = pair.a.cc.cwnd
    pair.a.send(bytes(10 * MSS), pair.now)
    pair.wire.run_for(2 * HALF_RTT)
    assert pair.a.cc.cwnd == before + 5 * MSS


def test_rto_collapses_cwnd_to_one_segment_rfc5681_3_1() -> None:
    """RFC 5681 §3.1: after a retransmission timeout, ssthresh = max(FlightSize / 2, 2 SMSS) and cwnd =
    the loss window, 1 SMSS: exactly one segment goes at the RTO, two after its ACK."""
    pair = established()
    start = _warm(pair)
    first = pair.a.snd_nxt
    pair.wire.lose(AB, count=5)
    t = pair.now
    pair.a.send(bytes(5 * MSS), t)
    pair.wire.run(t + SECOND - 1)
    assert len([r for r in pair.wire.sent(AB, start) if r.payload]) == 5
    pair.a.poll(t + SECOND)
    assert (pair.a.cc.cwnd, pair.a.cc.ssthresh) == (MSS, 5 * MSS // 2)
    sent = pair.a.take_outbox()
    assert [(h.seq, len(p)) for h, p in sent] == [(first & MASK, MSS)]
