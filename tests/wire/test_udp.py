"""UDP (RFC 768): golden bytes both ways, the pseudo-header checksum, "no checksum", the length field.

The golden datagrams were produced once with scapy 2.8.0 and pasted here as hex, e.g.
``bytes(IP(src="192.168.1.10", dst="192.168.1.1")/UDP(sport=40000, dport=53)/Raw(b"wirelab"))[20:]``;
the zero-checksum case is checked against scapy live.
"""

from __future__ import annotations

import struct
from ipaddress import IPv4Address

import pytest
from hypothesis import given
from scapy.layers.inet import IP, UDP, in4_chksum
from scapy.packet import Raw
from strategies import ipv4_addresses

from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.ipaddr import address_value
from wirelab.wire.udp import HEADER_LEN, PROTOCOL_NUMBER, UdpHeader

SRC = IPv4Address("192.168.1.10")
DST = IPv4Address("192.168.1.1")

# scapy: 192.168.1.10:40000 -> 192.168.1.1:53, payload b"wirelab" (odd length: the last byte is padded
# with a zero for the checksum) and b"wirelab!" (even length).
GOLDEN_ODD = bytes.fromhex("9c400035000f27ce776972656c6162")
GOLDEN_EVEN = bytes.fromhex("9c400035001027ab776972656c616221")
GOLDEN_CASES = [(GOLDEN_ODD, b"wirelab"), (GOLDEN_EVEN, b"wirelab!")]


def _with_checksum(datagram: bytes, checksum: int) -> bytes:
    return datagram[:6] + checksum.to_bytes(2, "big") + datagram[8:]


def _parse_error(datagram: bytes, *, verify_checksum: bool = True, dst: IPv4Address = DST) -> MalformedPacket:
    with pytest.raises(MalformedPacket) as caught:
        UdpHeader.parse(datagram, SRC, dst, verify_checksum=verify_checksum)
    assert caught.value.protocol == "udp"
    return caught.value


# --- golden bytes, both ways ---------------------------------------------------------------------------


@pytest.mark.parametrize(("golden", "payload"), GOLDEN_CASES, ids=["odd", "even"])
def test_golden_parses_to_the_value(golden: bytes, payload: bytes) -> None:
    assert UdpHeader.parse(golden, SRC, DST) == (UdpHeader(40000, 53), payload)


@pytest.mark.parametrize(("golden", "payload"), GOLDEN_CASES, ids=["odd", "even"])
def test_value_emits_the_golden_bytes(golden: bytes, payload: bytes) -> None:
    assert UdpHeader(40000, 53).emit(payload, SRC, DST) == golden


def test_empty_payload() -> None:
    datagram = UdpHeader(68, 67).emit(b"", SRC, DST)
    assert datagram[:6] == bytes.fromhex("00440043 0008")
    scapy_sum = in4_chksum(PROTOCOL_NUMBER, IP(src=str(SRC), dst=str(DST)), _with_checksum(datagram, 0))
    assert datagram[6:] == scapy_sum.to_bytes(2, "big")
    assert UdpHeader.parse(datagram, SRC, DST) == (UdpHeader(68, 67), b"")


def test_the_pseudo_header_is_part_of_the_checksum() -> None:
    # Same ports and data to another address: a different checksum, and the old one no longer verifies.
    elsewhere = IPv4Address("192.168.1.2")
    assert UdpHeader(40000, 53).emit(b"wirelab", SRC, elsewhere)[6:8] != GOLDEN_ODD[6:8]
    assert _parse_error(GOLDEN_ODD, dst=elsewhere).reason is Malformation.BAD_CHECKSUM


# --- checksum 0: "no checksum" ---------------------------------------------------------------------------


def test_checksum_zero_parses_as_no_checksum() -> None:
    unchecked = _with_checksum(GOLDEN_ODD, 0)
    assert UdpHeader.parse(unchecked, SRC, DST) == (UdpHeader(40000, 53, no_checksum=True), b"wirelab")


def test_checksum_zero_is_not_verified_even_when_the_data_is_wrong() -> None:
    unchecked = _with_checksum(GOLDEN_ODD, 0)[:-1] + b"X"
    assert UdpHeader.parse(unchecked, SRC, DST) == (UdpHeader(40000, 53, no_checksum=True), b"wirelaX")


def test_no_checksum_emits_zero() -> None:
    assert UdpHeader(40000, 53, no_checksum=True).emit(b"wirelab", SRC, DST) == _with_checksum(GOLDEN_ODD, 0)


def test_a_nonzero_checksum_field_is_not_no_checksum_even_unverified() -> None:
    header, _ = UdpHeader.parse(_with_checksum(GOLDEN_ODD, 0x1234), SRC, DST, verify_checksum=False)
    assert header.no_checksum is False


def _ones_complement_sum(data: bytes) -> int:
    """RFC 1071's reference loop, written out: the folded 16-bit one's complement sum."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _payload_whose_checksum_is_zero(src: IPv4Address, dst: IPv4Address, sport: int, dport: int) -> bytes:
    """Four octets of data chosen so that the one's complement sum over everything is 0xFFFF.

    The checksum is then ~0xFFFF = 0, which RFC 768 sends as 0xFFFF (0 would mean "no checksum").
    """
    length = HEADER_LEN + 4
    pseudo = src.packed + dst.packed + struct.pack("!HH", PROTOCOL_NUMBER, length)
    head = struct.pack("!HHHH", sport, dport, length, 0)
    partial = _ones_complement_sum(pseudo + head + b"\xab\xcd\x00\x00")
    filler = 0xFFFF - partial  # partial + filler = 0xFFFF exactly, without a carry
    return b"\xab\xcd" + filler.to_bytes(2, "big")


def test_a_computed_checksum_of_zero_is_sent_as_ffff() -> None:
    payload = _payload_whose_checksum_is_zero(SRC, DST, 40000, 53)
    datagram = UdpHeader(40000, 53).emit(payload, SRC, DST)
    assert datagram[6:8] == b"\xff\xff"
    # scapy agrees: the raw checksum of these bytes is 0, and its UDP layer also transmits 0xFFFF.
    ip = IP(src=str(SRC), dst=str(DST))
    assert in4_chksum(PROTOCOL_NUMBER, ip, _with_checksum(datagram, 0)) == 0
    built = bytes(IP(src=str(SRC), dst=str(DST)) / UDP(sport=40000, dport=53) / Raw(payload))[20:]
    assert built == datagram
    # ... and 0xFFFF verifies (it is the same value as 0 in one's complement), not "no checksum".
    assert UdpHeader.parse(datagram, SRC, DST) == (UdpHeader(40000, 53, no_checksum=False), payload)


# --- the length field --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(HEADER_LEN))
def test_shorter_than_a_header_is_truncated(size: int) -> None:
    assert _parse_error(GOLDEN_ODD[:size]).reason is Malformation.TRUNCATED
    assert _parse_error(GOLDEN_ODD[:size], verify_checksum=False).reason is Malformation.TRUNCATED


@pytest.mark.parametrize("length", range(HEADER_LEN))
def test_length_field_below_eight_is_bad_length(length: int) -> None:
    datagram = GOLDEN_ODD[:4] + length.to_bytes(2, "big") + GOLDEN_ODD[6:]
    assert _parse_error(datagram, verify_checksum=False).reason is Malformation.BAD_LENGTH
    assert _parse_error(_with_checksum(datagram, 0)).reason is Malformation.BAD_LENGTH


@pytest.mark.parametrize("length", [len(GOLDEN_ODD) + 1, len(GOLDEN_ODD) + 100, 0xFFFF])
def test_length_field_beyond_the_datagram_is_truncated(length: int) -> None:
    datagram = GOLDEN_ODD[:4] + length.to_bytes(2, "big") + GOLDEN_ODD[6:]
    assert _parse_error(datagram, verify_checksum=False).reason is Malformation.TRUNCATED


def test_missing_last_octet_is_truncated() -> None:
    assert _parse_error(GOLDEN_ODD[:-1]).reason is Malformation.TRUNCATED


def test_trailing_octets_beyond_the_length_field_are_cut_and_not_summed() -> None:
    # E.g. Ethernet padding that the IP layer did not remove: the checksum covers only `length` octets.
    assert UdpHeader.parse(GOLDEN_ODD + b"\x00\x00\x00", SRC, DST) == (UdpHeader(40000, 53), b"wirelab")
    assert UdpHeader.parse(GOLDEN_ODD + b"junk!", SRC, DST) == (UdpHeader(40000, 53), b"wirelab")


def test_length_field_shorter_than_the_data_cuts_the_data() -> None:
    # A length of 10 keeps two data octets; the checksum is computed over those 10 octets alone.
    header_and_two = UdpHeader(1, 2).emit(b"ab", SRC, DST)
    assert UdpHeader.parse(header_and_two + b"cdef", SRC, DST) == (UdpHeader(1, 2), b"ab")


def test_a_header_only_length_gives_empty_data() -> None:
    datagram = _with_checksum(GOLDEN_ODD[:4] + b"\x00\x08" + GOLDEN_ODD[6:], 0)
    assert UdpHeader.parse(datagram, SRC, DST) == (UdpHeader(40000, 53, no_checksum=True), b"")


# --- bad checksums ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [i for i in range(len(GOLDEN_ODD)) if i not in (4, 5)])  # 4-5: the length
def test_any_flipped_bit_is_a_bad_checksum(index: int) -> None:
    damaged = bytearray(GOLDEN_ODD)
    damaged[index] ^= 0x10  # (the checksum 0x27ce never becomes 0, "no checksum", this way)
    assert _parse_error(bytes(damaged)).reason is Malformation.BAD_CHECKSUM


def test_verify_checksum_false_accepts_a_bad_checksum() -> None:
    damaged = GOLDEN_ODD[:-1] + b"X"
    assert _parse_error(damaged).reason is Malformation.BAD_CHECKSUM
    assert UdpHeader.parse(damaged, SRC, DST, verify_checksum=False) == (UdpHeader(40000, 53), b"wirelaX")


# --- emit's local errors ---------------------------------------------------------------------------------------


def test_emit_refuses_a_port_out_of_range() -> None:
    with pytest.raises(ValueError, match="port"):
        UdpHeader(0x10000, 53).emit(b"", SRC, DST)
    with pytest.raises(ValueError, match="port"):
        UdpHeader(1, -1).emit(b"", SRC, DST)


def test_emit_refuses_a_datagram_over_65535_octets() -> None:
    UdpHeader(1, 2).emit(bytes(0xFFFF - HEADER_LEN), SRC, DST)  # the largest that fits
    with pytest.raises(ValueError, match="65535"):
        UdpHeader(1, 2).emit(bytes(0xFFFF - HEADER_LEN + 1), SRC, DST)


# --- the address fast path the pseudo-header uses ------------------------------------------------------------------


@given(ipv4_addresses())
def test_address_value_equals_int(address: IPv4Address) -> None:
    assert address_value(address) == int(address)


@pytest.mark.parametrize("text", ["0.0.0.0", "255.255.255.255", "10.0.0.1", "192.168.1.10"])
def test_address_value_of_known_addresses(text: str) -> None:
    assert address_value(IPv4Address(text)) == int.from_bytes(bytes(map(int, text.split("."))), "big")
