"""Ladder diagrams: one TCP connection drawn as the course draws the handshake and the teardown.

Built from what was on the wire (frames from a capture, decoded by the codecs) and what the two ends
decided (``tcp.state`` trace events), so the picture can never disagree with the bytes::

     192.168.1.10:46782                                 10.0.0.20:8080
    SYN-SENT     |----- SYN seq=1000 ---------------------->|
                 |<---- SYN,ACK seq=5000 ack=1001 ----------| SYN-RECEIVED
    ESTABLISHED  |----- ACK seq=1001 ack=5001 ------------->|
                 |                                          | ESTABLISHED

Sequence numbers are shown relative to each side's ISN when ``relative`` (as Wireshark does), so
"SYN consumes one sequence number" reads off the picture: the SYN is seq 0, the first data seq 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from ipaddress import IPv4Address
from typing import NamedTuple

from wirelab.trace import TraceEvent
from wirelab.wire.dissect import dissect, tcp_flags_text
from wirelab.wire.ipv4 import Ipv4Header
from wirelab.wire.pcap import PcapRecord
from wirelab.wire.tcp import TcpFlags, TcpHeader

Endpoint = tuple[IPv4Address, int]
_NAMES = (
    (TcpFlags.SYN, "SYN"),
    (TcpFlags.FIN, "FIN"),
    (TcpFlags.RST, "RST"),
    (TcpFlags.PSH, "PSH"),
    (TcpFlags.ACK, "ACK"),
)


def flag_words(flags: int, separator: str = ",") -> str:
    """The flags as words in the course's order: ``SYN,ACK`` (or joined by ``separator``)."""
    words = [name for flag, name in _NAMES if flags & flag]
    return separator.join(words) or tcp_flags_text(flags)


class Segment(NamedTuple):
    """One captured segment of a connection, with each side's ISN as far as the capture has shown it."""

    record: PcapRecord
    from_left: bool
    tcp: TcpHeader
    payload: bytes
    sender_isn: int | None  # None until the sender's SYN has been seen
    receiver_isn: int | None


def segments(records: Iterable[PcapRecord], left: Endpoint, right: Endpoint) -> Iterator[Segment]:
    """The segments between ``left`` and ``right`` among ``records``, in the order given."""
    isn: dict[Endpoint, int] = {}
    for record in records:
        decoded = dissect(record.frame)
        ip, tcp = decoded.network, decoded.transport
        if not isinstance(ip, Ipv4Header) or not isinstance(tcp, TcpHeader):
            continue
        source, destination = (ip.src, tcp.src_port), (ip.dst, tcp.dst_port)
        if {source, destination} != {left, right}:
            continue
        if tcp.flags & TcpFlags.SYN:
            isn.setdefault(source, tcp.seq)
        yield Segment(record, source == left, tcp, bytes(decoded.payload), isn.get(source), isn.get(destination))


def ladder(
    records: Iterable[PcapRecord],
    left: Endpoint,
    right: Endpoint,
    events: Iterable[TraceEvent] = (),
    *,
    relative: bool = True,
    width: int = 44,
    since: int = 0,
    until: int | None = None,
    lost: Iterable[int] = (),
) -> str:
    """The ladder of the connection ``left`` <-> ``right`` from captured frames and trace events.

    ``since``/``until`` draw only what happened in between (a teardown alone): at ``since``, a frame
    that arrives at the left end belongs to what came before, and at ``until`` a frame leaving it to
    what comes after; earlier frames still give each side's ISN, so relative numbers stay those of the
    whole connection. ``lost``: times at which the wire lost a frame the left end sent (drawn ``-x``)."""
    lost_times = frozenset(lost)
    # (time, rank, order, text). At one instant: a frame arriving at the left end (rank 0) comes
    # before the decision it causes (1), and a decision before the frame it makes the left end send (2).
    rows: list[tuple[int, int, int, str]] = []
    left_label, right_label = f"{left[0]}:{left[1]}", f"{right[0]}:{right[1]}"
    for order, segment in enumerate(segments(records, left, right)):
        tcp, when = segment.tcp, segment.record.timestamp_ns
        seq = (tcp.seq - (segment.sender_isn or 0)) & 0xFFFFFFFF if relative else tcp.seq
        label = f"{flag_words(tcp.flags)} seq={seq}"
        if tcp.flags & TcpFlags.ACK:
            ack = (tcp.ack - (segment.receiver_isn or 0)) & 0xFFFFFFFF if relative else tcp.ack
            label += f" ack={ack}"
        if segment.payload:
            label += f" len={len(segment.payload)}"
        lost_here = segment.from_left and when in lost_times
        arrow = _arrow(label, width, rightwards=segment.from_left, lost=lost_here)
        rows.append((when, 2 if segment.from_left else 0, order, f"{'':13s}{arrow}"))
    for order, event in enumerate(events):
        if event.kind != "tcp.state":
            continue
        local = event.fields.get("local")
        new = str(event.fields.get("new", ""))
        if local == left_label:
            rows.append((event.time, 1, order, f"{new:<13s}|{'':{width}s}|"))
        elif local == right_label:
            rows.append((event.time, 1, order, f"{'':13s}|{'':{width}s}| {new}"))
    end = (until, 2) if until is not None else None
    shown = [row for row in sorted(rows) if (row[0], row[1]) >= (since, 1) and (end is None or (row[0], row[1]) < end)]
    header = f"{'':8s}{left_label:<{width // 2 + 6}s}{right_label:>{width // 2 + 6}s}"
    return "\n".join([header, *(row[3] for row in shown)])


def _arrow(label: str, width: int, *, rightwards: bool, lost: bool = False) -> str:
    """``|---- label ---->|`` (or leftwards; ``|---- label --x    |`` when lost on the way), exactly
    ``width`` characters between the two bars."""
    body = f" {label} "
    tail = "-" * max(width - len(body) - 5, 1)
    if rightwards and lost:
        tail = "-" * max(width - len(body) - 10, 1)
        return f"|----{body}{tail}x     |"
    if rightwards:
        return f"|----{body}{tail}>|"
    return f"|<----{body}{tail}|"
