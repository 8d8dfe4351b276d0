"""Ethernet II frames, with an optional IEEE 802.1Q VLAN tag.

::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                  Destination MAC (6 octets)                   |
    +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                               |                               |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
    |                     Source MAC (6 octets)                     |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |   TPID 0x8100 (802.1Q only)   | PCP |D|   VLAN ID (802.1Q)    |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |           EtherType           |  Payload (46-1500 octets) ...
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

The frame check sequence is not part of what a NIC hands to software (nor of a pcap), so it is not
here. A frame shorter than 60 octets is padded with zeros by the sender (:data:`MIN_FRAME_LEN`); the
receiver cannot tell padding from payload, which is why IPv4 carries its own total length.
"""

from __future__ import annotations

import enum
import functools
import struct
from typing import Final, NamedTuple

from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.mac import MacAddress, mac_from_packed

# Field offsets (octets from the start of the frame).
DST: Final = slice(0, 6)
SRC: Final = slice(6, 12)
ETHERTYPE: Final = slice(12, 14)  # or the 802.1Q TPID, when it is 0x8100
VLAN_TCI: Final = slice(14, 16)
VLAN_ETHERTYPE: Final = slice(16, 18)
HEADER_LEN: Final = 14
VLAN_HEADER_LEN: Final = 18
MIN_FRAME_LEN: Final = 60  # 64 on the wire, minus the 4-octet FCS
MIN_ETHERTYPE: Final = 0x0600  # below this the field is an IEEE 802.3 length, not an EtherType

_ADDRESSES = struct.Struct("!6s6sH")
_TAG = struct.Struct("!HH")
_PROTOCOL = "ethernet"
_new = tuple.__new__  # parsers build their NamedTuple values without the Python-level __new__


class EtherType(enum.IntEnum):
    IPV4 = 0x0800
    ARP = 0x0806
    VLAN = 0x8100
    IPV6 = 0x86DD
    QINQ = 0x88A8
    LLDP = 0x88CC


_ETHERTYPES: Final[dict[int, int]] = {int(e): e for e in EtherType}
_TPID_8021Q: Final = 0x8100  # plain int: comparing with an enum member costs more in the hot path


class VlanTag(NamedTuple):
    """The 802.1Q tag control information: priority code point, drop eligible, VLAN identifier."""

    vid: int
    pcp: int = 0
    dei: bool = False


class EthernetHeader(NamedTuple):
    """A validated Ethernet II header. Build one, then :meth:`emit` it with a payload."""

    dst: MacAddress
    src: MacAddress
    ethertype: int
    vlan: VlanTag | None = None

    @property
    def header_len(self) -> int:
        return HEADER_LEN if self.vlan is None else VLAN_HEADER_LEN

    @staticmethod
    def parse(frame: bytes) -> tuple[EthernetHeader, bytes]:
        """Split a frame into its header and payload (padding included: the frame cannot tell)."""
        try:
            header = _untagged_header(frame[:HEADER_LEN])
        except TypeError:  # a bytearray or memoryview cannot key the cache; intern its bytes instead
            header = _untagged_header(bytes(frame[:HEADER_LEN]))
        if header is not None:
            return header, frame[HEADER_LEN:]
        return _tagged_header(frame), frame[VLAN_HEADER_LEN:]

    def emit(self, payload: bytes, *, pad: bool = True) -> bytes:
        """The frame's bytes; padded with zeros to 60 octets as a NIC does, unless ``pad=False``."""
        if not MIN_ETHERTYPE <= self.ethertype <= 0xFFFF:
            raise ValueError(f"EtherType {self.ethertype:#x} is not in 0x0600..0xffff")
        if self.ethertype == _TPID_8021Q and self.vlan is None:
            # Such bytes would parse back as a tagged frame: say what is meant instead.
            raise ValueError("EtherType 0x8100 is the 802.1Q tag itself: give vlan=VlanTag(...) instead")
        head = self.dst.packed + self.src.packed
        if self.vlan is not None:
            vid, pcp, dei = self.vlan
            if not (0 <= vid < 4096 and 0 <= pcp < 8) or dei not in (0, 1):
                raise ValueError(f"bad 802.1Q tag {self.vlan}")
            head += _TAG.pack(EtherType.VLAN, pcp << 13 | dei << 12 | vid)
        frame = head + self.ethertype.to_bytes(2, "big") + payload
        if pad and len(frame) < MIN_FRAME_LEN:
            frame += bytes(MIN_FRAME_LEN - len(frame))
        return frame


def untagged_frame(dst: bytes, src: bytes, ethertype: bytes, payload: bytes) -> bytes:
    """The bytes :meth:`EthernetHeader.emit` makes for an untagged header, from raw fields (6, 6 and
    2 octets): what a NIC's transmit path does with addresses it already holds as bytes."""
    frame = dst + src + ethertype + payload
    if len(frame) < MIN_FRAME_LEN:
        frame += bytes(MIN_FRAME_LEN - len(frame))
    return frame


@functools.lru_cache(maxsize=4096)
def _untagged_header(head: bytes) -> EthernetHeader | None:
    """The header of an untagged frame; ``None`` when an 802.1Q tag follows.

    Interned: every frame of a conversation carries the same 14 octets, and the value is immutable, so
    a flow pays for decoding its header once (bounded, least recently used first out).
    """
    try:
        dst, src, ethertype = _ADDRESSES.unpack(head)
    except struct.error:
        raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, f"{len(head)} octets < {HEADER_LEN}") from None
    if ethertype == _TPID_8021Q:
        return None
    if ethertype < MIN_ETHERTYPE:
        raise MalformedPacket(_PROTOCOL, Malformation.UNSUPPORTED, f"802.3 length field {ethertype}, not Ethernet II")
    return _new(
        EthernetHeader, (mac_from_packed(dst), mac_from_packed(src), _ETHERTYPES.get(ethertype, ethertype), None)
    )


def _tagged_header(frame: bytes) -> EthernetHeader:
    if len(frame) < VLAN_HEADER_LEN:
        raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, "802.1Q tag cut short")
    dst, src, _tpid = _ADDRESSES.unpack_from(frame)
    tci, ethertype = _TAG.unpack_from(frame, HEADER_LEN)
    if ethertype < MIN_ETHERTYPE:
        raise MalformedPacket(_PROTOCOL, Malformation.UNSUPPORTED, f"802.3 length field {ethertype}, not Ethernet II")
    vlan = VlanTag(tci & 0x0FFF, tci >> 13, bool(tci & 0x1000))
    return EthernetHeader(mac_from_packed(dst), mac_from_packed(src), _ETHERTYPES.get(ethertype, ethertype), vlan)


class EthernetFrame:
    """A view over a frame's bytes: fields read in place, for devices that need only one or two."""

    __slots__ = ("buffer",)

    def __init__(self, buffer: bytes | bytearray) -> None:
        if len(buffer) < HEADER_LEN:
            raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, f"{len(buffer)} octets < {HEADER_LEN}")
        self.buffer = buffer

    @property
    def dst(self) -> bytes:
        return bytes(self.buffer[DST])

    @property
    def src(self) -> bytes:
        return bytes(self.buffer[SRC])

    @property
    def is_broadcast(self) -> bool:
        return self.buffer[DST] == b"\xff\xff\xff\xff\xff\xff"

    @property
    def is_multicast(self) -> bool:
        """The I/G bit of the destination: broadcast and multicast are flooded by a switch."""
        return bool(self.buffer[0] & 1)

    @property
    def ethertype(self) -> int:
        """The EtherType of the payload (looking through one 802.1Q tag)."""
        value = int.from_bytes(self.buffer[ETHERTYPE], "big")
        if value == EtherType.VLAN and len(self.buffer) >= VLAN_HEADER_LEN:
            return int.from_bytes(self.buffer[VLAN_ETHERTYPE], "big")
        return value
