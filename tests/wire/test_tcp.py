"""TCP header and options (RFC 9293 §3.1, RFC 7323, RFC 2018, RFC 3168): every field, flag and option.

Segments are written out by hand here (``struct`` and hex, following the RFC diagrams) and their
checksums computed by scapy's ``in4_chksum``, never by the code under test; the values they must parse
to are written out by hand too. Whole packets produced by scapy are in ``test_interop_l4.py``.
"""

from __future__ import annotations

import random
import struct
from ipaddress import IPv4Address
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, in4_chksum

from wirelab.wire import tcp
from wirelab.wire.errors import Malformation, MalformedPacket
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
    emit_options,
    parse_options,
)

SRC = IPv4Address("10.0.0.1")
DST = IPv4Address("10.0.0.2")


def raw_segment(
    *,
    sport: int = 51234,
    dport: int = 8080,
    seq: int = 0x01020304,
    ack: int = 0xA1B2C3D4,
    offset: int | None = None,
    reserved: int = 0,
    flags: int = 0x18,
    window: int = 0xFAF0,
    urgent: int = 0,
    options: bytes = b"",
    payload: bytes = b"",
    checksum: int | None = None,
) -> bytes:
    """A segment laid out by hand after RFC 9293's diagram; the checksum is scapy's unless given."""
    if offset is None:
        offset = 5 + len(options) // 4
    head = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4 | reserved, flags, window, 0, urgent)
    segment = head + options + payload
    if checksum is None:
        checksum = in4_chksum(6, IP(src=str(SRC), dst=str(DST)), segment)
    return segment[:16] + checksum.to_bytes(2, "big") + segment[18:]


BASE = TcpHeader(51234, 8080, 0x01020304, 0xA1B2C3D4, TcpFlags.PSH | TcpFlags.ACK, 0xFAF0)
"""The TcpHeader that ``raw_segment`` with its defaults stands for."""


def value(**fields: Any) -> TcpHeader:
    return BASE._replace(**fields)


def parse(segment: bytes, *, verify_checksum: bool = True) -> tuple[TcpHeader, bytes]:
    return TcpHeader.parse(segment, SRC, DST, verify_checksum=verify_checksum)


def parse_error(segment: bytes, *, verify_checksum: bool = True) -> Malformation:
    with pytest.raises(MalformedPacket) as caught:
        parse(segment, verify_checksum=verify_checksum)
    assert caught.value.protocol == "tcp"
    return caught.value.reason


def options_error(area: bytes) -> Malformation:
    with pytest.raises(MalformedPacket) as caught:
        parse_options(area)
    return caught.value.reason


def both_ways(segment: bytes, header: TcpHeader, payload: bytes = b"") -> None:
    assert parse(segment) == (header, payload)
    assert header.emit(payload, SRC, DST) == segment


# --- the fixed header ----------------------------------------------------------------------------------


def test_fixed_header_field_by_field() -> None:
    segment = raw_segment()
    assert segment[:16] + segment[18:] == bytes.fromhex(
        "c822 1f90"  # source port 51234, destination port 8080
        "01020304"  # sequence number
        "a1b2c3d4"  # acknowledgment number
        "50 18 faf0"  # data offset 5, reserved 0; flags PSH|ACK; window 64240
        "0000"  # (checksum left out) urgent pointer 0
    )
    both_ways(segment, value())


def test_all_ones_and_all_zeros_fields() -> None:
    ones = raw_segment(
        sport=0xFFFF,
        dport=0xFFFF,
        seq=0xFFFFFFFF,
        ack=0xFFFFFFFF,
        flags=0xFF,
        window=0xFFFF,
        urgent=0xFFFF,
        reserved=0xF,
    )
    header = TcpHeader(0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, TcpFlags(0xFF), 0xFFFF, 0xFFFF, (), 0xF)
    both_ways(ones, header)
    zeros = raw_segment(sport=0, dport=0, seq=0, ack=0, flags=0, window=0)
    both_ways(zeros, TcpHeader(0, 0, 0))


def test_payload_follows_the_header_and_odd_lengths_are_summed_padded() -> None:
    for payload in (b"x", b"hello", b"hello!", bytes(range(256)) * 6):
        both_ways(raw_segment(payload=payload), value(), payload)


# RFC 9293 §3.1 and RFC 3168 §23.2: bit values in octet 13, lowest first.
FLAG_BITS = [
    (TcpFlags.FIN, 0x01),
    (TcpFlags.SYN, 0x02),
    (TcpFlags.RST, 0x04),
    (TcpFlags.PSH, 0x08),
    (TcpFlags.ACK, 0x10),
    (TcpFlags.URG, 0x20),
    (TcpFlags.ECE, 0x40),
    (TcpFlags.CWR, 0x80),
]


@pytest.mark.parametrize(("flag", "bit"), FLAG_BITS, ids=[flag.name for flag, _ in FLAG_BITS])
def test_each_flag_alone(flag: TcpFlags, bit: int) -> None:
    segment = raw_segment(flags=bit)
    assert segment[13] == bit
    both_ways(segment, value(flags=flag))
    header, _ = parse(segment)
    assert flag in header.flags
    assert [other for other, _ in FLAG_BITS if other in header.flags] == [flag]


@given(st.integers(0, 0xFF))
def test_every_flag_combination(bits: int) -> None:
    segment = raw_segment(flags=bits)
    header, _ = parse(segment)
    assert header.flags == bits
    assert isinstance(header.flags, TcpFlags)
    for flag, bit in FLAG_BITS:
        assert (flag in header.flags) == bool(bits & bit)
    assert value(flags=TcpFlags(bits)).emit(b"", SRC, DST) == segment


@pytest.mark.parametrize("reserved", range(16))
def test_reserved_bits_are_kept(reserved: int) -> None:
    segment = raw_segment(reserved=reserved, options=b"\x02\x04\x05\xb4")
    assert segment[12] == 0x60 | reserved
    both_ways(segment, value(reserved=reserved, options=(MaxSegmentSize(1460),)))


@pytest.mark.parametrize("urgent", [0, 1, 0x1234, 0xFFFF])
def test_urgent_pointer(urgent: int) -> None:
    segment = raw_segment(flags=0x38, urgent=urgent, payload=b"!!")  # URG|ACK|PSH
    assert segment[18:20] == urgent.to_bytes(2, "big")
    both_ways(segment, value(flags=TcpFlags.URG | TcpFlags.ACK | TcpFlags.PSH, urgent=urgent), b"!!")


def test_urgent_pointer_is_kept_without_urg() -> None:
    both_ways(raw_segment(urgent=77), value(urgent=77))


# --- the data offset ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "offset"),
    [
        ((), 5),
        ((MaxSegmentSize(536),), 6),
        ((WindowScale(7),), 6),  # 3 octets, padded to 4
        ((NOP, NOP, Timestamps(1, 2)), 8),
        ((UnknownOption(253, bytes(38)),), 15),  # 40 octets: the most there is room for
    ],
)
def test_emit_derives_the_data_offset(options: tuple[TcpOption, ...], offset: int) -> None:
    segment = value(options=options).emit(b"data", SRC, DST)
    assert segment[12] >> 4 == offset
    assert segment[offset * 4 :] == b"data"
    assert value(options=options).header_len == offset * 4


@pytest.mark.parametrize("offset", range(5))
def test_data_offset_below_five_is_bad_length(offset: int) -> None:
    segment = raw_segment(offset=offset, payload=bytes(40))
    assert parse_error(segment) is Malformation.BAD_LENGTH
    assert parse_error(segment, verify_checksum=False) is Malformation.BAD_LENGTH


@pytest.mark.parametrize(("offset", "extra"), [(6, 0), (6, 3), (8, 8), (15, 36), (15, 0)])
def test_data_offset_beyond_the_segment_is_truncated(offset: int, extra: int) -> None:
    segment = raw_segment(offset=offset, payload=b"\x01" * extra)
    assert parse_error(segment) is Malformation.TRUNCATED
    assert parse_error(segment, verify_checksum=False) is Malformation.TRUNCATED


def test_data_offset_exactly_the_segment_is_fine() -> None:
    both_ways(raw_segment(options=b"\x01" * 40), value(options=(NOP,) * 40))


@pytest.mark.parametrize("size", [0, 1, 12, 19])
def test_shorter_than_the_fixed_header_is_truncated(size: int) -> None:
    assert parse_error(raw_segment()[:size]) is Malformation.TRUNCATED
    assert parse_error(raw_segment()[:size], verify_checksum=False) is Malformation.TRUNCATED


def test_twenty_octets_of_a_fast_path_header_are_truncated() -> None:
    # The NOP NOP TS signature is there, but the data offset (8) runs past the 24 octets given.
    segment = raw_segment(options=b"\x01\x01\x08\x0a" + bytes(8))[:24]
    assert parse_error(segment, verify_checksum=False) is Malformation.TRUNCATED


# --- checksums -----------------------------------------------------------------------------------------


def test_bad_checksum() -> None:
    good = raw_segment(payload=b"payload")
    bad = good[:16] + (int.from_bytes(good[16:18], "big") ^ 0x0100).to_bytes(2, "big") + good[18:]
    assert parse_error(bad) is Malformation.BAD_CHECKSUM
    assert parse(bad, verify_checksum=False) == (value(), b"payload")


def test_bad_checksum_on_the_fast_path() -> None:
    good = raw_segment(options=b"\x01\x01\x08\x0a" + struct.pack("!II", 5, 6), payload=b"data")
    assert parse(good) == (value(options=(NOP, NOP, Timestamps(5, 6))), b"data")
    damaged = good[:-1] + b"b"
    assert parse_error(damaged) is Malformation.BAD_CHECKSUM
    assert parse(damaged, verify_checksum=False) == (value(options=(NOP, NOP, Timestamps(5, 6))), b"datb")


@pytest.mark.parametrize("index", [0, 5, 8, 12, 13, 15, 16, 19, 20, 23, 24, 27])
def test_a_flipped_bit_anywhere_fails_the_checksum(index: int) -> None:
    # (Octet 12's low bit is a reserved bit, not the data offset: still only the sum can tell.)
    damaged = bytearray(raw_segment(options=b"\x02\x04\x05\xb4", payload=b"abcd"))
    damaged[index] ^= 0x01
    assert parse_error(bytes(damaged)) is Malformation.BAD_CHECKSUM


def test_the_pseudo_header_addresses_and_length_are_summed() -> None:
    segment = raw_segment(payload=b"abc")
    with pytest.raises(MalformedPacket):
        TcpHeader.parse(segment, SRC, IPv4Address("10.0.0.3"))
    # A segment cut short (a lying IP length) changes the pseudo-header length: the sum fails.
    assert parse_error(segment[:-1]) is Malformation.BAD_CHECKSUM


def test_a_checksum_that_computes_to_zero_is_sent_as_zero() -> None:
    # Unlike UDP, TCP has no "no checksum": a computed 0 is transmitted as 0 (scapy agrees).
    segment = raw_segment(payload=b"\x00\x00")
    # With a zero filler word the sum is S and the checksum ~S = 0xFFFF - S: a filler of exactly that
    # value brings the sum to 0xFFFF without a carry, and the checksum to 0.
    filler = segment[16:18]
    zero = raw_segment(payload=filler)
    assert zero[16:18] == b"\x00\x00"
    assert value().emit(filler, SRC, DST) == zero
    assert parse(zero) == (value(), filler)


# --- options, both ways --------------------------------------------------------------------------------

OPTION_CASES: list[tuple[str, bytes, tuple[TcpOption, ...]]] = [
    ("EOL", b"\x00\x00\x00\x00", (EndOfOptions(b"\x00\x00\x00"),)),
    ("NOPs-EOL", b"\x01\x01\x01\x00", (NOP, NOP, NOP, EndOfOptions())),
    ("MSS", b"\x02\x04\x05\xb4", (MaxSegmentSize(1460),)),
    ("MSS-max", b"\x02\x04\xff\xff", (MaxSegmentSize(0xFFFF),)),
    ("NOP-WS", b"\x01\x03\x03\x07", (NOP, WindowScale(7))),
    ("WS-EOL", b"\x03\x03\x0e\x00", (WindowScale(14), EndOfOptions())),
    ("SACKOK-NOPs", b"\x04\x02\x01\x01", (SACK_PERMITTED, NOP, NOP)),
    ("NOPs-SACKOK", b"\x01\x01\x04\x02", (NOP, NOP, SACK_PERMITTED)),
    ("NOPs-TS", b"\x01\x01\x08\x0a\x00\x00\x00\x01\xff\xff\xff\xff", (NOP, NOP, Timestamps(1, 0xFFFFFFFF))),
    ("TS-NOPs", b"\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02\x01\x01", (Timestamps(1, 2), NOP, NOP)),
    ("TS-EOL", b"\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00", (Timestamps(1, 2), EndOfOptions(b"\x00"))),
    (
        "SACK-1",
        b"\x01\x01\x05\x0a" + struct.pack("!II", 1000, 2000),
        (NOP, NOP, Sack(((1000, 2000),))),
    ),
    (
        "SACK-2",
        b"\x01\x01\x05\x12" + struct.pack("!4I", 1, 2, 3, 4),
        (NOP, NOP, Sack(((1, 2), (3, 4)))),
    ),
    (
        "SACK-3",
        b"\x01\x01\x05\x1a" + struct.pack("!6I", 1, 2, 3, 4, 0xFFFFFFF0, 0x10),
        (NOP, NOP, Sack(((1, 2), (3, 4), (0xFFFFFFF0, 0x10)))),
    ),
    (
        "SACK-4",
        b"\x01\x01\x05\x22" + struct.pack("!8I", 1, 2, 3, 4, 5, 6, 7, 8),
        (NOP, NOP, Sack(((1, 2), (3, 4), (5, 6), (7, 8)))),
    ),
    (
        "TS-SACK-3",  # what Linux sends with timestamps on: NOP NOP TS, NOP NOP SACK (3 blocks fit)
        b"\x01\x01\x08\x0a" + struct.pack("!II", 7, 8) + b"\x01\x01\x05\x1a" + struct.pack("!6I", *range(6)),
        (NOP, NOP, Timestamps(7, 8), NOP, NOP, Sack(((0, 1), (2, 3), (4, 5)))),
    ),
    (
        "linux-SYN",  # MSS, SACK permitted, timestamps, NOP, window scale
        bytes.fromhex("020405b4 0402 080a 841dbbc8 00000000 01 030307"),
        (MaxSegmentSize(1460), SACK_PERMITTED, Timestamps(0x841DBBC8, 0), NOP, WindowScale(7)),
    ),
    ("unknown-empty", b"\x06\x02\x01\x01", (UnknownOption(6, b""), NOP, NOP)),
    ("unknown-MPTCP", b"\x1e\x04\x01\x81", (UnknownOption(30, b"\x01\x81"),)),
    (
        "unknown-exp",  # RFC 6994 experiment identifier
        b"\xfe\x06\xf9\x89\x12\x34\x00\x00",
        (UnknownOption(254, b"\xf9\x89\x12\x34"), EndOfOptions(b"\x00")),
    ),
    ("unknown-UTO", b"\x1c\x04\x00\x1e", (UnknownOption(28, b"\x00\x1e"),)),
    ("unknown-38", b"\xfd\x28" + bytes(range(38)), (UnknownOption(253, bytes(range(38))),)),
    ("EOL-padding-kept", b"\x02\x04\x05\xb4\x00\xde\xad\xbe", (MaxSegmentSize(1460), EndOfOptions(b"\xde\xad\xbe"))),
    ("EOL-long-padding", b"\x00" + bytes(range(1, 12)), (EndOfOptions(bytes(range(1, 12))),)),
    ("EOL-hides-options", b"\x00\x02\x04\x05", (EndOfOptions(b"\x02\x04\x05"),)),
]


@pytest.mark.parametrize(("area", "options"), [case[1:] for case in OPTION_CASES], ids=[c[0] for c in OPTION_CASES])
def test_options_both_ways(area: bytes, options: tuple[TcpOption, ...]) -> None:
    assert parse_options(area) == options
    assert emit_options(options) == area
    both_ways(raw_segment(options=area, payload=b"xyz"), value(options=options), b"xyz")


def test_no_options() -> None:
    assert parse_options(b"") == ()
    assert emit_options(()) == b""


def test_option_values_of_different_kinds_never_compare_equal() -> None:
    values: list[TcpOption] = [
        EndOfOptions(),
        NOP,
        MaxSegmentSize(3),
        WindowScale(3),
        SACK_PERMITTED,
        Sack(((3, 3),)),
        Timestamps(3, 3),
        UnknownOption(3, b""),
        UnknownOption(2, b"\x00\x03"),
    ]
    for i, first in enumerate(values):
        for j, second in enumerate(values):
            assert (first == second) == (i == j)


def test_emit_pads_options_with_zeros() -> None:
    assert emit_options((WindowScale(2),)) == b"\x03\x03\x02\x00"
    assert emit_options((NOP,)) == b"\x01\x00\x00\x00"
    assert emit_options((MaxSegmentSize(1), NOP)) == b"\x02\x04\x00\x01\x01\x00\x00\x00"
    # ... which parses back as an end-of-list carrying the rest of the padding.
    assert parse_options(emit_options((NOP,))) == (NOP, EndOfOptions(b"\x00\x00"))


def test_fast_path_values_are_the_general_ones() -> None:
    area = b"\x01\x01\x08\x0a" + struct.pack("!II", 123, 456)
    header, _ = parse(raw_segment(options=area))
    for options in (header.options, parse_options(area)):
        assert options == (NOP, NOP, Timestamps(123, 456))
        assert [type(option) for option in options] == [Nop, Nop, Timestamps]
        assert type(options[2].kind) is int
        assert options[2].kind == TcpOptionKind.TIMESTAMPS
        assert hash(options[2]) == hash(Timestamps(123, 456))
        assert options[2]._asdict() == {"tsval": 123, "tsecr": 456, "kind": 8}


@given(
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, 0xFF),
    st.integers(0, 0xF),
    st.binary(max_size=20),
    st.booleans(),
)
def test_nop_nop_timestamps_fast_path_equals_the_general_path(
    tsval: int, tsecr: int, flags: int, reserved: int, payload: bytes, verify: bool
) -> None:
    area = b"\x01\x01\x08\x0a" + struct.pack("!II", tsval, tsecr)
    segment = raw_segment(options=area, flags=flags, reserved=reserved, payload=payload)
    fast = parse(segment, verify_checksum=verify)
    fast_options = parse_options(area)
    # Take the signature away from the module, so that neither fast path can match, and parse again.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tcp, "_NOP_NOP_TIMESTAMPS", b"\xff\xff\xff\xff")
        general = parse(segment, verify_checksum=verify)
        general_options = parse_options(area)
    assert fast == general
    assert fast_options == general_options == fast[0].options
    assert [type(option) for option in fast[0].options] == [type(option) for option in general[0].options]
    assert fast[0] == value(flags=TcpFlags(flags), reserved=reserved, options=(NOP, NOP, Timestamps(tsval, tsecr)))
    assert value(flags=TcpFlags(flags), reserved=reserved, options=fast[0].options).emit(payload, SRC, DST) == segment


def test_nop_nop_timestamps_with_another_data_offset_takes_the_general_path() -> None:
    area = b"\x01\x01\x08\x0a" + struct.pack("!II", 1, 2) + b"\x01\x03\x03\x05"
    options = (NOP, NOP, Timestamps(1, 2), NOP, WindowScale(5))
    both_ways(raw_segment(options=area), value(options=options))


# --- impossible option lengths ---------------------------------------------------------------------------

BAD_AREAS = [
    ("kind-no-length", b"\x02"),
    ("kind-no-length-after-nops", b"\x01\x01\x01\x02"),
    ("unknown-no-length", b"\x01\x01\x01\x1e"),
    ("TS-no-length", b"\x01\x01\x01\x08"),
    ("MSS-length-0", b"\x02\x00\x05\xb4"),
    ("MSS-length-1", b"\x02\x01\x05\xb4"),
    ("unknown-length-0", b"\x1e\x00\x00\x00"),
    ("unknown-length-1", b"\xfe\x01\x00\x00"),
    ("SACK-length-0", b"\x05\x00\x00\x00"),
    ("MSS-longer-than-area", b"\x02\x08\x05\xb4"),
    ("unknown-longer-than-area", b"\xfe\x05\x00\x00"),
    ("unknown-255", b"\xfe\xff" + bytes(38)),
    ("TS-longer-than-area", b"\x01\x01\x08\x0a\x00\x00\x00\x01"),
    ("SACK-longer-than-area", b"\x01\x01\x05\x12" + bytes(8)),
    ("MSS-length-3", b"\x02\x03\x05\x00"),
    ("MSS-length-2", b"\x02\x02\x00\x00"),
    ("MSS-length-6", b"\x02\x06\x05\xb4\x00\x00\x00\x00"),
    ("WS-length-2", b"\x03\x02\x00\x00"),
    ("WS-length-4", b"\x03\x04\x07\x00"),
    ("SACKOK-length-3", b"\x04\x03\x00\x00"),
    ("SACKOK-length-4", b"\x04\x04\x00\x00"),
    ("TS-length-9", b"\x08\x09" + bytes(10)),
    ("TS-length-11", b"\x08\x0b" + bytes(10)),
    ("TS-length-2", b"\x08\x02\x00\x00"),
    ("SACK-length-2", b"\x05\x02\x00\x00"),
    ("SACK-length-6", b"\x05\x06" + bytes(6)),
    ("SACK-length-9", b"\x05\x09" + bytes(10)),
    ("SACK-length-11", b"\x05\x0b" + bytes(10)),
    ("SACK-length-18-minus-1", b"\x05\x11" + bytes(18)),
    ("SACK-length-30", b"\x05\x1e" + bytes(30)),
    ("bad-after-good", b"\x02\x04\x05\xb4\x01\x01\x03\x04"),
]


@pytest.mark.parametrize("area", [case[1] for case in BAD_AREAS], ids=[case[0] for case in BAD_AREAS])
def test_impossible_option_lengths_are_bad_option(area: bytes) -> None:
    assert options_error(area) is Malformation.BAD_OPTION
    if len(area) % 4 == 0 and len(area) <= 40:  # a header can carry it: the segment is refused too
        segment = raw_segment(options=area, payload=b"data")
        assert parse_error(segment) is Malformation.BAD_OPTION
        assert parse_error(segment, verify_checksum=False) is Malformation.BAD_OPTION


def test_the_checksum_is_checked_before_the_options() -> None:
    segment = bytearray(raw_segment(options=b"\x02\x03\x05\x00"))
    segment[16] ^= 0xFF
    assert parse_error(bytes(segment)) is Malformation.BAD_CHECKSUM


def test_options_beyond_the_data_offset_are_payload() -> None:
    # Data offset 6 covers only the MSS option; what follows is data, however option-like it looks.
    segment = raw_segment(offset=6, options=b"\x02\x04\x05\xb4", payload=b"\x02\x03\x00")
    assert parse(segment) == (value(options=(MaxSegmentSize(1460),)), b"\x02\x03\x00")


# --- sequence space and sizes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "length"),
    [
        (TcpFlags(0), 0),
        (TcpFlags.ACK, 0),
        (TcpFlags.PSH | TcpFlags.ACK, 0),
        (TcpFlags.RST, 0),
        (TcpFlags.RST | TcpFlags.ACK, 0),
        (TcpFlags.URG | TcpFlags.ECE | TcpFlags.CWR, 0),
        (TcpFlags.SYN, 1),
        (TcpFlags.SYN | TcpFlags.ACK, 1),
        (TcpFlags.SYN | TcpFlags.ECE | TcpFlags.CWR, 1),
        (TcpFlags.FIN, 1),
        (TcpFlags.FIN | TcpFlags.ACK, 1),
        (TcpFlags.FIN | TcpFlags.PSH | TcpFlags.ACK, 1),
        (TcpFlags.SYN | TcpFlags.FIN, 2),
        (TcpFlags(0xFF), 2),
    ],
)
def test_segment_length_counts_syn_and_fin(flags: TcpFlags, length: int) -> None:
    assert value(flags=flags).segment_length == length
    header, _ = parse(raw_segment(flags=int(flags), payload=b"payload is not counted here"))
    assert header.segment_length == length


@pytest.mark.parametrize(
    ("options", "length"),
    [
        ((), 20),
        ((MaxSegmentSize(1460),), 24),
        ((WindowScale(7),), 24),
        ((NOP, WindowScale(7)), 24),
        ((SACK_PERMITTED,), 24),
        ((NOP, NOP, Timestamps(1, 2)), 32),
        ((MaxSegmentSize(1460), SACK_PERMITTED, Timestamps(1, 0), NOP, WindowScale(7)), 40),
        ((NOP, NOP, Sack(((1, 2), (3, 4), (5, 6), (7, 8)))), 56),
        ((EndOfOptions(bytes(39)),), 60),
    ],
)
def test_header_len(options: tuple[TcpOption, ...], length: int) -> None:
    assert value(options=options).header_len == length


# --- option accessors ----------------------------------------------------------------------------------


def test_accessors_on_a_syn() -> None:
    header, _ = parse(raw_segment(flags=0x02, options=bytes.fromhex("020405b4 0402 080a 0000000a 00000000 01 030307")))
    assert header.mss == 1460
    assert header.window_scale == 7
    assert header.sack_permitted is True
    assert header.sack_blocks == ()
    assert header.timestamps == Timestamps(10, 0)
    assert header.option(TcpOptionKind.MSS) == MaxSegmentSize(1460)
    assert header.option(TcpOptionKind.SACK) is None


def test_accessors_without_options() -> None:
    header = value()
    assert header.mss is None
    assert header.window_scale is None
    assert header.sack_permitted is False
    assert header.sack_blocks == ()
    assert header.timestamps is None
    assert all(header.option(kind) is None for kind in TcpOptionKind)


def test_accessors_with_sack_blocks_and_timestamps() -> None:
    area = b"\x01\x01\x08\x0a" + struct.pack("!II", 7, 8) + b"\x01\x01\x05\x12" + struct.pack("!4I", 10, 20, 30, 40)
    header, _ = parse(raw_segment(options=area))
    assert header.sack_blocks == ((10, 20), (30, 40))
    assert header.timestamps == Timestamps(7, 8)
    assert header.mss is None
    assert header.window_scale is None
    assert header.sack_permitted is False


def test_accessors_report_the_first_of_repeated_options() -> None:
    header = value(options=(MaxSegmentSize(536), MaxSegmentSize(1460), WindowScale(0), WindowScale(9)))
    assert header.mss == 536
    assert header.window_scale == 0  # a shift of 0 is present, not absent
    assert header.option(TcpOptionKind.END) is None
    assert value(options=(NOP, EndOfOptions(b"\x00\x00"))).option(TcpOptionKind.END) == EndOfOptions(b"\x00\x00")
    assert value(options=(SackPermitted(),)).sack_permitted is True


def test_accessors_ignore_unknown_options() -> None:
    header = value(options=(UnknownOption(30, b"\x05\xb4"),))
    assert header.mss is None
    assert header.options == (UnknownOption(30, b"\x05\xb4"),)


# --- emit's local errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        (UnknownOption(253, bytes(38)), NOP),  # 41 octets
        (NOP, NOP, Sack(((1, 2), (3, 4), (5, 6), (7, 8))), NOP, NOP, Timestamps(1, 2)),  # 48
        (EndOfOptions(bytes(40)),),
    ],
)
def test_emit_refuses_more_than_forty_option_octets(options: tuple[TcpOption, ...]) -> None:
    with pytest.raises(ValueError, match="40"):
        value(options=options).emit(b"", SRC, DST)


@pytest.mark.parametrize(
    "option",
    [
        Sack(()),
        Sack(((1, 2), (3, 4), (5, 6), (7, 8), (9, 10))),
        Sack(((1, 1 << 32),)),
        MaxSegmentSize(0x10000),
        MaxSegmentSize(-1),
        WindowScale(256),
        Timestamps(1 << 32, 0),
        Timestamps(0, -1),
        UnknownOption(0, b""),
        UnknownOption(1, b""),
        UnknownOption(253, bytes(39)),
    ],
)
def test_emit_refuses_options_that_cannot_be_encoded(option: TcpOption) -> None:
    with pytest.raises(ValueError):
        emit_options((option,))


def test_emit_refuses_what_is_not_an_option() -> None:
    with pytest.raises(TypeError):
        emit_options(("MSS", 1460))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [{"src_port": 0x10000}, {"dst_port": -1}, {"seq": 1 << 32}, {"ack": -1}, {"window": 0x10000}, {"urgent": 0x10000}],
)
def test_emit_refuses_fields_out_of_range(fields: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        value(**fields).emit(b"", SRC, DST)


@pytest.mark.parametrize("reserved", [16, 0x30, 0xFF, -1])
def test_emit_refuses_reserved_bits_that_do_not_fit_in_four(reserved: int) -> None:
    # They share octet 12 with the data offset: a fifth bit would silently change the header length.
    with pytest.raises(ValueError, match="reserved"):
        value(reserved=reserved, options=(MaxSegmentSize(1460),)).emit(b"", SRC, DST)


# --- the common layouts' shortcuts give the general loop's values and bytes -----------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_timestamps_with_sack_blocks_parse_and_emit_as_the_general_loop(count: int) -> None:
    rng = random.Random(count)
    for _ in range(200):
        blocks = tuple((rng.getrandbits(32), rng.getrandbits(32)) for _ in range(count))
        options = (NOP, NOP, Timestamps(rng.getrandbits(32), rng.getrandbits(32)), NOP, NOP, Sack(blocks))
        general = b"".join(map(tcp._emit_option, options))
        general += bytes(-len(general) % 4)
        assert tcp.emit_options(options) == general
        assert tcp.parse_options(general) == options
        # the same bytes after four more NOPs: the general loop parses them
        assert tcp.parse_options(b"\x01\x01\x01\x01" + general)[4:] == options


def test_a_sack_block_out_of_range_fails_as_the_general_loop_says() -> None:
    with pytest.raises(ValueError, match="out of range"):
        tcp.emit_options((NOP, NOP, Timestamps(1, 2), NOP, NOP, Sack(((1 << 32, 0),))))
