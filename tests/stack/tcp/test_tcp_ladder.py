"""The course's ladder diagrams, segment by segment: handshake, teardown, simultaneous open and close,
half-close. Every rung is (direction, flags, SEQ, ACK, SEG.LEN) as it crossed the wire, with both
states after it arrived; the numbers are RFC 9293's (A's ISS 100, B's ISS 300)."""

from __future__ import annotations

from harness import (
    A_END,
    AB,
    B_END,
    BA,
    FROM_A,
    Clock,
    Pair,
    Wire,
    config,
    deliver,
    established,
    fin_wait_2,
    segment,
    syn_sent,
)

from wirelab.stack.tcp.config import MILLISECOND, SECOND
from wirelab.stack.tcp.connection import TcpConnection, TcpEventKind
from wirelab.stack.tcp.state import TcpState


def _rung(pair: Pair) -> tuple[tuple[str, str, int, int, int], tuple[str, str]]:
    return pair.wire.step().rung(), pair.states()


# ------------------------------------------------------------------------------------------------
# Handshake and teardown
# ------------------------------------------------------------------------------------------------
def test_three_way_handshake_data_and_four_way_teardown_exact_ladder_rfc9293_3_5_and_3_6() -> None:
    """RFC 9293 §3.5 figure 7 (the handshake) and §3.6 figure 12 (normal close), rung by rung.

    A SYN consumes one sequence number (§3.4: the SYN-ACK acknowledges 101), a bare ACK consumes none
    (the first data octet is 101 again, the number the handshake's ACK carried), a FIN consumes one
    (its ACK is SEQ+1) — and TIME-WAIT lasts exactly 2 MSL = 60 s (§3.6.1, Linux's TCP_TIMEWAIT_LEN).
    """
    pair = syn_sent()
    assert pair.states() == ("SYN-SENT", "LISTEN")
    ladder = [_rung(pair), _rung(pair), _rung(pair)]
    assert ladder == [
        ((AB, "SYN", 100, 0, 1), ("SYN-SENT", "SYN-RECEIVED")),
        ((BA, "SYN,ACK", 300, 101, 1), ("ESTABLISHED", "SYN-RECEIVED")),
        ((AB, "ACK", 101, 301, 0), ("ESTABLISHED", "ESTABLISHED")),
    ]
    assert pair.wire.events_a[0].kind is TcpEventKind.CONNECTED
    assert pair.wire.events_b[0].kind is TcpEventKind.CONNECTED

    pair.a.send(b"hello", pair.now)
    assert _rung(pair) == ((AB, "PSH,ACK", 101, 301, 5), ("ESTABLISHED", "ESTABLISHED"))
    pair.wire.run_for(40 * MILLISECOND)  # B's delayed ACK for a lone segment
    assert pair.wire.ladder(4) == [(BA, "ACK", 301, 106, 0)]

    start = len(pair.wire.log)
    pair.a.close(pair.now)
    assert pair.states() == ("FIN-WAIT-1", "ESTABLISHED")
    ladder = [_rung(pair), _rung(pair)]
    pair.b.close(pair.now)
    assert pair.states() == ("FIN-WAIT-2", "LAST-ACK")
    ladder += [_rung(pair), _rung(pair)]
    assert ladder == [
        ((AB, "FIN,ACK", 106, 301, 1), ("FIN-WAIT-1", "CLOSE-WAIT")),
        ((BA, "ACK", 301, 107, 0), ("FIN-WAIT-2", "CLOSE-WAIT")),
        ((BA, "FIN,ACK", 301, 107, 1), ("TIME-WAIT", "LAST-ACK")),
        ((AB, "ACK", 107, 302, 0), ("TIME-WAIT", "CLOSED")),
    ]
    assert len(pair.wire.log) == start + 4
    assert pair.wire.received_b == b"hello"
    assert [e.kind for e in pair.wire.events_b if e.kind is TcpEventKind.EOF] == [TcpEventKind.EOF]

    entered = pair.now
    assert pair.a.poll_at() == entered + 60 * SECOND
    pair.wire.run(entered + 60 * SECOND - 1)
    assert pair.a.state is TcpState.TIME_WAIT
    pair.wire.run(entered + 60 * SECOND)
    assert pair.a.state is TcpState.CLOSED
    assert pair.a.poll_at() is None
    assert pair.transitions("A") == [
        ("CLOSED", "SYN-SENT"),
        ("SYN-SENT", "ESTABLISHED"),
        ("ESTABLISHED", "FIN-WAIT-1"),
        ("FIN-WAIT-1", "FIN-WAIT-2"),
        ("FIN-WAIT-2", "TIME-WAIT"),
        ("TIME-WAIT", "CLOSED"),
    ]
    # B's TCB is born by the listener's SYN (LISTEN is the endpoint's state, not a TCB's).
    assert pair.transitions("B") == [
        ("CLOSED", "SYN-RECEIVED"),
        ("SYN-RECEIVED", "ESTABLISHED"),
        ("ESTABLISHED", "CLOSE-WAIT"),
        ("CLOSE-WAIT", "LAST-ACK"),
        ("LAST-ACK", "CLOSED"),
    ]
    assert len(pair.wire.log) == start + 4  # nothing more was sent while A waited


def test_sequence_space_accounting_syn_and_fin_consume_one_bare_ack_none_rfc9293_3_4() -> None:
    """RFC 9293 §3.4: SEG.LEN counts the SYN and the FIN; an ACK without data occupies no sequence space."""
    pair = established()
    assert (pair.a.snd_nxt, pair.a.snd_una) == (101, 101)  # ISS 100 + the SYN
    assert (pair.b.rcv_nxt, pair.a.rcv_nxt) == (101, 301)
    for _ in range(3):  # bare ACKs, built by hand: none of them moves RCV.NXT
        deliver(pair.b, segment(seq=101, ack=301, **FROM_A), pair.now)
        assert pair.b.rcv_nxt == 101
    pair.wire.flush()
    pair.a.send(b"x", pair.now)
    assert pair.wire.step().rung() == (AB, "PSH,ACK", 101, 301, 1)  # the ACK's number, again
    pair.wire.run_for(SECOND)
    assert (pair.a.snd_nxt, pair.b.rcv_nxt) == (102, 102)
    pair.a.close(pair.now)
    pair.wire.settle()
    assert (pair.a.snd_nxt, pair.a.snd_una, pair.b.rcv_nxt) == (103, 103, 103)  # the FIN took 102


def test_handshake_without_options_same_ladder_rfc9293_3_5() -> None:
    """The ladder does not depend on the options: with none, the same numbers and states."""
    pair = syn_sent(options=False)
    rungs = [_rung(pair) for _ in range(3)]
    assert [r for r, _ in rungs] == [(AB, "SYN", 100, 0, 1), (BA, "SYN,ACK", 300, 101, 1), (AB, "ACK", 101, 301, 0)]
    assert rungs[-1][1] == ("ESTABLISHED", "ESTABLISHED")
    assert all(not r.header.options for r in pair.wire.log[2:])  # no timestamps once none was agreed


# ------------------------------------------------------------------------------------------------
# Simultaneous open and close
# ------------------------------------------------------------------------------------------------
def test_simultaneous_open_rfc9293_3_5_figure_8() -> None:
    """RFC 9293 §3.5 figure 8: both SYN-SENT; each SYN moves its receiver to SYN-RECEIVED and is
    answered by a SYN-ACK with the *same* ISS; each SYN-ACK then moves its receiver to ESTABLISHED."""
    clock = Clock()
    a = TcpConnection.connect(A_END, B_END, iss=100, now=0, config=config())
    b = TcpConnection.connect(B_END, A_END, iss=300, now=0, config=config())
    wire = Wire(a, b, clock)
    pair = Pair(wire, [], [])
    assert pair.states() == ("SYN-SENT", "SYN-SENT")
    ladder = [_rung(pair) for _ in range(4)]
    assert ladder == [
        ((AB, "SYN", 100, 0, 1), ("SYN-SENT", "SYN-RECEIVED")),
        ((BA, "SYN", 300, 0, 1), ("SYN-RECEIVED", "SYN-RECEIVED")),
        ((BA, "SYN,ACK", 300, 101, 1), ("ESTABLISHED", "SYN-RECEIVED")),
        ((AB, "SYN,ACK", 100, 301, 1), ("ESTABLISHED", "ESTABLISHED")),
    ]
    wire.settle()
    assert pair.states() == ("ESTABLISHED", "ESTABLISHED")
    assert a.counters.get("tx.challenge-ack", 0) == b.counters.get("tx.challenge-ack", 0) == 0
    a.send(b"ping", clock.now)
    b.send(b"pong", clock.now)
    wire.run_for(SECOND)
    assert (bytes(wire.received_b), bytes(wire.received_a)) == (b"ping", b"pong")
    assert [e.kind for e in wire.events_a].count(TcpEventKind.CONNECTED) == 1


def test_simultaneous_close_fin_wait_1_closing_time_wait_rfc9293_3_6_figure_13() -> None:
    """RFC 9293 §3.6 figure 13: FINs cross; each side goes FIN-WAIT-1 -> CLOSING (a FIN before the ACK
    of its own) -> TIME-WAIT (its FIN acknowledged), and both wait 2 MSL."""
    pair = established()
    start = len(pair.wire.log)
    pair.a.close(pair.now)
    pair.b.close(pair.now)
    assert pair.states() == ("FIN-WAIT-1", "FIN-WAIT-1")
    ladder = [_rung(pair) for _ in range(4)]
    assert ladder == [
        ((AB, "FIN,ACK", 101, 301, 1), ("FIN-WAIT-1", "CLOSING")),
        ((BA, "FIN,ACK", 301, 101, 1), ("CLOSING", "CLOSING")),
        ((BA, "ACK", 302, 102, 0), ("TIME-WAIT", "CLOSING")),
        ((AB, "ACK", 102, 302, 0), ("TIME-WAIT", "TIME-WAIT")),
    ]
    assert len(pair.wire.log) == start + 4
    entered = pair.now
    pair.wire.run(entered + 60 * SECOND - 1)
    assert pair.states() == ("TIME-WAIT", "TIME-WAIT")
    pair.wire.run(entered + 60 * SECOND)
    assert pair.states() == ("CLOSED", "CLOSED")
    assert ("FIN-WAIT-1", "CLOSING") in pair.transitions("A")


# ------------------------------------------------------------------------------------------------
# Half-close
# ------------------------------------------------------------------------------------------------
def test_half_close_close_wait_side_keeps_sending_fin_wait_2_side_keeps_receiving_rfc9293_3_6() -> None:
    """RFC 9293 §3.6: CLOSE means "I have no more to send"; the other direction stays open. After A's
    FIN, B (CLOSE-WAIT) sends 300 000 octets and A (FIN-WAIT-2) receives every one, in order."""
    pair = fin_wait_2()
    data = bytes(i * 7 % 251 for i in range(300_000))
    offset = 0
    while offset < len(data):
        offset += pair.b.send(data[offset : offset + 65_536], pair.now)
        pair.wire.run_for(10 * MILLISECOND)
        assert pair.states() == ("FIN-WAIT-2", "CLOSE-WAIT")
    pair.wire.run_for(SECOND)
    assert bytes(pair.wire.received_a) == data
    assert pair.b.send_queue == 0
    try:
        pair.a.send(b"x", pair.now)
    except ConnectionError as error:
        assert "EPIPE" in str(error)  # a local error: A said it had nothing more to send
    else:
        raise AssertionError("send after close must fail")
    pair.b.close(pair.now)
    pair.wire.settle()
    assert pair.states() == ("TIME-WAIT", "CLOSED")
    fin = [r for r in pair.wire.sent(BA) if r.header.flags & 0x01]
    assert [r.header.seq for r in fin] == [(301 + len(data)) & 0xFFFFFFFF]
