"""Hypothesis strategies for the wire values, shared by the codec tests.

Every strategy here draws only *valid* values: ones that ``emit`` accepts and that ``parse`` gives back
equal (so ``emit -> parse`` is the identity). One section per protocol, lowest layer first; add new
protocols as new sections at the end rather than changing what an existing strategy draws, since other
test modules rely on it.

Import with ``from strategies import ...`` (pytest puts this directory on ``sys.path``).
"""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import strategies as st

from wirelab.wire.arp import ArpOperation, ArpPacket
from wirelab.wire.ethernet import EthernetHeader, EtherType, VlanTag
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType, TimeExceededCode, UnreachableCode
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.mac import MacAddress
from wirelab.wire.tcp import (
    NOP,
    SACK_PERMITTED,
    EndOfOptions,
    MaxSegmentSize,
    Nop,
    Sack,
    SackPermitted,
    TcpFlags,
    TcpHeader,
    TcpOption,
    TcpOptionKind,
    Timestamps,
    UnknownOption,
    WindowScale,
)
from wirelab.wire.udp import UdpHeader

__all__ = [
    "MAX_TCP_OPTIONS_LEN",
    "UNKNOWN_TCP_OPTION_KINDS",
    "arp_packets",
    "ethernet_headers",
    "ethertypes",
    "icmp_echo_messages",
    "icmp_error_messages",
    "icmp_messages",
    "ipv4_addresses",
    "ipv4_datagrams",
    "ipv4_headers",
    "ipv4_options",
    "mac_addresses",
    "ports",
    "sequence_numbers",
    "tcp_flags",
    "tcp_headers",
    "tcp_option_areas",
    "tcp_option_length",
    "tcp_options",
    "udp_headers",
    "vlan_tags",
]

# --- Addresses ---------------------------------------------------------------------------------------


def mac_addresses() -> st.SearchStrategy[MacAddress]:
    """Any 48-bit MAC address (unicast, multicast, broadcast, locally administered or not)."""
    return st.one_of(
        st.binary(min_size=6, max_size=6),
        st.sampled_from([b"\xff" * 6, b"\x00" * 6, b"\x01\x00\x5e\x00\x00\x01", b"\x02\x00\x00\x00\x00\x01"]),
    ).map(MacAddress)


def ipv4_addresses() -> st.SearchStrategy[IPv4Address]:
    return st.integers(min_value=0, max_value=2**32 - 1).map(IPv4Address)


# --- Ethernet (IEEE 802.3 Ethernet II, 802.1Q) -------------------------------------------------------


def ethertypes(*, allow_vlan_tpid: bool = False) -> st.SearchStrategy[int]:
    """EtherType values (>= 0x0600), the known ones often.

    0x8100 in the outer EtherType position *means* "a tag follows", so an untagged header cannot carry
    it and still parse back as itself; after a tag it is an ordinary value (``allow_vlan_tpid``).
    """
    values = st.one_of(st.sampled_from(list(EtherType)), st.integers(min_value=0x0600, max_value=0xFFFF))
    if allow_vlan_tpid:
        return values
    return values.filter(lambda value: value != EtherType.VLAN)


def vlan_tags() -> st.SearchStrategy[VlanTag]:
    return st.builds(
        VlanTag,
        vid=st.integers(min_value=0, max_value=4095),
        pcp=st.integers(min_value=0, max_value=7),
        dei=st.booleans(),
    )


def ethernet_headers(*, tagged: bool | None = None) -> st.SearchStrategy[EthernetHeader]:
    """Ethernet II headers; ``tagged`` True/False forces an 802.1Q tag on or off, None draws both."""
    untagged = st.builds(EthernetHeader, mac_addresses(), mac_addresses(), ethertypes(), st.none())
    with_tag = st.builds(
        EthernetHeader, mac_addresses(), mac_addresses(), ethertypes(allow_vlan_tpid=True), vlan_tags()
    )
    if tagged is None:
        return st.one_of(untagged, with_tag)
    return with_tag if tagged else untagged


# --- ARP (RFC 826) -----------------------------------------------------------------------------------


def arp_packets() -> st.SearchStrategy[ArpPacket]:
    """Ethernet/IPv4 ARP packets of any operation and addresses (probes and announcements included)."""
    addresses = st.one_of(ipv4_addresses(), st.just(IPv4Address(0)))
    any_packet = st.builds(
        ArpPacket, st.sampled_from(ArpOperation), mac_addresses(), addresses, mac_addresses(), addresses
    )
    gratuitous = st.builds(ArpPacket.gratuitous, mac_addresses(), ipv4_addresses())
    probe = st.builds(ArpPacket.probe, mac_addresses(), ipv4_addresses())
    return st.one_of(any_packet, gratuitous, probe)


# --- IPv4 (RFC 791) ----------------------------------------------------------------------------------

MAX_OPTIONS_LEN = 40


@st.composite
def _route_option(draw: st.DrawFn, kind: int) -> bytes:
    """Record route (7), loose (0x83) or strict (0x89) source route: type, length, pointer, addresses."""
    slots = draw(st.integers(min_value=1, max_value=9))
    used = draw(st.integers(min_value=0, max_value=slots))
    addresses = draw(st.binary(min_size=4 * slots, max_size=4 * slots))
    return bytes([kind, 3 + 4 * slots, 4 + 4 * used]) + addresses


@st.composite
def _timestamp_option(draw: st.DrawFn) -> bytes:
    """Internet timestamp (0x44): type, length, pointer, overflow/flag, then 32-bit timestamps."""
    slots = draw(st.integers(min_value=1, max_value=9))
    stamps = draw(st.binary(min_size=4 * slots, max_size=4 * slots))
    return bytes([0x44, 4 + 4 * slots, 5, 0]) + stamps


def _ipv4_option() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.just(b"\x01"),  # no operation
        st.binary(min_size=2, max_size=2).map(lambda value: b"\x94\x04" + value),  # router alert, copied
        st.binary(min_size=2, max_size=2).map(lambda value: b"\x88\x04" + value),  # stream id, copied
        st.binary(min_size=9, max_size=9).map(lambda value: b"\x82\x0b" + value),  # security, copied
        _route_option(0x07),
        _route_option(0x83),
        _route_option(0x89),
        _timestamp_option(),
    )


@st.composite
def ipv4_options(draw: st.DrawFn) -> bytes:
    """A well-formed option list (RFC 791 §3.1) padded with End of Option List to a multiple of 4."""
    options = b""
    for option in draw(st.lists(_ipv4_option(), max_size=5)):
        if len(options) + len(option) > MAX_OPTIONS_LEN:
            break
        options += option
    return options + bytes(-len(options) % 4)


def ipv4_headers(
    *,
    options: st.SearchStrategy[bytes] | None = None,
    fragments: bool = True,
) -> st.SearchStrategy[Ipv4Header]:
    """IPv4 headers with every field drawn over its whole range.

    ``options`` defaults to well-formed option lists or none; pass e.g. ``st.just(b"")`` for none.
    ``fragments=False`` draws whole datagrams (offset 0, MF and DF clear) that :func:`fragment` may split.
    """
    if options is None:
        options = st.one_of(st.just(b""), ipv4_options())
    protocols = st.one_of(st.sampled_from(list(IpProtocol)), st.integers(min_value=0, max_value=255))
    flag = st.booleans() if fragments else st.just(False)
    return st.builds(
        Ipv4Header,
        src=ipv4_addresses(),
        dst=ipv4_addresses(),
        protocol=protocols,
        ttl=st.integers(min_value=0, max_value=255),
        identification=st.integers(min_value=0, max_value=0xFFFF),
        dont_fragment=flag,
        more_fragments=flag,
        fragment_offset=st.integers(min_value=0, max_value=0x1FFF).map(lambda units: units * 8)
        if fragments
        else st.just(0),
        dscp=st.integers(min_value=0, max_value=63),
        ecn=st.integers(min_value=0, max_value=3),
        options=options,
        reserved_flag=st.booleans(),
    )


def ipv4_datagrams(*, max_payload: int = 64) -> st.SearchStrategy[bytes]:
    """Whole IPv4 datagrams as bytes (header with a correct checksum, then the payload)."""
    return st.builds(lambda header, payload: header.emit(payload), ipv4_headers(), st.binary(max_size=max_payload))


# --- ICMPv4 (RFC 792, RFC 1191) ----------------------------------------------------------------------


def icmp_messages() -> st.SearchStrategy[IcmpMessage]:
    """Any type, code, rest-of-header and data: the codec does not interpret them."""
    return st.builds(
        IcmpMessage,
        type=st.one_of(st.sampled_from(list(IcmpType)), st.integers(min_value=0, max_value=255)),
        code=st.integers(min_value=0, max_value=255),
        rest=st.integers(min_value=0, max_value=2**32 - 1),
        data=st.binary(max_size=64),
    )


def icmp_echo_messages() -> st.SearchStrategy[IcmpMessage]:
    """Echo requests and replies with any identifier, sequence number and data."""
    return st.builds(
        lambda request, identifier, sequence, data: (IcmpMessage.echo_request if request else IcmpMessage.echo_reply)(
            identifier, sequence, data
        ),
        st.booleans(),
        st.integers(min_value=0, max_value=0xFFFF),
        st.integers(min_value=0, max_value=0xFFFF),
        st.binary(max_size=64),
    )


def icmp_error_messages() -> st.SearchStrategy[IcmpMessage]:
    """Destination unreachable (every code; a next-hop MTU with code 4) and time exceeded (both codes)."""
    unreachable = st.builds(
        lambda code, datagram, mtu: IcmpMessage.destination_unreachable(
            code, datagram, mtu if code == UnreachableCode.FRAGMENTATION_NEEDED else 0
        ),
        st.sampled_from(UnreachableCode),
        ipv4_datagrams(),
        st.integers(min_value=68, max_value=0xFFFF),
    )
    exceeded = st.builds(IcmpMessage.time_exceeded, st.sampled_from(TimeExceededCode), ipv4_datagrams())
    return st.one_of(unreachable, exceeded)


# --- UDP (RFC 768) and TCP (RFC 9293, RFC 7323, RFC 2018) -------------------------------------------


def ports() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([0, 53, 80, 443, 8080, 0xFFFF]), st.integers(min_value=0, max_value=0xFFFF))


def udp_headers() -> st.SearchStrategy[UdpHeader]:
    """Both with a checksum and without one (``no_checksum``, sent as 0)."""
    return st.builds(UdpHeader, ports(), ports(), st.booleans())


def sequence_numbers() -> st.SearchStrategy[int]:
    """32-bit sequence and acknowledgment numbers, the edges of the wrap often."""
    return st.one_of(
        st.sampled_from([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]), st.integers(min_value=0, max_value=2**32 - 1)
    )


def tcp_flags() -> st.SearchStrategy[TcpFlags]:
    """Any combination of the eight flags, the usual ones often."""
    usual = [
        TcpFlags.SYN,
        TcpFlags.SYN | TcpFlags.ACK,
        TcpFlags.ACK,
        TcpFlags.PSH | TcpFlags.ACK,
        TcpFlags.FIN | TcpFlags.ACK,
        TcpFlags.RST,
        TcpFlags.RST | TcpFlags.ACK,
    ]
    return st.one_of(st.sampled_from(usual), st.integers(min_value=0, max_value=0xFF).map(TcpFlags))


MAX_TCP_OPTIONS_LEN = 40
UNKNOWN_TCP_OPTION_KINDS = tuple(kind for kind in range(256) if kind not in set(TcpOptionKind))
"""Option kinds :mod:`wirelab.wire.tcp` does not decode (it keeps them as :class:`UnknownOption`)."""


def tcp_option_length(option: TcpOption) -> int:
    """How many octets ``option`` takes on the wire (RFC 9293 §3.2), worked out here independently."""
    match option:
        case EndOfOptions(padding=padding):
            return 1 + len(padding)
        case Nop():
            return 1
        case MaxSegmentSize():
            return 4
        case WindowScale():
            return 3
        case SackPermitted():
            return 2
        case Sack(blocks=blocks):
            return 2 + 8 * len(blocks)
        case Timestamps():
            return 10
        case UnknownOption(data=data):
            return 2 + len(data)
    raise TypeError(option)


def _tcp_option(unknown_kinds: st.SearchStrategy[int]) -> st.SearchStrategy[TcpOption]:
    """One option other than End of Option List, with values over their whole wire range."""
    u32 = st.integers(min_value=0, max_value=2**32 - 1)
    return st.one_of(
        st.just(NOP),
        st.builds(MaxSegmentSize, st.integers(min_value=0, max_value=0xFFFF)),
        st.builds(WindowScale, st.integers(min_value=0, max_value=0xFF)),  # > 14 is the receiver's problem
        st.just(SACK_PERMITTED),
        st.builds(Sack, st.lists(st.tuples(u32, u32), min_size=1, max_size=4).map(tuple)),
        st.builds(Timestamps, u32, u32),
        st.builds(UnknownOption, unknown_kinds, st.binary(max_size=MAX_TCP_OPTIONS_LEN - 2)),
    )


@st.composite
def tcp_options(
    draw: st.DrawFn,
    *,
    unknown_kinds: st.SearchStrategy[int] | None = None,
    minimal_zero_padding: bool = False,
) -> tuple[TcpOption, ...]:
    """An option list of at most 40 octets whose encoding is already a multiple of 4.

    ``emit`` pads options with zeros to a multiple of 4, and ``parse`` reads that padding back as an
    End of Option List: so a list that is not aligned gets an explicit :class:`EndOfOptions` carrying
    the padding, and ``emit -> parse`` is the identity. The padding is any bytes (the codec keeps what
    follows the EOL), sometimes longer than needed; ``minimal_zero_padding`` makes it the zeros up to
    the next multiple of 4 only, as other encoders (scapy) write it. ``unknown_kinds`` defaults to every
    kind the codec does not decode.
    """
    kinds = unknown_kinds if unknown_kinds is not None else st.sampled_from(UNKNOWN_TCP_OPTION_KINDS)
    options: list[TcpOption] = []
    used = 0
    for option in draw(st.lists(_tcp_option(kinds), max_size=8)):
        size = tcp_option_length(option)
        if used + size > MAX_TCP_OPTIONS_LEN:
            break
        options.append(option)
        used += size
    padding_len = -used % 4
    if padding_len == 0 and used < MAX_TCP_OPTIONS_LEN and draw(st.booleans()):
        padding_len = 4  # an explicit EOL although the list is aligned
    if padding_len:
        if minimal_zero_padding:
            options.append(EndOfOptions(bytes(padding_len - 1)))
        else:
            padding_len += 4 * draw(st.integers(min_value=0, max_value=(MAX_TCP_OPTIONS_LEN - used - padding_len) // 4))
            size = padding_len - 1
            padding = draw(st.one_of(st.just(bytes(size)), st.binary(min_size=size, max_size=size)))
            options.append(EndOfOptions(padding))
    return tuple(options)


def tcp_headers(*, options: st.SearchStrategy[tuple[TcpOption, ...]] | None = None) -> st.SearchStrategy[TcpHeader]:
    """TCP headers with every field over its whole range (the 4 reserved bits too)."""
    return st.builds(
        TcpHeader,
        src_port=ports(),
        dst_port=ports(),
        seq=sequence_numbers(),
        ack=sequence_numbers(),
        flags=tcp_flags(),
        window=st.integers(min_value=0, max_value=0xFFFF),
        urgent=st.integers(min_value=0, max_value=0xFFFF),
        options=options if options is not None else st.one_of(st.just(()), tcp_options()),
        reserved=st.integers(min_value=0, max_value=0xF),
    )


def _raw_tcp_option() -> st.SearchStrategy[bytes]:
    """One well-formed option, encoded by hand after RFC 9293 §3.2 (not by the codec under test)."""
    return st.one_of(
        st.just(b"\x01"),
        st.binary(min_size=2, max_size=2).map(lambda mss: b"\x02\x04" + mss),
        st.binary(min_size=1, max_size=1).map(lambda shift: b"\x03\x03" + shift),
        st.just(b"\x04\x02"),
        st.integers(min_value=1, max_value=4).flatmap(
            lambda blocks: st.binary(min_size=8 * blocks, max_size=8 * blocks).map(
                lambda edges: bytes([5, 2 + len(edges)]) + edges
            )
        ),
        st.binary(min_size=8, max_size=8).map(lambda stamps: b"\x08\x0a" + stamps),
        st.tuples(st.sampled_from(UNKNOWN_TCP_OPTION_KINDS), st.binary(max_size=MAX_TCP_OPTIONS_LEN - 2)).map(
            lambda kind_data: bytes([kind_data[0], 2 + len(kind_data[1])]) + kind_data[1]
        ),
    )


@st.composite
def tcp_option_areas(draw: st.DrawFn) -> bytes:
    """A well-formed options area as bytes (a multiple of 4, at most 40), possibly ending in EOL + anything."""
    area = b""
    for option in draw(st.lists(_raw_tcp_option(), max_size=8)):
        if len(area) + len(option) > MAX_TCP_OPTIONS_LEN:
            break
        area += option
    padding_len = -len(area) % 4
    if padding_len or (len(area) < MAX_TCP_OPTIONS_LEN and draw(st.booleans())):
        padding_len = padding_len or 4
        rest = padding_len - 1 + 4 * draw(st.integers(0, (MAX_TCP_OPTIONS_LEN - len(area) - padding_len) // 4))
        area += b"\x00" + draw(st.one_of(st.just(bytes(rest)), st.binary(min_size=rest, max_size=rest)))
    return area
