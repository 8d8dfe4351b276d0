"""The timers of an established connection, on exact virtual-time lines: retransmission (RFC 6298,
Karn), the lost FIN, keepalive (RFC 1122 §4.2.3.6) and the persist timer (RFC 9293 §3.8.6.1)."""

from __future__ import annotations

from harness import (
    AB,
    BA,
    MASK,
    Record,
    config,
    established,
    fin_wait_1,
)

from wirelab.stack.tcp.config import MILLISECOND, SECOND
from wirelab.stack.tcp.connection import TcpEvent, TcpEventKind
from wirelab.stack.tcp.state import TcpState
from wirelab.wire.tcp import TcpFlags

ACK, RST, FIN = TcpFlags.ACK, TcpFlags.RST, TcpFlags.FIN
HOUR = 3600 * SECOND


def _data(records: list[Record]) -> list[Record]:
    return [r for r in records if r.payload]


# ------------------------------------------------------------------------------------------------
# Retransmission timeout
# ------------------------------------------------------------------------------------------------
def test_lost_data_is_retransmitted_with_exponential_backoff_then_etimedout_rfc6298_5_5() -> None:
    """RFC 6298 (5.4)-(5.6): at each expiry retransmit the earliest unacknowledged segment and double
    the RTO, up to the maximum (Linux TCP_RTO_MAX 120 s): 1, 2, 4 … 64, 120, 120 … s after each other.
    After data_retries (15, Linux's tcp_retries2) retransmissions, the next expiry ends the connection
    with ETIMEDOUT: 1+2+…+64 + 9×120 = 1207 s after the first transmission."""
    pair = established(options=False)
    pair.wire.run(10 * SECOND)
    t0 = pair.now
    pair.wire.lose(AB, count=None)
    pair.a.send(b"lost", t0)
    pair.wire.run(t0 + 1207 * SECOND - 1)
    intervals = [1, 2, 4, 8, 16, 32, 64] + [120] * 8
    times = [t0]
    for interval in intervals:
        times.append(times[-1] + interval * SECOND)
    sent = _data(pair.wire.sent(AB))
    assert [r.at for r in sent] == times  # the first transmission and 15 retransmissions
    assert {(r.header.seq, r.payload) for r in sent} == {(101, b"lost")}
    assert pair.a.state is TcpState.ESTABLISHED
    assert pair.a.counters["rto"] == 15
    pair.wire.run(t0 + 1207 * SECOND)
    assert pair.a.state is TcpState.CLOSED
    assert pair.a.error == "ETIMEDOUT"
    assert TcpEvent(TcpEventKind.ERROR, "ETIMEDOUT") in pair.wire.events_a


def test_data_retries_is_a_setting_rfc9293_3_8_3() -> None:
    """RFC 9293 §3.8.3 (R2) lets the user set the give-up threshold: with 3, ETIMEDOUT at 1+2+4+8 s."""
    pair = established(options=False, config_a=config(False, data_retries=3))
    pair.wire.lose(AB, count=None)
    pair.a.send(b"x", pair.now)
    pair.wire.run(15 * SECOND - 1)
    assert [r.at for r in _data(pair.wire.sent(AB))] == [0, SECOND, 3 * SECOND, 7 * SECOND]
    pair.wire.run(15 * SECOND)
    assert pair.a.error == "ETIMEDOUT"


def test_karn_no_rtt_sample_from_a_retransmitted_segment_and_the_backed_off_rto_is_kept_rfc6298_3() -> None:
    """RFC 6298 §3 (Karn): an ACK for a retransmitted segment says nothing about the RTT; the backed-off
    RTO stays until a segment sent once is acknowledged (5.7). Without timestamps, one segment is timed.
    The wire delays 50 ms each way; B delays its ACK 40 ms: the true RTT is 140 ms."""
    pair = established(options=False, delay=50 * MILLISECOND)
    pair.wire.run(SECOND)
    assert pair.a.srtt is None  # (the SYN is not timed)
    pair.wire.lose(AB)
    pair.a.send(b"first", pair.now)
    pair.wire.run_for(5 * SECOND)
    assert pair.wire.received_b == b"first"
    assert pair.a.counters["tx.retransmit"] == 1
    assert pair.a.srtt is None  # neither 1.14 s nor 0.14 s: no sample at all
    assert pair.a.rto == 2 * SECOND
    t = pair.now
    pair.a.send(b"second", t)
    pair.wire.run_for(5 * SECOND)
    assert pair.a.srtt == 140 * MILLISECOND
    assert pair.a.rttvar == 70 * MILLISECOND
    assert pair.a.rto == SECOND  # max(SRTT + 4·RTTVAR, RTO.min = 1 s) (2.3), (2.4)


def test_rto_is_restarted_on_each_new_ack_and_stopped_when_all_is_acked_rfc6298_5_1_to_5_3() -> None:
    """(5.1) start the timer on sending if off; (5.3) restart it on an ACK of new data; (5.2) stop it
    when everything is acknowledged."""
    pair = established(options=False)
    pair.a.send(b"a", pair.now)
    assert pair.a.poll_at() == pair.now + SECOND
    pair.wire.run_for(40 * MILLISECOND)  # B's delayed ACK
    assert pair.a.snd_una == pair.a.snd_max
    assert pair.a.poll_at() is None


def test_lost_fin_is_retransmitted_by_the_rto_rfc9293_3_10_4_and_rfc6298() -> None:
    """A FIN occupies sequence space, so it is retransmitted like data: lost at 0, again at 1 s (the same
    SEQ=101), acknowledged: FIN-WAIT-2."""
    pair = fin_wait_1()
    pair.wire.lose(AB)
    pair.wire.run(SECOND - 1)
    assert pair.states() == ("FIN-WAIT-1", "ESTABLISHED")
    pair.wire.run(SECOND)
    assert [(r.at, r.rung(), r.fate) for r in pair.wire.log[3:]] == [
        (0, (AB, "FIN,ACK", 101, 301, 1), "lost"),
        (SECOND, (AB, "FIN,ACK", 101, 301, 1), "sent"),
        (SECOND, (BA, "ACK", 301, 102, 0), "sent"),
    ]
    assert pair.states() == ("FIN-WAIT-2", "CLOSE-WAIT")


def test_fin_lost_repeatedly_backs_off_like_data_rfc6298_5_5() -> None:
    pair = fin_wait_1(options=False)
    pair.wire.lose(AB, count=3)
    pair.wire.run(20 * SECOND)
    fins = [r for r in pair.wire.sent(AB) if r.header.flags & FIN]
    assert [(r.at, r.fate) for r in fins] == [
        (0, "lost"),
        (SECOND, "lost"),
        (3 * SECOND, "lost"),
        (7 * SECOND, "sent"),
    ]
    assert pair.states() == ("FIN-WAIT-2", "CLOSE-WAIT")


# ------------------------------------------------------------------------------------------------
# Keepalive
# ------------------------------------------------------------------------------------------------
def test_keepalive_unanswered_probe_at_2_h_then_every_75_s_etimedout_after_10_rfc1122_4_2_3_6() -> None:
    """RFC 1122 §4.2.3.6, the course's numbers: after 2 h idle a probe (SEQ = SND.NXT - 1, no data: the
    peer must answer with an ACK), then every 75 s; 10 unanswered probes (keepalive_probes = 10) and the
    connection dies with ETIMEDOUT at 2 h + 10×75 s."""
    keepalive = config(keepalive=True, keepalive_probes=10)
    pair = established(config_a=keepalive)
    pair.wire.lose(AB, count=None)
    pair.wire.run(2 * HOUR + 750 * SECOND - 1)
    probes = pair.wire.sent(AB, since=3)
    assert [r.at for r in probes] == [2 * HOUR + i * 75 * SECOND for i in range(10)]
    assert {r.rung() for r in probes} == {(AB, "ACK", 100, 301, 0)}
    assert pair.a.state is TcpState.ESTABLISHED
    pair.wire.run(2 * HOUR + 750 * SECOND)
    assert pair.a.state is TcpState.CLOSED
    assert pair.a.error == "ETIMEDOUT"
    assert pair.a.counters["tx.keepalive"] == 10


def test_keepalive_answered_probe_resets_the_idle_timer_rfc1122_4_2_3_6() -> None:
    """The peer answers the probe with an ACK: the connection is alive, the next probe is 2 h later;
    nothing is delivered to either application."""
    pair = established(config_a=config(keepalive=True, keepalive_probes=10))
    pair.wire.run(4 * HOUR + SECOND)
    assert [(r.at, r.rung()) for r in pair.wire.log[3:]] == [
        (2 * HOUR, (AB, "ACK", 100, 301, 0)),
        (2 * HOUR, (BA, "ACK", 301, 101, 0)),
        (4 * HOUR, (AB, "ACK", 100, 301, 0)),
        (4 * HOUR, (BA, "ACK", 301, 101, 0)),
    ]
    assert pair.states() == ("ESTABLISHED", "ESTABLISHED")
    assert pair.wire.received_a == pair.wire.received_b == b""


def test_keepalive_idle_counts_from_the_last_segment_received_rfc1122_4_2_3_6() -> None:
    """Traffic postpones the first probe: data from B at 1000 s moves it to 1000 s + 2 h."""
    pair = established(config_a=config(keepalive=True))
    pair.wire.run(1000 * SECOND)
    pair.b.send(b"still here", pair.now)
    pair.wire.run(1000 * SECOND + 2 * HOUR + SECOND)
    probes = [r for r in pair.wire.sent(AB, since=3) if r.header.seq == 100]
    assert [r.at for r in probes] == [1000 * SECOND + 2 * HOUR]


def test_keepalive_is_off_by_default_rfc1122_4_2_3_6() -> None:
    """ "Keep-alives MUST ... default to off.": a day of silence, not one segment."""
    pair = established()
    sent = len(pair.wire.log)
    pair.wire.run(24 * HOUR)
    assert len(pair.wire.log) == sent
    assert pair.a.poll_at() is None


# ------------------------------------------------------------------------------------------------
# Zero window and the persist timer
# ------------------------------------------------------------------------------------------------
def test_zero_window_persist_probes_grow_never_give_up_while_answered_then_transfer_completes_rfc9293_3_8_6_1() -> None:
    """RFC 9293 §3.8.6.1: B's application stops reading; B's window falls to zero; A probes it at
    growing intervals (1, 2, 4 … s, capped at 60 s) and, since every probe is answered, keeps probing for
    half an hour (RFC 1122 §4.2.2.17: "MUST NOT close the connection ... as long as the receiving TCP
    continues to send acknowledgments in response to the probe segments"). When B reads again the
    window reopens and every octet arrives."""
    pair = established()
    pair.wire.read_b = False
    data = bytes(i % 253 for i in range(400_000))
    queued = pair.a.send(data, pair.now)
    pair.wire.run(10 * SECOND)
    assert pair.b.rcv_adv == pair.b.rcv_nxt  # B advertises a zero window
    assert pair.a.snd_wnd == 0
    assert pair.b.readable == 131_072
    # The last 752 octets of window (131 072 = 90 × 1448 + 752) are too few for a full segment; with
    # nothing in flight, the persist timer (1 s) sends what fits rather than waiting for ever.
    (small,) = [r for r in pair.wire.sent(AB) if 0 < len(r.payload) < 1448]
    assert (small.at, len(small.payload)) == (SECOND, 752)
    closed_at = min(r.at for r in pair.wire.sent(BA) if r.header.window == 0)
    pair.wire.run(closed_at + 30 * 60 * SECOND)
    probes = [r for r in pair.wire.sent(AB) if r.at > closed_at]
    assert {(r.header.seq, r.length) for r in probes} == {((pair.a.snd_una - 1) & 0xFFFFFFFF, 0)}
    after = [(r.at - closed_at) // SECOND for r in probes]
    # The interval starts at the RTO (1 s) and doubles, up to persist_max (60 s): 34 probes, all answered.
    assert after == [1, 3, 7, 15, 31, 63, *range(123, 1801, 60)]
    assert pair.a.state is TcpState.ESTABLISHED
    assert all(r.header.window == 0 for r in pair.wire.sent(BA) if r.at >= closed_at)
    assert pair.a.counters["tx.window-probe"] == 34
    pair.wire.read_b = True
    sent = queued
    while sent < len(data):
        sent += pair.a.send(data[sent:], pair.now)
        pair.wire.run_for(SECOND)
    pair.wire.run_for(70 * SECOND)
    assert bytes(pair.wire.received_b) == data


def test_zero_window_probes_unanswered_give_up_after_data_retries_rfc9293_3_8_6_1() -> None:
    """Only silence ends a zero-window wait: with every probe lost, A gives up (ETIMEDOUT) at the
    expiry after data_retries (here 4) probes."""
    pair = established(config_a=config(data_retries=4))
    pair.wire.read_b = False
    a = pair.a
    pair.wire.lose(AB, lambda header, payload: not payload and header.seq == (a.snd_una - 1) & MASK, count=None)
    a.send(bytes(300_000), pair.now)
    pair.wire.run(10 * SECOND)
    closed_at = min(r.at for r in pair.wire.sent(BA) if r.header.window == 0)
    pair.wire.run(closed_at + 31 * SECOND - 1)
    probes = [(r.at - closed_at) // SECOND for r in pair.wire.sent(AB) if r.at > closed_at]
    assert probes == [1, 3, 7, 15]
    assert pair.a.state is TcpState.ESTABLISHED
    pair.wire.run(closed_at + 31 * SECOND)
    assert pair.a.error == "ETIMEDOUT"
