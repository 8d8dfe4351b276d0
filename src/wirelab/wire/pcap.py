"""The classic libpcap capture file ("savefile"), as described in pcap-savefile(5).

A file is one global header followed by records, each a record header and the captured octets::

    Global header (24 octets)

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  0 |                         Magic Number                          |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  4 |         Major Version         |         Minor Version         |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  8 |                   Reserved1 (was "thiszone")                  |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 12 |                   Reserved2 (was "sigfigs")                   |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 16 |                            SnapLen                            |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 20 |FCS len|R|P|     Reserved3     |        Link-layer type        |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

    Record header (16 octets), then Captured Length octets of frame data

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  0 |                      Timestamp (seconds)                      |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  4 |          Timestamp (microseconds or nanoseconds)              |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  8 |                Captured Length ("incl_len")                   |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 12 |                Original Length ("orig_len")                   |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 16 /                          Frame data ...                       /
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

Every field is an unsigned integer in the byte order of the writer; the reader learns that order
from the magic number: 0xA1B2C3D4 means microsecond timestamps, 0xA1B23C4D nanosecond ones, and
either one read byte-swapped means the file came from a host of the other byte order. libpcap writes
in the host's order; :class:`PcapWriter` writes little-endian unless told otherwise, so the same
simulation gives the same bytes on every machine.

In the last header word (bit 0 is the most significant), the P bit says the FCS len field is
valid: each frame then ends with FCS len 16-bit words of frame check sequence. R and Reserved3 must
be zero. Only LINKTYPE_ETHERNET (1) is supported here.

Timestamps in wirelab are integer nanoseconds. In a microsecond file they are *truncated* to the
microsecond on writing (a frame sent at 1.000000999 s is stamped 1.000000 s), so only nanosecond
files round-trip exactly.

Errors follow the wire layer's rule: bad file bytes (a *remote* error) raise only
:class:`~wirelab.wire.errors.MalformedPacket` with protocol ``"pcap"``; a caller's mistake (a
negative timestamp, an unsupported link type given to the writer) raises ``ValueError`` and writes
nothing. ``OSError`` from the file object itself passes through untouched.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterable
from types import TracebackType
from typing import Final, Literal, NamedTuple, Protocol, Self

from wirelab.wire.errors import Malformation, MalformedPacket

# Magic numbers, as read in the writer's own byte order.
MAGIC_MICROSECONDS: Final = 0xA1B2C3D4
MAGIC_NANOSECONDS: Final = 0xA1B23C4D
PCAPNG_MAGIC: Final = 0x0A0D0D0A  # a pcapng Section Header Block: a different format, refused by name

VERSION_MAJOR: Final = 2
VERSION_MINOR: Final = 4
LINKTYPE_ETHERNET: Final = 1
SUPPORTED_LINKTYPES: Final = frozenset({LINKTYPE_ETHERNET})
DEFAULT_SNAPLEN: Final = 262144  # libpcap's maximum snapshot length for Ethernet
# No real capture holds a frame this long: a Captured Length above it is garbage, not a frame, and
# the reader refuses it rather than trying to allocate it.
MAX_CAPTURED_LENGTH: Final = 256 * 1024 * 1024

# Offsets and lengths (octets).
MAGIC: Final = slice(0, 4)
GLOBAL_HEADER_LEN: Final = 24
RECORD_HEADER_LEN: Final = 16

# The last global header word: Link-layer type, then the bits above it (see the diagram).
LINKTYPE_MASK: Final = 0x0000FFFF
RESERVED3_MASK: Final = 0x03FF0000
FCS_PRESENT_BIT: Final = 0x04000000  # P
RESERVED_R_BIT: Final = 0x08000000  # R
FCS_LENGTH_SHIFT: Final = 28  # FCS len, in 16-bit words, in the top four bits

_NANOSECONDS_PER_SECOND: Final = 1_000_000_000
_NANOSECONDS_PER_MICROSECOND: Final = 1000
_MAX_SECONDS: Final = 0xFFFF_FFFF
_MAX_UINT32: Final = 0xFFFF_FFFF
_READ_CHUNK: Final = 1 << 20  # a huge Captured Length is read in pieces, never allocated at once
_PROTOCOL = "pcap"

ByteOrder = Literal["little", "big"]
_STRUCT_PREFIX: Final[dict[ByteOrder, str]] = {"little": "<", "big": ">"}

# Global header fields, in diagram order: magic, version_major, version_minor, reserved1 (thiszone),
# reserved2 (sigfigs), snaplen, linktype word.
_GLOBAL_HEADER: Final[dict[ByteOrder, struct.Struct]] = {
    order: struct.Struct(prefix + "IHHIIII") for order, prefix in _STRUCT_PREFIX.items()
}
# Record header fields, in diagram order: ts_seconds, ts_fraction, captured_length, original_length.
_RECORD_HEADER: Final[dict[ByteOrder, struct.Struct]] = {
    order: struct.Struct(prefix + "IIII") for order, prefix in _STRUCT_PREFIX.items()
}

# The four magic octet strings a file can start with: byte order and timestamp resolution.
_MAGICS: Final[dict[bytes, tuple[ByteOrder, bool]]] = {
    MAGIC_MICROSECONDS.to_bytes(4, "little"): ("little", False),
    MAGIC_MICROSECONDS.to_bytes(4, "big"): ("big", False),
    MAGIC_NANOSECONDS.to_bytes(4, "little"): ("little", True),
    MAGIC_NANOSECONDS.to_bytes(4, "big"): ("big", True),
}


class BinaryReadable(Protocol):
    """What the reader needs of a file: ``read(n)``, returning ``b""`` at the end."""

    def read(self, size: int = ..., /) -> bytes: ...


class BinaryWritable(Protocol):
    """What the writer needs of a file."""

    def write(self, data: bytes, /) -> object: ...

    def flush(self) -> object: ...


def _malformed(reason: Malformation, detail: str) -> MalformedPacket:
    return MalformedPacket(_PROTOCOL, reason, detail)


class PcapHeader(NamedTuple):
    """A validated global header.

    ``fcs_length`` is the number of frame check sequence octets at the end of every frame when the
    file says so (the P bit), else ``None``. The reserved ``thiszone``/``sigfigs`` words are written
    as zero and, as pcap-savefile(5) requires, not interpreted when read.
    """

    snaplen: int = DEFAULT_SNAPLEN
    linktype: int = LINKTYPE_ETHERNET
    nanosecond: bool = True
    byte_order: ByteOrder = "little"
    version_major: int = VERSION_MAJOR
    version_minor: int = VERSION_MINOR
    fcs_length: int | None = None

    @property
    def max_captured_length(self) -> int:
        """The longest Captured Length a record may have: the snaplen, unless that is 0 or absurd."""
        if 0 < self.snaplen <= MAX_CAPTURED_LENGTH:
            return self.snaplen
        # Some writers leave snaplen 0 ("unknown"); libpcap then applies its own ceiling too.
        return MAX_CAPTURED_LENGTH

    @staticmethod
    def parse(data: bytes) -> PcapHeader:
        """Parse the first :data:`GLOBAL_HEADER_LEN` octets of a file (more are ignored)."""
        magic = bytes(data[MAGIC])
        if len(magic) < 4:
            raise _malformed(Malformation.TRUNCATED, f"global header: {len(data)} of {GLOBAL_HEADER_LEN} octets")
        try:
            byte_order, nanosecond = _MAGICS[magic]
        except KeyError:
            if magic == PCAPNG_MAGIC.to_bytes(4, "big"):  # the pcapng magic is a palindrome: either order
                raise _malformed(Malformation.UNSUPPORTED, "pcapng file; only classic pcap is read") from None
            raise _malformed(Malformation.UNSUPPORTED, f"unknown magic number 0x{magic.hex()}") from None
        if len(data) < GLOBAL_HEADER_LEN:
            raise _malformed(Malformation.TRUNCATED, f"global header: {len(data)} of {GLOBAL_HEADER_LEN} octets")
        _, major, minor, _, _, snaplen, link_word = _GLOBAL_HEADER[byte_order].unpack_from(data)
        # 2.4 is the current version; older 2.x minors differ only by quirks of long-gone writers,
        # so any 2.x is read the same way (and its minor reported as written).
        if major != VERSION_MAJOR:
            raise _malformed(Malformation.BAD_VERSION, f"version {major}.{minor}, expected 2.x")
        if link_word & (RESERVED3_MASK | RESERVED_R_BIT):
            raise _malformed(Malformation.BAD_VALUE, f"reserved link-type bits set: 0x{link_word:08x}")
        linktype = link_word & LINKTYPE_MASK
        if linktype not in SUPPORTED_LINKTYPES:
            raise _malformed(Malformation.UNSUPPORTED, f"link type {linktype}; only Ethernet (1) is read")
        fcs_length = 2 * (link_word >> FCS_LENGTH_SHIFT) if link_word & FCS_PRESENT_BIT else None
        return PcapHeader(snaplen, linktype, nanosecond, byte_order, major, minor, fcs_length)

    def emit(self) -> bytes:
        """The 24 header octets. Reserved words are zero."""
        magic = MAGIC_NANOSECONDS if self.nanosecond else MAGIC_MICROSECONDS
        link_word = self.linktype
        if self.fcs_length is not None:
            link_word |= FCS_PRESENT_BIT | (self.fcs_length // 2) << FCS_LENGTH_SHIFT
        return _GLOBAL_HEADER[self.byte_order].pack(
            magic, self.version_major, self.version_minor, 0, 0, self.snaplen, link_word
        )


class PcapRecord(NamedTuple):
    """One captured frame.

    ``timestamp_ns`` is in integer nanoseconds (virtual time, or since the epoch for real
    captures); ``frame`` holds the captured octets, at most the snaplen; ``original_length`` is the
    frame's length on the wire, which is larger than ``len(frame)`` when the capture cut it short.
    The reader takes both lengths as the file states them, even when a writer put a Captured
    Length above the Original Length.
    """

    timestamp_ns: int
    frame: bytes
    original_length: int

    @property
    def truncated(self) -> bool:
        """Whether the capture holds less than the whole frame."""
        return len(self.frame) < self.original_length


class PcapWriter:
    """Write a capture to a binary file object, one record per :meth:`write`, in call order.

    The global header is written at once, so a capture with no frames is still a valid file.
    Records are never reordered or sorted by time: the file shows frames in the order they were
    given. A frame longer than ``snaplen`` is stored cut to ``snaplen`` octets, its Original Length
    kept. In a microsecond file (``nanosecond=False``) timestamps are truncated to the microsecond.

    The writer does not own the file: leaving the ``with`` block flushes it but does not close it.
    ``records_written`` and ``records_truncated`` count what was written.
    """

    def __init__(
        self,
        fileobj: BinaryWritable,
        *,
        nanosecond: bool = True,
        snaplen: int = DEFAULT_SNAPLEN,
        linktype: int = LINKTYPE_ETHERNET,
        byte_order: ByteOrder = "little",
    ) -> None:
        if linktype not in SUPPORTED_LINKTYPES:
            raise ValueError(f"pcap link type {linktype} is not supported (only Ethernet, 1)")
        if not 0 < snaplen <= MAX_CAPTURED_LENGTH:
            raise ValueError(f"pcap snaplen {snaplen} is not in 1..{MAX_CAPTURED_LENGTH}")
        if byte_order not in _STRUCT_PREFIX:
            raise ValueError(f"byte order {byte_order!r} is neither 'little' nor 'big'")
        self._file = fileobj
        self._header = PcapHeader(snaplen, linktype, nanosecond, byte_order)
        self._record_header = _RECORD_HEADER[byte_order]
        # A microsecond file stores ns // 1000 in the fraction field; a nanosecond one, ns itself.
        self._fraction_unit = 1 if nanosecond else _NANOSECONDS_PER_MICROSECOND
        self._closed = False
        self.records_written = 0
        self.records_truncated = 0
        fileobj.write(self._header.emit())

    @property
    def header(self) -> PcapHeader:
        return self._header

    def write(self, timestamp_ns: int, frame: bytes, *, original_length: int | None = None) -> None:
        """Append one record. ``original_length`` defaults to ``len(frame)``; give it when copying a
        record that was already cut short (it may not be below ``len(frame)``)."""
        if self._closed:
            raise ValueError("write to a closed pcap writer")
        if not isinstance(timestamp_ns, int):
            raise TypeError(f"pcap timestamp must be integer nanoseconds, not {type(timestamp_ns).__name__}")
        seconds, nanoseconds = divmod(timestamp_ns, _NANOSECONDS_PER_SECOND)
        if timestamp_ns < 0 or seconds > _MAX_SECONDS:
            raise ValueError(f"pcap timestamp {timestamp_ns} ns is outside 0 .. 2**32 s")
        length = len(frame)
        if original_length is None:
            original_length = length
        if not length <= original_length <= _MAX_UINT32:
            raise ValueError(f"original length {original_length} is not in {length}..{_MAX_UINT32}")
        snaplen = self._header.snaplen
        if length > snaplen:
            frame = frame[:snaplen]
            length = snaplen
        if length < original_length:
            self.records_truncated += 1
        head = self._record_header.pack(seconds, nanoseconds // self._fraction_unit, length, original_length)
        # One write per record, so a record is never half-written by this method.
        self._file.write(head + bytes(frame))
        self.records_written += 1

    def write_record(self, record: PcapRecord) -> None:
        """Append a record read from another capture, keeping its Original Length."""
        self.write(record.timestamp_ns, record.frame, original_length=record.original_length)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        """Flush, and refuse further writes. The file object stays open: it is the caller's."""
        if not self._closed:
            self._file.flush()
            self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class PcapReader:
    """Iterate over the records of a capture held in a binary file object or in bytes.

    The global header is read and checked on construction (:attr:`header`). Iteration yields
    :class:`PcapRecord` values in file order; a file that ends cleanly after a record ends the
    iteration, while one that ends inside a record yields every whole record before it and then
    raises :class:`MalformedPacket` (``TRUNCATED``). A record whose Captured Length exceeds the
    snaplen (or :data:`MAX_CAPTURED_LENGTH`) raises ``BAD_LENGTH``. After an error the iteration is
    over.
    """

    def __init__(self, source: BinaryReadable | bytes | bytearray | memoryview) -> None:
        if isinstance(source, bytes | bytearray | memoryview):
            source = io.BytesIO(source)
        self._file: BinaryReadable = source
        self._header = PcapHeader.parse(self._read_exact(GLOBAL_HEADER_LEN))
        self._record_header = _RECORD_HEADER[self._header.byte_order]
        self._fraction_unit = 1 if self._header.nanosecond else _NANOSECONDS_PER_MICROSECOND
        self._max_captured_length = self._header.max_captured_length
        self._finished = False
        self.records_read = 0

    @property
    def header(self) -> PcapHeader:
        return self._header

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> PcapRecord:
        if self._finished:
            raise StopIteration
        head = self._read_exact(RECORD_HEADER_LEN)
        if not head:
            self._finished = True
            raise StopIteration
        number = self.records_read + 1
        if len(head) < RECORD_HEADER_LEN:
            self._finished = True
            raise _malformed(
                Malformation.TRUNCATED, f"record {number}: header has {len(head)} of {RECORD_HEADER_LEN} octets"
            )
        seconds, fraction, captured_length, original_length = self._record_header.unpack(head)
        if captured_length > self._max_captured_length:
            self._finished = True
            raise _malformed(
                Malformation.BAD_LENGTH,
                f"record {number}: captured length {captured_length} > {self._max_captured_length}",
            )
        frame = self._read_exact(captured_length)
        if len(frame) < captured_length:
            self._finished = True
            raise _malformed(
                Malformation.TRUNCATED, f"record {number}: data has {len(frame)} of {captured_length} octets"
            )
        self.records_read = number
        # A fraction field past one second (a sloppy writer's rounding) simply carries into the
        # seconds: the sum is still the instant the file states.
        timestamp_ns = seconds * _NANOSECONDS_PER_SECOND + fraction * self._fraction_unit
        return PcapRecord(timestamp_ns, frame, original_length)

    def _read_exact(self, size: int) -> bytes:
        """Read ``size`` octets, or fewer only at the end of the file (a short ``read`` is retried)."""
        data = self._file.read(min(size, _READ_CHUNK))
        if len(data) == size or not data:
            return data
        chunks = [data]
        remaining = size - len(data)
        while remaining:
            more = self._file.read(min(remaining, _READ_CHUNK))
            if not more:
                break
            chunks.append(more)
            remaining -= len(more)
        return b"".join(chunks)


def write_pcap(
    path: str | os.PathLike[str],
    records: Iterable[PcapRecord | tuple[int, bytes]],
    *,
    nanosecond: bool = True,
    snaplen: int = DEFAULT_SNAPLEN,
    linktype: int = LINKTYPE_ETHERNET,
    byte_order: ByteOrder = "little",
) -> int:
    """Write ``(timestamp_ns, frame)`` pairs or :class:`PcapRecord` values to a new file at ``path``,
    in the order given. Returns the number of records written."""
    with (
        open(path, "wb") as file,
        PcapWriter(file, nanosecond=nanosecond, snaplen=snaplen, linktype=linktype, byte_order=byte_order) as writer,
    ):
        for record in records:
            if isinstance(record, PcapRecord):
                writer.write_record(record)
            else:
                timestamp_ns, frame = record
                writer.write(timestamp_ns, frame)
        return writer.records_written


def read_pcap(path: str | os.PathLike[str]) -> list[PcapRecord]:
    """Every record of the capture file at ``path`` (raises :class:`MalformedPacket` if it is bad)."""
    with open(path, "rb") as file:
        return list(PcapReader(file))


__all__ = [
    "DEFAULT_SNAPLEN",
    "LINKTYPE_ETHERNET",
    "MAGIC_MICROSECONDS",
    "MAGIC_NANOSECONDS",
    "MAX_CAPTURED_LENGTH",
    "BinaryReadable",
    "BinaryWritable",
    "ByteOrder",
    "PcapHeader",
    "PcapReader",
    "PcapRecord",
    "PcapWriter",
    "read_pcap",
    "write_pcap",
]
