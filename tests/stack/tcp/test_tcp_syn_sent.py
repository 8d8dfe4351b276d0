"""Tests for the SYN-SENT state (RFC 9293 §3.10.7.3): the SYN's timer, refusals, unacceptable ACKs."""

from __future__ import annotations

from harness import (
    AB,
    BA,
    config,
    deliver,
    segment,
    syn_sent,
)

from wirelab.stack.tcp.config import SECOND
from wirelab.stack.tcp.connection import TcpEvent, TcpEventKind
from wirelab.stack.tcp.state import TcpState
from wirelab.wire.tcp import TcpFlags

SYN, ACK, RST = TcpFlags.SYN, TcpFlags.ACK, TcpFlags.RST


def test_lost_syn_is_retransmitted_at_1_3_7_15_31_63_s_then_etimedout_at_127_s_rfc6298_and_rfc9293_3_8_1() -> None:
    """RFC 6298 (2.1) initial RTO 1 s, (5.5) doubled at each expiry; Linux's tcp_syn_retries = 6: the
    SYN goes at 0, 1, 3, 7, 15, 31, 63 s and the connect fails with ETIMEDOUT at 127 s (1+2+…+64)."""
    pair = syn_sent()
    pair.wire.lose(AB, count=None)
    pair.wire.run(127 * SECOND - 1)
    syns = pair.wire.sent(AB)
    assert [r.at for r in syns] == [t * SECOND for t in (0, 1, 3, 7, 15, 31, 63)]
    assert all(r.rung() == (AB, "SYN", 100, 0, 1) and r.fate == "lost" for r in syns)  # the same ISS each time
    assert pair.a.state is TcpState.SYN_SENT
    pair.wire.run(127 * SECOND)
    assert pair.a.state is TcpState.CLOSED
    assert pair.wire.events_a == [TcpEvent(TcpEventKind.ERROR, "ETIMEDOUT"), TcpEvent(TcpEventKind.CLOSED, "ETIMEDOUT")]
    assert len(pair.wire.sent(AB)) == 7  # no RST: nothing was ever synchronized
    assert pair.a.poll_at() is None


def test_syn_lost_once_handshake_completes_at_1_s_rfc6298_2_1() -> None:
    """The first SYN is lost; the retransmission 1 s later (the initial RTO) completes the handshake."""
    pair = syn_sent()
    pair.wire.lose(AB)
    pair.wire.run(2 * SECOND)
    assert [(r.at, r.rung(), r.fate) for r in pair.wire.log] == [
        (0, (AB, "SYN", 100, 0, 1), "lost"),
        (SECOND, (AB, "SYN", 100, 0, 1), "sent"),
        (SECOND, (BA, "SYN,ACK", 300, 101, 1), "sent"),
        (SECOND, (AB, "ACK", 101, 301, 0), "sent"),
    ]
    assert pair.states() == ("ESTABLISHED", "ESTABLISHED")


def test_syn_retries_is_a_setting() -> None:
    """tcp_syn_retries = 2: SYNs at 0, 1, 3 s; ETIMEDOUT at 7 s."""
    pair = syn_sent(config_a=config(syn_retries=2))
    pair.wire.lose(AB, count=None)
    pair.wire.run(7 * SECOND - 1)
    assert [r.at for r in pair.wire.sent(AB)] == [0, SECOND, 3 * SECOND]
    assert pair.a.state is TcpState.SYN_SENT
    pair.wire.run(7 * SECOND)
    assert pair.a.error == "ETIMEDOUT"


def test_rst_with_acceptable_ack_is_connection_refused_rfc9293_3_10_7_3() -> None:
    """RFC 9293 §3.10.7.3, second: "If the ACK was acceptable, then signal to the user 'error:
    connection reset', drop the segment, enter CLOSED state" — ECONNREFUSED; nothing is sent back."""
    pair = syn_sent()
    pair.a.take_outbox()
    deliver(pair.a, segment(seq=0, ack=101, flags=RST | ACK, window=0), 5)
    assert pair.a.state is TcpState.CLOSED
    assert pair.a.error == "ECONNREFUSED"
    assert pair.a.take_events() == [
        TcpEvent(TcpEventKind.ERROR, "ECONNREFUSED"),
        TcpEvent(TcpEventKind.CLOSED, "ECONNREFUSED"),
    ]
    assert pair.a.take_outbox() == []
    assert pair.a.poll_at() is None  # the SYN's timer is gone too


def test_rst_without_ack_is_dropped_rfc9293_3_10_7_3() -> None:
    """RFC 9293 §3.10.7.3, second: "If the RST bit is set ... Otherwise (no ACK) drop the segment"."""
    pair = syn_sent()
    pair.a.take_outbox()
    deliver(pair.a, segment(seq=0, flags=RST, window=0), 5)
    assert pair.a.state is TcpState.SYN_SENT
    assert pair.a.take_outbox() == []
    assert pair.a.counters["drop.syn-sent.rst-without-ack"] == 1


def test_rst_with_unacceptable_ack_is_dropped_never_answered_rfc9293_3_10_7_3() -> None:
    """An unacceptable ACK earns a RST — unless the segment is itself a RST (RFC 9293 §3.10.7.3, first:
    "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set, if so drop ...)")."""
    pair = syn_sent()
    pair.a.take_outbox()
    for ack in (100, 102, 99, 5000):
        deliver(pair.a, segment(seq=0, ack=ack, flags=RST | ACK), 5)
    assert pair.a.state is TcpState.SYN_SENT
    assert pair.a.take_outbox() == []
    assert pair.a.counters["drop.syn-sent.bad-ack"] == 4


def test_unacceptable_ack_is_answered_by_rst_seq_seg_ack_rfc9293_3_10_7_3() -> None:
    """An old SYN-ACK (SEG.ACK =< ISS) or one from the future (> SND.NXT) is answered by
    <SEQ=SEG.ACK><CTL=RST> and dropped; the connection attempt goes on (figure 9, old duplicate SYN)."""
    pair = syn_sent()
    pair.a.take_outbox()
    deliver(pair.a, segment(seq=900, ack=91, flags=SYN | ACK), 5)
    deliver(pair.a, segment(seq=900, ack=102, flags=ACK), 6)
    sent = pair.a.take_outbox()
    assert [(h.flags, h.seq, h.ack) for h, _ in sent] == [(RST, 91, 0), (RST, 102, 0)]
    assert pair.a.state is TcpState.SYN_SENT
    assert pair.a.poll_at() == SECOND  # the SYN's retransmission is still due


def test_segment_without_syn_or_rst_is_dropped_rfc9293_3_10_7_3_fifth() -> None:
    """RFC 9293 §3.10.7.3, fifth: "If neither of the SYN or RST bits is set, then drop the segment"."""
    pair = syn_sent()
    pair.a.take_outbox()
    deliver(pair.a, segment(seq=301, ack=101, flags=ACK, payload=b"early"), 5)
    assert pair.a.state is TcpState.SYN_SENT
    assert pair.a.take_outbox() == []
    assert pair.a.readable == 0


def test_syn_ack_options_are_taken_and_ack_sent_at_once_rfc9293_3_10_7_3() -> None:
    """The SYN-ACK: RCV.NXT = SEG.SEQ + 1, SND.UNA = SEG.ACK, ESTABLISHED, and an ACK at once."""
    pair = syn_sent(options=False)
    pair.a.take_outbox()
    deliver(pair.a, segment(seq=7000, ack=101, flags=SYN | ACK, window=4000), 5)
    assert pair.a.state is TcpState.ESTABLISHED
    assert (pair.a.rcv_nxt, pair.a.snd_una, pair.a.snd_wnd) == (7001, 101, 4000)
    ((header, payload),) = pair.a.take_outbox()
    assert (header.flags, header.seq, header.ack, payload) == (ACK, 101, 7001, b"")
    assert pair.a.poll_at() is None


def test_close_in_syn_sent_deletes_the_tcb_rfc9293_3_10_4() -> None:
    """RFC 9293 §3.10.4, SYN-SENT: CLOSE deletes the TCB; nothing is sent."""
    pair = syn_sent()
    pair.a.take_outbox()
    pair.a.close(1)
    assert pair.a.state is TcpState.CLOSED
    assert pair.a.take_outbox() == []
    assert pair.a.poll_at() is None
