"""One flow's Ethernet II + IPv4 + TCP headers, emitted in one step: a NIC's TSO/GSO header template.

An established connection sends segments whose headers differ only in a few fields: the IP
identification and total length, the sequence and acknowledgment numbers, the flags, the window, the
timestamps, and the two checksums. :class:`TcpFrameTemplate` holds everything else, and the parts of
both checksums that never change, and packs a whole frame with one :mod:`struct` call. The bytes are
exactly those of the layered path::

    untagged_frame(dst_mac, src_mac, b"\\x08\\x00",
                   Ipv4Header(src, dst, TCP, ttl, identification, dont_fragment, dscp=dscp).emit(
                       TcpHeader(src_port, dst_port, seq, ack, flags, window, 0, options).emit(payload, src, dst)))

for the shapes an established flow uses: an untagged frame and an IPv4 header without options. TCP
options come encoded (:meth:`TcpFrameTemplate.emit`), or, for Linux's NOP, NOP, timestamps on every
segment (RFC 7323 Appendix A), as the two values (:meth:`TcpFrameTemplate.emit_timestamped`). The
layout, under the diagrams of :mod:`ethernet`, :mod:`ipv4` and :mod:`tcp`::

    octets  0-13   Ethernet: destination MAC, source MAC, EtherType 0x0800
           14-33   IPv4: 0x45, DSCP/ECN, total length, identification, flags/fragment offset (0),
                   TTL, protocol 6, header checksum, source, destination
           34-53   TCP: ports, sequence, acknowledgment, data offset, flags, window, checksum, urgent (0)
           54-65   TCP options (timestamped frames only): NOP, NOP, kind 8, length 10, TSval, TSecr

Frames made here are :class:`TemplateFrame` values: bytes like any other, whose type says that both
checksums were computed for exactly these octets. A receiver that gets the very object (nothing on the
way changed it: a corrupted or edited frame is a new ``bytes``) may skip summing it again, as Linux skips
it for frames a veth or the loopback hands over (``CHECKSUM_UNNECESSARY``); what it decides is the same.

The checksums (RFC 1071): a big-endian number made of 16-bit words is congruent to their sum modulo
0xFFFF (see :mod:`checksum`), so a header's sum is the sum of its fields' values, each taken whole
(a 32-bit field is congruent to its two halves' sum); the constant fields are summed once per flow.
"""

from __future__ import annotations

import struct
from typing import Final

from wirelab.wire.checksum import word_sum
from wirelab.wire.ethernet import MIN_FRAME_LEN

ETHERTYPE_IPV4: Final = 0x0800
IPV4_VERSION_IHL: Final = 0x45  # version 4, a 20-octet header
TCP_PROTOCOL: Final = 6
PLAIN_TCP_HEADER_LEN: Final = 20
TIMESTAMPED_TCP_HEADER_LEN: Final = 32  # 20 + NOP, NOP, timestamps (12)
MAX_TCP_HEADER_LEN: Final = 60
NOP_NOP_TIMESTAMPS_KIND_LENGTH: Final = 0x0101080A
FLAG_DONT_FRAGMENT: Final = 0x4000

# Ethernet (6s 6s H), IPv4 (B B H H H B B H I I), TCP (H H I I B B H H H) and, timestamped, the options (I I I).
_PLAIN: Final = struct.Struct("!6s6sHBBHHHBBHIIHHIIBBHHH")
_TIMESTAMPED: Final = struct.Struct("!6s6sHBBHHHBBHIIHHIIBBHHHIII")
_TIMESTAMPED_OFFSET_WORD: Final = (TIMESTAMPED_TCP_HEADER_LEN << 2) << 8


class TemplateFrame(bytes):
    """A frame :class:`TcpFrameTemplate` made: its IPv4 and TCP checksums are right by construction."""

    __slots__ = ()


class GsoFrame(TemplateFrame):
    """A TCP/IPv4 frame larger than the MTU, for a device with segmentation offload (TSO) to cut into
    segments of :attr:`segment_size` octets of payload (its ``gso_size``). Its checksums are complete, as
    in any :class:`TemplateFrame`: a capture shows a valid (if large) packet."""

    segment_size: int  # set once, right after it is made (a bytes subclass takes no constructor arguments)


class TcpFrameTemplate:
    """The constant parts of one flow's frames (addresses as ints, MACs as 6 octets)."""

    __slots__ = (
        "_flags_fragment",
        "_ip_sum",
        "_tcp_sum",
        "dst",
        "dst_mac",
        "dst_port",
        "src",
        "src_mac",
        "src_port",
        "tos",
        "ttl",
    )

    def __init__(
        self,
        dst_mac: bytes,
        src_mac: bytes,
        src: int,
        dst: int,
        src_port: int,
        dst_port: int,
        *,
        ttl: int,
        dscp: int = 0,
        dont_fragment: bool = False,
    ) -> None:
        if len(dst_mac) != 6 or len(src_mac) != 6:
            raise ValueError("a MAC address is 6 octets")
        if not (0 <= ttl <= 0xFF and 0 <= dscp < 64 and 0 <= src_port <= 0xFFFF and 0 <= dst_port <= 0xFFFF):
            raise ValueError("TTL, DSCP or a port out of range")
        self.dst_mac = dst_mac
        self.src_mac = src_mac
        self.src = src
        self.dst = dst
        self.src_port = src_port
        self.dst_port = dst_port
        self.ttl = ttl
        self.tos = dscp << 2
        self._flags_fragment = FLAG_DONT_FRAGMENT if dont_fragment else 0
        # The IPv4 header's words that never change: version/IHL with DSCP, flags, TTL with protocol, addresses.
        self._ip_sum = (IPV4_VERSION_IHL << 8 | self.tos) + self._flags_fragment + (ttl << 8 | TCP_PROTOCOL) + src + dst
        # The pseudo-header (RFC 9293 §3.1) less its length, and the ports.
        self._tcp_sum = src + dst + TCP_PROTOCOL + src_port + dst_port

    def emit_timestamped(
        self,
        identification: int,
        seq: int,
        ack: int,
        flags: int,
        window: int,
        tsval: int,
        tsecr: int,
        payload: bytes,
    ) -> bytes:
        """A frame whose TCP header carries NOP, NOP, timestamps (no padding: it is over 60 octets)."""
        length = TIMESTAMPED_TCP_HEADER_LEN + len(payload)
        total = self._tcp_sum + length + seq + ack + (_TIMESTAMPED_OFFSET_WORD | flags) + window
        total += NOP_NOP_TIMESTAMPS_KIND_LENGTH + tsval + tsecr
        checksum = 0xFFFF - (word_sum(payload, total) % 0xFFFF or 0xFFFF)  # never all zeros: the protocol is in it
        ip_total = length + 20
        ip_checksum = 0xFFFF - ((self._ip_sum + ip_total + identification) % 0xFFFF or 0xFFFF)
        return TemplateFrame(
            _TIMESTAMPED.pack(
                self.dst_mac,
                self.src_mac,
                ETHERTYPE_IPV4,
                IPV4_VERSION_IHL,
                self.tos,
                ip_total,
                identification,
                self._flags_fragment,
                self.ttl,
                TCP_PROTOCOL,
                ip_checksum,
                self.src,
                self.dst,
                self.src_port,
                self.dst_port,
                seq,
                ack,
                TIMESTAMPED_TCP_HEADER_LEN << 2,
                flags,
                window,
                checksum,
                0,
                NOP_NOP_TIMESTAMPS_KIND_LENGTH,
                tsval,
                tsecr,
            )
            + payload
        )

    def emit(
        self, identification: int, seq: int, ack: int, flags: int, window: int, options: bytes, payload: bytes
    ) -> bytes:
        """A frame whose TCP options are ``options``, already encoded and padded (:func:`tcp.emit_options`);
        padded to 60 octets when short, as a NIC does."""
        header_len = PLAIN_TCP_HEADER_LEN + len(options)
        if len(options) & 3 or header_len > MAX_TCP_HEADER_LEN:
            raise ValueError(f"TCP options of {len(options)} octets: a multiple of 4, at most 40")
        length = header_len + len(payload)
        offset = header_len << 2  # the data offset in 32-bit words, in the high nibble of its octet
        total = self._tcp_sum + length + seq + ack + (offset << 8 | flags) + window
        if options:
            total += int.from_bytes(options, "big")  # an even number of octets: congruent to its words' sum
        checksum = 0xFFFF - (word_sum(payload, total) % 0xFFFF or 0xFFFF)
        ip_total = length + 20
        ip_checksum = 0xFFFF - ((self._ip_sum + ip_total + identification) % 0xFFFF or 0xFFFF)
        frame = (
            _PLAIN.pack(
                self.dst_mac,
                self.src_mac,
                ETHERTYPE_IPV4,
                IPV4_VERSION_IHL,
                self.tos,
                ip_total,
                identification,
                self._flags_fragment,
                self.ttl,
                TCP_PROTOCOL,
                ip_checksum,
                self.src,
                self.dst,
                self.src_port,
                self.dst_port,
                seq,
                ack,
                offset,
                flags,
                window,
                checksum,
                0,
            )
            + options
            + payload
        )
        if len(frame) < MIN_FRAME_LEN:
            frame += bytes(MIN_FRAME_LEN - len(frame))
        return TemplateFrame(frame)
