"""Frames taken apart layer by layer: a tcpdump-style one-liner and a per-layer breakdown.

:func:`dissect` decodes as far as the bytes allow and keeps the first malformation it met instead of
raising, so a trace can always say *something* about a frame, even a broken one. :func:`summary` is
one line in tcpdump's ``-n`` style (absolute sequence numbers, as ``tcpdump -S``); :func:`breakdown`
shows the frame in the course's five-layer model (physical, data link, network, transport, application).
"""

from __future__ import annotations

import enum
from typing import Final, NamedTuple

from wirelab.wire.arp import ArpOperation, ArpPacket
from wirelab.wire.errors import MalformedPacket
from wirelab.wire.ethernet import EthernetHeader, EtherType
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType, TimeExceededCode, UnreachableCode
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.tcp import (
    EndOfOptions,
    MaxSegmentSize,
    Nop,
    Sack,
    SackPermitted,
    TcpFlags,
    TcpHeader,
    TcpOption,
    Timestamps,
    UnknownOption,
    WindowScale,
)
from wirelab.wire.udp import UdpHeader

NetworkHeader = Ipv4Header | ArpPacket
TransportHeader = TcpHeader | UdpHeader | IcmpMessage

# tcpdump's letters, in tcpdump's order (print-tcp.c's table): F S R P . U E W
_FLAG_LETTERS: Final = (
    (TcpFlags.FIN, "F"),
    (TcpFlags.SYN, "S"),
    (TcpFlags.RST, "R"),
    (TcpFlags.PSH, "P"),
    (TcpFlags.ACK, "."),
    (TcpFlags.URG, "U"),
    (TcpFlags.ECE, "E"),
    (TcpFlags.CWR, "W"),
)

# Ethernet's cost on the wire beyond the frame a NIC hands over (IEEE 802.3 clause 4).
PREAMBLE_SFD_OCTETS: Final = 8
FCS_OCTETS: Final = 4
INTERFRAME_GAP_OCTETS: Final = 12


class Dissection(NamedTuple):
    """What could be decoded of one frame, layer by layer, and the first error met (if any)."""

    frame: bytes
    ethernet: EthernetHeader | None = None
    network: NetworkHeader | None = None
    transport: TransportHeader | None = None
    payload: bytes = b""
    error: MalformedPacket | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def dissect(frame: bytes, *, verify_checksums: bool = True) -> Dissection:
    """Decode ``frame`` as far as possible; never raises for bad bytes."""
    try:
        ethernet, rest = EthernetHeader.parse(frame)
    except MalformedPacket as error:
        return Dissection(frame, error=error)
    if ethernet.ethertype == EtherType.ARP:
        try:
            return Dissection(frame, ethernet, ArpPacket.parse(rest))
        except MalformedPacket as error:
            return Dissection(frame, ethernet, payload=rest, error=error)
    if ethernet.ethertype != EtherType.IPV4:
        return Dissection(frame, ethernet, payload=rest)
    try:
        ip, rest = Ipv4Header.parse(rest, verify_checksum=verify_checksums)
    except MalformedPacket as error:
        return Dissection(frame, ethernet, payload=rest, error=error)
    if ip.fragment_offset or ip.more_fragments:
        # A fragment's transport header (only the first has one) cannot be checked alone: its
        # checksum and length cover the whole datagram. Reassembly is the receiving host's job.
        return Dissection(frame, ethernet, ip, payload=rest)
    verify = verify_checksums
    transport: TransportHeader
    try:
        if ip.protocol == IpProtocol.TCP:
            transport, rest = TcpHeader.parse(rest, ip.src, ip.dst, verify_checksum=verify)
        elif ip.protocol == IpProtocol.UDP:
            transport, rest = UdpHeader.parse(rest, ip.src, ip.dst, verify_checksum=verify)
        elif ip.protocol == IpProtocol.ICMP:
            transport = IcmpMessage.parse(rest, verify_checksum=verify)
            rest = transport.data
        else:
            return Dissection(frame, ethernet, ip, payload=rest)
    except MalformedPacket as error:
        return Dissection(frame, ethernet, ip, payload=rest, error=error)
    return Dissection(frame, ethernet, ip, transport, rest)


def _member_name(kind: type[enum.IntEnum], value: int) -> str | None:
    try:
        return kind(value).name
    except ValueError:
        return None


def tcp_flags_text(flags: int) -> str:
    """tcpdump's flag string: ``S`` for SYN, ``S.`` for SYN-ACK, ``P.`` for PSH-ACK, ``none`` for 0."""
    return "".join(letter for flag, letter in _FLAG_LETTERS if flags & flag) or "none"


def tcp_options_text(options: tuple[TcpOption, ...]) -> str:
    """tcpdump's option list: ``mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7``."""
    parts: list[str] = []
    for option in options:
        match option:
            case Nop():
                parts.append("nop")
            case EndOfOptions():
                parts.append("eol")
            case MaxSegmentSize(mss=mss):
                parts.append(f"mss {mss}")
            case WindowScale(shift=shift):
                parts.append(f"wscale {shift}")
            case SackPermitted():
                parts.append("sackOK")
            case Sack(blocks=blocks):
                parts.append("sack " + " ".join(f"{{{left}:{right}}}" for left, right in blocks))
            case Timestamps(tsval=tsval, tsecr=tsecr):
                parts.append(f"TS val {tsval} ecr {tsecr}")
            case UnknownOption(kind=kind, data=data):
                parts.append(f"opt-{kind}:{data.hex()}" if data else f"opt-{kind}")
    return ",".join(parts)


def _tcp_text(tcp: TcpHeader, payload_len: int) -> str:
    text = f"Flags [{tcp_flags_text(tcp.flags)}], seq {tcp.seq}"
    if payload_len:
        text += f":{(tcp.seq + payload_len) & 0xFFFFFFFF}"
    if tcp.flags & TcpFlags.ACK:
        text += f", ack {tcp.ack}"
    text += f", win {tcp.window}"
    if tcp.flags & TcpFlags.URG:
        text += f", urg {tcp.urgent}"
    if tcp.options:
        text += f", options [{tcp_options_text(tcp.options)}]"
    return text + f", length {payload_len}"


def _icmp_text(icmp: IcmpMessage, length: int) -> str:
    if icmp.type in (IcmpType.ECHO_REQUEST, IcmpType.ECHO_REPLY):
        kind = "request" if icmp.type == IcmpType.ECHO_REQUEST else "reply"
        return f"ICMP echo {kind}, id {icmp.identifier}, seq {icmp.sequence}, length {length}"
    if icmp.type == IcmpType.DEST_UNREACHABLE:
        return f"ICMP {_unreachable_text(icmp)}, length {length}"
    if icmp.type == IcmpType.TIME_EXCEEDED:
        what = "in-transit" if icmp.code == TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT else "reassembly"
        return f"ICMP time exceeded {what}, length {length}"
    name = (_member_name(IcmpType, icmp.type) or f"type-#{icmp.type}").lower().replace("_", " ")
    return f"ICMP {name}, length {length}"


def _unreachable_text(icmp: IcmpMessage) -> str:
    """tcpdump's wording, using the quoted datagram where it says who was unreachable."""
    quoted_dst = "?"
    quoted_proto = ""
    quoted_port = ""
    quote = icmp.data
    if len(quote) >= 20:
        quoted_dst = ".".join(str(octet) for octet in quote[16:20])
        quoted_proto = {6: "tcp", 17: "udp"}.get(quote[9], f"proto-{quote[9]}")
        header_len = (quote[0] & 0x0F) << 2
        if len(quote) >= header_len + 4:
            quoted_port = str(int.from_bytes(quote[header_len + 2 : header_len + 4], "big"))
    code = icmp.code
    if code == UnreachableCode.PORT:
        return f"{quoted_dst} {quoted_proto} port {quoted_port} unreachable"
    if code == UnreachableCode.FRAGMENTATION_NEEDED:
        return f"{quoted_dst} unreachable - need to frag (mtu {icmp.next_hop_mtu})"
    if code == UnreachableCode.PROTOCOL:
        return f"{quoted_dst} protocol {quoted_proto} unreachable"
    name = (_member_name(UnreachableCode, code) or f"code-#{code}").lower().replace("_", " ")
    return f"{quoted_dst} unreachable ({name})"


def summary(frame: bytes) -> str:
    """One line per frame, as ``tcpdump -n -S`` prints it (with ``-e``'s VLAN tag when present)."""
    d = dissect(frame)
    if d.ethernet is None:
        return f"[|ether] {d.error}"
    prefix = ""
    if d.ethernet.vlan is not None:
        prefix = f"vlan {d.ethernet.vlan.vid}, p {d.ethernet.vlan.pcp}, "
    network = d.network
    if isinstance(network, ArpPacket):
        if network.operation == ArpOperation.REQUEST:
            return f"{prefix}ARP, Request who-has {network.target_ip} tell {network.sender_ip}, length 28"
        return f"{prefix}ARP, Reply {network.sender_ip} is-at {network.sender_mac}, length 28"
    if network is None:
        if d.error is not None:
            return f"{prefix}{d.ethernet.src} > {d.ethernet.dst}: [malformed {d.error}]"
        kind = _member_name(EtherType, d.ethernet.ethertype) or "unknown"
        return (
            f"{prefix}{d.ethernet.src} > {d.ethernet.dst}, ethertype {kind} ({d.ethernet.ethertype:#06x}), "
            f"length {len(frame)}"
        )
    ip = network
    if d.error is not None:
        return f"{prefix}IP {ip.src} > {ip.dst}: [malformed {d.error}]"
    transport = d.transport
    if isinstance(transport, TcpHeader):
        body = _tcp_text(transport, len(d.payload))
        return f"{prefix}IP {ip.src}.{transport.src_port} > {ip.dst}.{transport.dst_port}: {body}"
    if isinstance(transport, UdpHeader):
        return f"{prefix}IP {ip.src}.{transport.src_port} > {ip.dst}.{transport.dst_port}: UDP, length {len(d.payload)}"
    if isinstance(transport, IcmpMessage):
        return f"{prefix}IP {ip.src} > {ip.dst}: {_icmp_text(transport, 8 + len(transport.data))}"
    name = (_member_name(IpProtocol, ip.protocol) or f"ip-proto-{ip.protocol}").lower()
    if ip.is_fragment:
        more = "+" if ip.more_fragments else ""
        fragment = f"frag {ip.identification}:{len(d.payload)}@{ip.fragment_offset}{more}"
        return f"{prefix}IP {ip.src} > {ip.dst}: {name} ({fragment})"
    return f"{prefix}IP {ip.src} > {ip.dst}: {name} {len(d.payload)}"


def breakdown(frame: bytes) -> list[tuple[str, str]]:
    """The frame in the course's five layers: ``[(layer name, what that layer says), ...]``."""
    d = dissect(frame)
    on_wire = len(frame) + FCS_OCTETS if len(frame) >= 60 else 64
    rows = [
        (
            "1 physical",
            f"{len(frame)} octets = {len(frame) * 8} bits in the frame; on the wire {on_wire} with the FCS, "
            f"+{PREAMBLE_SFD_OCTETS} preamble, +{INTERFRAME_GAP_OCTETS} gap",
        )
    ]
    if d.ethernet is None:
        rows.append(("2 data link", f"malformed: {d.error}"))
        return rows
    eth = d.ethernet
    kind = _member_name(EtherType, eth.ethertype) or "unknown"
    link = f"Ethernet II {eth.src} > {eth.dst}"
    if eth.dst.is_broadcast:
        link += " (broadcast: every NIC on the LAN receives it)"
    if eth.vlan is not None:
        link += f", 802.1Q VLAN {eth.vlan.vid} priority {eth.vlan.pcp}"
    rows.append(("2 data link", f"{link}, type {kind} ({eth.ethertype:#06x})"))
    network = d.network
    if isinstance(network, ArpPacket):
        op = "request" if network.operation == ArpOperation.REQUEST else "reply"
        extra = " (probe)" if network.is_probe else " (gratuitous)" if network.is_gratuitous else ""
        rows.append(
            (
                "2.5 ARP",
                f"ARP {op}{extra}: sender {network.sender_ip} at {network.sender_mac}, "
                f"target {network.target_ip} at {network.target_mac}",
            )
        )
        return rows
    if network is None:
        if d.error is not None:
            rows.append(("3 network", f"malformed: {d.error}"))
        elif d.payload:
            rows.append(("3 network", f"{len(d.payload)} octets of {kind}, not decoded"))
        return rows
    ip = network
    proto = _member_name(IpProtocol, ip.protocol) or str(ip.protocol)
    flags = "".join(name for name, on in (("DF ", ip.dont_fragment), ("MF ", ip.more_fragments)) if on).strip()
    fragment = f", fragment offset {ip.fragment_offset}" if ip.fragment_offset else ""
    options = f", options {ip.options.hex()}" if ip.options else ""
    rows.append(
        (
            "3 network",
            f"IPv4 {ip.src} > {ip.dst}, TTL {ip.ttl}, protocol {proto} ({ip.protocol}), id {ip.identification}"
            f"{', flags ' + flags if flags else ''}{fragment}{options}, header {ip.header_len} octets",
        )
    )
    transport = d.transport
    if d.error is not None:
        rows.append(("4 transport", f"malformed: {d.error}"))
        return rows
    if isinstance(transport, TcpHeader):
        rows.append(
            (
                "4 transport",
                f"TCP port {transport.src_port} > port {transport.dst_port}, {_tcp_text(transport, len(d.payload))}",
            )
        )
    elif isinstance(transport, UdpHeader):
        rows.append(("4 transport", f"UDP port {transport.src_port} > port {transport.dst_port}"))
    elif isinstance(transport, IcmpMessage):
        rows.append(("4 transport", _icmp_text(transport, 8 + len(transport.data)) + " (ICMP rides on IP)"))
        return rows
    if d.payload:
        preview = d.payload[:32]
        text = preview.decode("ascii", "replace") if all(32 <= b < 127 for b in preview) else preview.hex(" ")
        more = "…" if len(d.payload) > 32 else ""
        rows.append(("5 application", f"{len(d.payload)} octets: {text}{more}"))
    else:
        rows.append(("5 application", "no data"))
    return rows


def render_breakdown(frame: bytes) -> str:
    rows = breakdown(frame)
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {text}" for name, text in rows)
