"""Tests for every synchronized state (ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING,
LAST-ACK, TIME-WAIT): RST acceptance (RFC 5961 §3), SYN (§4) and ACK (§5) checks, and PAWS
(RFC 7323 §5). Each case builds the state with its fixture builder and hands the TCB a segment built
by hand (through emit and parse)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from harness import (
    Pair,
    close_wait,
    closing,
    deliver,
    established,
    fin_wait_1,
    fin_wait_2,
    last_ack,
    ports_to,
    segment,
    time_wait,
)

from wirelab.stack.tcp.config import MILLISECOND, SECOND
from wirelab.stack.tcp.connection import TcpConnection, TcpEvent, TcpEventKind
from wirelab.stack.tcp.state import TcpState
from wirelab.wire.tcp import NOP, TcpFlags, Timestamps

SYN, ACK, RST, FIN, PSH = TcpFlags.SYN, TcpFlags.ACK, TcpFlags.RST, TcpFlags.FIN, TcpFlags.PSH

# (builder, which side is in the state, the state, the error an exact RST reports)
STATES: list[tuple[Callable[..., Pair], str, TcpState, str | None]] = [
    (established, "a", TcpState.ESTABLISHED, "ECONNRESET"),
    (fin_wait_1, "a", TcpState.FIN_WAIT_1, "ECONNRESET"),
    (fin_wait_2, "a", TcpState.FIN_WAIT_2, "ECONNRESET"),
    (close_wait, "b", TcpState.CLOSE_WAIT, "ECONNRESET"),
    (closing, "a", TcpState.CLOSING, None),
    (last_ack, "b", TcpState.LAST_ACK, None),
    (time_wait, "a", TcpState.TIME_WAIT, None),
]
IDS = [str(state) for _builder, _side, state, _error in STATES]


def _tcb(pair: Pair, side: str) -> TcpConnection:
    tcb = pair.a if side == "a" else pair.b
    tcb.take_outbox()
    tcb.take_events()
    return tcb


def _window(tcb: TcpConnection) -> int:
    return tcb.rcv_adv - tcb.rcv_nxt


@pytest.mark.parametrize(("builder", "side", "state", "error"), STATES, ids=IDS)
def test_rst_at_exactly_rcv_nxt_resets_rfc5961_3_2_and_rfc9293_3_10_7_4_second(
    builder: Callable[..., Pair], side: str, state: TcpState, error: str | None
) -> None:
    """RFC 5961 §3.2: "If the RST bit is set and the sequence number exactly matches the next expected
    sequence number (RCV.NXT), then TCP MUST reset the connection." ESTABLISHED, FIN-WAIT-1/2 and
    CLOSE-WAIT report ECONNRESET; CLOSING, LAST-ACK and TIME-WAIT just close (RFC 9293 §3.10.7.4).
    A RST is never answered by a RST."""
    pair = builder()
    tcb = _tcb(pair, side)
    assert tcb.state is state
    deliver(tcb, segment(seq=tcb.rcv_nxt, flags=RST, window=0, **ports_to(tcb)), pair.now + 1)
    assert tcb.state is TcpState.CLOSED
    assert tcb.take_outbox() == []
    expected = [TcpEvent(TcpEventKind.ERROR, error)] if error else []
    assert tcb.take_events() == [*expected, TcpEvent(TcpEventKind.CLOSED, error)]
    assert tcb.poll_at() is None
    assert tcb.send_queue == 0


@pytest.mark.parametrize(("builder", "side", "state", "error"), STATES, ids=IDS)
def test_rst_in_window_but_not_at_rcv_nxt_gets_a_challenge_ack_rfc5961_3_2(
    builder: Callable[..., Pair], side: str, state: TcpState, error: str | None
) -> None:
    """RFC 5961 §3.2: in the window but not exactly RCV.NXT, "TCP MUST send an ACK (challenge ACK)":
    <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the connection stays as it was."""
    pair = builder()
    tcb = _tcb(pair, side)
    assert _window(tcb) > 1
    for offset in (1, _window(tcb) - 1):
        deliver(tcb, segment(seq=tcb.rcv_nxt + offset, flags=RST, window=0, **ports_to(tcb)), pair.now + 1)
        ((header, payload),) = tcb.take_outbox()
        assert (header.flags, header.seq, header.ack, payload) == (
            ACK,
            tcb.snd_nxt & 0xFFFFFFFF,
            tcb.rcv_nxt & 0xFFFFFFFF,
            b"",
        )
    assert tcb.state is state
    assert tcb.counters["tx.challenge-ack"] == 2
    assert tcb.take_events() == []


@pytest.mark.parametrize(("builder", "side", "state", "error"), STATES, ids=IDS)
def test_rst_outside_the_window_is_dropped_silently_rfc5961_3_2(
    builder: Callable[..., Pair], side: str, state: TcpState, error: str | None
) -> None:
    """RFC 5961 §3.2: "If the RST bit is set and the sequence number is outside the current receive
    window, silently drop the segment" — below RCV.NXT, at the right edge, far beyond."""
    pair = builder()
    tcb = _tcb(pair, side)
    for seq in (tcb.rcv_nxt - 1, tcb.rcv_nxt + _window(tcb), tcb.rcv_nxt + 2**30, tcb.rcv_nxt - 2**30):
        deliver(tcb, segment(seq=seq, flags=RST | ACK, ack=tcb.snd_nxt, window=0, **ports_to(tcb)), pair.now)
    assert tcb.state is state
    assert tcb.take_outbox() == []
    assert tcb.take_events() == []


def test_challenge_acks_are_rate_limited_to_10_a_second_rfc5961_7() -> None:
    """RFC 5961 §7: the challenge ACKs are limited (Linux: tcp_challenge_ack_limit; here 10 per second).
    Twenty in-window RSTs in one second get ten ACKs; a second later the budget is back."""
    pair = established()
    a = _tcb(pair, "a")
    start = pair.now + 5 * SECOND
    for i in range(20):
        deliver(a, segment(seq=a.rcv_nxt + 100 + i, flags=RST), start + i * 10 * MILLISECOND)
    assert len(a.take_outbox()) == 10
    assert a.counters["challenge-ack.rate-limited"] == 10
    deliver(a, segment(seq=a.rcv_nxt + 100, flags=RST), start + SECOND)
    assert len(a.take_outbox()) == 1
    assert a.state is TcpState.ESTABLISHED


def test_rst_at_rcv_nxt_after_data_resets_the_exact_point_moves_with_the_data_rfc5961_3_2() -> None:
    """The exact match is RCV.NXT *now*: after 1000 octets, 301 is in the past (dropped) and 1301
    resets."""
    pair = established()
    pair.b.send(bytes(1000), pair.now)
    pair.wire.settle()
    a = _tcb(pair, "a")
    deliver(a, segment(seq=301, flags=RST), pair.now)
    assert a.state is TcpState.ESTABLISHED
    deliver(a, segment(seq=1301, flags=RST), pair.now)
    assert a.state is TcpState.CLOSED
    assert a.error == "ECONNRESET"


@pytest.mark.parametrize(("builder", "side", "state", "error"), STATES, ids=IDS)
def test_syn_in_a_synchronized_state_gets_a_challenge_ack_rfc5961_4_2(
    builder: Callable[..., Pair], side: str, state: TcpState, error: str | None
) -> None:
    """RFC 5961 §4.2: a SYN in a synchronized state — whatever its sequence number — is answered by an
    ACK, and the connection is not reset (RFC 793 used to reset it: the blind-reset attack)."""
    pair = builder()
    tcb = _tcb(pair, side)
    for seq in (tcb.rcv_nxt, tcb.rcv_nxt + 5000, tcb.rcv_nxt + 2**31 - 1):
        deliver(tcb, segment(seq=seq, flags=SYN, **ports_to(tcb)), pair.now + 1)
        ((header, _payload),) = tcb.take_outbox()
        assert (header.flags, header.seq, header.ack) == (ACK, tcb.snd_nxt & 0xFFFFFFFF, tcb.rcv_nxt & 0xFFFFFFFF)
    assert tcb.state is state
    assert tcb.take_events() == []
    assert tcb.counters["tx.challenge-ack"] >= 2  # the in-window SYNs


def test_ack_beyond_snd_max_gets_challenge_ack_and_the_segment_is_dropped_rfc5961_5_2() -> None:
    """RFC 5961 §5.2: SEG.ACK must lie in [SND.UNA - MAX.SND.WND, SND.NXT]; otherwise the segment is
    discarded (its data too) and an ACK sent back."""
    pair = established()
    a = _tcb(pair, "a")
    deliver(a, segment(seq=301, ack=a.snd_max + 1, flags=ACK | PSH, payload=b"forged"), pair.now)
    ((header, _),) = a.take_outbox()
    assert (header.flags, header.seq, header.ack) == (ACK, 101, 301)
    assert a.readable == 0
    assert a.rcv_nxt == 301
    assert a.counters["drop.ack-out-of-range"] == 1
    assert a.state is TcpState.ESTABLISHED


def test_ack_older_than_max_snd_wnd_gets_challenge_ack_rfc5961_5_2() -> None:
    """After 300 000 octets (SND.UNA = 300 101, MAX.SND.WND = 131 072): an ACK of SND.UNA - 131 072 is
    an acceptable old duplicate (its data is taken); SND.UNA - 131 073 is discarded with an ACK."""
    pair = established()
    data = bytes(300_000)
    sent = 0
    while sent < len(data):
        sent += pair.a.send(data[sent:], pair.now)
        pair.wire.run_for(100 * MILLISECOND)
    a = _tcb(pair, "a")
    assert (a.snd_una, a.max_snd_wnd) == (300_101, 131_072)
    deliver(a, segment(seq=301, ack=a.snd_una - 131_073, payload=b"x"), pair.now)
    assert a.readable == 0
    assert a.counters["drop.ack-out-of-range"] == 1
    assert len(a.take_outbox()) == 1
    deliver(a, segment(seq=301, ack=a.snd_una - 131_072, payload=b"y"), pair.now)
    assert a.receive(10, pair.now) == b"y"
    assert a.snd_una == 300_101


def test_paws_drops_a_segment_with_an_older_timestamp_and_acks_rfc7323_5_3() -> None:
    """RFC 7323 §5.3 R1: a segment whose TSval is older than TS.Recent is an old duplicate: drop it
    (even in the window) and send an ACK. A RST is exempt from PAWS."""
    pair = established()
    pair.wire.run(5 * SECOND)
    pair.b.send(b"fresh", pair.now)  # TSval 5000 ms: TS.Recent at A
    pair.wire.run_for(SECOND)
    a = _tcb(pair, "a")
    assert a.ts_recent == 5000
    old = (NOP, NOP, Timestamps(4000, 0))
    deliver(a, segment(seq=a.rcv_nxt, ack=a.snd_nxt, payload=b"stale", options=old), pair.now)
    assert a.readable == 0
    assert a.counters["drop.paws"] == 1
    ((header, _),) = a.take_outbox()
    assert (header.flags, header.ack, header.timestamps) == (ACK, a.rcv_nxt & 0xFFFFFFFF, Timestamps(6000, 5000))
    newer = (NOP, NOP, Timestamps(5500, 0))
    deliver(a, segment(seq=a.rcv_nxt, ack=a.snd_nxt, payload=b"new", options=newer), pair.now)
    assert a.receive(10, pair.now) == b"new"
    deliver(a, segment(seq=a.rcv_nxt, flags=RST, options=old), pair.now)
    assert a.state is TcpState.CLOSED


def test_duplicate_of_old_data_is_acked_not_delivered_again_rfc9293_3_10_7_4_first() -> None:
    """A segment wholly below RCV.NXT (a duplicate) is not acceptable: ACK it, deliver nothing twice."""
    pair = established()
    pair.wire.duplicate("B->A")
    pair.b.send(b"once", pair.now)
    pair.wire.run_for(SECOND)
    assert bytes(pair.wire.received_a) == b"once"
    assert pair.a.counters["drop.out-of-window"] == 1


@pytest.mark.parametrize(("builder", "side", "state", "error"), STATES, ids=IDS)
def test_abort_sends_rst_only_where_the_peer_may_still_send_rfc9293_3_10_5(
    builder: Callable[..., Pair], side: str, state: TcpState, error: str | None
) -> None:
    """RFC 9293 §3.10.5, ABORT: in ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT "send a reset
    segment: <SEQ=SND.NXT><CTL=RST>"; in CLOSING, LAST-ACK and TIME-WAIT "respond with 'ok' and delete
    the TCB" — no reset (both FINs are out; Linux's tcp_need_reset agrees)."""
    pair = builder()
    tcb = _tcb(pair, side)
    tcb.abort(pair.now + 1)
    assert tcb.state is TcpState.CLOSED
    sent = tcb.take_outbox()
    if state in (TcpState.CLOSING, TcpState.LAST_ACK, TcpState.TIME_WAIT):
        assert sent == []
    else:
        ((header, payload),) = sent
        assert (header.flags, header.seq, header.ack, payload) == (RST, tcb.snd_nxt & 0xFFFFFFFF, 0, b"")
    assert tcb.poll_at() is None
