"""Joining TCP segments for the TAP's segmentation offload: which runs are joined, and the large frame's bytes.

No root needed: frames in, frames out. The segments are made by wirelab's own TCP codec; the large
frame is read back with the codecs (IPv4 header checksum verified; TCP checksum left partial, as the
virtio-net header says).
"""

from __future__ import annotations

from ipaddress import IPv4Address

from wirelab.tap.coalesce import VIRTIO_NET_HDR_GSO_TCPV4, coalesce
from wirelab.tap.device import VIRTIO_NET_HDR_F_NEEDS_CSUM, VNET_HEADER, VNET_HEADER_LEN, VNET_NO_OFFLOAD
from wirelab.wire.checksum import fold, word_sum
from wirelab.wire.ethernet import untagged_frame
from wirelab.wire.ipaddr import address_value
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.tcp import TcpFlags, TcpHeader
from wirelab.wire.tcp_frame import GsoFrame, TcpFrameTemplate

SRC, DST = IPv4Address("10.7.0.2"), IPv4Address("10.7.0.1")
MACS = (b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02")


def _frame(seq: int, payload: bytes, flags: TcpFlags = TcpFlags.ACK, *, ack: int = 5000, window: int = 512) -> bytes:
    segment = TcpHeader(40000, 5001, seq, ack, flags, window=window).emit(payload, SRC, DST)
    packet = Ipv4Header(SRC, DST, IpProtocol.TCP, 64, seq & 0xFFFF, True).emit(segment)
    return untagged_frame(MACS[1], MACS[0], b"\x08\x00", packet)


def _segments(count: int, size: int = 1000, first: int = 1) -> list[tuple[int, bytes]]:
    return [(first + index * size, bytes([index]) * size) for index in range(count)]


def test_a_run_of_full_segments_becomes_one_large_frame_the_kernel_takes_whole() -> None:
    pieces = [*_segments(3), (3001, b"tail")]
    frames = [_frame(seq, data) for seq, data in pieces[:-1]] + [_frame(3001, b"tail", TcpFlags.ACK | TcpFlags.PSH)]
    (written,) = coalesce(frames)
    flags, gso_type, header_len, gso_size, start, offset = VNET_HEADER.unpack_from(written)
    assert (flags, gso_type, header_len, gso_size, start, offset) == (
        VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1000, 34, 16,
    )  # fmt: skip
    frame = written[VNET_HEADER_LEN:]
    header, segment = Ipv4Header.parse(frame[14:])  # the IPv4 header checksum is verified here
    assert (header.src, header.dst, len(segment)) == (SRC, DST, 20 + 3004)
    assert segment[20:] == b"".join(data for _, data in pieces)
    assert int.from_bytes(segment[4:8], "big") == 1  # the first segment's sequence number
    assert segment[13] == TcpFlags.ACK | TcpFlags.PSH  # PSH from the last segment
    # The checksum field holds the pseudo-header sum over the whole length, not complemented (Linux's TSO).
    pseudo = fold(word_sum(SRC.packed + DST.packed, 6 + len(segment)))
    assert int.from_bytes(segment[16:18], "big") == pseudo


def test_anything_else_goes_out_alone_as_it_was() -> None:
    syn = _frame(0, b"", TcpFlags.SYN)
    pure_ack = _frame(1, b"")
    arp = untagged_frame(b"\xff" * 6, MACS[0], b"\x08\x06", bytes(28))
    one = _frame(1, b"x" * 100)
    assert coalesce([syn, pure_ack, arp, one]) == [VNET_NO_OFFLOAD + frame for frame in (syn, pure_ack, arp, one)]


def test_a_run_breaks_where_a_tso_sender_would_have_started_another() -> None:
    frames = [
        _frame(1, b"a" * 1000),
        _frame(1001, b"b" * 1000),
        _frame(2001, b"c" * 1000, TcpFlags.ACK | TcpFlags.PSH),  # PSH ends a run
        _frame(3001, b"d" * 1000),
        _frame(4001, b"e" * 500),  # shorter: may only be last
        _frame(4501, b"f" * 500),
        _frame(9999, b"g" * 500),  # not contiguous
        _frame(10499, b"h" * 500, ack=6000),  # another ACK
        _frame(10999, b"i" * 500, ack=6000, window=9),  # another window
    ]
    written = coalesce(frames)
    sizes = [len(data) - VNET_HEADER_LEN - 54 for data in written]
    assert sizes == [3000, 1500, 500, 500, 500, 500]
    gso = VIRTIO_NET_HDR_GSO_TCPV4
    assert [VNET_HEADER.unpack_from(data)[1] for data in written] == [gso, gso, 0, 0, 0, 0]


def test_a_large_frame_never_exceeds_the_largest_ip_packet() -> None:
    frames = [_frame(seq, data) for seq, data in _segments(70, size=1448)]
    written = coalesce(frames)
    lengths = [len(data) - VNET_HEADER_LEN - 14 for data in written]
    assert all(length <= 65535 for length in lengths)
    assert sum(length - 40 for length in lengths) == 70 * 1448
    assert len(written) == 2


def test_a_large_frame_made_by_tcp_goes_out_behind_a_gso_header_with_its_checksum_made_partial() -> None:
    """TSO from wirelab's TCP: a GsoFrame (checksums complete) is written as it is, behind a header asking
    for segments of its ``segment_size``, its TCP checksum turned into the pseudo-header sum; it ends a run."""
    template = TcpFrameTemplate(MACS[1], MACS[0], address_value(SRC), address_value(DST), 40000, 5001, ttl=64)
    payload = bytes(range(256)) * 20  # 5120 octets: 5 segments of 1000 and one of 120
    made = GsoFrame(template.emit_timestamped(7, 1, 5000, TcpFlags.ACK | TcpFlags.PSH, 512, 11, 12, payload))
    made.segment_size = 1000
    ip, segment = Ipv4Header.parse(made[14:])
    TcpHeader.parse(segment, ip.src, ip.dst)  # complete and right: a capture shows a valid packet
    before = _frame(4294967000, b"x" * 296)  # joins nothing: the next frame is a GsoFrame
    first, written = coalesce([before, made])
    assert first == VNET_NO_OFFLOAD + before
    assert VNET_HEADER.unpack_from(written) == (
        VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 14 + 20 + 32, 1000, 34, 16,
    )  # fmt: skip
    frame = written[VNET_HEADER_LEN:]
    assert frame[:50] == made[:50] and frame[52:] == made[52:]  # all but the TCP checksum as TCP made it
    pseudo = fold(word_sum(SRC.packed + DST.packed, 6 + len(segment)))
    assert int.from_bytes(frame[50:52], "big") == pseudo
