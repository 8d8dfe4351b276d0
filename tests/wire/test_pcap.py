"""Tests for the classic pcap file codec: golden bytes, round trips, scapy interop, bad input."""

from __future__ import annotations

import io
import struct
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import EDecimal, RawPcapReader, rdpcap, wrpcap
from scapy.utils import PcapReader as ScapyPcapReader
from scapy.utils import PcapWriter as ScapyPcapWriter

from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.pcap import (
    DEFAULT_SNAPLEN,
    MAX_CAPTURED_LENGTH,
    PcapHeader,
    PcapReader,
    PcapRecord,
    PcapWriter,
    read_pcap,
    write_pcap,
)

NS = 1_000_000_000
MAX_TIMESTAMP_NS = (2**32) * NS - 1

# A 16-octet frame: broadcast destination, a locally administered source, EtherType ARP, "hi".
FRAME = bytes.fromhex("ffffffffffff" + "020000000001" + "0806") + b"hi"
TIMESTAMP_NS = 1_700_000_000_123_456_789  # 0x6553F100 s + 123456789 ns

# Written by hand from pcap-savefile(5): little-endian, one record of FRAME at TIMESTAMP_NS.
GOLDEN_MICROSECONDS = (
    bytes.fromhex(
        "d4c3b2a1"  # magic 0xA1B2C3D4: microseconds
        "0200"  # major version 2
        "0400"  # minor version 4
        "00000000"  # reserved1 (thiszone)
        "00000000"  # reserved2 (sigfigs)
        "00000400"  # snaplen 262144 = 0x00040000
        "01000000"  # link type 1 (Ethernet), no FCS
        "00f15365"  # seconds 1700000000 = 0x6553F100
        "40e20100"  # microseconds 123456 = 0x0001E240 (the 789 ns are truncated)
        "10000000"  # captured length 16
        "10000000"  # original length 16
    )
    + FRAME
)
GOLDEN_NANOSECONDS = (
    bytes.fromhex(
        "4d3cb2a1"  # magic 0xA1B23C4D: nanoseconds
        "0200"  # major version 2
        "0400"  # minor version 4
        "00000000"  # reserved1 (thiszone)
        "00000000"  # reserved2 (sigfigs)
        "00000400"  # snaplen 262144 = 0x00040000
        "01000000"  # link type 1 (Ethernet), no FCS
        "00f15365"  # seconds 1700000000 = 0x6553F100
        "15cd5b07"  # nanoseconds 123456789 = 0x075BCD15
        "10000000"  # captured length 16
        "10000000"  # original length 16
    )
    + FRAME
)

timestamps = st.integers(min_value=0, max_value=MAX_TIMESTAMP_NS)
frames = st.binary(max_size=300)
record_lists = st.lists(st.tuples(timestamps, frames), max_size=20)


def written(records: list[tuple[int, bytes]], **options: object) -> bytes:
    buffer = io.BytesIO()
    with PcapWriter(buffer, **options) as writer:  # type: ignore[arg-type]
        for timestamp_ns, frame in records:
            writer.write(timestamp_ns, frame)
    return buffer.getvalue()


def microsecond_truncated(timestamp_ns: int) -> int:
    return timestamp_ns // 1000 * 1000


def malformation(data: bytes) -> Malformation:
    """The reason reading ``data`` to the end fails (the test fails if it does not)."""
    with pytest.raises(MalformedPacket) as caught:
        list(PcapReader(data))
    assert caught.value.protocol == "pcap"
    return caught.value.reason


def scapy_time_ns(time: Decimal | float) -> int:
    """A scapy ``pkt.time`` in integer nanoseconds, exactly.

    scapy reads it as an ``EDecimal`` (seconds + fraction * 10**-6 or 10**-9), exact in itself, but
    whose ``==`` against an int or a float goes through ``float``: at 1.7e9 s that blurs the last
    ~200 ns. So it is scaled as a plain ``Decimal`` and must come out whole.
    """
    assert isinstance(time, Decimal)
    nanoseconds = Decimal(time) * NS
    assert nanoseconds == nanoseconds.to_integral_value()
    return int(nanoseconds)


def big_endian_file(*, nanosecond: bool, snaplen: int = 65535, link_word: int = 1) -> bytes:
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    return struct.pack(">IHHIIII", magic, 2, 4, 0, 0, snaplen, link_word)


class TestGoldenBytes:
    def test_write_microseconds(self) -> None:
        assert written([(TIMESTAMP_NS, FRAME)], nanosecond=False) == GOLDEN_MICROSECONDS

    def test_write_nanoseconds(self) -> None:
        assert written([(TIMESTAMP_NS, FRAME)], nanosecond=True) == GOLDEN_NANOSECONDS

    def test_nanoseconds_is_the_default(self) -> None:
        assert written([(TIMESTAMP_NS, FRAME)]) == GOLDEN_NANOSECONDS

    def test_read_microseconds(self) -> None:
        reader = PcapReader(GOLDEN_MICROSECONDS)
        assert reader.header == PcapHeader(
            snaplen=DEFAULT_SNAPLEN, linktype=1, nanosecond=False, byte_order="little", version_major=2, version_minor=4
        )
        assert list(reader) == [PcapRecord(1_700_000_000_123_456_000, FRAME, 16)]

    def test_read_nanoseconds(self) -> None:
        reader = PcapReader(GOLDEN_NANOSECONDS)
        assert reader.header.nanosecond
        assert (reader.header.version_major, reader.header.version_minor) == (2, 4)
        assert list(reader) == [PcapRecord(TIMESTAMP_NS, FRAME, 16)]

    def test_header_parse_and_emit(self) -> None:
        header = PcapHeader(nanosecond=False)
        assert header.emit() == GOLDEN_MICROSECONDS[:24]
        assert PcapHeader.parse(GOLDEN_MICROSECONDS[:24]) == header

    def test_empty_capture_is_just_the_header(self) -> None:
        data = written([])
        assert data == GOLDEN_NANOSECONDS[:24]
        assert list(PcapReader(data)) == []

    def test_fcs_bits(self) -> None:
        # P bit set, FCS len 2 (16-bit words): every frame ends with a 4-octet Ethernet FCS.
        header = PcapHeader(fcs_length=4)
        data = header.emit()
        assert struct.unpack_from("<I", data, 20) == (0x2400_0001,)
        assert PcapHeader.parse(data) == header


class TestBigEndian:
    @pytest.mark.parametrize("nanosecond", [False, True])
    def test_read_hand_crafted(self, nanosecond: bool) -> None:
        fraction = 123456789 if nanosecond else 123456
        data = (
            big_endian_file(nanosecond=nanosecond)
            + struct.pack(">IIII", 1_700_000_000, fraction, len(FRAME), 1514)
            + FRAME
        )
        reader = PcapReader(data)
        assert reader.header == PcapHeader(snaplen=65535, nanosecond=nanosecond, byte_order="big")
        expected_ns = TIMESTAMP_NS if nanosecond else microsecond_truncated(TIMESTAMP_NS)
        assert list(reader) == [PcapRecord(expected_ns, FRAME, 1514)]

    @pytest.mark.parametrize("nanosecond", [False, True])
    def test_writer_big_endian_matches_hand_crafted(self, nanosecond: bool) -> None:
        fraction = 123456789 if nanosecond else 123456
        expected = (
            big_endian_file(nanosecond=nanosecond, snaplen=DEFAULT_SNAPLEN)
            + struct.pack(">IIII", 1_700_000_000, fraction, len(FRAME), len(FRAME))
            + FRAME
        )
        assert written([(TIMESTAMP_NS, FRAME)], nanosecond=nanosecond, byte_order="big") == expected


class TestRoundTrip:
    @given(record_lists)
    def test_nanoseconds_exact(self, records: list[tuple[int, bytes]]) -> None:
        read = list(PcapReader(written(records, nanosecond=True)))
        assert read == [PcapRecord(ts, frame, len(frame)) for ts, frame in records]

    @given(record_lists)
    def test_microseconds_truncate_timestamps(self, records: list[tuple[int, bytes]]) -> None:
        read = list(PcapReader(written(records, nanosecond=False)))
        assert read == [PcapRecord(microsecond_truncated(ts), frame, len(frame)) for ts, frame in records]

    @given(record_lists, st.sampled_from(["little", "big"]), st.booleans())
    def test_rewriting_what_was_read_gives_the_same_bytes(
        self, records: list[tuple[int, bytes]], byte_order: str, nanosecond: bool
    ) -> None:
        original = written(records, nanosecond=nanosecond, byte_order=byte_order)
        reader = PcapReader(original)
        copy = io.BytesIO()
        with PcapWriter(copy, nanosecond=nanosecond, byte_order=reader.header.byte_order) as writer:
            for record in reader:
                writer.write_record(record)
        assert copy.getvalue() == original

    @given(record_lists, st.integers(min_value=1, max_value=64))
    def test_snaplen_truncates_frames_keeping_the_original_length(
        self, records: list[tuple[int, bytes]], snaplen: int
    ) -> None:
        buffer = io.BytesIO()
        with PcapWriter(buffer, snaplen=snaplen) as writer:
            for timestamp_ns, frame in records:
                writer.write(timestamp_ns, frame)
        reader = PcapReader(buffer.getvalue())
        assert reader.header.snaplen == snaplen
        read = list(reader)
        assert read == [PcapRecord(ts, frame[:snaplen], len(frame)) for ts, frame in records]
        assert [record.truncated for record in read] == [len(frame) > snaplen for _, frame in records]
        assert writer.records_written == len(records)
        assert writer.records_truncated == sum(len(frame) > snaplen for _, frame in records)

    def test_never_reorders(self) -> None:
        records = [(3 * NS, b"c"), (1 * NS, b"a"), (2 * NS, b"b"), (1 * NS, b"a2")]
        assert [(r.timestamp_ns, r.frame) for r in PcapReader(written(records))] == records

    def test_timestamp_extremes(self) -> None:
        records = [(0, b"first"), (MAX_TIMESTAMP_NS, b"last")]
        assert [(r.timestamp_ns, r.frame) for r in PcapReader(written(records))] == records

    def test_reads_through_short_reads(self) -> None:
        class OneOctetAtATime(io.RawIOBase):
            def __init__(self, data: bytes) -> None:
                self._data = io.BytesIO(data)

            def readable(self) -> bool:
                return True

            def read(self, size: int = -1, /) -> bytes:
                return self._data.read(min(size, 1))

        data = written([(1, b"x" * 100), (2, b"y" * 3)])
        assert list(PcapReader(OneOctetAtATime(data))) == list(PcapReader(data))

    def test_path_helpers(self, tmp_path: Path) -> None:
        path = tmp_path / "capture.pcap"
        records: list[PcapRecord | tuple[int, bytes]] = [(TIMESTAMP_NS, FRAME), PcapRecord(5, b"cut", 1500)]
        assert write_pcap(path, records) == 2
        assert read_pcap(path) == [PcapRecord(TIMESTAMP_NS, FRAME, 16), PcapRecord(5, b"cut", 1500)]
        assert write_pcap(path, [(TIMESTAMP_NS, FRAME)], nanosecond=False) == 1
        assert path.read_bytes() == GOLDEN_MICROSECONDS

    def test_file_object_and_memoryview_sources(self, tmp_path: Path) -> None:
        path = tmp_path / "capture.pcap"
        path.write_bytes(GOLDEN_NANOSECONDS)
        with path.open("rb") as file:
            assert list(PcapReader(file)) == [PcapRecord(TIMESTAMP_NS, FRAME, 16)]
        assert list(PcapReader(memoryview(bytearray(GOLDEN_NANOSECONDS)))) == [PcapRecord(TIMESTAMP_NS, FRAME, 16)]


class TestWriterContract:
    def test_context_manager_flushes_and_leaves_the_file_open(self) -> None:
        class CountingBuffer(io.BytesIO):
            flushes = 0

            def flush(self) -> None:
                self.flushes += 1
                super().flush()

        buffer = CountingBuffer()
        with PcapWriter(buffer) as writer:
            writer.write(0, FRAME)
            writer.flush()
            assert buffer.flushes == 1
        assert buffer.flushes == 2
        assert not buffer.closed
        with pytest.raises(ValueError, match="closed"):
            writer.write(1, FRAME)

    @pytest.mark.parametrize(
        ("timestamp_ns", "frame", "original_length"),
        [
            (-1, FRAME, None),  # before the epoch
            (2**32 * NS, FRAME, None),  # past the 32-bit seconds field
            (0, FRAME, len(FRAME) - 1),  # claims the wire frame was shorter than the capture
            (0, FRAME, 2**32),  # longer than a record can say
        ],
    )
    def test_bad_record_raises_value_error_and_writes_nothing(
        self, timestamp_ns: int, frame: bytes, original_length: int | None
    ) -> None:
        buffer = io.BytesIO()
        writer = PcapWriter(buffer)
        before = buffer.getvalue()
        with pytest.raises(ValueError):
            writer.write(timestamp_ns, frame, original_length=original_length)
        assert buffer.getvalue() == before
        assert writer.records_written == 0

    def test_float_timestamp_is_refused(self) -> None:
        writer = PcapWriter(io.BytesIO())
        with pytest.raises(TypeError):
            writer.write(1.5, FRAME)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "options", [{"linktype": 101}, {"snaplen": 0}, {"snaplen": MAX_CAPTURED_LENGTH + 1}, {"byte_order": "middle"}]
    )
    def test_bad_options_raise_value_error_and_write_nothing(self, options: dict[str, object]) -> None:
        buffer = io.BytesIO()
        with pytest.raises(ValueError):
            PcapWriter(buffer, **options)  # type: ignore[arg-type]
        assert buffer.getvalue() == b""


def scapy_frame(index: int) -> bytes:
    return bytes(
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src="10.0.0.1", dst="10.0.0.2")
        / UDP(sport=1024 + index, dport=53)
        / Raw(b"payload %d" % index)
    )


class TestScapyWritesWeRead:
    @pytest.mark.parametrize("nanosecond", [False, True])
    @pytest.mark.parametrize("endianness", ["<", ">"])
    def test_pcap_writer(self, tmp_path: Path, nanosecond: bool, endianness: str) -> None:
        path = tmp_path / "scapy.pcap"
        fraction_unit = 1 if nanosecond else 1000
        stamps = [(0, 0), (1_700_000_000, 999_999_999 // fraction_unit), (1_700_000_001, 1)]
        with ScapyPcapWriter(str(path), linktype=1, nano=nanosecond, endianness=endianness) as writer:
            writer.write_header(None)  # write_packet() alone does not write it
            for index, (seconds, fraction) in enumerate(stamps):
                writer.write_packet(Ether(scapy_frame(index)), sec=seconds, usec=fraction)
        reader = PcapReader(path.read_bytes())
        assert reader.header.nanosecond == nanosecond
        assert reader.header.byte_order == ("little" if endianness == "<" else "big")
        assert reader.header.snaplen == 65535
        assert list(reader) == [
            PcapRecord(seconds * NS + fraction * fraction_unit, scapy_frame(index), len(scapy_frame(index)))
            for index, (seconds, fraction) in enumerate(stamps)
        ]

    @pytest.mark.parametrize("nanosecond", [False, True])
    def test_wrpcap(self, tmp_path: Path, nanosecond: bool) -> None:
        path = tmp_path / "wrpcap.pcap"
        times = [Decimal("1700000000.123456789"), Decimal("0.000001"), Decimal("42")]
        packets = []
        for index, time in enumerate(times):
            packet = Ether(scapy_frame(index))
            packet.time = EDecimal(time)
            packets.append(packet)
        wrpcap(str(path), packets, nano=nanosecond)
        expected = [
            PcapRecord(
                # scapy rounds to the microsecond where we truncate: 0.123456789 s is stamped 123457 µs.
                int(time * NS) if nanosecond else round(time * 1_000_000) * 1000,
                scapy_frame(index),
                len(scapy_frame(index)),
            )
            for index, time in enumerate(times)
        ]
        assert read_pcap(path) == expected

    @settings(max_examples=50)
    @given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, NS - 1), frames), max_size=10))
    def test_random_records(self, stamps: list[tuple[int, int, bytes]]) -> None:
        buffer = io.BytesIO()
        writer = ScapyPcapWriter(buffer, linktype=1, nano=True, sync=True)
        writer.write_header(None)
        for seconds, nanoseconds, frame in stamps:
            writer.write_packet(frame, sec=seconds, usec=nanoseconds)
        read = list(PcapReader(buffer.getvalue()))
        assert read == [PcapRecord(seconds * NS + ns, frame, len(frame)) for seconds, ns, frame in stamps]


class TestWeWriteScapyReads:
    @pytest.mark.parametrize("nanosecond", [False, True])
    def test_rdpcap(self, tmp_path: Path, nanosecond: bool) -> None:
        path = tmp_path / "ours.pcap"
        records = [(TIMESTAMP_NS + index * 1_001_001, scapy_frame(index)) for index in range(5)]
        write_pcap(path, records, nanosecond=nanosecond)
        packets = rdpcap(str(path))
        assert len(packets) == len(records)
        for packet, (timestamp_ns, frame) in zip(packets, records, strict=True):
            assert bytes(packet) == frame
            assert packet.wirelen == len(frame)
            expected_ns = timestamp_ns if nanosecond else microsecond_truncated(timestamp_ns)
            assert scapy_time_ns(packet.time) == expected_ns

    def test_truncated_records_keep_wirelen(self, tmp_path: Path) -> None:
        path = tmp_path / "snap.pcap"
        frame = scapy_frame(0)
        with path.open("wb") as file, PcapWriter(file, snaplen=20) as writer:
            writer.write(NS, frame)
        with ScapyPcapReader(str(path)) as reader:
            (packet,) = list(reader)
        assert bytes(packet) == frame[:20]
        assert packet.wirelen == len(frame)

    @settings(max_examples=50)
    @given(record_lists, st.booleans(), st.sampled_from(["little", "big"]))
    def test_random_records(self, records: list[tuple[int, bytes]], nanosecond: bool, byte_order: str) -> None:
        data = written(records, nanosecond=nanosecond, byte_order=byte_order)
        # The raw reader hands back the exact octets and header fields (Ether() would dissect them).
        with RawPcapReader(io.BytesIO(data)) as reader:
            read = list(reader)
        assert len(read) == len(records)
        for (frame, meta), (timestamp_ns, expected_frame) in zip(read, records, strict=True):
            assert frame == expected_frame
            assert meta.wirelen == meta.caplen == len(expected_frame)
            fraction = timestamp_ns % NS if nanosecond else timestamp_ns % NS // 1000
            assert (meta.sec, meta.usec) == (timestamp_ns // NS, fraction)

    @settings(max_examples=50)
    @given(st.lists(st.tuples(timestamps, st.binary(min_size=1, max_size=300)), max_size=10))
    def test_scapy_packet_bytes_and_times(self, records: list[tuple[int, bytes]]) -> None:
        with ScapyPcapReader(io.BytesIO(written(records))) as reader:
            packets = list(reader)
        assert [bytes(packet) for packet in packets] == [frame for _, frame in records]
        assert [scapy_time_ns(packet.time) for packet in packets] == [ts for ts, _ in records]


class TestBadInput:
    def test_truncated_anywhere(self) -> None:
        data = written([(1, b"A" * 30), (2, b"B" * 7)])
        first_end = 24 + 16 + 30
        for cut in range(len(data)):
            prefix = data[:cut]
            if cut < 24:
                with pytest.raises(MalformedPacket) as caught:
                    PcapReader(prefix)
                assert caught.value.reason is Malformation.TRUNCATED
                continue
            reader = PcapReader(prefix)
            if cut == 24:  # a clean end: no records
                assert list(reader) == []
                continue
            if cut == first_end:  # a clean end after the first record
                assert len(list(reader)) == 1
                continue
            # A trailing partial record: the whole records before it still come out.
            if cut > first_end:
                assert next(reader) == PcapRecord(1, b"A" * 30, 30)
            with pytest.raises(MalformedPacket) as caught:
                next(reader)
            assert caught.value.reason is Malformation.TRUNCATED
            assert list(reader) == []  # and then the iteration is over

    def test_read_pcap_raises_on_a_partial_record(self, tmp_path: Path) -> None:
        path = tmp_path / "cut.pcap"
        path.write_bytes(GOLDEN_NANOSECONDS[:-1])
        with pytest.raises(MalformedPacket, match="truncated"):
            read_pcap(path)

    @pytest.mark.parametrize(
        "data",
        [
            b"\x00\x00\x00\x00" + GOLDEN_NANOSECONDS[4:],
            b"\xa1\xb2\xcd\x34" + GOLDEN_NANOSECONDS[4:],  # the "modified" pcap of old Red Hat patches
            b"\x0a\x0d\x0d\x0a" + bytes(20),  # pcapng
            b"GIF89a" + bytes(30),
        ],
    )
    def test_unknown_magic(self, data: bytes) -> None:
        assert malformation(data) is Malformation.UNSUPPORTED

    def test_pcapng_is_named(self) -> None:
        with pytest.raises(MalformedPacket, match="pcapng"):
            PcapReader(b"\x0a\x0d\x0d\x0a" + bytes(20))

    def test_bad_version(self) -> None:
        data = struct.pack("<IHHIIII", 0xA1B2C3D4, 1, 0, 0, 0, 65535, 1)
        assert malformation(data) is Malformation.BAD_VERSION

    def test_older_minor_version_is_read(self) -> None:
        data = struct.pack("<IHHIIII", 0xA1B2C3D4, 2, 3, 0, 0, 65535, 1)
        assert PcapReader(data).header.version_minor == 3

    @pytest.mark.parametrize("linktype", [0, 101, 105, 113, 127])
    def test_unsupported_linktype(self, linktype: int) -> None:
        assert malformation(big_endian_file(nanosecond=False, link_word=linktype)) is Malformation.UNSUPPORTED

    @pytest.mark.parametrize("link_word", [0x0001_0001, 0x0200_0001, 0x0800_0001])
    def test_reserved_link_bits(self, link_word: int) -> None:
        assert malformation(big_endian_file(nanosecond=False, link_word=link_word)) is Malformation.BAD_VALUE

    def test_captured_length_over_snaplen(self) -> None:
        data = big_endian_file(nanosecond=True, snaplen=64) + struct.pack(">IIII", 0, 0, 65, 65) + bytes(65)
        assert malformation(data) is Malformation.BAD_LENGTH

    def test_captured_length_absurd_with_unknown_snaplen(self) -> None:
        # snaplen 0 ("unknown") lets records up to the 256 MiB ceiling through, and no further.
        header = big_endian_file(nanosecond=True, snaplen=0)
        fine = header + struct.pack(">IIII", 0, 0, 3, 3) + b"abc"
        assert list(PcapReader(fine)) == [PcapRecord(0, b"abc", 3)]
        absurd = header + struct.pack(">IIII", 0, 0, MAX_CAPTURED_LENGTH + 1, 0) + bytes(100)
        assert malformation(absurd) is Malformation.BAD_LENGTH

    def test_fraction_past_one_second_carries(self) -> None:
        data = big_endian_file(nanosecond=False) + struct.pack(">IIII", 1, 1_000_000, 0, 0)
        assert list(PcapReader(data)) == [PcapRecord(2 * NS, b"", 0)]

    def test_captured_length_above_original_length_is_taken_as_written(self) -> None:
        data = big_endian_file(nanosecond=True) + struct.pack(">IIII", 0, 0, 3, 1) + b"abc"
        assert list(PcapReader(data)) == [PcapRecord(0, b"abc", 1)]

    @given(st.binary(max_size=200))
    def test_any_bytes_parse_or_raise_malformed(self, data: bytes) -> None:
        try:
            list(PcapReader(data))
        except MalformedPacket as error:
            assert error.protocol == "pcap"

    @given(
        st.sampled_from(
            [
                GOLDEN_NANOSECONDS[:24],
                GOLDEN_MICROSECONDS[:24],
                big_endian_file(nanosecond=True),
                big_endian_file(nanosecond=False, snaplen=16),
            ]
        ),
        st.binary(max_size=300),
    )
    def test_valid_header_then_any_bytes(self, header: bytes, tail: bytes) -> None:
        reader = PcapReader(header + tail)
        records: list[PcapRecord] = []
        try:
            records.extend(reader)
        except MalformedPacket as error:
            assert error.reason in (Malformation.TRUNCATED, Malformation.BAD_LENGTH)
        assert sum(16 + len(record.frame) for record in records) <= len(tail)
