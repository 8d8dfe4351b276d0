"""Tests for the TIME-WAIT state (RFC 9293 §3.6.1, §3.10.7.4; RFC 7323 §5): why it lasts 2 MSL.

The course gives two answers. First: the last ACK may be lost, and the peer's retransmitted FIN must
find someone to ACK it (and that restarts the wait). Second: old duplicates of this connection still in
the network must die out before a new incarnation could mistake them for its own — so TIME-WAIT absorbs
them. PAWS (timestamps) is the modern second line.
"""

from __future__ import annotations

import pytest
from harness import (
    AB,
    BA,
    deliver,
    established,
    last_ack,
    segment,
    time_wait,
)

from wirelab.stack.tcp.config import SECOND
from wirelab.stack.tcp.connection import TcpEventKind
from wirelab.stack.tcp.state import TcpState
from wirelab.wire.tcp import NOP, TcpFlags, Timestamps

ACK, FIN, RST, PSH = TcpFlags.ACK, TcpFlags.FIN, TcpFlags.RST, TcpFlags.PSH


def test_time_wait_lasts_exactly_2_msl_and_sends_nothing_rfc9293_3_6_1() -> None:
    """2 MSL with MSL = 30 s (Linux's TCP_TIMEWAIT_LEN = 60 s): the only deadline, and silence."""
    pair = time_wait(start=7 * SECOND)
    entered = pair.now
    assert pair.a.poll_at() == entered + 60 * SECOND
    sent = len(pair.wire.log)
    pair.wire.run(entered + 60 * SECOND - 1)
    assert pair.a.state is TcpState.TIME_WAIT
    pair.wire.run(entered + 60 * SECOND)
    assert pair.a.state is TcpState.CLOSED
    assert len(pair.wire.log) == sent
    assert pair.wire.events_a[-1].kind is TcpEventKind.CLOSED
    assert pair.a.error is None


def test_lost_last_ack_retransmitted_fin_is_acked_again_and_restarts_2msl_rfc9293_3_10_7_4_eighth() -> None:
    """Why 2 MSL (1): A's last ACK is lost; B (LAST-ACK) retransmits its FIN after its RTO (1 s). A, in
    TIME-WAIT, ACKs it again and restarts the 2 MSL timer ("Remain in the TIME-WAIT state. Restart the
    2 MSL time-out"): A closes at 61 s, not 60 s; B closes at 1 s."""
    pair = last_ack()
    pair.wire.step()  # B's FIN reaches A: TIME-WAIT at 0
    pair.wire.lose(AB)  # A's ACK of it is lost
    pair.wire.flush()
    assert pair.states() == ("TIME-WAIT", "LAST-ACK")
    pair.wire.run(SECOND)
    assert [(r.at, r.rung(), r.fate) for r in pair.wire.log[-3:]] == [
        (0, (AB, "ACK", 102, 302, 0), "lost"),
        (SECOND, (BA, "FIN,ACK", 301, 102, 1), "sent"),
        (SECOND, (AB, "ACK", 102, 302, 0), "sent"),
    ]
    assert pair.states() == ("TIME-WAIT", "CLOSED")
    assert pair.a.counters["time-wait.fin-reacked"] == 1
    assert pair.a.poll_at() == 61 * SECOND
    pair.wire.run(61 * SECOND - 1)
    assert pair.a.state is TcpState.TIME_WAIT
    pair.wire.run(61 * SECOND)
    assert pair.a.state is TcpState.CLOSED
    assert [kind for _t, kind, _f in pair.trace_a].count("tcp.time-wait.restart") == 1


@pytest.mark.parametrize("options", [False, True], ids=["sequence-numbers", "with-timestamps"])
def test_old_duplicate_arriving_in_time_wait_is_absorbed_never_delivered_rfc9293_3_6_1(options: bool) -> None:
    """Why 2 MSL (2): a segment of this connection delayed in the network (held on the wire, resent and
    delivered by B's timer meanwhile) arrives after the close. TIME-WAIT ACKs and drops it — by its
    sequence number (below RCV.NXT) and, with timestamps, already by PAWS (RFC 7323 §5.3)."""
    pair = established(options=options)
    pair.wire.hold(BA)  # the first copy of B's data wanders off
    pair.b.send(b"late data", pair.now)
    pair.wire.run(2 * SECOND)  # B's RTO resends it at 1 s; that copy arrives
    assert bytes(pair.wire.received_a) == b"late data"
    pair.a.close(pair.now)
    pair.wire.settle()
    pair.b.close(pair.now)
    pair.wire.settle()
    assert pair.states() == ("TIME-WAIT", "CLOSED")
    delivered = [e for e in pair.wire.events_a if e.kind is TcpEventKind.DATA]
    sent = len(pair.wire.log)
    pair.wire.run(10 * SECOND)
    pair.wire.release()  # the old copy finally arrives
    record = pair.wire.step()
    assert record.payload == b"late data"
    assert pair.a.state is TcpState.TIME_WAIT
    assert bytes(pair.wire.received_a) == b"late data"  # not twice
    assert [e for e in pair.wire.events_a if e.kind is TcpEventKind.DATA] == delivered
    pair.wire.flush()
    (answer,) = pair.wire.log[sent:]
    assert answer.rung() == (AB, "ACK", 102, 311, 0)  # an ACK of what A really has (B: 301 + 9 + FIN)
    assert pair.a.counters["drop.paws" if options else "drop.out-of-window"] == 1


def test_paws_in_time_wait_drops_an_in_window_segment_with_an_older_timestamp_rfc7323_5_3() -> None:
    """A segment whose sequence number falls in the window but whose TSval is older than TS.Recent
    (a wrapped-around old duplicate) is dropped by PAWS and answered by an ACK."""
    pair = time_wait(start=3 * SECOND)
    a = pair.a
    a.take_outbox()
    assert a.ts_recent == 3000
    old = (NOP, NOP, Timestamps(2999, 0))
    deliver(a, segment(seq=a.rcv_nxt, ack=a.snd_nxt, flags=ACK | PSH, payload=b"ghost", options=old), pair.now)
    assert a.counters["drop.paws"] == 1
    assert [h.flags for h, _ in a.take_outbox()] == [ACK]
    assert a.readable == 0
    assert a.state is TcpState.TIME_WAIT


def test_new_data_in_time_wait_is_never_delivered_rfc9293_3_10_7_4_seventh() -> None:
    """Seventh check, TIME-WAIT: "This should not occur since a FIN has been received from the remote
    side. Ignore the segment text." """
    pair = time_wait(options=False)
    a = pair.a
    a.take_outbox()
    deliver(a, segment(seq=a.rcv_nxt, ack=a.snd_nxt, flags=ACK | PSH, payload=b"after FIN"), pair.now)
    assert a.readable == 0
    assert a.counters["drop.text-after-fin"] == 1
    assert a.state is TcpState.TIME_WAIT


def test_a_closed_tcb_answers_nothing_not_even_a_rst_rfc9293_3_10_7_1() -> None:
    """Once CLOSED, the TCB is gone: segments are counted and ignored (the endpoint, which owns the
    port, answers CLOSED-port segments with RST — and never a RST with a RST)."""
    pair = time_wait()
    pair.wire.run(60 * SECOND)
    a = pair.a
    assert a.state is TcpState.CLOSED
    deliver(a, segment(seq=a.rcv_nxt, flags=RST), pair.now)
    deliver(a, segment(seq=a.rcv_nxt, ack=a.snd_nxt, flags=ACK | FIN), pair.now)
    assert a.take_outbox() == []
    assert a.counters["rx.closed"] == 2
