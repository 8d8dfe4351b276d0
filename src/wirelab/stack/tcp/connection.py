"""One TCP connection: the TCB and its state machine (RFC 9293 §3.10), sans-IO.

Segments come in through :meth:`TcpConnection.segment_arrives` with ``now``; the application calls
:meth:`send`, :meth:`receive`, :meth:`close` (half-close: FIN after every queued octet) and
:meth:`abort`; the runtime calls :meth:`poll` at :meth:`poll_at`. What the connection wants sent
appears in :attr:`outbox` as ``(TcpHeader, payload)`` pairs; what the application should learn
appears in :attr:`events`.

Sequence numbers. On the wire they are 32-bit and wrap (:mod:`wirelab.wire.seqnum`); inside the TCB
they are *unwrapped*: plain integers that keep growing past 2**32. Each arriving SEG.SEQ / SEG.ACK is
unwrapped next to RCV.NXT / SND.UNA with the signed 32-bit distance (:func:`seq_delta`), so every rule
below reads with ordinary ``<`` and ``<=`` and wraparound cannot bite.

Transitions go through one choke point, :meth:`_set_state`, which traces ``old -> new`` with the
segment that caused it.

Sending follows BSD: SND.NXT is where the next segment goes and may be pulled back to SND.UNA after a
retransmission timeout (go-back-N); SND.MAX is the highest sequence number ever sent, and is what an
ACK may acknowledge.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address
from itertools import accumulate
from operator import itemgetter, sub
from typing import Any, Final

from wirelab.stack.tcp.config import TcpConfig
from wirelab.stack.tcp.congestion import CongestionControl, NewReno
from wirelab.stack.tcp.out_of_order import OutOfOrderQueue
from wirelab.stack.tcp.state import TcpState
from wirelab.trace import Phrase
from wirelab.wire.seqnum import seq_delta
from wirelab.wire.tcp import (
    NOP,
    SACK_PERMITTED,
    MaxSegmentSize,
    Sack,
    TcpFlags,
    TcpHeader,
    TcpOption,
    Timestamps,
    WindowScale,
)

MASK: Final = 0xFFFFFFFF
# Flags as plain ints: ``int & IntFlag`` goes through the enum's Python-level operators on every test.
SYN: Final = int(TcpFlags.SYN)
ACK: Final = int(TcpFlags.ACK)
FIN: Final = int(TcpFlags.FIN)
RST: Final = int(TcpFlags.RST)
PSH: Final = int(TcpFlags.PSH)
URG: Final = int(TcpFlags.URG)
DEFAULT_PEER_MSS: Final = 536  # RFC 9293 §3.7.1: assume 536 when the SYN carried no MSS option
TIMESTAMP_OPTION_LEN: Final = 12  # NOP, NOP, kind 8 (10 octets)
_GSO_HEADROOM: Final = 20 + 60  # an IPv4 header and the largest TCP header: what a TSO packet's payload leaves
MAX_WINDOW_SHIFT: Final = 14  # RFC 7323 §2.3
DUPACK_THRESHOLD: Final = 3  # RFC 5681 §3.2
Endpoint = tuple[IPv4Address, int]
# States as module constants (an enum member read through its class costs an attribute lookup), and
# the sets the hot paths test.
_CLOSED: Final = TcpState.CLOSED
_SYN_SENT: Final = TcpState.SYN_SENT
_ESTABLISHED: Final = TcpState.ESTABLISHED
_TIME_WAIT: Final = TcpState.TIME_WAIT
_NOT_SYNCHRONIZED: Final = frozenset((TcpState.CLOSED, TcpState.LISTEN, TcpState.SYN_SENT, TcpState.SYN_RECEIVED))
_NO_DATA_OUT: Final = _NOT_SYNCHRONIZED | {TcpState.TIME_WAIT}  # what _transmit sends no data in
_HALF: Final = 1 << 31
_MODULUS: Final = 1 << 32


class TcpEventKind(enum.Enum):
    CONNECTED = "connected"  # the handshake completed
    DATA = "data"  # octets are ready to read
    EOF = "eof"  # the peer sent FIN: no more data will come
    SENT = "sent"  # send buffer space opened
    CLOSED = "closed"  # the connection is gone (normally or not: see error)
    ERROR = "error"  # ECONNREFUSED, ECONNRESET, ETIMEDOUT


@dataclass(frozen=True, slots=True)
class TcpEvent:
    kind: TcpEventKind
    error: str | None = None


# The events without an error, made once: immutable values, and a bulk transfer raises one per segment.
_CONNECTED: Final = TcpEvent(TcpEventKind.CONNECTED)
_DATA: Final = TcpEvent(TcpEventKind.DATA)
_EOF: Final = TcpEvent(TcpEventKind.EOF)
_SENT: Final = TcpEvent(TcpEventKind.SENT)
_new = tuple.__new__  # NamedTuple values built without their Python-level __new__ (every segment has two)


def _timestamps_of(options: tuple[TcpOption, ...]) -> Timestamps | None:
    """The timestamps option, found at once in the usual NOP, NOP, TS layout."""
    if len(options) == 3 and type(options[2]) is Timestamps:
        return options[2]
    for option in options:
        if type(option) is Timestamps:
            return option
    return None


_range_start = itemgetter(0)
_range_end = itemgetter(1)


def unwrap(wire: int, reference: int) -> int:
    """The unwrapped sequence number nearest ``reference`` whose low 32 bits are ``wire``."""
    return reference + seq_delta(wire, reference)


class TcpConnection:
    """A TCB. Create one with :meth:`connect` (active open) or :meth:`accept_syn` (passive)."""

    def __init__(
        self,
        local: Endpoint,
        remote: Endpoint,
        *,
        iss: int,
        now: int,
        config: TcpConfig | None = None,
        ts_offset: int = 0,
        tracer: Callable[[int, str, dict[str, Any]], None] | None = None,
        congestion: Callable[[int, int], CongestionControl] = NewReno,
    ) -> None:
        self.local = local
        self.remote = remote
        self.config = config or TcpConfig()
        self.state = TcpState.CLOSED
        self.tracer = tracer
        self.created = now
        # -- send sequence space (RFC 9293 §3.3.1), unwrapped ----------------------------------------
        self.iss = iss
        self.snd_una = iss
        self.snd_nxt = iss
        self.snd_max = iss
        self.snd_wnd = 0
        self.snd_wl1 = 0
        self.snd_wl2 = iss
        self.max_snd_wnd = 0
        self._send = bytearray()  # octets from SND.UNA (or ISS+1) on: unacknowledged, then unsent
        self._send_start = iss + 1  # sequence number of _send[0]
        self._fin_queued = False
        self._fin_seq: int | None = None  # where our FIN sits, once the application closed
        # -- receive sequence space -------------------------------------------------------------------
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_adv = 0  # right edge of the window we advertised: never moved left (RFC 9293 §3.8.6.2.2)
        self._recv = bytearray()  # in order, for the application
        self._out_of_order = OutOfOrderQueue()  # octets beyond a hole, as merged blocks
        self._out_of_order_fin: int | None = None
        self.fin_received = False
        # -- options (negotiated on the SYNs) ---------------------------------------------------------
        self.peer_mss = DEFAULT_PEER_MSS
        self.rcv_wscale = self._window_shift(self.config.receive_buffer) if self.config.window_scaling else 0
        self.snd_wscale = 0
        self.window_scaling = False
        self.timestamps = False
        self.sack = False
        self.ts_recent = 0
        self.ts_offset = ts_offset
        self.last_ack_sent = 0
        self.nagle = self.config.nagle
        # Segmentation offload (TSO): the largest IPv4 packet the route's device cuts into MSS-sized segments
        # itself, 0 when it cannot (set by the way out from the route, as Linux's sk_setup_caps sets
        # sk_gso_max_size from the route's device). New data may then leave as one segment of several
        # MSS (tcp_write_xmit's tso_segs); windows, counters and retransmissions stay in MSS units.
        self.gso_max_size = 0
        # -- retransmission (RFC 6298) ----------------------------------------------------------------
        self.srtt: int | None = None
        self.rttvar = 0
        self.rto = self.config.rto_initial
        self.retries = 0
        self._timed_seq: int | None = None  # Karn: the one segment being timed without timestamps
        self._timed_at = 0
        # -- congestion control and loss recovery (RFC 5681, 6582, 6675) ------------------------------
        self.cc: CongestionControl = congestion(self.config.initial_window_segments * 1460, 1460)
        self._congestion_factory = congestion
        self.dupacks = 0
        self.in_recovery = False
        self.recover = iss
        self._high_rxt = iss  # highest octet retransmitted in this recovery
        self._sacked: list[list[int]] = []  # [start, end) ranges the peer holds above SND.UNA
        # Running totals of the ranges' sizes ([0, first, first + second, ...]), made when first asked
        # for after a change: recovery asks for the pipe several times per ACK over hundreds of ranges.
        self._sacked_sums: list[int] | None = None
        # -- timers: deadlines in ns, None when off ---------------------------------------------------
        self._rto_at: int | None = None
        self._persist_at: int | None = None
        self._persist_backoff = 0  # doublings of the probe interval
        self._persist_unanswered = 0  # probes sent since the last ACK: only silence gives up
        self._delack_at: int | None = None
        self._keepalive_at: int | None = None
        self._keepalive_sent = 0
        self._time_wait_at: int | None = None
        self._last_received = now
        self._ack_now = False
        self._unacked_octets = 0
        self._challenge_window_start = 0
        self._challenge_count = 0
        # -- outputs ------------------------------------------------------------------------------
        self.outbox: list[tuple[TcpHeader, bytes]] = []
        self.events: list[TcpEvent] = []
        self.error: str | None = None
        self.counters: dict[str, int] = {}
        self.listener: Any = None  # the listening socket that answered its SYN (the endpoint's business)

    # ------------------------------------------------------------------------------------------
    # the one transition choke point
    # ------------------------------------------------------------------------------------------
    def _set_state(self, new: TcpState, now: int, cause: Phrase, **fields: Any) -> None:
        old = self.state
        if old is new:
            return
        self.state = new
        self._trace(now, "tcp.state", old=str(old), new=str(new), cause=cause, **fields)
        if new is TcpState.TIME_WAIT:
            self._time_wait_at = now + 2 * self.config.msl
            self._rto_at = self._persist_at = self._keepalive_at = self._delack_at = None
        elif new is TcpState.CLOSED:
            self._rto_at = self._persist_at = self._keepalive_at = self._delack_at = self._time_wait_at = None
            self.events.append(TcpEvent(TcpEventKind.CLOSED, self.error))

    def _trace(self, now: int, kind: str, **fields: Any) -> None:
        if self.tracer is not None:
            self.tracer(now, kind, fields)

    def _count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    # ------------------------------------------------------------------------------------------
    # opening
    # ------------------------------------------------------------------------------------------
    @classmethod
    def connect(cls, local: Endpoint, remote: Endpoint, *, iss: int, now: int, **options: Any) -> TcpConnection:
        """Active OPEN (RFC 9293 §3.10.1): send SYN, enter SYN-SENT."""
        connection = cls(local, remote, iss=iss, now=now, **options)
        connection.snd_nxt = connection.snd_max = iss + 1
        connection._set_state(TcpState.SYN_SENT, now, Phrase("tcp-cause.active-open"))
        connection._send_syn(now, ack=False)
        return connection

    @classmethod
    def accept_syn(
        cls, local: Endpoint, remote: Endpoint, syn: TcpHeader, *, iss: int, now: int, **options: Any
    ) -> TcpConnection:
        """A SYN reached a LISTEN socket (RFC 9293 §3.10.7.2): answer SYN-ACK, enter SYN-RECEIVED."""
        connection = cls(local, remote, iss=iss, now=now, **options)
        connection._take_syn(syn, now)
        connection.snd_nxt = connection.snd_max = iss + 1
        connection._set_state(
            TcpState.SYN_RECEIVED,
            now,
            Phrase("tcp-cause.syn-in-listen"),
            seq=syn.seq,
            ack_value=(syn.seq + 1) & MASK,
        )
        connection._send_syn(now, ack=True)
        return connection

    def _take_syn(self, syn: TcpHeader, now: int) -> None:
        """Record the peer's ISN and options from its SYN (RFC 7323 §2.2, RFC 2018 §2)."""
        self.irs = syn.seq
        self.rcv_nxt = syn.seq + 1
        self.rcv_adv = self.rcv_nxt
        self.snd_wnd = syn.window  # never scaled in a SYN (RFC 7323 §2.2)
        self.max_snd_wnd = max(self.max_snd_wnd, self.snd_wnd)
        self.snd_wl1 = syn.seq
        mss = syn.mss
        self.peer_mss = mss if mss else DEFAULT_PEER_MSS
        shift = syn.window_scale
        if self.config.window_scaling and shift is not None:
            self.window_scaling = True
            self.snd_wscale = min(shift, MAX_WINDOW_SHIFT)  # RFC 7323 §2.3: use 14 if larger
        else:
            self.rcv_wscale = 0
        timestamps = syn.timestamps
        if self.config.timestamps and timestamps is not None:
            self.timestamps = True
            self.ts_recent = timestamps.tsval
        self.sack = self.config.sack and syn.sack_permitted
        mss_send = self.send_mss
        self.cc = self._congestion_factory(self.config.initial_window_segments * mss_send, mss_send)

    def _send_syn(self, now: int, *, ack: bool) -> None:
        options: list[TcpOption] = [MaxSegmentSize(self.config.mss)]
        offering = self.state is TcpState.SYN_SENT
        if self.config.sack and (offering or self.sack):
            options.append(SACK_PERMITTED)
        if self.config.timestamps and (offering or self.timestamps):
            options.append(Timestamps(self._tsval(now), self.ts_recent if ack else 0))
        if self.config.window_scaling and (offering or self.window_scaling):
            options += [NOP, WindowScale(self.rcv_wscale)]
        flags = SYN | ACK if ack else SYN
        window = min(self.config.receive_buffer, 0xFFFF)  # the window in a SYN is not scaled
        header = TcpHeader(
            self.local[1],
            self.remote[1],
            self.iss & MASK,
            self.rcv_nxt & MASK if ack else 0,
            flags,
            window,
            options=tuple(options),
        )
        if ack:
            self.rcv_adv = self.rcv_nxt + window
            self.last_ack_sent = self.rcv_nxt
        self.outbox.append((header, b""))
        self._count("tx.syn")
        if self._rto_at is None:
            self._rto_at = now + self.rto

    # ------------------------------------------------------------------------------------------
    # the application's calls
    # ------------------------------------------------------------------------------------------
    def send(self, data: bytes, now: int) -> int:
        """Queue ``data``; returns how many octets fit in the send buffer (0 when it is full)."""
        if not self.state.can_send_data and self.state not in (TcpState.SYN_SENT, TcpState.SYN_RECEIVED):
            raise ConnectionError("EPIPE" if self._fin_queued or self.state is not TcpState.CLOSED else "ENOTCONN")
        if self._fin_queued:
            raise ConnectionError("EPIPE")
        room = self.config.send_buffer - len(self._send)
        taken = data[: max(room, 0)]
        self._send += taken
        if taken:
            self._transmit(now)
        return len(taken)

    def receive(self, limit: int, now: int) -> bytes:
        """Take up to ``limit`` octets the peer sent, in order."""
        data = bytes(self._recv[:limit])
        del self._recv[:limit]
        # Opening the window: tell the peer once the increase is worth it (RFC 9293 §3.8.6.2.2).
        if data and self.state not in _NOT_SYNCHRONIZED and self._window_update_worth_it():
            self._ack_now = True
            self._transmit(now)
        return data

    def close(self, now: int) -> None:
        """CLOSE (RFC 9293 §3.10.4): FIN after every queued octet; receiving goes on (half-close)."""
        state = self.state
        if state in (TcpState.CLOSED, TcpState.LISTEN, TcpState.SYN_SENT):
            self._set_state(TcpState.CLOSED, now, Phrase("tcp-cause.close-before-established"))
            return
        if self._fin_queued:
            return
        self._fin_queued = True
        if state in (TcpState.SYN_RECEIVED, TcpState.ESTABLISHED):
            self._set_state(TcpState.FIN_WAIT_1, now, Phrase("tcp-cause.app-close"))
        elif state is TcpState.CLOSE_WAIT:
            self._set_state(TcpState.LAST_ACK, now, Phrase("tcp-cause.app-close-after-fin"))
        self._transmit(now)

    def abort(self, now: int, error: str | None = None) -> None:
        """ABORT (RFC 9293 §3.10.5): send RST where the peer may still send (SYN-RECEIVED, ESTABLISHED,
        FIN-WAIT-1/2, CLOSE-WAIT) — not in CLOSING, LAST-ACK or TIME-WAIT — and forget everything."""
        if self.state in (
            TcpState.SYN_RECEIVED,
            TcpState.ESTABLISHED,
            TcpState.FIN_WAIT_1,
            TcpState.FIN_WAIT_2,
            TcpState.CLOSE_WAIT,
        ):
            header = TcpHeader(self.local[1], self.remote[1], self.snd_nxt & MASK, 0, RST)
            self.outbox.append((header, b""))
            self._count("tx.rst")
        self.error = error
        if error is not None:
            self.events.append(TcpEvent(TcpEventKind.ERROR, error))
        self._send.clear()
        self._set_state(TcpState.CLOSED, now, Phrase("tcp-cause.aborted", error=error or "-"))

    @property
    def readable(self) -> int:
        return len(self._recv)

    @property
    def eof(self) -> bool:
        """The peer's FIN has arrived and every octet before it was read."""
        return self.fin_received and not self._recv

    @property
    def send_space(self) -> int:
        return max(self.config.send_buffer - len(self._send), 0)

    @property
    def unsent(self) -> int:
        return self._send_start + len(self._send) - self.snd_nxt if self.state.synchronized else len(self._send)

    @property
    def send_queue(self) -> int:
        """Octets queued and not yet acknowledged (what ``ss`` shows as Send-Q)."""
        return len(self._send)

    # ------------------------------------------------------------------------------------------
    # derived values
    # ------------------------------------------------------------------------------------------
    @property
    def send_mss(self) -> int:
        """The effective send MSS (RFC 9293 §3.7.1): the peer's MSS and ours, less the timestamps."""
        mss = min(self.peer_mss, self.config.mss)
        return mss - TIMESTAMP_OPTION_LEN if self.timestamps else mss

    @property
    def flight(self) -> int:
        return self.snd_max - self.snd_una

    @staticmethod
    def _window_shift(buffer: int) -> int:
        shift = 0
        while (buffer >> shift) > 0xFFFF and shift < MAX_WINDOW_SHIFT:
            shift += 1
        return shift

    def _tsval(self, now: int) -> int:
        return (now // 1_000_000 + self.ts_offset) & MASK  # a 1 ms timestamp clock (RFC 7323 §5.4)

    def _receive_window(self) -> int:
        # No more than the window field can say: without scaling, a 128 KiB buffer still offers 65535
        # (otherwise every read would look like a window worth announcing, and defeat delayed ACKs).
        return min(max(self.config.receive_buffer - len(self._recv), 0), 0xFFFF << self.rcv_wscale)

    def _window_update_worth_it(self) -> bool:
        """A read earns an ACK of its own only when the window it opens could matter to the sender: the
        opening is worth announcing (RFC 9293 §3.8.6.2.2) and what we advertised is down to half of what
        we can offer (as Linux's tcp_cleanup_rbuf). Otherwise the next ACK carries the new window anyway,
        and an application that reads promptly does not double the ACKs (RFC 1122 §4.2.3.2)."""
        advertised = self.rcv_adv - self.rcv_nxt
        possible = self._receive_window()
        threshold = min(self.config.receive_buffer // 2, self.config.mss)
        return possible - advertised >= threshold and 2 * advertised <= possible

    # ------------------------------------------------------------------------------------------
    # segment arrives (RFC 9293 §3.10.7)
    # ------------------------------------------------------------------------------------------
    def segment_arrives(self, segment: TcpHeader, payload: bytes, now: int) -> None:
        self._last_received = now
        self._keepalive_sent = 0
        state = self.state
        if state is _CLOSED:
            self._count("rx.closed")
            return
        if state is _SYN_SENT:
            self._syn_sent_arrives(segment, payload, now)
        elif state is not _ESTABLISHED or not self._predicted(segment, payload, now):
            self._synchronized_arrives(segment, payload, now)
        # Keepalive idles from the last segment received (RFC 1122 §4.2.3.6) — armed after the segment
        # is processed, so that the one completing the handshake starts it too.
        if self.config.keepalive and self.state.synchronized and self.state is not _TIME_WAIT:
            self._keepalive_at = now + self.config.keepalive_idle
        self._transmit(now)

    def _predicted(self, segment: TcpHeader, payload: bytes, now: int) -> bool:
        """Header prediction (Van Jacobson; RFC 7323 Appendix): the two common cases of a bulk transfer,
        handled without the general path — and with exactly its outcome.

        In ESTABLISHED, a segment with only ACK (and maybe PSH), at RCV.NXT, with the usual options (or
        none), the same window, and nothing being recovered, is either a pure ACK of new data or the next
        in-order data acknowledging nothing new. Anything else returns False and takes the general path.
        """
        _src_port, _dst_port, segment_seq, segment_ack, segment_flags, segment_window, _urgent, options, _reserved = (
            segment  # one unpack rather than an attribute lookup per field
        )
        flags = int(segment_flags)  # a TcpFlags: its & is the enum's, in Python
        if flags & (SYN | FIN | RST | URG) or not flags & ACK:
            return False
        if self.in_recovery or self._sacked or self._out_of_order.blocks or self._fin_seq is not None:
            return False
        timestamps: Timestamps | None = None
        if self.timestamps:
            if len(options) != 3 or type(options[2]) is not Timestamps:
                return False
            timestamps = options[2]
            if (timestamps.tsval - self.ts_recent) & MASK >= _HALF:  # seq_delta(tsval, TS.Recent) < 0
                return False  # PAWS: the general path drops it
        elif options:
            return False
        # SEG.SEQ must be RCV.NXT itself: unwrapped next to it, that is a distance of 0 (unwrap, inlined).
        rcv_nxt = self.rcv_nxt
        if segment_seq != rcv_nxt & MASK or segment_window << self.snd_wscale != self.snd_wnd:
            return False
        seq = rcv_nxt
        snd_una = self.snd_una
        delta = (segment_ack - snd_una) & MASK
        ack = snd_una + (delta - _MODULUS if delta >= _HALF else delta)  # unwrap(SEG.ACK, SND.UNA)
        if payload:
            if ack != snd_una or len(payload) > self.rcv_adv - rcv_nxt:
                return False
        elif not snd_una < ack <= self.snd_max:
            return False
        if timestamps is not None and seq <= self.last_ack_sent:
            self.ts_recent = timestamps.tsval  # RFC 7323 §4.3
        self.snd_wl1 = seq
        self.snd_wl2 = ack
        counters = self.counters
        counters["rx.predicted"] = counters.get("rx.predicted", 0) + 1  # _count, inlined
        if payload:
            self._accept_text(seq, payload, now)
        else:
            self._new_ack(segment, ack, now)
        return True

    def _syn_sent_arrives(self, segment: TcpHeader, payload: bytes, now: int) -> None:
        flags = int(segment.flags)
        ack = unwrap(segment.ack, self.snd_una) if flags & ACK else None
        # first: check the ACK — it must acknowledge our SYN and nothing beyond it.
        if ack is not None and (ack <= self.iss or ack > self.snd_max):
            if not flags & RST:
                self._send_reset(segment.ack, now, "unacceptable ACK in SYN-SENT")
            self._count("drop.syn-sent.bad-ack")
            return
        # second: a RST with an acceptable ACK means "connection refused".
        if flags & RST:
            if ack is not None:
                self.error = "ECONNREFUSED"
                self.events.append(TcpEvent(TcpEventKind.ERROR, "ECONNREFUSED"))
                self._set_state(TcpState.CLOSED, now, Phrase("tcp-cause.refused"))
            else:
                self._count("drop.syn-sent.rst-without-ack")
            return
        # fourth: the SYN.
        if not flags & SYN:
            self._count("drop.syn-sent.no-syn")
            return
        self._take_syn(segment, now)
        if ack is not None:
            self.snd_una = ack
            self._rto_at = None
            self.retries = 0
            self._sample_rtt_on_ack(segment, ack, now)
            self.snd_wl1 = self.rcv_nxt - 1
            self.snd_wl2 = ack
            self._set_state(
                TcpState.ESTABLISHED,
                now,
                Phrase("tcp-cause.syn-ack-received"),
                seq=segment.seq,
                ack_value=segment.ack,
            )
            self.events.append(_CONNECTED)
            self._ack_now = True
        else:
            # Simultaneous open (RFC 9293 §3.5, figure 8): answer SYN-ACK with our same ISS.
            self._rto_at = None
            self._set_state(TcpState.SYN_RECEIVED, now, Phrase("tcp-cause.simultaneous-open"), seq=segment.seq)
            self._send_syn(now, ack=True)
        if payload:
            self._accept_text(self.irs + 1, payload, now)

    def _acceptable(self, seq: int, length: int) -> bool:
        """RFC 9293 §3.10.7.4, first: the four cases of segment length and receive window."""
        window = self.rcv_adv - self.rcv_nxt
        if length == 0:
            if window == 0:
                return seq == self.rcv_nxt
            return self.rcv_nxt <= seq < self.rcv_nxt + window
        if window == 0:
            return False
        return self.rcv_nxt <= seq < self.rcv_nxt + window or self.rcv_nxt <= seq + length - 1 < self.rcv_nxt + window

    def _synchronized_arrives(self, segment: TcpHeader, payload: bytes, now: int) -> None:
        flags = int(segment.flags)
        seq = unwrap(segment.seq, self.rcv_nxt)
        length = len(payload) + bool(flags & SYN) + bool(flags & FIN)
        state = self.state

        # RFC 7323 §5.3 (PAWS): a timestamp older than TS.Recent marks an old duplicate.
        timestamps = _timestamps_of(segment.options) if self.timestamps else None
        if timestamps is not None and not flags & RST and seq_delta(timestamps.tsval, self.ts_recent) < 0:
            self._count("drop.paws")
            self._trace(now, "tcp.drop", reason="PAWS: timestamp older than the last one seen")
            self._ack_now = True
            return

        # The peer's SYN again, in SYN-RECEIVED (it lies just below RCV.NXT, so the window test would
        # drop it). Without an ACK it was retransmitted because our SYN-ACK was lost: answer SYN-ACK
        # again (RFC 9293 §3.5 figure 10). With an ACK of our SYN it is the other half of a simultaneous
        # open (§3.5 figure 8, line 6): its SYN is already counted in RCV.NXT, so what remains is an ACK.
        if state is TcpState.SYN_RECEIVED and flags & SYN and not flags & RST and seq & MASK == self.irs:
            if not flags & ACK:
                self._count("rx.syn.retransmitted")
                self._ack_now = False
                self.outbox.append(self._syn_ack_again(now))
                return
            flags &= ~SYN
            seq += 1
            length -= 1

        # first: is the segment in the window?
        if not self._acceptable(seq, length):
            self._count("drop.out-of-window")
            if state is TcpState.TIME_WAIT and flags & FIN:
                pass  # handled below (the peer retransmitted its FIN): fall through to re-ACK
            elif not flags & RST:
                self._ack_now = True  # "send an acknowledgment ... and drop the segment"
                self._trace(now, "tcp.drop", reason="outside the receive window: ACK and drop", seq=segment.seq)
                return
            else:
                return

        # second: RST (RFC 5961 §3.2): reset only on an exact match; in-window otherwise: challenge ACK.
        if flags & RST:
            if seq != self.rcv_nxt:
                self._challenge_ack(now, "RST in window but not at RCV.NXT")
                return
            self._count("rx.rst")
            if state is TcpState.SYN_RECEIVED:
                self.error = "ECONNREFUSED"
                self._set_state(TcpState.CLOSED, now, Phrase("tcp-cause.rst-in-syn-received"))
                return
            if state in (TcpState.CLOSING, TcpState.LAST_ACK, TcpState.TIME_WAIT):
                self._set_state(TcpState.CLOSED, now, Phrase("tcp-cause.rst-in-state", state=str(state)))
                return
            self.error = "ECONNRESET"
            self.events.append(TcpEvent(TcpEventKind.ERROR, "ECONNRESET"))
            self._send.clear()
            self._set_state(TcpState.CLOSED, now, Phrase("tcp-cause.reset"))
            return

        # fourth: SYN in a synchronized state (RFC 5961 §4): challenge ACK, whatever its number.
        if flags & SYN:
            self._challenge_ack(now, "SYN in a synchronized state")
            return

        # fifth: the ACK field.
        if not flags & ACK:
            self._count("drop.no-ack")
            return
        ack = unwrap(segment.ack, self.snd_una)
        if state is TcpState.SYN_RECEIVED:
            if self.snd_una < ack <= self.snd_max:
                self._set_state(
                    TcpState.ESTABLISHED,
                    now,
                    Phrase("tcp-cause.handshake-complete"),
                    ack_value=segment.ack,
                )
                self.events.append(_CONNECTED)
                self.snd_wl1 = seq
                self.snd_wl2 = ack
                self.snd_wnd = segment.window << self.snd_wscale
                self.max_snd_wnd = max(self.max_snd_wnd, self.snd_wnd)
                if self._fin_queued:
                    self._set_state(TcpState.FIN_WAIT_1, now, Phrase("tcp-cause.closed-during-handshake"))
            else:
                self._send_reset(segment.ack, now, "unacceptable ACK in SYN-RECEIVED")
                return
        # RFC 5961 §5: an ACK must lie in [SND.UNA - MAX.SND.WND, SND.MAX].
        if ack > self.snd_max or ack < self.snd_una - self.max_snd_wnd:
            self._count("drop.ack-out-of-range")
            self._challenge_ack(now, "ACK outside the acceptable range")
            return
        if timestamps is not None and seq <= self.last_ack_sent:
            self.ts_recent = timestamps.tsval  # RFC 7323 §4.3
        self._process_ack(segment, ack, seq, payload, now)
        if self.state is TcpState.CLOSED:
            return

        # seventh: segment text.
        if payload:
            if self.state.can_receive_data:
                self._accept_text(seq, payload, now)
            else:
                self._count("drop.text-after-fin")

        # eighth: FIN.
        if flags & FIN:
            fin_seq = seq + len(payload)
            if fin_seq == self.rcv_nxt and not self.fin_received:
                self._fin_arrives(now)
            elif self.fin_received and fin_seq + 1 == self.rcv_nxt:
                self._ack_now = True  # a retransmitted FIN: ACK again
                if self.state is TcpState.TIME_WAIT:
                    self._time_wait_at = now + 2 * self.config.msl
                    self._count("time-wait.fin-reacked")
                    self._trace(now, "tcp.time-wait.restart")
            elif fin_seq > self.rcv_nxt:
                self._out_of_order_fin = fin_seq

    def _syn_ack_again(self, now: int) -> tuple[TcpHeader, bytes]:
        self._send_syn(now, ack=True)
        return self.outbox.pop()

    def _process_ack(self, segment: TcpHeader, ack: int, seq: int, payload: bytes, now: int) -> None:
        state = self.state
        if state is TcpState.TIME_WAIT:
            return
        self._persist_unanswered = 0  # an acceptable ACK answers any window probe (RFC 1122 §4.2.2.17)
        window = segment.window << self.snd_wscale
        if self.sack and segment.options:
            self._update_scoreboard(segment, ack)
        if ack > self.snd_una:
            self._new_ack(segment, ack, now)
        elif (
            ack == self.snd_una
            and not payload
            and not int(segment.flags) & (SYN | FIN)
            and window == self.snd_wnd
            and self.snd_max > self.snd_una
        ):
            self._duplicate_ack(now)
        # The send window, updated only by a newer segment (RFC 9293 §3.10.7.4, SND.WL1/WL2).
        if self.snd_wl1 < seq or (self.snd_wl1 == seq and self.snd_wl2 <= ack):
            opened = window > self.snd_wnd
            self.snd_wnd = window
            self.snd_wl1 = seq
            self.snd_wl2 = ack
            self.max_snd_wnd = max(self.max_snd_wnd, window)
            if opened and window:
                self._persist_at = None
                self._persist_backoff = 0
        # Our FIN acknowledged?
        if self._fin_seq is not None and self.snd_una > self._fin_seq:
            if state is TcpState.FIN_WAIT_1:
                self._set_state(TcpState.FIN_WAIT_2, now, Phrase("tcp-cause.fin-acked-wait"))
            elif state is TcpState.CLOSING:
                self._set_state(TcpState.TIME_WAIT, now, Phrase("tcp-cause.fin-acked-time-wait"))
            elif state is TcpState.LAST_ACK:
                self._set_state(TcpState.CLOSED, now, Phrase("tcp-cause.fin-acked-closed"))

    def _new_ack(self, segment: TcpHeader, ack: int, now: int) -> None:
        acked = ack - self.snd_una
        data_end = self._send_start + len(self._send)
        # Drop acknowledged octets from the send buffer (the SYN and FIN are not in it).
        drop = min(ack, data_end) - self._send_start
        if drop > 0:
            del self._send[:drop]
            self._send_start += drop
            self.events.append(_SENT)
        self.snd_una = ack
        self.snd_nxt = max(self.snd_nxt, ack)
        sacked = self._sacked
        if sacked:
            # Sorted ranges that never touch: their ends are sorted too, so the ranges wholly below the ACK
            # are a prefix, and only the first range left can start below it.
            del sacked[: bisect.bisect_right(sacked, ack, key=_range_end)]
            if sacked and sacked[0][0] < ack:
                sacked[0][0] = ack
            self._sacked_sums = None
        self.retries = 0
        self._persist_backoff = 0
        self._sample_rtt_on_ack(segment, ack, now)
        mss = self.send_mss
        if self.in_recovery:
            if ack >= self.recover:
                self.in_recovery = False
                self.dupacks = 0
                self.cc.on_exit_recovery(self.flight, mss)
                self._trace(now, "tcp.recovery.exit", cwnd=self.cc.cwnd)
            # RFC 6582 partial ACK: the next hole is lost too; retransmit it at once. With SACK, only
            # a hole the scoreboard still shows and that was not resent yet (RFC 6675 NextSeg) — an
            # ACK that is merely late must not resend octets the receiver holds.
            elif not self.sack:
                self.cc.cwnd = max(self.cc.cwnd - acked + mss, mss)
                self._retransmit_first(now)
            else:
                hole = self._next_hole()
                if hole is not None and hole < self.snd_max:
                    self._send_range(hole, now, retransmission=True)
        else:
            self.dupacks = 0
            self.cc.on_ack(acked, mss)
        self._rto_at = now + self.rto if self.snd_max > self.snd_una else None

    def _duplicate_ack(self, now: int) -> None:
        self.dupacks += 1
        self._count("rx.dupack")
        mss = self.send_mss
        if self.in_recovery:
            if not self.sack:
                self.cc.cwnd += mss  # RFC 5681 §3.2 step 4: inflate for each segment that left
            return
        sacked = self._sacked_running_totals()[-1]
        if self.dupacks >= DUPACK_THRESHOLD or (self.sack and sacked >= DUPACK_THRESHOLD * mss):
            self._enter_recovery(now)

    def _enter_recovery(self, now: int) -> None:
        """Fast retransmit and fast recovery (RFC 5681 §3.2, RFC 6582, RFC 6675 §5)."""
        if self.snd_una < self.recover and self.recover != self.iss:
            return  # RFC 6582 §3.2 step 1: not again for losses of the same window
        mss = self.send_mss
        self.in_recovery = True
        self.recover = self.snd_max
        self._high_rxt = self.snd_una
        self.cc.on_enter_recovery(self.flight, mss)
        if not self.sack:
            self.cc.cwnd = self.cc.ssthresh + DUPACK_THRESHOLD * mss
        self._count("fast-retransmit")
        self._trace(now, "tcp.fast-retransmit", seq=self.snd_una & MASK, cwnd=self.cc.cwnd, ssthresh=self.cc.ssthresh)
        self._retransmit_first(now)

    def _retransmit_first(self, now: int) -> None:
        start = self._next_hole() if self.sack else self.snd_una
        if start is None:
            start = self.snd_una
        self._send_range(start, now, retransmission=True)

    # -- SACK scoreboard (RFC 2018 sender side, RFC 6675) -----------------------------------------
    def _update_scoreboard(self, segment: TcpHeader, ack: int) -> None:
        for left, right in segment.sack_blocks:
            start = unwrap(left, ack)
            end = unwrap(right, ack)
            if end <= ack or end <= start or end > self.snd_max:
                continue  # stale, inverted or impossible (RFC 2883 D-SACKs included): ignore
            self._add_sacked(max(start, ack), end)

    def _add_sacked(self, start: int, end: int) -> None:
        """Merge ``[start, end)`` into the sorted, disjoint scoreboard (only its neighbours can change)."""
        sacked = self._sacked
        first = bisect.bisect_left(sacked, [start])  # the first block starting at or after start
        if first and sacked[first - 1][1] >= start:
            first -= 1  # the block before overlaps or touches
        last = first
        while last < len(sacked) and sacked[last][0] <= end:
            last += 1
        if first < last:
            start = min(start, sacked[first][0])
            end = max(end, sacked[last - 1][1])
        sacked[first:last] = [[start, end]]
        self._sacked_sums = None

    def _sacked_running_totals(self) -> list[int]:
        sums = self._sacked_sums
        if sums is None:
            sacked = self._sacked
            sums = self._sacked_sums = [0, *accumulate(map(sub, map(_range_end, sacked), map(_range_start, sacked)))]
        return sums

    def _next_hole(self) -> int | None:
        """The first octet, at or above the retransmission mark, that is missing below a SACKed one."""
        sacked = self._sacked
        if not sacked:
            return None
        position = max(self.snd_una, self._high_rxt)
        # The ranges are sorted and never touch: only the last one starting at or below the position can
        # move it (to its end), and the next one then starts above it (bisect rather than a walk).
        after = bisect.bisect_right(sacked, position, key=_range_start)
        if after == len(sacked):
            return None
        if after:
            position = max(position, sacked[after - 1][1])
        return position

    def _pipe(self) -> int:
        """RFC 6675's estimate of octets in the network during recovery."""
        sacked = self._sacked
        if not sacked:
            return self.flight
        # pipe = flight - SACKed - holes + retransmitted, and holes = highest SACKed - SND.UNA - SACKed:
        # the SACKed octets cancel, leaving what lies above the highest SACKed octet plus what was
        # retransmitted, i.e. the holes' octets below HighRxt (and below the highest SACKed octet).
        highest = sacked[-1][1]
        snd_una = self.snd_una
        if sacked[0][0] < snd_una:  # a range from an old ACK below SND.UNA (until the next new ACK trims it)
            return self.snd_max - highest + self._holes_below_by_walk(self._high_rxt)
        limit = min(self._high_rxt, highest)
        if limit <= snd_una:
            return self.snd_max - highest
        below = bisect.bisect_left(sacked, limit, key=_range_start)  # ranges starting below the limit
        sacked_below = self._sacked_running_totals()[below]
        if below:
            sacked_below -= max(sacked[below - 1][1] - limit, 0)
        return self.snd_max - highest + (limit - snd_una - sacked_below)

    def _holes_below_by_walk(self, limit: int) -> int:
        retransmitted = 0
        mark = self.snd_una
        for start, end in self._sacked:
            if mark >= limit:
                break
            retransmitted += max(min(start, limit) - mark, 0)
            mark = end
        return retransmitted

    # -- receiving text ---------------------------------------------------------------------------
    def _accept_text(self, seq: int, payload: bytes, now: int) -> None:
        # Trim what we already have and what does not fit the window we advertised.
        if seq < self.rcv_nxt:
            payload = payload[self.rcv_nxt - seq :]
            seq = self.rcv_nxt
        room = self.rcv_adv - seq
        if len(payload) > room:
            payload = payload[: max(room, 0)]
        if not payload:
            self._ack_now = True
            return
        if seq == self.rcv_nxt:
            self._recv += payload
            self.rcv_nxt += len(payload)
            filled = bool(self._out_of_order.blocks) and self._drain_out_of_order()
            self.events.append(_DATA)
            self._unacked_octets += len(payload)
            if filled or self._unacked_octets >= 2 * (
                self.config.mss - (TIMESTAMP_OPTION_LEN if self.timestamps else 0)
            ):
                self._ack_now = True  # at least every second full segment, and at once when a hole fills
            elif self._delack_at is None:
                self._delack_at = now + self.config.delayed_ack
            if self._out_of_order_fin is not None and self._out_of_order_fin == self.rcv_nxt:
                self._out_of_order_fin = None
                self._fin_arrives(now)
        else:
            # Beyond a hole: keep it (bounded by the window) and ACK at once — a duplicate ACK with SACK.
            self._out_of_order.add(seq, payload)
            self._count("rx.out-of-order")
            self._ack_now = True

    def _drain_out_of_order(self) -> bool:
        """Move what the new data made contiguous into the receive buffer; True if a hole filled."""
        filled = False
        while (data := self._out_of_order.pop_ready(self.rcv_nxt)) is not None:
            self._recv += data
            self.rcv_nxt += len(data)
            filled = True
        return filled

    def _fin_arrives(self, now: int) -> None:
        """RFC 9293 §3.10.7.4, eighth: the FIN consumes one sequence number; tell the application EOF."""
        self.fin_received = True
        self.rcv_nxt += 1
        self._ack_now = True
        self.events.append(_EOF)
        state = self.state
        if state in (TcpState.SYN_RECEIVED, TcpState.ESTABLISHED):
            self._set_state(TcpState.CLOSE_WAIT, now, Phrase("tcp-cause.fin-received"))
        elif state is TcpState.FIN_WAIT_1:
            if self._fin_seq is not None and self.snd_una > self._fin_seq:
                self._set_state(TcpState.TIME_WAIT, now, Phrase("tcp-cause.fin-received-time-wait"))
            else:
                self._set_state(TcpState.CLOSING, now, Phrase("tcp-cause.simultaneous-close"))
        elif state is TcpState.FIN_WAIT_2:
            self._set_state(TcpState.TIME_WAIT, now, Phrase("tcp-cause.peer-fin-time-wait"))

    # -- RTT (RFC 6298, RFC 7323 §4) --------------------------------------------------------------
    def _sample_rtt_on_ack(self, segment: TcpHeader, ack: int, now: int) -> None:
        sample: int | None = None
        timestamps: Timestamps | None = None
        if self.timestamps:
            options = segment.options
            # _timestamps_of(options), its usual NOP, NOP, TS layout first
            timestamps = options[2] if len(options) == 3 and type(options[2]) is Timestamps else _timestamps_of(options)
        if timestamps is not None and timestamps.tsecr:
            tsval = (now // 1_000_000 + self.ts_offset) & MASK  # _tsval(now), inlined
            sample = ((tsval - timestamps.tsecr) & MASK) * 1_000_000
            if sample > 60 * 1_000_000_000:
                sample = None  # nonsense echo: ignore
        elif self._timed_seq is not None and ack > self._timed_seq:
            sample = now - self._timed_at
            self._timed_seq = None
        if sample is None:
            return
        sample = max(sample, 1)
        if self.srtt is None:
            self.srtt = sample
            self.rttvar = sample // 2
        else:
            self.rttvar = (3 * self.rttvar + abs(self.srtt - sample)) // 4
            self.srtt = (7 * self.srtt + sample) // 8
        self.rto = min(max(self.srtt + max(1_000_000, 4 * self.rttvar), self.config.rto_min), self.config.rto_max)

    # -- RFC 5961 challenge ACKs ------------------------------------------------------------------
    def _challenge_ack(self, now: int, reason: str) -> None:
        if now - self._challenge_window_start >= 1_000_000_000:
            self._challenge_window_start = now
            self._challenge_count = 0
        if self._challenge_count >= self.config.challenge_acks_per_second:
            self._count("challenge-ack.rate-limited")
            return
        self._challenge_count += 1
        self._count("tx.challenge-ack")
        self._trace(now, "tcp.challenge-ack", reason=reason)
        self.outbox.append(self._make_segment(self.snd_nxt, ACK, b"", now))

    def _send_reset(self, wire_ack: int, now: int, reason: str) -> None:
        self._count("tx.rst")
        self._trace(now, "tcp.reset.sent", reason=reason)
        self.outbox.append((TcpHeader(self.local[1], self.remote[1], wire_ack, 0, RST), b""))

    # ------------------------------------------------------------------------------------------
    # sending
    # ------------------------------------------------------------------------------------------
    def _make_segment(self, seq: int, flags: int, payload: bytes, now: int) -> tuple[TcpHeader, bytes]:
        options: tuple[TcpOption, ...] = ()
        if self.timestamps:
            tsval = (now // 1_000_000 + self.ts_offset) & MASK  # _tsval(now), inlined
            options = (NOP, NOP, _new(Timestamps, (tsval, self.ts_recent, 8)))
        if self.sack and self._out_of_order.blocks:
            options = (*options, NOP, NOP, Sack(self._sack_blocks(3 if self.timestamps else 4)))
        config = self.config
        shift = self.rcv_wscale
        rcv_nxt = self.rcv_nxt
        rcv_adv = self.rcv_adv
        window = min(max(config.receive_buffer - len(self._recv), 0), 0xFFFF << shift)  # _receive_window()
        advertised = rcv_adv - rcv_nxt
        if window - advertised < min(config.receive_buffer // 2, config.mss) and advertised > 0:
            window = advertised  # silly window avoidance: don't announce small openings
        window = max(window, advertised)  # never move the right edge left
        field = min(window >> shift, 0xFFFF)
        if rcv_nxt + (field << shift) > rcv_adv:
            self.rcv_adv = rcv_nxt + (field << shift)
        self.last_ack_sent = rcv_nxt
        self._ack_now = False
        self._unacked_octets = 0
        self._delack_at = None
        fields = (self.local[1], self.remote[1], seq & MASK, rcv_nxt & MASK, flags, field, 0, options, 0)
        return _new(TcpHeader, fields), payload

    def _sack_blocks(self, limit: int) -> tuple[tuple[int, int], ...]:
        """Blocks of out-of-order data, the most recently changed first (RFC 2018 §4)."""
        return tuple((start & MASK, end & MASK) for start, end in self._out_of_order.sack_blocks(limit))

    def _send_range(
        self, seq: int, now: int, *, retransmission: bool, limit: int | None = None, segments: int = 1
    ) -> int:
        """Send one segment starting at ``seq`` (data and/or FIN); returns the octets of data sent. With
        ``segments`` > 1 (new data, segmentation offload) it is that many full MSS-sized segments at once."""
        data_end = self._send_start + len(self._send)
        length = min(self.send_mss * segments, max(data_end - seq, 0))
        if limit is not None:
            length = min(length, limit)
        if self._sacked and retransmission:
            for start, _end in self._sacked:
                if start > seq:
                    length = min(length, start - seq)
                    break
        offset = seq - self._send_start
        payload = bytes(self._send[offset : offset + length])
        flags = ACK
        if payload and seq + length == data_end:
            flags |= PSH
        fin = self._fin_queued and seq + length == data_end and (self._fin_seq is None or self._fin_seq == data_end)
        if fin:
            flags |= FIN
            self._fin_seq = data_end
        if not payload and not fin:
            return 0
        self.outbox.append(self._make_segment(seq, flags, payload, now))
        end = seq + length + (1 if fin else 0)
        if retransmission:
            self._count("tx.retransmit")
            self._high_rxt = max(self._high_rxt, end)
            if self._timed_seq is not None and seq <= self._timed_seq:
                self._timed_seq = None  # Karn: never time a retransmitted segment
        else:
            counters = self.counters
            counters["tx.data"] = counters.get("tx.data", 0) + segments  # _count, inlined
            if self._timed_seq is None and not self.timestamps:
                self._timed_seq = seq
                self._timed_at = now
        self.snd_max = max(self.snd_max, end)
        if self._rto_at is None:
            self._rto_at = now + self.rto
        return length + (1 if fin else 0)

    def _transmit(self, now: int) -> None:
        """Send what the windows, Nagle and the state allow; then any ACK still owed."""
        state = self.state
        if state in _NO_DATA_OUT:
            if self._ack_now and state in (TcpState.SYN_RECEIVED, TcpState.TIME_WAIT):
                self.outbox.append(self._make_segment(self.snd_nxt, ACK, b"", now))
            elif self._ack_now and state is TcpState.SYN_SENT:
                pass
            return
        mss = self.send_mss
        sent_any = False
        if self.in_recovery and self.sack:
            # RFC 6675: while the pipe has room, fill holes first, then send new data.
            while self._pipe() < self.cc.cwnd:
                hole = self._next_hole()
                if hole is None or hole >= self.snd_max:
                    break
                if not self._send_range(hole, now, retransmission=True):
                    break
                sent_any = True
        data_end = self._send_start + len(self._send)
        while True:
            available = data_end - self.snd_nxt
            if available <= 0:
                # Nothing left but perhaps the FIN (the rooms below do not hold it back: it takes no space).
                fin_due = (
                    self._fin_queued
                    and self.snd_nxt == data_end
                    and (self._fin_seq is None or self.snd_nxt <= self._fin_seq)
                )
                if fin_due and (self._fin_seq is None or self.snd_nxt == self._fin_seq):
                    sent = self._send_range(self.snd_nxt, now, retransmission=self.snd_nxt < self.snd_max)
                    self.snd_nxt += sent
                    sent_any = sent_any or bool(sent)
                break
            if self.in_recovery and self.sack:
                room = self.cc.cwnd - self._pipe()
            else:
                room = self.cc.cwnd - (self.snd_nxt - self.snd_una)
            window_room = self.snd_una + self.snd_wnd - self.snd_nxt
            length = min(mss, available, window_room, room)
            if length <= 0:
                if window_room <= 0 and self.snd_max == self.snd_una and self._persist_at is None:
                    self._start_persist(now)
                break
            if length < mss and length < available:
                # More data waits for a full segment (sender SWS avoidance, RFC 9293 §3.8.6.2.1). If the
                # window is what holds it back and nothing is in flight, no ACK will come to move it:
                # the persist timer is the override timeout (d) that sends what fits.
                if window_room < mss and self.snd_max == self.snd_una and self._persist_at is None:
                    self._start_persist(now)
                break
            if length < mss and self.nagle and self.snd_nxt > self.snd_una and self.snd_nxt >= self.snd_max:
                break  # Nagle: a small segment waits while data is unacknowledged
            segments = 1
            if self.gso_max_size and self.snd_nxt >= self.snd_max:
                # TSO: the full segments this loop would send one after another, as one (new data only:
                # a retransmission stays MSS-sized). Each would carry the same ACK, window and options.
                room_for = min(available, window_room, room, self.gso_max_size - _GSO_HEADROOM) // mss
                segments = max(1, room_for)
            sent = self._send_range(self.snd_nxt, now, retransmission=self.snd_nxt < self.snd_max, segments=segments)
            if not sent:
                break
            self.snd_nxt += sent
            sent_any = True
        if self._ack_now and not sent_any:
            self.outbox.append(self._make_segment(self.snd_nxt, ACK, b"", now))

    def _start_persist(self, now: int) -> None:
        interval = min(self.rto << self._persist_backoff, self.config.persist_max)
        self._persist_at = now + interval

    # ------------------------------------------------------------------------------------------
    # timers
    # ------------------------------------------------------------------------------------------
    def poll_at(self) -> int | None:
        best = self._rto_at  # the earliest of the five deadlines (unrolled: asked after every segment)
        when = self._persist_at
        if when is not None and (best is None or when < best):
            best = when
        when = self._delack_at
        if when is not None and (best is None or when < best):
            best = when
        when = self._keepalive_at
        if when is not None and (best is None or when < best):
            best = when
        when = self._time_wait_at
        if when is not None and (best is None or when < best):
            best = when
        return best

    def poll(self, now: int) -> None:
        if self._time_wait_at is not None and now >= self._time_wait_at:
            self._time_wait_at = None
            self._set_state(TcpState.CLOSED, now, Phrase("tcp-cause.time-wait-over"))
            return
        if self._rto_at is not None and now >= self._rto_at:
            self._rto_at = None
            self._retransmission_timeout(now)
        if self._persist_at is not None and now >= self._persist_at:
            self._persist_at = None
            self._window_probe(now)
        if self._keepalive_at is not None and now >= self._keepalive_at:
            self._keepalive_at = None
            self._keepalive_probe(now)
        if self._delack_at is not None and now >= self._delack_at:
            self._delack_at = None
            self._ack_now = True
        self._transmit(now)

    def _retransmission_timeout(self, now: int) -> None:
        state = self.state
        limit = (
            self.config.syn_retries if state in (TcpState.SYN_SENT, TcpState.SYN_RECEIVED) else self.config.data_retries
        )
        if self.retries >= limit:
            self._trace(now, "tcp.timeout", retries=self.retries)
            self.abort(now, "ETIMEDOUT") if state.synchronized else self._give_up(now)
            return
        self.retries += 1
        self.rto = min(self.rto * 2, self.config.rto_max)  # RFC 6298 (5.5): back off
        self._count("rto")
        self._trace(now, "tcp.rto", retry=self.retries, rto=self.rto, seconds=self.rto / 1e9)
        if state in (TcpState.SYN_SENT, TcpState.SYN_RECEIVED):
            self._rto_at = None
            self._send_syn(now, ack=state is TcpState.SYN_RECEIVED)
            return
        if self.snd_max <= self.snd_una:
            return
        mss = self.send_mss
        self.cc.on_timeout(self.flight, mss)
        self.in_recovery = False
        self.dupacks = 0
        self.recover = self.snd_max
        self._high_rxt = self.snd_una
        self._sacked = []  # RFC 6675 §5.1 / RFC 2018 §8: after a timeout, SACK information is not trusted
        self._sacked_sums = None
        self._timed_seq = None
        self.snd_nxt = self.snd_una  # go back: resend from the first unacknowledged octet
        sent = self._send_range(self.snd_una, now, retransmission=True)
        self.snd_nxt += sent
        self._rto_at = now + self.rto

    def _give_up(self, now: int) -> None:
        self.error = "ETIMEDOUT"
        self.events.append(TcpEvent(TcpEventKind.ERROR, "ETIMEDOUT"))
        self._set_state(TcpState.CLOSED, now, Phrase("tcp-cause.syn-timeout"))

    def _window_probe(self, now: int) -> None:
        """A zero-window probe (RFC 9293 §3.8.6.1). As Linux: SEQ = SND.UNA - 1, no data, so the peer
        answers with an ACK carrying its current window; probing never gives up while it answers."""
        if self.unsent <= 0:
            return
        window_room = self.snd_una + self.snd_wnd - self.snd_nxt
        if window_room > 0:
            # A window too small for a full segment, nothing in flight: send what fits (RFC 9293
            # §3.8.6.2.1 (d); Linux's tcp_write_wakeup). Its ACK brings the window's next news.
            self.snd_nxt += self._send_range(self.snd_nxt, now, retransmission=False, limit=window_room)
            return
        if self.snd_wnd > 0:
            return
        if self._persist_unanswered >= self.config.data_retries:
            self.abort(now, "ETIMEDOUT")
            return
        self._count("tx.window-probe")
        self._trace(now, "tcp.window-probe", backoff=self._persist_backoff)
        self.outbox.append(self._make_segment(self.snd_una - 1, ACK, b"", now))
        self._persist_backoff += 1
        self._persist_unanswered += 1
        self._start_persist(now)

    def _keepalive_probe(self, now: int) -> None:
        """RFC 1122 §4.2.3.6: after the idle time, probe every interval; silence after the last → ETIMEDOUT."""
        if self._keepalive_sent >= self.config.keepalive_probes:
            self._trace(now, "tcp.keepalive.dead", probes=self._keepalive_sent)
            self.abort(now, "ETIMEDOUT")
            return
        self._keepalive_sent += 1
        self._count("tx.keepalive")
        self._trace(now, "tcp.keepalive.probe", probe=self._keepalive_sent)
        self.outbox.append(self._make_segment(self.snd_una - 1, ACK, b"", now))
        self._keepalive_at = now + self.config.keepalive_interval

    def set_keepalive(self, enabled: bool, now: int, **settings: int) -> None:
        """SO_KEEPALIVE and TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT."""
        self.config = self.config.with_changes(keepalive=enabled, **settings)
        if enabled and self.state.synchronized and self.state is not TcpState.TIME_WAIT:
            self._keepalive_at = self._last_received + self.config.keepalive_idle
            self._keepalive_at = max(self._keepalive_at, now)
        elif not enabled:
            self._keepalive_at = None

    def take_outbox(self) -> list[tuple[TcpHeader, bytes]]:
        outbox, self.outbox = self.outbox, []
        return outbox

    def take_events(self) -> list[TcpEvent]:
        events, self.events = self.events, []
        return events

    def __repr__(self) -> str:
        return f"TcpConnection({self.local[0]}:{self.local[1]} -> {self.remote[0]}:{self.remote[1]} {self.state})"
