"""IPv4 (RFC 791): the header, a packet view for in-place edits, and fragmentation.

::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |Version|  IHL  |   DSCP    |ECN|          Total Length         |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |         Identification        |R|D|M|      Fragment Offset    |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |  Time to Live |    Protocol   |         Header Checksum       |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                       Source Address                          |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                    Destination Address                        |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                    Options (IHL > 5)          |    Padding    |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

Flags: R reserved (must be zero; kept as read), D don't fragment, M more fragments. The fragment
offset counts 8-octet units on the wire; :class:`Ipv4Header` holds it in octets.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterator
from ipaddress import IPv4Address
from typing import Final, NamedTuple

from wirelab.wire.checksum import incremental_update
from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.ipaddr import address_value, ipv4_from_packed

# Field offsets (octets).
VERSION_IHL: Final = 0
DSCP_ECN: Final = 1
TOTAL_LENGTH: Final = slice(2, 4)
IDENTIFICATION: Final = slice(4, 6)
FLAGS_FRAGMENT: Final = slice(6, 8)
TTL: Final = 8
PROTOCOL: Final = 9
CHECKSUM: Final = slice(10, 12)
SRC: Final = slice(12, 16)
DST: Final = slice(16, 20)
OPTIONS_START: Final = 20
MIN_HEADER_LEN: Final = 20
MAX_HEADER_LEN: Final = 60
MAX_PACKET_LEN: Final = 65535

FLAG_RESERVED: Final = 0x8000
FLAG_DONT_FRAGMENT: Final = 0x4000
FLAG_MORE_FRAGMENTS: Final = 0x2000
OFFSET_MASK: Final = 0x1FFF

DEFAULT_TTL: Final = 64  # Linux's net.ipv4.ip_default_ttl

_FIXED = struct.Struct("!BBHHHBBH4s4s")
_FIXED_EMIT = struct.Struct("!BBHHHBBHII")  # the same fields, addresses as integers (cheaper to get)
_PROTOCOL = "ipv4"
_from_bytes = int.from_bytes
_new = tuple.__new__  # parsers build their NamedTuple values without the Python-level __new__


class IpProtocol(enum.IntEnum):
    ICMP = 1
    IGMP = 2
    TCP = 6
    UDP = 17
    GRE = 47
    ICMPV6 = 58
    SCTP = 132


_PROTOCOLS: Final[dict[int, int]] = {int(p): p for p in IpProtocol}


class Ipv4Header(NamedTuple):
    """A validated IPv4 header (the total length and checksum are derived when emitting)."""

    src: IPv4Address
    dst: IPv4Address
    protocol: int
    ttl: int = DEFAULT_TTL
    identification: int = 0
    dont_fragment: bool = False
    more_fragments: bool = False
    fragment_offset: int = 0  # octets, a multiple of 8
    dscp: int = 0
    ecn: int = 0
    options: bytes = b""  # kept as bytes, padded to a multiple of 4 octets
    reserved_flag: bool = False  # RFC 3514 aside, always zero; kept so parse -> emit is exact

    @property
    def header_len(self) -> int:
        return MIN_HEADER_LEN + len(self.options)

    @property
    def is_fragment(self) -> bool:
        return self.more_fragments or self.fragment_offset != 0

    @staticmethod
    def parse(packet: bytes, *, verify_checksum: bool = True) -> tuple[Ipv4Header, bytes]:
        """Parse a datagram; the payload is cut at the total length (Ethernet padding dropped)."""
        try:
            ver_ihl, dscp_ecn, total, ident, flags_frag, ttl, proto, _checksum, src, dst = _FIXED.unpack_from(packet)
        except struct.error:
            raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, f"{len(packet)} octets < 20") from None
        if ver_ihl >> 4 != 4:
            raise MalformedPacket(_PROTOCOL, Malformation.BAD_VERSION, f"version {ver_ihl >> 4}")
        header_len = (ver_ihl & 0x0F) << 2
        if header_len < MIN_HEADER_LEN:
            raise MalformedPacket(_PROTOCOL, Malformation.BAD_LENGTH, f"IHL {header_len // 4} < 5")
        if total < header_len:
            raise MalformedPacket(_PROTOCOL, Malformation.BAD_LENGTH, f"total length {total} < header {header_len}")
        if total > len(packet):
            raise MalformedPacket(
                _PROTOCOL, Malformation.TRUNCATED, f"total length {total} > {len(packet)} octets received"
            )
        if verify_checksum:
            # checksum.word_sum and sum_verifies, inlined: a header is short and of even length.
            header_sum = _from_bytes(packet[:header_len], "big")
            if header_sum % 0xFFFF or not header_sum:
                raise MalformedPacket(_PROTOCOL, Malformation.BAD_CHECKSUM, "header checksum")
        header = _new(
            Ipv4Header,
            (
                ipv4_from_packed(src),
                ipv4_from_packed(dst),
                _PROTOCOLS.get(proto, proto),
                ttl,
                ident,
                flags_frag & FLAG_DONT_FRAGMENT != 0,
                flags_frag & FLAG_MORE_FRAGMENTS != 0,
                (flags_frag & OFFSET_MASK) << 3,
                dscp_ecn >> 2,
                dscp_ecn & 3,
                packet[MIN_HEADER_LEN:header_len] if header_len > MIN_HEADER_LEN else b"",
                flags_frag & FLAG_RESERVED != 0,
            ),
        )
        return header, packet[header_len:total]

    def emit(self, payload: bytes) -> bytes:
        """Header (with its checksum) followed by ``payload``."""
        header_len = MIN_HEADER_LEN + len(self.options)
        if len(self.options) & 3 or header_len > MAX_HEADER_LEN:
            raise ValueError(f"IPv4 options must be a multiple of 4 octets, at most 40 (got {len(self.options)})")
        total = header_len + len(payload)
        if total > MAX_PACKET_LEN:
            raise ValueError(f"IPv4 datagram of {total} octets exceeds 65535")
        if self.fragment_offset & 7 or not 0 <= self.fragment_offset <= OFFSET_MASK << 3:
            raise ValueError(f"fragment offset {self.fragment_offset} is not a multiple of 8 in range")
        if not 0 <= self.ecn <= 3:  # a wider ECN would spill into the DSCP bits without a struct.error
            raise ValueError(f"IPv4 ECN {self.ecn} is not a 2-bit value")
        flags = (
            (FLAG_RESERVED if self.reserved_flag else 0)
            | (FLAG_DONT_FRAGMENT if self.dont_fragment else 0)
            | (FLAG_MORE_FRAGMENTS if self.more_fragments else 0)
            | (self.fragment_offset >> 3)
        )
        try:
            head = _FIXED_EMIT.pack(
                0x40 | header_len >> 2,
                self.dscp << 2 | self.ecn,
                total,
                self.identification,
                flags,
                self.ttl,
                self.protocol,
                0,
                address_value(self.src),
                address_value(self.dst),
            )
        except struct.error as error:
            raise ValueError(f"IPv4 header field out of range: {error}") from None
        if self.options:
            head += self.options
        # RFC 1071 inlined (see checksum.py): a header is never all zeros (version 4), so its folded sum
        # is (sum mod 0xFFFF) or 0xFFFF, and the checksum is that sum's one's complement.
        checksum = 0xFFFF - (_from_bytes(head, "big") % 0xFFFF or 0xFFFF)
        return head[:10] + checksum.to_bytes(2, "big") + head[12:] + payload


class Ipv4Packet:
    """A view over a datagram's bytes. Routers use it to edit the TTL in place (RFC 1624)."""

    __slots__ = ("buffer",)

    def __init__(self, buffer: bytearray | bytes) -> None:
        if len(buffer) < MIN_HEADER_LEN:
            raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, f"{len(buffer)} octets < 20")
        self.buffer = buffer

    @property
    def version(self) -> int:
        return self.buffer[VERSION_IHL] >> 4

    @property
    def header_len(self) -> int:
        return (self.buffer[VERSION_IHL] & 0x0F) << 2

    @property
    def total_length(self) -> int:
        return int.from_bytes(self.buffer[TOTAL_LENGTH], "big")

    @property
    def ttl(self) -> int:
        return self.buffer[TTL]

    @property
    def protocol(self) -> int:
        return self.buffer[PROTOCOL]

    @property
    def checksum(self) -> int:
        return int.from_bytes(self.buffer[CHECKSUM], "big")

    @property
    def src(self) -> IPv4Address:
        return ipv4_from_packed(bytes(self.buffer[SRC]))

    @property
    def dst(self) -> IPv4Address:
        return ipv4_from_packed(bytes(self.buffer[DST]))

    def decrement_ttl(self) -> int:
        """TTL - 1 with the checksum patched by RFC 1624 eqn. 3; returns the new TTL.

        The TTL shares its 16-bit word with the protocol field, so that whole word is the one updated.
        """
        buffer = self.buffer
        if not isinstance(buffer, bytearray):
            raise TypeError("decrement_ttl needs a mutable buffer (bytearray)")
        ttl = buffer[TTL]
        if ttl == 0:
            raise ValueError("TTL is already 0")
        old_word = ttl << 8 | buffer[PROTOCOL]
        buffer[TTL] = ttl - 1
        new_checksum = incremental_update(self.checksum, old_word, old_word - 0x100)
        buffer[CHECKSUM] = new_checksum.to_bytes(2, "big")
        return ttl - 1


def fragment(header: Ipv4Header, payload: bytes, mtu: int) -> Iterator[tuple[Ipv4Header, bytes]]:
    """Split a datagram into fragments that fit ``mtu`` (RFC 791 §3.2, "fragmentation procedure").

    Every fragment but the last carries a multiple of 8 payload octets. Options whose *copied* flag is
    set travel in every fragment, the others only in the first. ``header`` may itself be a fragment
    (a router re-fragmenting): offsets and the final MF flag are preserved. A datagram that fits is
    returned whole. The caller decides what DF means (drop and ICMP, or EMSGSIZE): asking to fragment
    a DF datagram that does not fit is a ValueError.
    """
    if header.header_len + len(payload) <= mtu:
        yield header, payload
        return
    if header.dont_fragment:
        raise ValueError("datagram has DF set and does not fit the MTU")
    later_options = _copied_options(header.options)
    first_room = (mtu - header.header_len) & ~7
    later_room = (mtu - MIN_HEADER_LEN - len(later_options)) & ~7
    if first_room < 8 or later_room < 8:
        raise ValueError(f"MTU {mtu} is too small to fragment into (RFC 791 needs 68)")
    offset = 0
    room = first_room
    options = header.options
    while offset < len(payload):
        piece = payload[offset : offset + room]
        last = offset + len(piece) >= len(payload)
        yield (
            header._replace(
                options=options,
                fragment_offset=header.fragment_offset + offset,
                more_fragments=header.more_fragments if last else True,
            ),
            piece,
        )
        offset += len(piece)
        room = later_room
        options = later_options


def _copied_options(options: bytes) -> bytes:
    """The options with the copied flag (RFC 791: type octet bit 0), padded to 4 octets."""
    kept = bytearray()
    index = 0
    while index < len(options):
        kind = options[index]
        if kind == 0:  # end of option list
            break
        if kind == 1:  # no operation: a one-octet option, not copied
            index += 1
            continue
        if index + 1 >= len(options) or options[index + 1] < 2:
            break  # malformed tail: copy nothing more rather than guess
        length = options[index + 1]
        if kind & 0x80:
            kept += options[index : index + length]
        index += length
    kept += bytes(-len(kept) % 4)
    return bytes(kept)
