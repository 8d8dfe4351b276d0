"""ARP for Ethernet and IPv4 (RFC 826): "who has 192.168.1.11? tell 192.168.1.10".

::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |     Hardware type (1)         |     Protocol type (0x0800)    |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    | HW len (6)    | Proto len (4) |   Operation (1 req, 2 reply)  |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                 Sender hardware address (6)                   |
    +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                               | Sender protocol address (4)   |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
    |                               |                               |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
    |                 Target hardware address (6)                   |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                 Target protocol address (4)                   |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

A request goes to the broadcast MAC with the target hardware address zero; the reply is unicast.
Two special requests (RFC 5227): a *probe* has sender IP 0.0.0.0 ("is anyone using this address?");
a *gratuitous* ARP (announcement) has sender IP = target IP ("this address is mine, at this MAC").
"""

from __future__ import annotations

import enum
import struct
from ipaddress import IPv4Address
from typing import Final, NamedTuple

from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.ipaddr import UNSPECIFIED, ipv4_from_packed
from wirelab.wire.mac import ZERO, MacAddress, mac_from_packed

# Field offsets (octets).
HARDWARE_TYPE: Final = slice(0, 2)
PROTOCOL_TYPE: Final = slice(2, 4)
HARDWARE_LEN: Final = 4
PROTOCOL_LEN: Final = 5
OPERATION: Final = slice(6, 8)
SENDER_MAC: Final = slice(8, 14)
SENDER_IP: Final = slice(14, 18)
TARGET_MAC: Final = slice(18, 24)
TARGET_IP: Final = slice(24, 28)
PACKET_LEN: Final = 28

HARDWARE_ETHERNET: Final = 1
PROTOCOL_IPV4: Final = 0x0800

_PACKET = struct.Struct("!HHBBH6s4s6s4s")
_PROTOCOL = "arp"


class ArpOperation(enum.IntEnum):
    REQUEST = 1
    REPLY = 2


_OPERATIONS: Final = {int(o): o for o in ArpOperation}


class ArpPacket(NamedTuple):
    """A validated Ethernet/IPv4 ARP packet."""

    operation: ArpOperation
    sender_mac: MacAddress
    sender_ip: IPv4Address
    target_mac: MacAddress
    target_ip: IPv4Address

    @classmethod
    def request(cls, sender_mac: MacAddress, sender_ip: IPv4Address, target_ip: IPv4Address) -> ArpPacket:
        """"Who has ``target_ip``? Tell ``sender_ip``" (target MAC unknown, so zero)."""
        return cls(ArpOperation.REQUEST, sender_mac, sender_ip, ZERO, target_ip)

    @classmethod
    def reply_to(cls, request: ArpPacket, my_mac: MacAddress) -> ArpPacket:
        """"``target_ip`` is at ``my_mac``", sent back to the requester."""
        return cls(ArpOperation.REPLY, my_mac, request.target_ip, request.sender_mac, request.sender_ip)

    @classmethod
    def probe(cls, sender_mac: MacAddress, target_ip: IPv4Address) -> ArpPacket:
        """RFC 5227 probe: sender IP 0.0.0.0, so no one's cache learns from it."""
        return cls(ArpOperation.REQUEST, sender_mac, UNSPECIFIED, ZERO, target_ip)

    @classmethod
    def gratuitous(cls, sender_mac: MacAddress, ip: IPv4Address) -> ArpPacket:
        """Gratuitous ARP (RFC 5227 announcement): a request for one's own address."""
        return cls(ArpOperation.REQUEST, sender_mac, ip, ZERO, ip)

    @property
    def is_probe(self) -> bool:
        return self.operation == ArpOperation.REQUEST and self.sender_ip == UNSPECIFIED

    @property
    def is_gratuitous(self) -> bool:
        return self.sender_ip == self.target_ip and self.sender_ip != UNSPECIFIED

    @staticmethod
    def parse(data: bytes) -> ArpPacket:
        """Parse an ARP packet (trailing Ethernet padding is ignored)."""
        if len(data) < PACKET_LEN:
            raise MalformedPacket(_PROTOCOL, Malformation.TRUNCATED, f"{len(data)} octets < {PACKET_LEN}")
        htype, ptype, hlen, plen, op, sha, spa, tha, tpa = _PACKET.unpack_from(data)
        if htype != HARDWARE_ETHERNET or ptype != PROTOCOL_IPV4 or hlen != 6 or plen != 4:
            raise MalformedPacket(
                _PROTOCOL,
                Malformation.UNSUPPORTED,
                f"hardware {htype}/{hlen}, protocol {ptype:#06x}/{plen}: only Ethernet/IPv4",
            )
        operation = _OPERATIONS.get(op)
        if operation is None:
            raise MalformedPacket(_PROTOCOL, Malformation.UNSUPPORTED, f"operation {op}")
        return ArpPacket(
            operation, mac_from_packed(sha), ipv4_from_packed(spa), mac_from_packed(tha), ipv4_from_packed(tpa)
        )

    def emit(self) -> bytes:
        return _PACKET.pack(
            HARDWARE_ETHERNET,
            PROTOCOL_IPV4,
            6,
            4,
            self.operation,
            self.sender_mac.packed,
            self.sender_ip.packed,
            self.target_mac.packed,
            self.target_ip.packed,
        )
