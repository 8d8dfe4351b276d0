"""The one-step frame template gives exactly the layered codecs' bytes (Ethernet, IPv4, TCP)."""

from __future__ import annotations

import random
from ipaddress import IPv4Address

import pytest

from wirelab.wire.ethernet import EthernetHeader, EtherType, untagged_frame
from wirelab.wire.ipaddr import address_value
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.mac import MacAddress
from wirelab.wire.tcp import NOP, MaxSegmentSize, Sack, TcpHeader, Timestamps, emit_options
from wirelab.wire.tcp_frame import TcpFrameTemplate, TemplateFrame

SRC = IPv4Address("10.0.0.1")
DST = IPv4Address("10.0.0.2")
SRC_MAC = MacAddress("02:00:00:00:00:01")
DST_MAC = MacAddress("02:00:00:00:00:02")


def layered(
    header: TcpHeader, payload: bytes, identification: int, *, ttl: int = 64, dscp: int = 0, df: bool = False
) -> bytes:
    segment = header.emit(payload, SRC, DST)
    packet = Ipv4Header(SRC, DST, IpProtocol.TCP, ttl, identification, df, False, 0, dscp).emit(segment)
    return untagged_frame(DST_MAC.packed, SRC_MAC.packed, EtherType.IPV4.to_bytes(2, "big"), packet)


def template(src_port: int, dst_port: int, *, ttl: int = 64, dscp: int = 0, df: bool = False) -> TcpFrameTemplate:
    return TcpFrameTemplate(
        DST_MAC.packed,
        SRC_MAC.packed,
        address_value(SRC),
        address_value(DST),
        src_port,
        dst_port,
        ttl=ttl,
        dscp=dscp,
        dont_fragment=df,
    )


def test_a_timestamped_data_segment_is_byte_for_byte_the_layered_one() -> None:
    payload = bytes(range(256)) * 5 + b"odd"
    header = TcpHeader(40000, 5001, 0xFFFFFFFF, 12345, 0x18, 501, 0, (NOP, NOP, Timestamps(7, 0xFFFFFFFF)))
    frame = template(40000, 5001).emit_timestamped(0xFFFF, 0xFFFFFFFF, 12345, 0x18, 501, 7, 0xFFFFFFFF, payload)
    assert frame == layered(header, payload, 0xFFFF)
    ethernet, packet = EthernetHeader.parse(frame)
    ip, segment = Ipv4Header.parse(packet)  # both checksums verify
    parsed, data = TcpHeader.parse(segment, ip.src, ip.dst)
    assert (ethernet.dst, ip.identification, parsed, data) == (DST_MAC, 0xFFFF, header, payload)


def test_a_pure_ack_without_options_is_padded_to_sixty_octets() -> None:
    header = TcpHeader(80, 33000, 1, 2, 0x10, 65535)
    frame = template(80, 33000).emit(0, 1, 2, 0x10, 65535, b"", b"")
    assert len(frame) == 60
    assert frame == layered(header, b"", 0)


@pytest.mark.parametrize("seed", range(20))
def test_random_fields_give_the_layered_bytes(seed: int) -> None:
    rng = random.Random(seed)
    ttl, dscp, df = rng.randrange(1, 256), rng.randrange(64), rng.random() < 0.5
    ports = rng.randrange(65536), rng.randrange(65536)
    flow = template(*ports, ttl=ttl, dscp=dscp, df=df)
    for _ in range(50):
        seq, ack, window = rng.getrandbits(32), rng.getrandbits(32), rng.randrange(65536)
        flags, identification = rng.randrange(256), rng.randrange(65536)
        payload = rng.randbytes(rng.choice([0, 1, 2, 5, 535, 1447, 1448, 1460]))
        tsval, tsecr = rng.getrandbits(32), rng.getrandbits(32)
        timestamped = TcpHeader(*ports, seq, ack, flags, window, 0, (NOP, NOP, Timestamps(tsval, tsecr)))
        expected = layered(timestamped, payload, identification, ttl=ttl, dscp=dscp, df=df)
        got = flow.emit_timestamped(identification, seq, ack, flags, window, tsval, tsecr, payload)
        assert got == expected
        plain = TcpHeader(*ports, seq, ack, flags, window)
        expected = layered(plain, payload, identification, ttl=ttl, dscp=dscp, df=df)
        assert flow.emit(identification, seq, ack, flags, window, b"", payload) == expected
        options = (NOP, NOP, Timestamps(tsval, tsecr), NOP, NOP, Sack(((seq, ack), (ack, seq))), MaxSegmentSize(536))
        header = TcpHeader(*ports, seq, ack, flags, window, 0, options)
        expected = layered(header, payload, identification, ttl=ttl, dscp=dscp, df=df)
        assert flow.emit(identification, seq, ack, flags, window, emit_options(options), payload) == expected


def test_impossible_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="6 octets"):
        TcpFrameTemplate(b"\x00" * 5, SRC_MAC.packed, 1, 2, 3, 4, ttl=64)
    with pytest.raises(ValueError, match="out of range"):
        template(1, 2, ttl=256)
    with pytest.raises(ValueError, match="at most 40"):
        template(1, 2).emit(0, 0, 0, 0, 0, bytes(44), b"")
    with pytest.raises(ValueError, match="multiple of 4"):
        template(1, 2).emit(0, 0, 0, 0, 0, b"\x01", b"")


def test_frames_are_template_frames_and_any_change_makes_plain_bytes() -> None:
    """The type is the receiver's licence not to sum again: it must not survive a change to the octets."""
    frame = template(1, 2).emit_timestamped(1, 2, 3, 0x10, 4, 5, 6, b"data")
    assert type(frame) is TemplateFrame
    flipped = bytearray(frame)
    flipped[60] ^= 1
    assert type(bytes(flipped)) is bytes
    assert type(frame[:14] + frame[14:]) is bytes
    assert type(template(1, 2).emit(0, 0, 0, 0x10, 0, b"", b"")) is TemplateFrame
