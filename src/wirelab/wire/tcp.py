"""The TCP header and its options (RFC 9293 §3.1; RFC 7323, RFC 2018, RFC 3168).

::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |          Source Port          |       Destination Port        |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                        Sequence Number                        |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                    Acknowledgment Number                      |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |  Data |       |C|E|U|A|P|R|S|F|                               |
    | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
    |       |       |R|E|G|K|H|T|N|N|                               |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |           Checksum            |         Urgent Pointer        |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                           [Options]                           |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                             Data ...
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

Options are kept in order, as a tuple of typed values, so that parse -> emit gives back the same
bytes. Every option type carries its ``kind`` as its last field, which also keeps two option values of
different types from ever comparing equal.

    kind 0  End of option list (the octets after it, normally zeros, are kept as padding)
    kind 1  No-operation
    kind 2  Maximum segment size, length 4 (SYN only)
    kind 3  Window scale, length 3 (RFC 7323 §2)
    kind 4  SACK permitted, length 2 (RFC 2018)
    kind 5  SACK, length 2 + 8n (RFC 2018)
    kind 8  Timestamps, length 10 (RFC 7323 §3)
    other   kept as raw bytes and emitted again as read
"""

from __future__ import annotations

import enum
import struct
from ipaddress import IPv4Address
from typing import Final, Literal, NamedTuple

from wirelab.wire.checksum import internet_checksum, word_sum
from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.ipaddr import address_value

# Field offsets (octets).
SRC_PORT: Final = slice(0, 2)
DST_PORT: Final = slice(2, 4)
SEQ: Final = slice(4, 8)
ACK: Final = slice(8, 12)
DATA_OFFSET: Final = 12  # high nibble; the low nibble is reserved
FLAGS: Final = 13
WINDOW: Final = slice(14, 16)
CHECKSUM: Final = slice(16, 18)
URGENT: Final = slice(18, 20)
OPTIONS_START: Final = 20
MIN_HEADER_LEN: Final = 20
MAX_HEADER_LEN: Final = 60
PROTOCOL_NUMBER: Final = 6

_FIXED = struct.Struct("!HHIIBBHHH")
_TIMESTAMPS = struct.Struct("!II")
_FIXED_NOP_NOP_TIMESTAMPS = struct.Struct("!HHIIBBHHH4xII")
_PROTOCOL = "tcp"
_new = tuple.__new__  # parsers build their NamedTuple values without the Python-level __new__


class TcpFlags(enum.IntFlag):
    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10
    URG = 0x20
    ECE = 0x40
    CWR = 0x80


_FLAGS: Final = tuple(TcpFlags(value) for value in range(256))


class TcpOptionKind(enum.IntEnum):
    END = 0
    NOP = 1
    MSS = 2
    WINDOW_SCALE = 3
    SACK_PERMITTED = 4
    SACK = 5
    TIMESTAMPS = 8


_KNOWN_KINDS: Final = frozenset(int(kind) for kind in TcpOptionKind)


class EndOfOptions(NamedTuple):
    padding: bytes = b""  # whatever follows the EOL octet up to the data offset
    kind: Literal[0] = 0


class Nop(NamedTuple):
    kind: Literal[1] = 1


class MaxSegmentSize(NamedTuple):
    mss: int
    kind: Literal[2] = 2


class WindowScale(NamedTuple):
    shift: int
    kind: Literal[3] = 3


class SackPermitted(NamedTuple):
    kind: Literal[4] = 4


class Sack(NamedTuple):
    blocks: tuple[tuple[int, int], ...]  # (left edge, right edge) pairs, right edge exclusive
    kind: Literal[5] = 5


class Timestamps(NamedTuple):
    tsval: int
    tsecr: int
    kind: Literal[8] = 8


class UnknownOption(NamedTuple):
    kind: int
    data: bytes


TcpOption = EndOfOptions | Nop | MaxSegmentSize | WindowScale | SackPermitted | Sack | Timestamps | UnknownOption

NOP: Final = Nop()
SACK_PERMITTED: Final = SackPermitted()
_NOP_NOP_TIMESTAMPS: Final = b"\x01\x01\x08\x0a"  # Linux's layout on every segment after the SYN
_NOP_NOP_SACK: Final = b"\x01\x01\x05"  # then, with out-of-order data, SACK blocks after two NOPs
_SACK_LENGTHS: Final = frozenset(2 + 8 * blocks for blocks in range(1, 5))  # 1 to 4 blocks after timestamps: 3
_SACK_EDGES: Final = {2 + 8 * blocks: struct.Struct(f"!{2 * blocks}I") for blocks in range(1, 5)}


def parse_options(data: bytes) -> tuple[TcpOption, ...]:
    """Decode an options area; a length that cannot be right is :attr:`Malformation.BAD_OPTION`."""
    if len(data) == 12 and data[:4] == _NOP_NOP_TIMESTAMPS:  # the common case, without the loop
        return (NOP, NOP, Timestamps(*_TIMESTAMPS.unpack_from(data, 4)))
    if (
        data[:4] == _NOP_NOP_TIMESTAMPS
        and data[12:15] == _NOP_NOP_SACK
        and len(data) == 14 + data[15]
        and data[15] in _SACK_LENGTHS
    ):
        # Linux's layout with SACK blocks (NOP, NOP, timestamps, NOP, NOP, SACK): what the loop gives.
        edges = _SACK_EDGES[data[15]].unpack_from(data, 16)
        blocks = tuple(zip(edges[::2], edges[1::2], strict=True))
        return (NOP, NOP, Timestamps(*_TIMESTAMPS.unpack_from(data, 4)), NOP, NOP, Sack(blocks))
    options: list[TcpOption] = []
    index = 0
    end = len(data)
    while index < end:
        kind = data[index]
        if kind == TcpOptionKind.END:
            options.append(EndOfOptions(data[index + 1 :]))
            break
        if kind == TcpOptionKind.NOP:
            options.append(NOP)
            index += 1
            continue
        if index + 1 >= end:
            raise MalformedPacket(_PROTOCOL, Malformation.BAD_OPTION, f"option {kind} has no length octet")
        length = data[index + 1]
        if length < 2 or index + length > end:
            raise MalformedPacket(
                _PROTOCOL, Malformation.BAD_OPTION, f"option {kind} length {length} at offset {index}"
            )
        body = data[index + 2 : index + length]
        options.append(_typed_option(kind, length, body))
        index += length
    return tuple(options)


def _typed_option(kind: int, length: int, body: bytes) -> TcpOption:
    expected: dict[int, int] = {TcpOptionKind.MSS: 4, TcpOptionKind.WINDOW_SCALE: 3, TcpOptionKind.SACK_PERMITTED: 2}
    if kind == TcpOptionKind.TIMESTAMPS:
        if length != 10:
            raise MalformedPacket(_PROTOCOL, Malformation.BAD_OPTION, f"timestamps length {length} != 10")
        return Timestamps(*_TIMESTAMPS.unpack(body))
    if kind == TcpOptionKind.SACK:
        if length < 10 or (length - 2) % 8:
            raise MalformedPacket(_PROTOCOL, Malformation.BAD_OPTION, f"SACK length {length} is not 2+8n")
        edges = struct.unpack(f"!{(length - 2) // 4}I", body)
        return Sack(tuple(zip(edges[::2], edges[1::2], strict=True)))
    if kind in expected:
        if length != expected[kind]:
            raise MalformedPacket(
                _PROTOCOL,
                Malformation.BAD_OPTION,
                f"{TcpOptionKind(kind).name} length {length} != {expected[kind]}",
            )
        if kind == TcpOptionKind.MSS:
            return MaxSegmentSize(int.from_bytes(body, "big"))
        if kind == TcpOptionKind.WINDOW_SCALE:
            return WindowScale(body[0])
        return SACK_PERMITTED
    return UnknownOption(kind, body)


def emit_options(options: tuple[TcpOption, ...]) -> bytes:
    """Encode options, zero-padded (that is, EOL-padded) to a multiple of 4 octets."""
    if len(options) == 3 and options[0] == NOP and options[1] == NOP and type(options[2]) is Timestamps:
        encoded = _NOP_NOP_TIMESTAMPS + _TIMESTAMPS.pack(options[2].tsval, options[2].tsecr)
    elif (
        len(options) == 6
        and type(options[2]) is Timestamps
        and type(options[5]) is Sack
        and options[0] == options[1] == options[3] == options[4] == NOP
        and 1 <= len(options[5].blocks) <= 4
    ):
        # The same with SACK blocks: the loop's bytes, packed at once (a value out of range: the loop says so).
        blocks = options[5].blocks
        try:
            encoded = (
                _NOP_NOP_TIMESTAMPS
                + _TIMESTAMPS.pack(options[2].tsval, options[2].tsecr)
                + _NOP_NOP_SACK
                + bytes((2 + 8 * len(blocks),))
                + b"".join(_TIMESTAMPS.pack(*block) for block in blocks)
            )
        except (struct.error, TypeError):
            encoded = b"".join(map(_emit_option, options))
    else:
        encoded = b"".join(map(_emit_option, options))
    return encoded + bytes(-len(encoded) % 4)


def _emit_option(option: TcpOption) -> bytes:
    try:
        match option:
            case EndOfOptions(padding=padding):
                return b"\x00" + padding
            case Nop():
                return b"\x01"
            case MaxSegmentSize(mss=mss):
                return b"\x02\x04" + mss.to_bytes(2, "big")
            case WindowScale(shift=shift):
                return bytes((3, 3, shift))
            case SackPermitted():
                return b"\x04\x02"
            case Sack(blocks=blocks):
                if not 1 <= len(blocks) <= 4:
                    raise ValueError(f"a SACK option holds 1 to 4 blocks, not {len(blocks)}")
                return bytes((5, 2 + 8 * len(blocks))) + b"".join(_TIMESTAMPS.pack(*block) for block in blocks)
            case Timestamps(tsval=tsval, tsecr=tsecr):
                return b"\x08\x0a" + _TIMESTAMPS.pack(tsval, tsecr)
            case UnknownOption(kind=kind, data=data):
                if kind in _KNOWN_KINDS or len(data) > 38:
                    # A known kind must use its typed option, or the bytes would not parse back as written.
                    raise ValueError(f"unknown option {kind} with {len(data)} octets cannot be encoded")
                return bytes((kind, 2 + len(data))) + data
    except (struct.error, OverflowError) as error:
        raise ValueError(f"TCP option {option} out of range: {error}") from None
    raise TypeError(f"not a TCP option: {option!r}")


class TcpHeader(NamedTuple):
    """A validated TCP header (data offset and checksum are derived when emitting)."""

    src_port: int
    dst_port: int
    seq: int
    ack: int = 0
    flags: int = TcpFlags(0)  # a TcpFlags when parsed; any int of flag bits when built
    window: int = 0
    urgent: int = 0
    options: tuple[TcpOption, ...] = ()
    reserved: int = 0  # the 4 reserved bits (RFC 9293 says zero; AccECN uses one); kept as read

    @property
    def header_len(self) -> int:
        return MIN_HEADER_LEN + len(emit_options(self.options)) if self.options else MIN_HEADER_LEN

    @property
    def segment_length(self) -> int:
        """Sequence space the header's flags consume: SYN and FIN count one each (RFC 9293 §3.4)."""
        return bool(self.flags & TcpFlags.SYN) + bool(self.flags & TcpFlags.FIN)

    def option(self, kind: TcpOptionKind) -> TcpOption | None:
        """The first option of ``kind``, if present."""
        for option in self.options:
            if option.kind == kind:
                return option
        return None

    @property
    def mss(self) -> int | None:
        option = self.option(TcpOptionKind.MSS)
        return option.mss if isinstance(option, MaxSegmentSize) else None

    @property
    def window_scale(self) -> int | None:
        option = self.option(TcpOptionKind.WINDOW_SCALE)
        return option.shift if isinstance(option, WindowScale) else None

    @property
    def sack_permitted(self) -> bool:
        return self.option(TcpOptionKind.SACK_PERMITTED) is not None

    @property
    def sack_blocks(self) -> tuple[tuple[int, int], ...]:
        option = self.option(TcpOptionKind.SACK)
        return option.blocks if isinstance(option, Sack) else ()

    @property
    def timestamps(self) -> Timestamps | None:
        option = self.option(TcpOptionKind.TIMESTAMPS)
        return option if isinstance(option, Timestamps) else None

    @staticmethod
    def parse(
        segment: bytes, src: IPv4Address, dst: IPv4Address, *, verify_checksum: bool = True
    ) -> tuple[TcpHeader, bytes]:
        """Parse a segment (its IP payload); ``src`` and ``dst`` make the checksum's pseudo-header."""
        return TcpHeader.parse_between(segment, address_value(src) + address_value(dst), verify_checksum)

    @staticmethod
    def parse_between(segment: bytes, addresses: int, verify_checksum: bool = True) -> tuple[TcpHeader, bytes]:
        """:meth:`parse`, with the pseudo-header's addresses given as the sum of their 32-bit values
        (what a receiver that read them off the frame as integers has at hand)."""
        length = len(segment)
        options: tuple[TcpOption, ...]
        if segment[20:24] == _NOP_NOP_TIMESTAMPS and length >= 32 and segment[12] >> 4 == 8:
            # Linux's layout on every segment after the SYN (NOP, NOP, timestamps): one unpack, no loop.
            src_port, dst_port, seq, ack, offset_reserved, flags, window, _checksum, urgent, tsval, tsecr = (
                _FIXED_NOP_NOP_TIMESTAMPS.unpack_from(segment)
            )
            options = (NOP, NOP, _new(Timestamps, (tsval, tsecr, 8)))
        else:
            try:
                src_port, dst_port, seq, ack, offset_reserved, flags, window, _checksum, urgent = _FIXED.unpack_from(
                    segment
                )
            except struct.error:
                raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, f"{length} octets < 20") from None
            options = ()
        header_len = (offset_reserved >> 4) << 2
        if header_len < MIN_HEADER_LEN:
            raise MalformedPacket(_PROTOCOL, Malformation.BAD_LENGTH, f"data offset {header_len // 4} < 5")
        if header_len > length:
            raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, f"data offset {header_len} > {length} octets")
        if verify_checksum:
            segment_sum = word_sum(segment, addresses + PROTOCOL_NUMBER + length)
            if segment_sum % 0xFFFF or not segment_sum:  # checksum.sum_verifies, inlined
                raise MalformedPacket(_PROTOCOL, Malformation.BAD_CHECKSUM, "segment checksum")
        if header_len > MIN_HEADER_LEN and not options:
            options = parse_options(segment[MIN_HEADER_LEN:header_len])
        header = _new(
            TcpHeader,
            (src_port, dst_port, seq, ack, _FLAGS[flags], window, urgent, options, offset_reserved & 0x0F),
        )
        return header, segment[header_len:]

    def emit(self, payload: bytes, src: IPv4Address, dst: IPv4Address) -> bytes:
        """Header (with its checksum over the pseudo-header) followed by ``payload``."""
        options = emit_options(self.options) if self.options else b""
        header_len = MIN_HEADER_LEN + len(options)
        if header_len > MAX_HEADER_LEN:
            raise ValueError(f"TCP options take {len(options)} octets; at most 40 fit")
        if self.reserved >> 4:  # it shares octet 12 with the data offset: a 5th bit would change the length
            raise ValueError(f"TCP reserved bits {self.reserved} do not fit in 4 bits")
        try:
            head = (
                _FIXED.pack(
                    self.src_port,
                    self.dst_port,
                    self.seq,
                    self.ack,
                    header_len << 2 | self.reserved,
                    self.flags,
                    self.window,
                    0,
                    self.urgent,
                )
                + options
            )
        except struct.error as error:
            raise ValueError(f"TCP header field out of range: {error}") from None
        length = header_len + len(payload)
        # The header's words enter the sum as one integer (see checksum.py): no concatenation needed.
        pseudo = address_value(src) + address_value(dst) + PROTOCOL_NUMBER + length + int.from_bytes(head, "big")
        checksum = internet_checksum(payload, pseudo)
        return head[:16] + checksum.to_bytes(2, "big") + head[18:] + payload
