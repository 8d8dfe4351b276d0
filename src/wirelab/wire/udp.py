"""UDP (RFC 768).

::

     0      7 8     15 16    23 24    31
    +--------+--------+--------+--------+
    |     Source      |   Destination   |
    |      Port       |      Port       |
    +--------+--------+--------+--------+
    |     Length      |    Checksum     |
    +--------+--------+--------+--------+
    |          data octets ...
    +---------------- ...

The checksum covers a pseudo-header (source and destination address, protocol 17, UDP length), the
header and the data. Over IPv4 a transmitted checksum of 0 means "no checksum"; a computed checksum
of 0 is therefore sent as 0xFFFF (its one's complement twin).
"""

from __future__ import annotations

import struct
from ipaddress import IPv4Address
from typing import Final, NamedTuple

from wirelab.wire.checksum import internet_checksum, sum_verifies, word_sum
from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.ipaddr import address_value

# Field offsets (octets).
SRC_PORT: Final = slice(0, 2)
DST_PORT: Final = slice(2, 4)
LENGTH: Final = slice(4, 6)
CHECKSUM: Final = slice(6, 8)
HEADER_LEN: Final = 8
PROTOCOL_NUMBER: Final = 17

_HEADER = struct.Struct("!HHHH")
_PROTOCOL = "udp"


class UdpHeader(NamedTuple):
    """A validated UDP header. ``no_checksum`` records a datagram sent with checksum 0."""

    src_port: int
    dst_port: int
    no_checksum: bool = False

    @staticmethod
    def parse(
        datagram: bytes, src: IPv4Address, dst: IPv4Address, *, verify_checksum: bool = True
    ) -> tuple[UdpHeader, bytes]:
        """Parse a datagram (its IP payload); the data is cut at the UDP length."""
        if len(datagram) < HEADER_LEN:
            raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, f"{len(datagram)} octets < 8")
        src_port, dst_port, length, checksum = _HEADER.unpack_from(datagram)
        if length < HEADER_LEN:
            raise MalformedPacket(_PROTOCOL, Malformation.BAD_LENGTH, f"length field {length} < 8")
        if length > len(datagram):
            raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, f"length field {length} > {len(datagram)}")
        if length < len(datagram):
            datagram = datagram[:length]
        if checksum and verify_checksum:
            pseudo = address_value(src) + address_value(dst) + PROTOCOL_NUMBER + length
            if not sum_verifies(word_sum(datagram, pseudo)):
                raise MalformedPacket(_PROTOCOL, Malformation.BAD_CHECKSUM, "datagram checksum")
        return UdpHeader(src_port, dst_port, checksum == 0), datagram[HEADER_LEN:]

    def emit(self, payload: bytes, src: IPv4Address, dst: IPv4Address) -> bytes:
        length = HEADER_LEN + len(payload)
        if length > 0xFFFF:
            raise ValueError(f"UDP datagram of {length} octets exceeds 65535")
        try:
            head = _HEADER.pack(self.src_port, self.dst_port, length, 0)
        except struct.error as error:
            raise ValueError(f"UDP port out of range: {error}") from None
        if self.no_checksum:
            return head + payload
        # The header's words enter the sum as one integer (see checksum.py): no concatenation needed.
        pseudo = address_value(src) + address_value(dst) + PROTOCOL_NUMBER + length
        checksum = internet_checksum(payload, pseudo + int.from_bytes(head, "big")) or 0xFFFF
        return head[:6] + checksum.to_bytes(2, "big") + payload
