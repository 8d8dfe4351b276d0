"""ICMP for IPv4 (RFC 792, RFC 1191 for "fragmentation needed" with the next-hop MTU).

::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |     Type      |     Code      |          Checksum             |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                     Rest of header                            |
    |   echo: Identifier | Sequence number                          |
    |   unreachable/frag needed: unused (16) | Next-hop MTU (16)    |
    |   time exceeded: unused                                       |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |     Data: echo payload, or for errors the offending datagram's |
    |     IP header + the first 8 octets of its payload              |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

The checksum covers the whole ICMP message (no pseudo-header).
"""

from __future__ import annotations

import enum
import struct
from typing import Final, NamedTuple

from wirelab.wire.checksum import internet_checksum
from wirelab.wire.errors import Malformation, MalformedPacket

# Field offsets (octets).
TYPE: Final = 0
CODE: Final = 1
CHECKSUM: Final = slice(2, 4)
REST_OF_HEADER: Final = slice(4, 8)
DATA_START: Final = 8
HEADER_LEN: Final = 8
QUOTED_PAYLOAD_LEN: Final = 8  # RFC 792: "the internet header plus the first 64 bits"

_HEADER = struct.Struct("!BBHI")
_PROTOCOL = "icmp"


class IcmpType(enum.IntEnum):
    ECHO_REPLY = 0
    DEST_UNREACHABLE = 3
    SOURCE_QUENCH = 4
    REDIRECT = 5
    ECHO_REQUEST = 8
    ROUTER_ADVERTISEMENT = 9
    ROUTER_SOLICITATION = 10
    TIME_EXCEEDED = 11
    PARAMETER_PROBLEM = 12
    TIMESTAMP = 13
    TIMESTAMP_REPLY = 14


class UnreachableCode(enum.IntEnum):
    """Destination unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1)."""

    NET = 0
    HOST = 1
    PROTOCOL = 2
    PORT = 3
    FRAGMENTATION_NEEDED = 4
    SOURCE_ROUTE_FAILED = 5
    NET_UNKNOWN = 6
    HOST_UNKNOWN = 7
    SOURCE_HOST_ISOLATED = 8
    NET_PROHIBITED = 9
    HOST_PROHIBITED = 10
    NET_UNREACHABLE_FOR_TOS = 11
    HOST_UNREACHABLE_FOR_TOS = 12
    COMMUNICATION_PROHIBITED = 13
    HOST_PRECEDENCE_VIOLATION = 14
    PRECEDENCE_CUTOFF = 15


class TimeExceededCode(enum.IntEnum):
    TTL_EXCEEDED_IN_TRANSIT = 0
    FRAGMENT_REASSEMBLY_TIME_EXCEEDED = 1


ERROR_TYPES: Final = frozenset(
    {
        IcmpType.DEST_UNREACHABLE,
        IcmpType.SOURCE_QUENCH,
        IcmpType.REDIRECT,
        IcmpType.TIME_EXCEEDED,
        IcmpType.PARAMETER_PROBLEM,
    }
)
_TYPES: Final[dict[int, int]] = {int(t): t for t in IcmpType}


def quote(datagram: bytes) -> bytes:
    """What an ICMP error carries: the offending IP header plus the first 8 octets of its payload."""
    if not datagram:
        return b""
    header_len = (datagram[0] & 0x0F) << 2
    return datagram[: header_len + QUOTED_PAYLOAD_LEN]


class IcmpMessage(NamedTuple):
    """A validated ICMP message. Build one with the class methods; read it with the properties."""

    type: int
    code: int
    rest: int = 0  # the 32-bit "rest of header", interpreted per type by the properties below
    data: bytes = b""

    @classmethod
    def echo_request(cls, identifier: int, sequence: int, data: bytes = b"") -> IcmpMessage:
        return cls(IcmpType.ECHO_REQUEST, 0, identifier << 16 | sequence, data)

    @classmethod
    def echo_reply(cls, identifier: int, sequence: int, data: bytes = b"") -> IcmpMessage:
        return cls(IcmpType.ECHO_REPLY, 0, identifier << 16 | sequence, data)

    def reply(self) -> IcmpMessage:
        """The echo reply to this echo request: same identifier, sequence and data (RFC 792)."""
        return self._replace(type=IcmpType.ECHO_REPLY)

    @classmethod
    def destination_unreachable(
        cls, code: UnreachableCode, offending_datagram: bytes, next_hop_mtu: int = 0
    ) -> IcmpMessage:
        """Destination unreachable quoting the offending datagram; ``next_hop_mtu`` for code 4."""
        if not 0 <= next_hop_mtu <= 0xFFFF:
            raise ValueError(f"next-hop MTU {next_hop_mtu} does not fit 16 bits (RFC 1191)")
        return cls(IcmpType.DEST_UNREACHABLE, code, next_hop_mtu, quote(offending_datagram))

    @classmethod
    def time_exceeded(cls, code: TimeExceededCode, offending_datagram: bytes) -> IcmpMessage:
        return cls(IcmpType.TIME_EXCEEDED, code, 0, quote(offending_datagram))

    @property
    def is_error(self) -> bool:
        """An error message (RFC 1122 §3.2.2: never answered with another ICMP error)."""
        return self.type in ERROR_TYPES

    @property
    def identifier(self) -> int:
        return self.rest >> 16

    @property
    def sequence(self) -> int:
        return self.rest & 0xFFFF

    @property
    def next_hop_mtu(self) -> int:
        """RFC 1191: the MTU of the link that could not take the datagram (code 4), else 0."""
        return self.rest & 0xFFFF

    @property
    def quoted(self) -> bytes:
        """For an error message: the quoted datagram head (IP header + 8 octets)."""
        return self.data

    @staticmethod
    def parse(message: bytes, *, verify_checksum: bool = True) -> IcmpMessage:
        if len(message) < HEADER_LEN:
            raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, f"{len(message)} octets < 8")
        if verify_checksum and internet_checksum(message) != 0:
            raise MalformedPacket(_PROTOCOL, Malformation.BAD_CHECKSUM, "message checksum")
        kind, code, _checksum, rest = _HEADER.unpack_from(message)
        return IcmpMessage(_TYPES.get(kind, kind), code, rest, message[DATA_START:])

    def emit(self) -> bytes:
        try:
            head = _HEADER.pack(self.type, self.code, 0, self.rest)
        except struct.error as error:
            raise ValueError(f"ICMP header field out of range: {error}") from None
        checksum = internet_checksum(head + self.data)
        return head[:2] + checksum.to_bytes(2, "big") + head[4:] + self.data
