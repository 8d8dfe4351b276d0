"""Any bytes at all: UDP and TCP parsers return a value or raise MalformedPacket, nothing else.

Also the round trips over random valid values (emit -> parse is the identity) and random valid wire
bytes (parse -> emit gives the same octets). The wire bytes are laid out here by hand, following the
RFC diagrams, with checksums from scapy: not by the emit under test.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from ipaddress import IPv4Address

from hypothesis import given
from hypothesis import strategies as st
from scapy.utils import checksum as scapy_checksum
from strategies import ipv4_addresses, tcp_headers, tcp_option_areas, udp_headers

from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.tcp import EndOfOptions, TcpHeader, TcpOption, emit_options, parse_options
from wirelab.wire.udp import UdpHeader

SRC = IPv4Address("10.1.2.3")
DST = IPv4Address("10.9.8.7")
TCP_PROTOCOL = 6
UDP_PROTOCOL = 17


def refused_or_parsed(parse: Callable[[], object]) -> object | Malformation:
    """Run ``parse``; a MalformedPacket becomes its reason, and any other exception fails the test."""
    try:
        return parse()
    except MalformedPacket as error:
        assert isinstance(error.reason, Malformation)
        assert error.protocol in ("tcp", "udp")
        str(error)  # the message renders
        return error.reason


def with_checksum(segment: bytes, offset: int, protocol: int, src: IPv4Address = SRC, dst: IPv4Address = DST) -> bytes:
    """``segment`` with the pseudo-header checksum (scapy's) written at ``offset``."""
    zeroed = segment[:offset] + b"\x00\x00" + segment[offset + 2 :]
    pseudo = src.packed + dst.packed + struct.pack("!HH", protocol, len(segment))
    checksum = scapy_checksum(pseudo + zeroed)
    return segment[:offset] + checksum.to_bytes(2, "big") + segment[offset + 2 :]


# --- strategies for bytes that are *not* necessarily valid -------------------------------------------------


@st.composite
def option_like_areas(draw: st.DrawFn, max_size: int = 44) -> bytes:
    """Bytes that look like TCP options: known kinds with plausible and implausible lengths, cut anywhere."""
    area = b""
    while len(area) < max_size and draw(st.integers(0, 5)):
        kind = draw(st.one_of(st.sampled_from([0, 1, 2, 3, 4, 5, 8]), st.integers(0, 255)))
        length = draw(st.one_of(st.sampled_from([0, 1, 2, 3, 4, 8, 9, 10, 11, 18, 26, 34, 42]), st.integers(0, 255)))
        body = draw(st.binary(max_size=12))
        area += bytes([kind, length]) + body
    return area[: draw(st.integers(0, max_size))]


@st.composite
def tcp_like_segments(draw: st.DrawFn) -> bytes:
    """A 20-octet fixed header with any fields and any data offset, then option-like bytes and data."""
    fixed = bytearray(draw(st.binary(min_size=20, max_size=20)))
    fixed[12] = draw(st.integers(0, 15)) << 4 | (fixed[12] & 0x0F)
    return bytes(fixed) + draw(option_like_areas()) + draw(st.binary(max_size=8))


@st.composite
def udp_like_datagrams(draw: st.DrawFn) -> bytes:
    """Any ports and checksum, a length field near the real length, any data."""
    data = draw(st.binary(max_size=24))
    length = draw(st.one_of(st.integers(0, 40), st.integers(0, 0xFFFF)))
    head = struct.pack("!HHH", draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 0xFFFF)), length)
    return head + draw(st.binary(min_size=2, max_size=2)) + data


@st.composite
def tcp_wire_segments(draw: st.DrawFn) -> bytes:
    """A well-formed segment laid out by hand (RFC 9293 §3.1) with a valid options area and checksum."""
    area = draw(tcp_option_areas())
    fields = draw(
        st.tuples(
            st.integers(0, 0xFFFF),
            st.integers(0, 0xFFFF),
            st.integers(0, 2**32 - 1),
            st.integers(0, 2**32 - 1),
            st.integers(0, 15),
            st.integers(0, 0xFF),
            st.integers(0, 0xFFFF),
            st.integers(0, 0xFFFF),
        )
    )
    sport, dport, seq, ack, reserved, flags, window, urgent = fields
    offset = 5 + len(area) // 4
    head = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4 | reserved, flags, window, 0, urgent)
    return with_checksum(head + area + draw(st.binary(max_size=40)), 16, TCP_PROTOCOL)


@st.composite
def udp_wire_datagrams(draw: st.DrawFn) -> bytes:
    """A well-formed datagram laid out by hand (RFC 768), with a checksum or with 0 ("none")."""
    data = draw(st.binary(max_size=40))
    head = struct.pack("!HHHH", draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 0xFFFF)), 8 + len(data), 0)
    if draw(st.booleans()):
        return head + data
    datagram = with_checksum(head + data, 6, UDP_PROTOCOL)
    if datagram[6:8] == b"\x00\x00":  # RFC 768: a computed 0 is sent as all ones
        datagram = datagram[:6] + b"\xff\xff" + datagram[8:]
    return datagram


def _flip(data: bytes, index: int, mask: int) -> bytes:
    damaged = bytearray(data)
    damaged[index % len(damaged)] ^= mask
    return bytes(damaged)


# --- any bytes --------------------------------------------------------------------------------------------


@given(st.binary(max_size=80), st.booleans())
def test_udp_parse_on_any_bytes(data: bytes, verify: bool) -> None:
    refused_or_parsed(lambda: UdpHeader.parse(data, SRC, DST, verify_checksum=verify))


@given(udp_like_datagrams(), st.booleans())
def test_udp_parse_on_any_length_field(data: bytes, verify: bool) -> None:
    result = refused_or_parsed(lambda: UdpHeader.parse(data, SRC, DST, verify_checksum=verify))
    length = int.from_bytes(data[4:6], "big")
    if length < 8:
        assert result is Malformation.BAD_LENGTH
    elif length > len(data):
        assert result is Malformation.TRUNCATED
    elif not verify or data[6:8] == b"\x00\x00":
        assert isinstance(result, tuple)
        assert result[1] == data[8:length]


@given(st.binary(max_size=80), st.booleans())
def test_tcp_parse_on_any_bytes(data: bytes, verify: bool) -> None:
    refused_or_parsed(lambda: TcpHeader.parse(data, SRC, DST, verify_checksum=verify))


@given(tcp_like_segments(), st.booleans())
def test_tcp_parse_on_option_like_bytes(segment: bytes, fix_checksum: bool) -> None:
    # Unverified, every segment reaches the option parser; with the checksum made right, verified ones do.
    refused_or_parsed(lambda: TcpHeader.parse(segment, SRC, DST, verify_checksum=False))
    if fix_checksum and len(segment) >= 20:
        segment = with_checksum(segment, 16, TCP_PROTOCOL)
        result = refused_or_parsed(lambda: TcpHeader.parse(segment, SRC, DST))
        assert result is not Malformation.BAD_CHECKSUM


@given(st.one_of(st.binary(max_size=60), option_like_areas(max_size=300)))
def test_parse_options_on_any_bytes(area: bytes) -> None:
    result = refused_or_parsed(lambda: parse_options(area))
    assert result is Malformation.BAD_OPTION or isinstance(result, tuple)


@given(st.binary(min_size=8, max_size=8))
def test_parse_options_fast_path_agrees_with_the_loop(stamps: bytes) -> None:
    area = b"\x01\x01\x08\x0a" + stamps  # twelve octets: the fast path
    padded = area + b"\x00\x00\x00\x00"  # sixteen: the loop
    assert parse_options(padded)[:3] == parse_options(area)
    assert parse_options(padded)[3:] == (EndOfOptions(b"\x00\x00\x00"),)


# --- truncations and flips of valid segments --------------------------------------------------------------------


@given(tcp_wire_segments(), st.integers(0, 200), st.booleans())
def test_tcp_truncated_anywhere(segment: bytes, cut: int, verify: bool) -> None:
    cut %= len(segment) + 1
    result = refused_or_parsed(lambda: TcpHeader.parse(segment[:cut], SRC, DST, verify_checksum=verify))
    header_len = (segment[12] >> 4) * 4
    if cut < header_len:
        assert result is Malformation.TRUNCATED
    elif verify and cut < len(segment):
        assert result is Malformation.BAD_CHECKSUM  # the pseudo-header length changed
    else:
        assert isinstance(result, tuple)
        assert result[1] == segment[header_len:cut]


@given(udp_wire_datagrams(), st.integers(0, 200), st.booleans())
def test_udp_truncated_anywhere(datagram: bytes, cut: int, verify: bool) -> None:
    cut %= len(datagram) + 1
    result = refused_or_parsed(lambda: UdpHeader.parse(datagram[:cut], SRC, DST, verify_checksum=verify))
    if cut < len(datagram):
        assert result is Malformation.TRUNCATED
    else:
        assert isinstance(result, tuple)


@given(tcp_wire_segments(), st.integers(0, 200), st.integers(1, 255), st.booleans())
def test_tcp_byte_flipped(segment: bytes, index: int, mask: int, verify: bool) -> None:
    damaged = _flip(segment, index, mask)
    result = refused_or_parsed(lambda: TcpHeader.parse(damaged, SRC, DST, verify_checksum=verify))
    if verify and result not in (Malformation.TRUNCATED, Malformation.BAD_LENGTH):
        # A change of one octet always changes the one's complement sum (it moves it by less than 0xFFFF).
        assert result is Malformation.BAD_CHECKSUM


@given(udp_wire_datagrams(), st.integers(0, 200), st.integers(1, 255), st.booleans())
def test_udp_byte_flipped(datagram: bytes, index: int, mask: int, verify: bool) -> None:
    damaged = _flip(datagram, index, mask)
    result = refused_or_parsed(lambda: UdpHeader.parse(damaged, SRC, DST, verify_checksum=verify))
    checked = damaged[6:8] != b"\x00\x00" and datagram[6:8] != b"\x00\x00"
    if verify and checked and index % len(datagram) not in (4, 5):
        assert result is Malformation.BAD_CHECKSUM


@given(tcp_option_areas(), st.integers(0, 40), st.integers(1, 255))
def test_option_area_byte_flipped(area: bytes, index: int, mask: int) -> None:
    if area:
        refused_or_parsed(lambda: parse_options(_flip(area, index, mask)))


# --- round trips ---------------------------------------------------------------------------------------------------


@given(tcp_headers(), st.binary(max_size=64), ipv4_addresses(), ipv4_addresses())
def test_tcp_emit_then_parse_is_the_identity(
    header: TcpHeader, payload: bytes, src: IPv4Address, dst: IPv4Address
) -> None:
    assert TcpHeader.parse(header.emit(payload, src, dst), src, dst) == (header, payload)


@given(udp_headers(), st.binary(max_size=64), ipv4_addresses(), ipv4_addresses())
def test_udp_emit_then_parse_is_the_identity(
    header: UdpHeader, payload: bytes, src: IPv4Address, dst: IPv4Address
) -> None:
    assert UdpHeader.parse(header.emit(payload, src, dst), src, dst) == (header, payload)


@given(tcp_wire_segments())
def test_tcp_parse_then_emit_gives_the_same_octets(segment: bytes) -> None:
    header, payload = TcpHeader.parse(segment, SRC, DST)
    assert header.emit(payload, SRC, DST) == segment
    assert header.header_len == (segment[12] >> 4) * 4


@given(udp_wire_datagrams())
def test_udp_parse_then_emit_gives_the_same_octets(datagram: bytes) -> None:
    header, payload = UdpHeader.parse(datagram, SRC, DST)
    assert header.emit(payload, SRC, DST) == datagram


@given(tcp_option_areas())
def test_option_areas_parse_then_emit(area: bytes) -> None:
    options: tuple[TcpOption, ...] = parse_options(area)
    assert emit_options(options) == area
