"""Options negotiated on the SYNs: window scaling and timestamps (RFC 7323), SACK-permitted (RFC 2018),
the MSS (RFC 9293 §3.7.1). Each is used only when both SYNs carried it."""

from __future__ import annotations

import pytest
from harness import (
    AB,
    config,
    deliver,
    established,
    segment,
    syn_sent,
)

from wirelab.stack.tcp.config import SECOND
from wirelab.stack.tcp.state import TcpState
from wirelab.wire.tcp import MaxSegmentSize, TcpFlags, TcpOptionKind, Timestamps, WindowScale

SYN, ACK = TcpFlags.SYN, TcpFlags.ACK
BOTH = [(True, True), (True, False), (False, True), (False, False)]
IDS = ["both", "only-A", "only-B", "neither"]


@pytest.mark.parametrize(("on_a", "on_b"), BOTH, ids=IDS)
def test_window_scaling_only_when_both_syns_carry_it_rfc7323_2_2(on_a: bool, on_b: bool) -> None:
    """RFC 7323 §2.2: a SYN-ACK carries Window Scale only if the SYN did, and each side scales only if
    both did. With it, B's 128 KiB buffer is announced as 32768 << 2; without it, 65535 at most. The
    window in a SYN is never scaled."""
    pair = established(config_a=config(window_scaling=on_a), config_b=config(window_scaling=on_b))
    syn, syn_ack = pair.wire.log[0].header, pair.wire.log[1].header
    assert (syn.window_scale is not None) == on_a
    assert (syn_ack.window_scale is not None) == (on_a and on_b)
    assert syn.window == syn_ack.window == 65535  # min(buffer, 65535): not scaled
    both = on_a and on_b
    assert (pair.a.snd_wscale, pair.b.rcv_wscale) == ((2, 2) if both else (0, 0))
    assert (pair.b.snd_wscale, pair.a.rcv_wscale) == ((2, 2) if both else (0, 0))
    pair.b.send(b"x", pair.now)
    from_b = pair.wire.step().header  # B's first segment after its SYN-ACK
    assert from_b.window == (32768 if both else 65535)
    assert pair.a.snd_wnd == (131072 if both else 65535)


def test_window_shift_follows_the_buffer_and_is_capped_at_14_rfc7323_2_3() -> None:
    """The shift is the smallest that fits the buffer in 16 bits (1 MiB -> 5); a peer's shift above 14
    is taken as 14 (RFC 7323 §2.3: "use 14 instead of the specified value")."""
    pair = established(config_b=config(receive_buffer=1 << 20))
    assert pair.b.rcv_wscale == pair.a.snd_wscale == 5
    pair = syn_sent()
    a = pair.a
    a.take_outbox()
    options = (MaxSegmentSize(1460), WindowScale(15))
    deliver(a, segment(seq=300, ack=101, flags=SYN | ACK, options=options), 1)
    assert a.state is TcpState.ESTABLISHED
    assert a.snd_wscale == 14


@pytest.mark.parametrize(("on_a", "on_b"), BOTH, ids=IDS)
def test_timestamps_only_when_both_syns_carry_them_rfc7323_3_2(on_a: bool, on_b: bool) -> None:
    """RFC 7323 §3.2: TSopt is sent on every segment only if both SYNs had it; TSecr echoes the peer's
    latest TSval (TS.Recent); the effective MSS loses 12 octets to it."""
    pair = established(config_a=config(timestamps=on_a), config_b=config(timestamps=on_b), start=5 * SECOND)
    both = on_a and on_b
    assert (pair.wire.log[0].header.timestamps is not None) == on_a
    assert (pair.wire.log[1].header.timestamps is not None) == both
    assert pair.a.timestamps == pair.b.timestamps == both
    pair.wire.run(7 * SECOND)
    pair.a.send(b"ping", pair.now)
    pair.wire.run(8 * SECOND)
    pair.b.send(b"pong", pair.now)
    pair.wire.run(9 * SECOND)
    after_syns = pair.wire.log[2:]
    assert all((r.header.timestamps is not None) == both for r in after_syns)
    if both:
        ping = next(r for r in after_syns if r.payload == b"ping").header.timestamps
        pong = next(r for r in after_syns if r.payload == b"pong").header.timestamps
        assert ping is not None and pong is not None
        assert ping.tsval == 7000  # a 1 ms clock
        assert pong == Timestamps(8000, 7000)  # TSecr = the TSval of the segment it answers
    assert pair.a.send_mss == (1448 if both else 1460)


@pytest.mark.parametrize(("on_a", "on_b"), BOTH, ids=IDS)
def test_sack_only_when_both_syns_carry_sack_permitted_rfc2018_2(on_a: bool, on_b: bool) -> None:
    pair = established(config_a=config(sack=on_a), config_b=config(sack=on_b))
    syn, syn_ack = pair.wire.log[0].header, pair.wire.log[1].header
    assert syn.sack_permitted == on_a
    assert syn_ack.sack_permitted == (on_a and on_b)
    assert pair.a.sack == pair.b.sack == (on_a and on_b)


def test_the_mss_option_is_honoured_536_gives_segments_of_524_rfc9293_3_7_1() -> None:
    """RFC 9293 §3.7.1: the sender's segments fit the MSS the peer announced, less its options: B says
    536, so A's segments carry at most 536 - 12 (timestamps) = 524 octets."""
    pair = established(config_b=config(mss=536))
    assert pair.wire.log[1].header.mss == 536
    assert pair.wire.log[0].header.mss == 1460
    assert pair.a.send_mss == 524
    assert pair.b.send_mss == 524  # the smaller of the two, both ways
    pair.a.send(bytes(10_000), pair.now)
    pair.wire.run_for(SECOND)
    sizes = [len(r.payload) for r in pair.wire.sent(AB) if r.payload]
    assert max(sizes) == 524
    assert sum(sizes) == 10_000
    assert pair.wire.received_b == bytes(10_000)


def test_no_mss_option_means_536_rfc9293_3_7_1() -> None:
    """ "If an MSS Option is not received at connection setup, TCP implementations MUST assume a default
    send MSS of 536 (576 - 40)."""
    pair = syn_sent(options=False)
    a = pair.a
    a.take_outbox()
    deliver(a, segment(seq=300, ack=101, flags=SYN | ACK), 1)
    assert a.state is TcpState.ESTABLISHED
    assert a.send_mss == 536
    a.send(bytes(2000), 2)
    assert [len(p) for _h, p in a.take_outbox() if p] == [536, 536, 536]
    assert a.unsent == 392  # (Nagle: the partial segment waits for an ACK)


def test_syn_carries_mss_sack_permitted_timestamps_and_window_scale_rfc9293_3_7_1_rfc7323() -> None:
    """What the active SYN offers, in Linux's order: MSS, SACK-permitted, timestamps, NOP, window scale."""
    pair = syn_sent()
    ((syn, payload),) = pair.a.take_outbox()
    kinds = [option.kind for option in syn.options]
    assert kinds == [
        TcpOptionKind.MSS,
        TcpOptionKind.SACK_PERMITTED,
        TcpOptionKind.TIMESTAMPS,
        TcpOptionKind.NOP,
        TcpOptionKind.WINDOW_SCALE,
    ]
    assert (syn.flags, syn.seq, syn.ack, payload) == (SYN, 100, 0, b"")
