"""Moving data in ESTABLISHED: sequence wraparound, close after a large write, Nagle, TCP_NODELAY and
delayed ACKs (RFC 9293 §3.4, §3.7.4, §3.8.6.3; RFC 1122 §4.2.3.2, §4.2.3.4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from harness import (
    AB,
    BA,
    MASK,
    Pair,
    config,
    established,
)

from wirelab.stack.tcp.config import MILLISECOND, SECOND
from wirelab.stack.tcp.connection import TcpEventKind
from wirelab.stack.tcp.state import TcpState
from wirelab.wire.tcp import TcpFlags, TcpHeader

FIN = TcpFlags.FIN


def _pattern(length: int, seed: int) -> bytes:
    return bytes((i * seed + i // 251) % 256 for i in range(length))


def _push(pair: Pair, side: str, data: bytes, step: int = 10 * MILLISECOND) -> None:
    """Write ``data`` as fast as the send buffer takes it, letting the wire run between writes."""
    connection = pair.a if side == "a" else pair.b
    offset = 0
    while offset < len(data):
        offset += connection.send(data[offset:], pair.now)
        pair.wire.run_for(step)


# ------------------------------------------------------------------------------------------------
# Sequence numbers wrap at 2**32
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", [False, True], ids=["clean", "with-loss"])
def test_sequence_wraparound_100_kb_both_ways_every_octet_exact_rfc9293_3_4(loss: bool) -> None:
    """RFC 9293 §3.4: "the sequence number space ranges from 0 to 2**32 - 1 ... all arithmetic dealing
    with sequence numbers must be performed modulo 2**32". Both ISS = 2**32 - 10: the SYNs sit at the
    top of the space, the data crosses zero within the first segment, and 100 KB go each way — with a
    few segments lost on each side in the variant, so that SACK blocks and retransmissions wrap too."""
    iss = 2**32 - 10
    pair = established(iss_a=iss, iss_b=iss)
    assert [r.rung() for r in pair.wire.log] == [
        (AB, "SYN", iss, 0, 1),
        (BA, "SYN,ACK", iss, iss + 1, 1),
        (AB, "ACK", iss + 1, iss + 1, 0),
    ]
    if loss:
        for nth in (1, 5, 6, 30):
            pair.wire.lose(AB, _nth_data(nth))
            pair.wire.lose(BA, _nth_data(nth))
    up, down = _pattern(100_000, 7), _pattern(100_000, 13)
    pair.a.send(up, pair.now)
    pair.b.send(down, pair.now)
    pair.wire.run_for(30 * SECOND)
    assert bytes(pair.wire.received_b) == up
    assert bytes(pair.wire.received_a) == down
    first = next(r for r in pair.wire.sent(AB) if r.payload)
    assert first.header.seq == iss + 1  # 2**32 - 9: the first data octet
    assert any(r.payload and r.header.seq < 2**16 for r in pair.wire.sent(AB))  # and then small numbers
    assert pair.a.snd_una == iss + 1 + 100_000  # unwrapped inside the TCB
    assert pair.wire.sent(AB)[-1].header.ack == (iss + 1 + 100_000) & MASK
    if loss:
        assert pair.a.counters["tx.retransmit"] >= 4
    pair.a.close(pair.now)
    pair.b.close(pair.now)
    pair.wire.run_for(SECOND)
    assert pair.states() == ("TIME-WAIT", "TIME-WAIT")


def _nth_data(n: int) -> Callable[[TcpHeader, bytes], bool]:
    """A matcher for the n-th segment carrying data (counted from 1) — lost only once."""
    seen = [0]

    def match(_header: TcpHeader, payload: bytes) -> bool:
        if payload:
            seen[0] += 1
        return bool(payload) and seen[0] == n

    return match


# ------------------------------------------------------------------------------------------------
# close() after a large write
# ------------------------------------------------------------------------------------------------
def test_close_right_after_a_1_mb_write_delivers_every_octet_before_the_fin_rfc9293_3_10_4() -> None:
    """RFC 9293 §3.10.4, ESTABLISHED: "Queue this until all preceding SENDs have been segmentized, then
    form a FIN segment". The FIN carries SEQ = ISS + 1 + 1 MB, after the last octet, and only then
    does B see EOF."""
    pair = established(config_a=config(send_buffer=2 * 1024 * 1024))
    data = _pattern(1024 * 1024, 31)
    assert pair.a.send(data, pair.now) == len(data)
    pair.a.close(pair.now)
    assert pair.a.state is TcpState.FIN_WAIT_1
    pair.wire.run_for(30 * SECOND)
    assert bytes(pair.wire.received_b) == data
    fins = [r for r in pair.wire.sent(AB) if r.header.flags & FIN]
    assert len(fins) == 1
    (fin,) = fins
    fin_seq = (fin.header.seq + len(fin.payload)) & MASK  # the FIN follows the segment's data, if any
    assert fin_seq == (100 + 1 + len(data)) & MASK
    assert all(r.header.seq + len(r.payload) <= fin_seq for r in pair.wire.sent(AB) if r.payload)
    assert pair.b.rcv_nxt == 100 + 1 + len(data) + 1
    kinds = [e.kind for e in pair.wire.events_b]
    assert kinds.count(TcpEventKind.EOF) == 1
    assert TcpEventKind.DATA not in kinds[kinds.index(TcpEventKind.EOF) :]
    assert pair.states() == ("FIN-WAIT-2", "CLOSE-WAIT")


# ------------------------------------------------------------------------------------------------
# Nagle, TCP_NODELAY, the effective MSS
# ------------------------------------------------------------------------------------------------
def _warm(pair: Pair) -> int:
    """One exchange so that the initial window update is behind us; returns the log position."""
    pair.a.send(b"!", pair.now)
    pair.wire.run_for(SECOND)
    return len(pair.wire.log)


def test_effective_mss_is_1448_with_timestamps_1460_without_rfc9293_3_7_1_and_rfc7323_3() -> None:
    """RFC 9293 §3.7.1: the MSS counts no options; the timestamps option (12 octets with its two NOPs)
    comes out of each segment: 1460 - 12 = 1448 octets of data per full segment."""
    for options, expected in ((True, 1448), (False, 1460)):
        pair = established(options=options)
        assert pair.a.send_mss == expected
        pair.a.send(bytes(5 * expected), pair.now)
        pair.wire.run_for(SECOND)
        sizes = [len(r.payload) for r in pair.wire.sent(AB) if r.payload]
        assert sizes == [expected] * 5
        assert {r.header.header_len + expected for r in pair.wire.sent(AB) if r.payload} == {1480}  # + IP = 1500


def test_nagle_small_writes_wait_while_data_is_unacknowledged_rfc9293_3_7_4() -> None:
    """RFC 9293 §3.7.4 (Nagle, on by default): a first small write goes at once; later ones wait while
    it is unacknowledged and leave together when the ACK (B's delayed ACK, 40 ms) arrives."""
    pair = established()
    start = _warm(pair)
    t = pair.now
    for piece in (b"a", b"b", b"c", b"d"):
        pair.a.send(piece, pair.now)
        pair.wire.run_for(MILLISECOND)
    pair.wire.run_for(SECOND)
    data = [(r.at - t, r.payload) for r in pair.wire.sent(AB, start) if r.payload]
    assert data == [(0, b"a"), (40 * MILLISECOND, b"bcd")]
    assert pair.wire.received_b.endswith(b"abcd")


def test_nagle_never_holds_a_full_segment_rfc9293_3_7_4() -> None:
    """Nagle holds only a *partial* segment: with "x" unacknowledged, a 3000-octet write sends two full
    segments at once; the 104-octet tail waits for the ACK (B ACKs the second full segment at once; the
    wire takes 10 ms each way)."""
    pair = established(delay=10 * MILLISECOND)
    start = _warm(pair)
    t = pair.now
    pair.a.send(b"x", t)
    pair.a.send(bytes(3000), t)
    pair.wire.run_for(SECOND)
    data = [(r.at - t, len(r.payload)) for r in pair.wire.sent(AB, start) if r.payload]
    assert data == [(0, 1), (0, 1448), (0, 1448), (20 * MILLISECOND, 104)]


def test_tcp_nodelay_sends_each_small_write_at_once_rfc9293_3_7_4() -> None:
    """ "A TCP SHOULD implement the Nagle algorithm ... there MUST be a way for an application to disable
    the Nagle algorithm on an individual connection" (TCP_NODELAY): nagle=False."""
    pair = established(config_a=config(nagle=False))
    start = _warm(pair)
    t = pair.now
    for piece in (b"a", b"b", b"c"):
        pair.a.send(piece, pair.now)
    pair.wire.run_for(SECOND)
    data = [(r.at - t, r.payload) for r in pair.wire.sent(AB, start) if r.payload]
    assert data == [(0, b"a"), (0, b"b"), (0, b"c")]


# ------------------------------------------------------------------------------------------------
# Delayed ACKs
# ------------------------------------------------------------------------------------------------
def test_delayed_ack_one_ack_per_two_full_segments_rfc1122_4_2_3_2() -> None:
    """RFC 1122 §4.2.3.2 (RFC 9293 §3.8.6.3): "an ACK SHOULD be generated for at least every second
    full-sized segment". Ten full segments (the initial window) get five ACKs — 2, 4, 6, 8, 10 — at
    once, from an application that reads everything as it comes."""
    pair = established()
    start = _warm(pair)
    first = pair.a.snd_nxt
    pair.a.send(bytes(10 * 1448), pair.now)
    pair.wire.run_for(SECOND)
    acks = [r.header.ack for r in pair.wire.sent(BA, start)]
    assert acks == [(first + k * 1448) & MASK for k in (2, 4, 6, 8, 10)]
    assert {r.at for r in pair.wire.sent(BA, start)} == {pair.wire.sent(AB, start)[0].at}


def test_delayed_ack_a_lone_segment_is_acked_after_40_ms_rfc1122_4_2_3_2() -> None:
    """A single segment is ACKed after the delayed-ACK timeout: 40 ms here (Linux's minimum), well under
    RFC 1122's 0.5 s limit (and RFC 9293's 200 ms recommendation)."""
    pair = established()
    start = _warm(pair)
    t = pair.now
    pair.a.send(b"lone", t)
    pair.wire.run(t + 40 * MILLISECOND - 1)
    assert pair.wire.sent(BA, start) == []
    pair.wire.run(t + 40 * MILLISECOND)
    (ack,) = pair.wire.sent(BA, start)
    assert (ack.at - t, ack.header.ack) == (40 * MILLISECOND, (pair.a.snd_max) & MASK)
    assert ack.at - t <= 200 * MILLISECOND


def test_delayed_ack_timeout_is_a_setting_rfc9293_3_8_6_3() -> None:
    pair = established(config_b=config(delayed_ack=200 * MILLISECOND))
    start = _warm(pair)
    t = pair.now
    pair.a.send(b"lone", t)
    pair.wire.run_for(SECOND)
    (ack,) = pair.wire.sent(BA, start)
    assert ack.at - t == 200 * MILLISECOND


def test_an_ack_rides_on_data_going_back_rfc9293_3_8_6_3() -> None:
    """Piggybacking: when B answers within the delay, its data carries the ACK; no bare ACK is sent."""
    pair = established()
    start = _warm(pair)
    pair.a.send(b"question", pair.now)
    pair.wire.step()
    pair.b.send(b"answer", pair.now)
    pair.wire.run_for(SECOND)
    from_b = pair.wire.sent(BA, start)
    assert [(r.payload, r.header.ack) for r in from_b] == [(b"answer", pair.a.snd_max & MASK)]


# ------------------------------------------------------------------------------------------------
# Reordering
# ------------------------------------------------------------------------------------------------
def test_reordered_segments_are_reassembled_and_the_filling_segment_acked_at_once_rfc5681_4_2() -> None:
    """Segment 2 of 4 is held back and arrives last. The receiver keeps 3 and 4 (RFC 9293 §3.10.7.4,
    seventh: segments beyond RCV.NXT may be kept), sends a duplicate ACK for each (RFC 5681 §4.2: "an
    out-of-order segment SHOULD be acknowledged immediately") — too few for a fast retransmit — and
    ACKs everything at once when the hole fills; the application sees the octets in order."""
    pair = established(options=False)
    first = pair.a.snd_nxt
    data = _pattern(4 * 1460, 3)
    pair.wire.hold(AB, lambda header, payload: bool(payload) and header.seq == first + 1460)
    pair.a.send(data, pair.now)
    pair.wire.settle()
    assert bytes(pair.wire.received_b) == data[:1460]
    start = len(pair.wire.log)
    pair.wire.release()
    pair.wire.settle()
    assert bytes(pair.wire.received_b) == data
    (ack,) = pair.wire.sent(BA, start)
    assert ack.header.ack == first + len(data)  # at once, not after the delayed-ACK timeout
    assert pair.b.counters["rx.out-of-order"] == 2
    # One immediate ACK per out-of-order segment (the first also covers segment 1, held for a delayed
    # ACK until then; the second is a duplicate).
    assert len([r for r in pair.wire.sent(BA) if r.header.ack == first + 1460]) == 2
    assert pair.a.counters["rx.dupack"] == 1
    assert pair.a.counters.get("tx.retransmit", 0) == 0
