"""Fixture builders and a byte-level wire for the TCP state-machine tests.

As smoltcp's socket tests: every test starts from a builder that puts one connection (or a pair) in a
named state — ``established()``, ``fin_wait_1()`` … — and then drives it with explicit segments and an
explicit clock. Nothing here sleeps, opens a socket or reads a wall clock.

Two connections, A (the client, 10.0.0.1:40000, ISS 100) and B (the server, 10.0.0.2:80, ISS 300),
talk over a :class:`Wire`. The numbers are RFC 9293's own (figure 7: ``<SEQ=100><CTL=SYN>``), so the
ladders in the tests read like the RFC's figures. The wire moves every segment **as bytes**:
``TcpHeader.emit`` with the sender's addresses, then ``TcpHeader.parse`` (checksum verified) at the
receiver, so nothing the TCB puts in a header can survive unless it fits the real format (32-bit
sequence numbers, 16-bit windows, option lengths).

Scripted faults are rules matched against each segment as it leaves its sender: ``lose``,
``duplicate`` and ``hold`` (kept aside until :meth:`Wire.release` — that is how segments are reordered).
Every segment that left a sender is in :attr:`Wire.log`, lost or not.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any, Final, TypedDict

from wirelab.stack.tcp.config import TcpConfig
from wirelab.stack.tcp.connection import TcpConnection, TcpEvent
from wirelab.wire.tcp import TcpFlags, TcpHeader, TcpOption

A_END: Final = (IPv4Address("10.0.0.1"), 40000)
B_END: Final = (IPv4Address("10.0.0.2"), 80)
ISS_A: Final = 100
ISS_B: Final = 300
AB: Final = "A->B"
BA: Final = "B->A"
MASK: Final = 0xFFFFFFFF
_FLAG_ORDER: Final = (TcpFlags.SYN, TcpFlags.FIN, TcpFlags.RST, TcpFlags.PSH, TcpFlags.ACK)


class Ports(TypedDict):
    """``segment(**ports)``: the source and destination ports of a hand-built segment."""

    src_port: int
    dst_port: int


FROM_A: Final = Ports(src_port=A_END[1], dst_port=B_END[1])
FROM_B: Final = Ports(src_port=B_END[1], dst_port=A_END[1])


def ports_to(connection: TcpConnection) -> Ports:
    """The ports of a segment from ``connection``'s peer to it."""
    return Ports(src_port=connection.remote[1], dst_port=connection.local[1])


def flag_names(flags: TcpFlags) -> str:
    """``SYN,ACK`` — the flags in a fixed order, for ladders that read like tcpdump."""
    return ",".join(str(flag.name) for flag in _FLAG_ORDER if flags & flag)


def config(options: bool = True, **changes: Any) -> TcpConfig:
    """The default configuration; ``options=False`` turns off window scaling, timestamps and SACK."""
    base = TcpConfig()
    if not options:
        base = base.with_changes(window_scaling=False, timestamps=False, sack=False)
    return base.with_changes(**changes) if changes else base


def segment(
    *,
    seq: int,
    ack: int = 0,
    flags: TcpFlags = TcpFlags.ACK,
    payload: bytes = b"",
    window: int = 0xFFFF,
    options: tuple[TcpOption, ...] = (),
    src_port: int = B_END[1],
    dst_port: int = A_END[1],
) -> tuple[TcpHeader, bytes]:
    """A segment built by hand. ``seq`` and ``ack`` may be unwrapped: they are reduced to 32 bits.
    The default ports are B's to A's; pass ``src_port``/``dst_port`` for the other direction."""
    header = TcpHeader(src_port, dst_port, seq & MASK, ack & MASK, flags, window, options=options)
    return header, payload


def _through_bytes(header: TcpHeader, payload: bytes, src: IPv4Address, dst: IPv4Address) -> tuple[TcpHeader, bytes]:
    raw = header.emit(payload, src, dst)
    return TcpHeader.parse(raw, src, dst)


def deliver(connection: TcpConnection, built: tuple[TcpHeader, bytes], now: int) -> None:
    """Hand a segment built by :func:`segment` to ``connection``, through emit and parse."""
    header, payload = built
    src, dst = connection.remote[0], connection.local[0]
    connection.segment_arrives(*_through_bytes(header, payload, src, dst), now)


def payload_of(outbox: list[tuple[TcpHeader, bytes]]) -> bytes:
    return b"".join(payload for _header, payload in outbox)


@dataclass(frozen=True, slots=True)
class Record:
    """One segment as it left its sender (``at``), and what became of it."""

    at: int
    direction: str
    header: TcpHeader
    payload: bytes
    fate: str  # "sent", "lost", "held", "duplicated"

    @property
    def flags(self) -> str:
        return flag_names(self.header.flags)

    @property
    def length(self) -> int:
        """SEG.LEN: the octets of data plus one for SYN and one for FIN (RFC 9293 §3.4)."""
        return len(self.payload) + self.header.segment_length

    def rung(self) -> tuple[str, str, int, int, int]:
        """(direction, flags, seq, ack, len): one rung of a ladder diagram."""
        return (self.direction, self.flags, self.header.seq, self.header.ack, self.length)


Match = Callable[[TcpHeader, bytes], bool]
_FATES: Final = {"lose": "lost", "duplicate": "duplicated", "hold": "held"}


@dataclass
class _Rule:
    action: str
    direction: str
    match: Match
    remaining: int | None  # None: for ever


@dataclass
class Clock:
    """Virtual time in nanoseconds; it moves only when a test (or :meth:`Wire.run`) moves it."""

    now: int = 0

    def advance(self, duration: int) -> int:
        self.now += duration
        return self.now


@dataclass
class Wire:
    """Carries segments between A and B through real bytes, with a one-way ``delay`` and scripted faults.

    If B does not exist yet and ``listen`` is set, the first SYN from A creates it with
    :meth:`TcpConnection.accept_syn` — the listener's part, which the endpoint plays in the stack.
    """

    a: TcpConnection
    b: TcpConnection | None
    clock: Clock
    delay: int = 0
    listen: TcpConfig | None = None
    iss_b: int = ISS_B
    tracer_b: Callable[[int, str, dict[str, Any]], None] | None = None
    read_a: bool = True  # the applications read everything at once (turn off to let a window fill)
    read_b: bool = True
    received_a: bytearray = field(default_factory=bytearray)
    received_b: bytearray = field(default_factory=bytearray)
    events_a: list[TcpEvent] = field(default_factory=list)
    events_b: list[TcpEvent] = field(default_factory=list)
    log: list[Record] = field(default_factory=list)
    _rules: list[_Rule] = field(default_factory=list)
    _queue: list[tuple[int, int, str, bytes, int]] = field(default_factory=list)  # (at, order, dir, raw, log#)
    _held: list[tuple[str, bytes, int]] = field(default_factory=list)
    _order: int = 0

    # -- faults -----------------------------------------------------------------------------------
    def lose(self, direction: str, match: Match | None = None, count: int | None = 1) -> None:
        """Lose the next ``count`` segments going ``direction`` that ``match`` (None: for ever)."""
        self._rules.append(_Rule("lose", direction, match or _any, count))

    def duplicate(self, direction: str, match: Match | None = None, count: int | None = 1) -> None:
        self._rules.append(_Rule("duplicate", direction, match or _any, count))

    def hold(self, direction: str, match: Match | None = None, count: int | None = 1) -> None:
        """Keep matching segments aside; :meth:`release` sends them after everything queued: reordering."""
        self._rules.append(_Rule("hold", direction, match or _any, count))

    def clear_faults(self) -> None:
        self._rules.clear()

    def release(self) -> None:
        held, self._held = self._held, []
        for direction, raw, index in held:
            self._enqueue(direction, raw, index)

    # -- moving segments --------------------------------------------------------------------------
    def _ends(self, direction: str) -> tuple[IPv4Address, IPv4Address]:
        return (A_END[0], B_END[0]) if direction == AB else (B_END[0], A_END[0])

    def _enqueue(self, direction: str, raw: bytes, index: int) -> None:
        self._order += 1
        heapq.heappush(self._queue, (self.clock.now + self.delay, self._order, direction, raw, index))

    def flush(self) -> None:
        """Let the applications read, then take both outboxes (A's first) and put every segment on the
        wire, applying the faults. (Reading first: a read may send a window update.)"""
        self._collect()
        outgoing = [(AB, self.a.take_outbox())]
        if self.b is not None:
            outgoing.append((BA, self.b.take_outbox()))
        for direction, outbox in outgoing:
            for header, payload in outbox:
                self._put(direction, header, payload)

    def _put(self, direction: str, header: TcpHeader, payload: bytes) -> None:
        src, dst = self._ends(direction)
        raw = header.emit(payload, src, dst)
        fate = "sent"
        for rule in self._rules:
            if rule.direction != direction or not rule.match(header, payload):
                continue
            fate = _FATES[rule.action]
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
            break
        index = len(self.log)
        self.log.append(Record(self.clock.now, direction, header, payload, fate))
        if fate == "lost":
            return
        if fate == "held":
            self._held.append((direction, raw, index))
            return
        self._enqueue(direction, raw, index)
        if fate == "duplicated":
            self._enqueue(direction, raw, index)

    def _collect(self) -> None:
        """The applications: read what arrived (when reading) and keep the events."""
        self.events_a += self.a.take_events()
        if self.read_a:
            self.received_a += self.a.receive(1 << 30, self.clock.now)
        if self.b is not None:
            self.events_b += self.b.take_events()
            if self.read_b:
                self.received_b += self.b.receive(1 << 30, self.clock.now)

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    def step(self) -> Record:
        """Put the outboxes on the wire, then deliver the next segment (moving the clock to its arrival);
        returns its record. What the receiver answers stays in its outbox until the next flush."""
        self.flush()
        if not self._queue:
            raise AssertionError("nothing on the wire")
        at, _order, direction, raw, index = heapq.heappop(self._queue)
        self.clock.now = max(self.clock.now, at)
        src, dst = self._ends(direction)
        header, payload = TcpHeader.parse(raw, src, dst)
        record = self.log[index]
        if direction == AB:
            if self.b is None:
                if self.listen is not None and header.flags & TcpFlags.SYN and not header.flags & TcpFlags.ACK:
                    self.b = TcpConnection.accept_syn(
                        B_END,
                        A_END,
                        header,
                        iss=self.iss_b,
                        now=self.clock.now,
                        config=self.listen,
                        tracer=self.tracer_b,
                    )
            else:
                self.b.segment_arrives(header, payload, self.clock.now)
        else:
            self.a.segment_arrives(header, payload, self.clock.now)
        self._collect()  # the answer stays in the outbox: faults scripted now still apply to it
        return record

    def settle(self, limit: int = 100_000) -> None:
        """Deliver everything on the wire, and what it provokes, without firing any timer early."""
        for _ in range(limit):
            self.flush()
            if not self._queue:
                return
            timer = self._next_timer()
            if self.delay and timer is not None and timer < self._queue[0][0]:
                self._fire(timer)
            else:
                self.step()
        raise AssertionError("the wire never went quiet")

    def _next_timer(self) -> int | None:
        deadlines = [c.poll_at() for c in (self.a, self.b) if c is not None]
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def _fire(self, when: int) -> None:
        self.clock.now = max(self.clock.now, when)
        for connection in (self.a, self.b):
            if connection is None:
                continue
            deadline = connection.poll_at()
            if deadline is not None and deadline <= self.clock.now:
                connection.poll(self.clock.now)
        self.flush()

    def run(self, until: int, limit: int = 1_000_000) -> None:
        """Advance virtual time to ``until``: deliveries and timers in time order (deliveries first on a
        tie), then leave the clock at ``until``."""
        for _ in range(limit):
            self.flush()
            delivery = self._queue[0][0] if self._queue else None
            timer = self._next_timer()
            if delivery is not None and delivery <= until and (timer is None or delivery <= timer):
                self.step()
            elif timer is not None and timer <= until:
                self._fire(timer)
            else:
                self.clock.now = max(self.clock.now, until)
                return
        raise AssertionError("run() did not converge: a timer that never clears?")

    def run_for(self, duration: int) -> None:
        self.run(self.clock.now + duration)

    # -- views ------------------------------------------------------------------------------------
    def sent(self, direction: str, since: int = 0) -> list[Record]:
        return [r for r in self.log[since:] if r.direction == direction]

    def ladder(self, since: int = 0) -> list[tuple[str, str, int, int, int]]:
        return [r.rung() for r in self.log[since:]]


def _any(_header: TcpHeader, _payload: bytes) -> bool:
    return True


@dataclass
class Pair:
    """Two connected TCBs (or a client and a listener), their wire and clock, and what they traced."""

    wire: Wire
    trace_a: list[tuple[int, str, dict[str, Any]]]
    trace_b: list[tuple[int, str, dict[str, Any]]]

    @property
    def a(self) -> TcpConnection:
        return self.wire.a

    @property
    def b(self) -> TcpConnection:
        if self.wire.b is None:
            raise AssertionError("B has no TCB yet (still LISTEN)")
        return self.wire.b

    @property
    def clock(self) -> Clock:
        return self.wire.clock

    @property
    def now(self) -> int:
        return self.wire.clock.now

    def states(self) -> tuple[str, str]:
        """Both states in the RFC's spelling; B is LISTEN until a SYN creates its TCB."""
        b = self.wire.b
        return str(self.a.state), "LISTEN" if b is None else str(b.state)

    def transitions(self, side: str) -> list[tuple[str, str]]:
        trace = self.trace_a if side == "A" else self.trace_b
        return [(fields["old"], fields["new"]) for _now, kind, fields in trace if kind == "tcp.state"]


def _recorder(into: list[tuple[int, str, dict[str, Any]]]) -> Callable[[int, str, dict[str, Any]], None]:
    def record(now: int, kind: str, fields: dict[str, Any]) -> None:
        into.append((now, kind, dict(fields)))

    return record


def syn_sent(
    *,
    options: bool = True,
    config_a: TcpConfig | None = None,
    config_b: TcpConfig | None = None,
    iss_a: int = ISS_A,
    iss_b: int = ISS_B,
    delay: int = 0,
    start: int = 0,
) -> Pair:
    """A has sent its SYN (in its outbox, not yet on the wire); B listens."""
    trace_a: list[tuple[int, str, dict[str, Any]]] = []
    trace_b: list[tuple[int, str, dict[str, Any]]] = []
    clock = Clock(start)
    a = TcpConnection.connect(
        A_END, B_END, iss=iss_a, now=start, config=config_a or config(options), tracer=_recorder(trace_a)
    )
    wire = Wire(
        a, None, clock, delay=delay, listen=config_b or config(options), iss_b=iss_b, tracer_b=_recorder(trace_b)
    )
    return Pair(wire, trace_a, trace_b)


def syn_received(**kwargs: Any) -> Pair:
    """A's SYN has reached B: B is in SYN-RECEIVED, its SYN-ACK in its outbox; A is in SYN-SENT."""
    pair = syn_sent(**kwargs)
    pair.wire.step()
    assert pair.states() == ("SYN-SENT", "SYN-RECEIVED")
    return pair


def established(**kwargs: Any) -> Pair:
    """The three-way handshake done, the wire empty, both ESTABLISHED."""
    pair = syn_sent(**kwargs)
    pair.wire.settle()
    assert pair.states() == ("ESTABLISHED", "ESTABLISHED"), pair.states()
    pair.wire.events_a.clear()
    pair.wire.events_b.clear()
    return pair


def fin_wait_1(**kwargs: Any) -> Pair:
    """A has closed: its FIN is in its outbox; A in FIN-WAIT-1, B still ESTABLISHED."""
    pair = established(**kwargs)
    pair.a.close(pair.now)
    assert pair.states() == ("FIN-WAIT-1", "ESTABLISHED")
    return pair


def fin_wait_2(**kwargs: Any) -> Pair:
    """A's FIN is acknowledged: A in FIN-WAIT-2, B in CLOSE-WAIT."""
    pair = fin_wait_1(**kwargs)
    pair.wire.settle()
    assert pair.states() == ("FIN-WAIT-2", "CLOSE-WAIT")
    return pair


def close_wait(**kwargs: Any) -> Pair:
    """The same instant seen from B: B in CLOSE-WAIT (A in FIN-WAIT-2)."""
    return fin_wait_2(**kwargs)


def last_ack(**kwargs: Any) -> Pair:
    """B has closed too: B in LAST-ACK, its FIN in its outbox; A in FIN-WAIT-2."""
    pair = close_wait(**kwargs)
    pair.b.close(pair.now)
    assert pair.states() == ("FIN-WAIT-2", "LAST-ACK")
    return pair


def time_wait(**kwargs: Any) -> Pair:
    """The FINs exchanged and acknowledged: A in TIME-WAIT, B CLOSED."""
    pair = last_ack(**kwargs)
    pair.wire.settle()
    assert pair.states() == ("TIME-WAIT", "CLOSED")
    return pair


def closing(**kwargs: Any) -> Pair:
    """Simultaneous close, the FINs crossed: both in CLOSING, the ACKs of the FINs not yet delivered."""
    pair = established(**kwargs)
    pair.a.close(pair.now)
    pair.b.close(pair.now)
    pair.wire.flush()
    pair.wire.step()  # A's FIN reaches B (FIN-WAIT-1): B -> CLOSING
    pair.wire.step()  # B's FIN reaches A: A -> CLOSING
    assert pair.states() == ("CLOSING", "CLOSING"), pair.states()
    return pair
