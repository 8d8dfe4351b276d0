"""Tests for the SYN-RECEIVED state (RFC 9293 §3.10.7.4 as it applies there): a lost SYN-ACK, a lost
final ACK, resets and unacceptable ACKs during the handshake."""

from __future__ import annotations

from harness import (
    AB,
    BA,
    FROM_A,
    deliver,
    segment,
    syn_received,
)

from wirelab.stack.tcp.config import MILLISECOND, SECOND
from wirelab.stack.tcp.connection import TcpEventKind
from wirelab.stack.tcp.state import TcpState
from wirelab.wire.tcp import TcpFlags

SYN, ACK, RST, PSH = TcpFlags.SYN, TcpFlags.ACK, TcpFlags.RST, TcpFlags.PSH


def test_lost_syn_ack_recovered_at_1_s_rfc9293_3_5_figure_10() -> None:
    """The SYN-ACK is lost. At 1 s both timers expire: A resends its SYN, B its SYN-ACK; B also answers
    the retransmitted SYN with a SYN-ACK (the same ISS: 300). The handshake completes at 1 s."""
    pair = syn_received()
    pair.wire.lose(BA)
    pair.wire.run(SECOND - 1)
    assert pair.states() == ("SYN-SENT", "SYN-RECEIVED")
    pair.wire.run(SECOND)
    assert pair.states() == ("ESTABLISHED", "ESTABLISHED")
    rungs = [(r.at, r.rung(), r.fate) for r in pair.wire.log]
    assert rungs[:4] == [
        (0, (AB, "SYN", 100, 0, 1), "sent"),
        (0, (BA, "SYN,ACK", 300, 101, 1), "lost"),
        (SECOND, (AB, "SYN", 100, 0, 1), "sent"),
        (SECOND, (BA, "SYN,ACK", 300, 101, 1), "sent"),
    ]
    assert (SECOND, (AB, "ACK", 101, 301, 0), "sent") in rungs
    assert all(r.header.seq == 300 for r in pair.wire.sent(BA) if r.header.flags & SYN)


def test_retransmitted_syn_is_answered_with_the_syn_ack_again_rfc9293_3_5() -> None:
    """A duplicate of the peer's SYN in SYN-RECEIVED means our SYN-ACK was lost: send it again at once
    (not a challenge ACK: the connection is not synchronized yet)."""
    pair = syn_received()
    pair.b.take_outbox()
    deliver(pair.b, segment(seq=100, flags=SYN, **FROM_A), 300 * MILLISECOND)
    ((header, payload),) = pair.b.take_outbox()
    assert (header.flags, header.seq, header.ack, payload) == (SYN | ACK, 300, 101, b"")
    assert header.mss == 1460
    assert pair.b.state is TcpState.SYN_RECEIVED
    assert pair.b.counters["rx.syn.retransmitted"] == 1
    assert pair.b.counters.get("tx.challenge-ack", 0) == 0


def test_syn_ack_retransmitted_at_1_3_7_s_then_given_up_at_127_s_rfc6298_5_5() -> None:
    """B's SYN-ACK has its own timer (RFC 6298 (5.5) backoff): 0, 1, 3, 7 … 63 s, then B gives up
    silently at 127 s (no RST: nothing was ever synchronized)."""
    pair = syn_received()
    pair.wire.lose(BA, count=None)
    pair.wire.lose(AB, count=None)
    pair.wire.run(127 * SECOND)
    assert [r.at for r in pair.wire.sent(BA)] == [t * SECOND for t in (0, 1, 3, 7, 15, 31, 63)]
    assert pair.b.state is TcpState.CLOSED
    assert pair.b.error == "ETIMEDOUT"
    assert not any(r.header.flags & RST for r in pair.wire.log)


def test_lost_final_ack_recovered_by_data_rfc9293_3_10_7_4_fifth() -> None:
    """The third segment of the handshake is lost; A (ESTABLISHED) sends data with ACK=301, which
    acknowledges B's SYN: B enters ESTABLISHED on it and delivers the data (fifth check, SYN-RECEIVED)."""
    pair = syn_received()
    pair.wire.step()  # the SYN-ACK: A is ESTABLISHED
    pair.wire.lose(AB)  # ... and its ACK is lost
    pair.wire.flush()
    assert pair.states() == ("ESTABLISHED", "SYN-RECEIVED")
    pair.wire.run_for(10 * MILLISECOND)
    pair.a.send(b"GET / HTTP/1.0\r\n\r\n", pair.now)
    assert pair.wire.step().rung() == (AB, "PSH,ACK", 101, 301, 18)
    assert pair.states() == ("ESTABLISHED", "ESTABLISHED")
    assert bytes(pair.wire.received_b) == b"GET / HTTP/1.0\r\n\r\n"
    assert [e.kind for e in pair.wire.events_b][:2] == [TcpEventKind.CONNECTED, TcpEventKind.DATA]


def test_lost_final_ack_recovered_by_the_retransmitted_syn_ack_rfc9293_3_10_7_4_first() -> None:
    """With nothing to send, A's lost ACK is recovered by B's timer: the SYN-ACK again at 1 s, which
    ESTABLISHED A finds below its window and answers with an ACK ("send an acknowledgment")."""
    pair = syn_received()
    pair.wire.step()
    pair.wire.lose(AB)
    pair.wire.run(SECOND)
    assert pair.states() == ("ESTABLISHED", "ESTABLISHED")
    assert [(r.at, r.rung(), r.fate) for r in pair.wire.log[2:]] == [
        (0, (AB, "ACK", 101, 301, 0), "lost"),
        (SECOND, (BA, "SYN,ACK", 300, 101, 1), "sent"),
        (SECOND, (AB, "ACK", 101, 301, 0), "sent"),
    ]
    assert pair.b.poll_at() is None


def test_rst_at_rcv_nxt_closes_syn_received_rfc9293_3_10_7_4_second() -> None:
    """RFC 9293 §3.10.7.4, second, SYN-RECEIVED: an acceptable RST ends the attempt (the endpoint's
    listener, if any, carries on); nothing is sent back."""
    pair = syn_received()
    pair.b.take_outbox()
    deliver(pair.b, segment(seq=101, flags=RST, **FROM_A), 5)
    assert pair.b.state is TcpState.CLOSED
    assert pair.b.take_outbox() == []
    assert pair.b.poll_at() is None


def test_rst_in_window_not_exact_gets_challenge_ack_rfc5961_3_2() -> None:
    """RFC 5961 §3.2: in the window but not RCV.NXT — a challenge ACK, and the state stays."""
    pair = syn_received()
    pair.b.take_outbox()
    deliver(pair.b, segment(seq=101 + 1000, flags=RST, **FROM_A), 5)
    assert pair.b.state is TcpState.SYN_RECEIVED
    ((header, _),) = pair.b.take_outbox()
    assert (header.flags, header.seq, header.ack) == (ACK, 301, 101)


def test_rst_outside_the_window_is_dropped_silently_rfc9293_3_10_7_4_first() -> None:
    pair = syn_received()
    pair.b.take_outbox()
    deliver(pair.b, segment(seq=101 + 10_000_000, flags=RST, **FROM_A), 5)
    deliver(pair.b, segment(seq=50, flags=RST, **FROM_A), 5)
    assert pair.b.state is TcpState.SYN_RECEIVED
    assert pair.b.take_outbox() == []


def test_unacceptable_ack_in_syn_received_is_answered_by_rst_rfc9293_3_10_7_4_fifth() -> None:
    """RFC 9293 §3.10.7.4, fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT then enter ESTABLISHED
    ... If the segment acknowledgment is not acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST>"."""
    pair = syn_received()
    pair.b.take_outbox()
    deliver(pair.b, segment(seq=101, ack=300, flags=ACK, **FROM_A), 5)  # ACK = ISS: acknowledges nothing
    deliver(pair.b, segment(seq=101, ack=4000, flags=ACK, **FROM_A), 6)  # beyond SND.NXT
    sent = pair.b.take_outbox()
    assert [(h.flags, h.seq) for h, _ in sent] == [(RST, 300), (RST, 4000)]
    assert pair.b.state is TcpState.SYN_RECEIVED


def test_data_before_the_handshake_ack_is_not_delivered_without_an_ack_rfc9293_3_10_7_4_fifth() -> None:
    """ "If the ACK bit is off, drop the segment": data without ACK in SYN-RECEIVED is not accepted."""
    pair = syn_received()
    pair.b.take_outbox()
    deliver(pair.b, segment(seq=101, flags=PSH, payload=b"no ack", **FROM_A), 5)
    assert pair.b.state is TcpState.SYN_RECEIVED
    assert pair.b.readable == 0
