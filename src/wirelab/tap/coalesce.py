"""Segmentation offload on the way out: back-to-back TCP segments of one flow, written as one large frame.

With ``--offload`` the TAP speaks virtio-net (IFF_VNET_HDR), and a frame written to it may be a TCP/IPv4
"super-segment" of up to 64 KB, marked ``GSO_TCPV4`` with the segment size: the kernel takes it whole —
one trip through its stack instead of forty-odd — and cuts it into MSS-sized segments only if it has to
forward it. That is TSO seen from the NIC's side. wirelab's TCP makes such segments itself when its
interface says it may (``gso_max``: new data, several MSS at once, as a :class:`GsoFrame` that knows its
segment size); they go out behind a GSO header as they are. The segments it still makes one by one (a
tail shorter than the MSS, a burst from other code) are joined here, in the order they were sent, where
a TSO-capable sender would have sent them as one: same flow, same ACK, window and options, contiguous
sequence numbers, equal sizes (the last may be shorter), only ACK (and PSH on the last) set, no IP
options, not fragmented. Anything else goes out as it was, behind a header that asks for nothing.

A large frame's TCP checksum is left partial (``NEEDS_CSUM``: the pseudo-header sum over the whole
length, as Linux's own TSO frames carry): the kernel verifies nothing it is told is partial, and fills
in each segment's checksum when it must cut the frame (forwarding it through a bridge or VXLAN).

Pure functions: no I/O (STYLE habit 3).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

from wirelab.tap.device import VIRTIO_NET_HDR_F_NEEDS_CSUM, VNET_HEADER, VNET_NO_OFFLOAD
from wirelab.wire.checksum import fold, word_sum
from wirelab.wire.tcp_frame import GsoFrame

VIRTIO_NET_HDR_GSO_TCPV4: Final = 1
MAX_IP_PACKET: Final = 65535

# Offsets in an untagged Ethernet frame carrying an IPv4 header without options (RFC 791 §3.1) and
# TCP (RFC 9293 §3.1): what the large frame's header rewrites. (Reading uses _HEADERS below.)
ETHERNET_LEN: Final = 14
IP: Final = ETHERNET_LEN
IP_TOTAL_LENGTH: Final = IP + 2
IP_CHECKSUM: Final = IP + 10
IP_ADDRESSES: Final = IP + 12  # source then destination, 8 octets
IP_HEADER_LEN: Final = 20
TCP: Final = IP + IP_HEADER_LEN
TCP_FLAGS: Final = TCP + 13
TCP_CHECKSUM_OFFSET: Final = 16  # from the start of the TCP header
TCP_MIN_HEADER_LEN: Final = 20

_ETHERTYPE_IPV4: Final = b"\x08\x00"
_FLAG_PSH: Final = 0x08
_FLAG_ACK: Final = 0x10
_ONLY_ACK_PSH: Final = 0xFF & ~(_FLAG_ACK | _FLAG_PSH)  # FIN SYN RST URG ECE CWR: never joined
_FRAGMENTED: Final = 0x3FFF  # MF and the fragment offset


class _Run:
    """Segments being joined: the first frame, its header lengths, and the payloads so far."""

    __slots__ = ("first", "header_len", "key", "next_seq", "payloads", "push", "size", "total")

    def __init__(
        self, frame: bytes, key: tuple[object, ...], header_len: int, seq: int, payload: bytes, push: bool
    ) -> None:
        self.first = frame
        self.key = key
        self.header_len = header_len  # Ethernet + IP + TCP
        self.size = len(payload)  # the segment size every segment but the last has
        self.payloads = [payload]
        self.total = len(payload)
        self.next_seq = (seq + len(payload)) & 0xFFFFFFFF
        self.push = push


# The headers up to the TCP window in one unpack: MACs, EtherType, version/IHL, TOS, total length, ID,
# flags/fragment, TTL, protocol, IP checksum, addresses and ports, seq, ack, data offset, flags, window.
_HEADERS: Final = struct.Struct("!12s2sBBHHHBBH12sI4sBB2s")


def _segment(frame: bytes) -> tuple[tuple[object, ...], int, int, bytes, bool] | None:
    """(flow key, header length, seq, payload, PSH) of a frame that may be joined, or None."""
    if len(frame) < TCP + TCP_MIN_HEADER_LEN:
        return None
    (macs, ethertype, version_ihl, tos, total, _id, fragment, ttl, protocol, _checksum, flow, seq, ack, offset,
     flags, window) = _HEADERS.unpack_from(frame)  # fmt: skip
    if (
        ethertype != _ETHERTYPE_IPV4
        or version_ihl != 0x45
        or protocol != 6
        or flags & _ONLY_ACK_PSH
        or not flags & _FLAG_ACK
        or fragment & _FRAGMENTED
    ):
        return None
    tcp_len = (offset >> 4) * 4
    end = IP + total  # not the Ethernet padding
    header_len = TCP + tcp_len
    if tcp_len < TCP_MIN_HEADER_LEN or end <= header_len or end > len(frame):
        return None
    # Everything that must be equal along a run: addresses, TOS, DF and TTL, ports, ACK, window, options.
    key = (macs, tos, fragment, ttl, flow, ack, offset, window, frame[TCP + TCP_MIN_HEADER_LEN : header_len])
    return key, header_len, seq, frame[header_len:end], bool(flags & _FLAG_PSH)


def coalesce(frames: Sequence[bytes]) -> list[bytes]:
    """What to write to an IFF_VNET_HDR TAP for ``frames``, in order: each a virtio-net header and a frame."""
    written: list[bytes] = []
    run: _Run | None = None
    for frame in frames:
        if type(frame) is GsoFrame:
            if run is not None:
                written.append(_emit(run))
                run = None
            written.append(gso_frame(frame))
            continue
        segment = _segment(frame)
        if segment is not None and run is not None:
            key, header_len, seq, payload, push = segment
            if (
                key == run.key
                and seq == run.next_seq
                and not run.push
                and len(run.payloads[-1]) == run.size
                and len(payload) <= run.size
                and run.header_len - ETHERNET_LEN + run.total + len(payload) <= MAX_IP_PACKET
            ):
                run.payloads.append(payload)
                run.total += len(payload)
                run.next_seq = (seq + len(payload)) & 0xFFFFFFFF
                run.push = push
                continue
        if run is not None:
            written.append(_emit(run))
            run = None
        if segment is None:
            written.append(VNET_NO_OFFLOAD + frame)
        else:
            key, header_len, seq, payload, push = segment
            run = _Run(frame, key, header_len, seq, payload, push)
    if run is not None:
        written.append(_emit(run))
    return written


def gso_frame(frame: GsoFrame) -> bytes:
    """A virtio-net header asking for ``frame``'s segmentation, and the frame with its TCP checksum made
    partial (its IPv4 header and checksum are already those of the large packet)."""
    header_len = TCP + (frame[TCP + 12] >> 4) * 4
    tcp_length = len(frame) - TCP  # a GsoFrame is never padded: it is larger than any minimum
    pseudo = fold(word_sum(frame[IP_ADDRESSES:TCP], 6 + tcp_length))  # RFC 9293 §3.1, not complemented
    vnet = VNET_HEADER.pack(
        VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, header_len, frame.segment_size, TCP, TCP_CHECKSUM_OFFSET
    )
    checksum = TCP + TCP_CHECKSUM_OFFSET
    return b"".join((vnet, frame[:checksum], pseudo.to_bytes(2, "big"), memoryview(frame)[checksum + 2 :]))


def _emit(run: _Run) -> bytes:
    first = run.first
    if len(run.payloads) == 1:
        return VNET_NO_OFFLOAD + first  # one segment: as TCP made it, checksum and all
    header = bytearray(first[: run.header_len])
    ip_length = run.header_len - ETHERNET_LEN + run.total
    header[IP_TOTAL_LENGTH : IP_TOTAL_LENGTH + 2] = ip_length.to_bytes(2, "big")
    header[IP_CHECKSUM : IP_CHECKSUM + 2] = b"\x00\x00"
    ip_checksum = 0xFFFF - fold(word_sum(header[IP:TCP]))
    header[IP_CHECKSUM : IP_CHECKSUM + 2] = ip_checksum.to_bytes(2, "big")
    if run.push:
        header[TCP_FLAGS] |= _FLAG_PSH
    tcp_length = ip_length - IP_HEADER_LEN
    pseudo = fold(word_sum(header[IP_ADDRESSES:TCP], 6 + tcp_length))  # RFC 9293 §3.1, not complemented
    header[TCP + TCP_CHECKSUM_OFFSET : TCP + TCP_CHECKSUM_OFFSET + 2] = pseudo.to_bytes(2, "big")
    vnet = VNET_HEADER.pack(
        VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, run.header_len, run.size, TCP, TCP_CHECKSUM_OFFSET
    )
    return b"".join((vnet, header, *run.payloads))
