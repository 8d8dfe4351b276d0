"""48-bit Ethernet MAC addresses.

Accepted as ``aa:bb:cc:dd:ee:ff`` (Linux, tcpdump), ``AA-BB-CC-DD-EE-FF`` (Windows, and the course's
notes), ``aabb.ccdd.eeff`` (Cisco), 6 raw bytes, or a 48-bit integer. Shown as ``aa:bb:cc:dd:ee:ff``.
"""

from __future__ import annotations

import functools
import re
from typing import Final

_SEPARATED = re.compile(r"^([0-9A-Fa-f]{2})([:-])([0-9A-Fa-f]{2})(?:\2[0-9A-Fa-f]{2}){4}$")
_CISCO = re.compile(r"^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$")


class MacAddress:
    """An immutable, hashable 48-bit MAC address."""

    __slots__ = ("packed",)
    packed: bytes

    def __init__(self, address: str | bytes | int | MacAddress) -> None:
        if isinstance(address, MacAddress):
            packed = address.packed
        elif isinstance(address, bytes):
            if len(address) != 6:
                raise ValueError(f"a MAC address is 6 bytes, not {len(address)}")
            packed = address
        elif isinstance(address, int):
            if not 0 <= address < 1 << 48:
                raise ValueError(f"a MAC address is 48 bits: {address:#x} does not fit")
            packed = address.to_bytes(6, "big")
        elif isinstance(address, str):
            text = address.strip()
            if _SEPARATED.match(text):
                packed = bytes.fromhex(text.replace(":", "").replace("-", ""))
            elif _CISCO.match(text):
                packed = bytes.fromhex(text.replace(".", ""))
            else:
                raise ValueError(
                    f"not a MAC address: {address!r} (expected aa:bb:cc:dd:ee:ff or AA-BB-CC-DD-EE-FF)"
                )
        else:
            raise TypeError(f"cannot make a MAC address from {type(address).__name__}")
        object.__setattr__(self, "packed", packed)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("MacAddress is immutable")

    @property
    def is_broadcast(self) -> bool:
        """``ff:ff:ff:ff:ff:ff``: every NIC on the LAN accepts it, every switch floods it."""
        return self.packed == b"\xff\xff\xff\xff\xff\xff"

    @property
    def is_multicast(self) -> bool:
        """The I/G bit (least significant bit of the first octet) is set; broadcast included."""
        return bool(self.packed[0] & 1)

    @property
    def is_unicast(self) -> bool:
        return not self.packed[0] & 1

    @property
    def is_locally_administered(self) -> bool:
        """The U/L bit: set for addresses not assigned by a manufacturer (wirelab's defaults)."""
        return bool(self.packed[0] & 2)

    @property
    def oui(self) -> bytes:
        """The first three octets: the manufacturer's Organizationally Unique Identifier."""
        return self.packed[:3]

    def __int__(self) -> int:
        return int.from_bytes(self.packed, "big")

    def __bytes__(self) -> bytes:
        return self.packed

    def __str__(self) -> str:
        return self.packed.hex(":")

    def __repr__(self) -> str:
        return f"MacAddress('{self}')"

    def __format__(self, spec: str) -> str:
        """``format(mac, "-")`` gives the course's ``AA-BB-CC-DD-EE-FF``; anything else, ``aa:bb:…``."""
        if spec == "-":
            return self.packed.hex("-").upper()
        return format(str(self), spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MacAddress):
            return self.packed == other.packed
        return NotImplemented

    def __lt__(self, other: MacAddress) -> bool:
        return self.packed < other.packed

    def __hash__(self) -> int:
        return hash(self.packed)

    def __reduce__(self) -> tuple[type[MacAddress], tuple[bytes]]:
        return (MacAddress, (self.packed,))


BROADCAST: Final = MacAddress(b"\xff\xff\xff\xff\xff\xff")
ZERO: Final = MacAddress(b"\x00\x00\x00\x00\x00\x00")


@functools.lru_cache(maxsize=4096)
def mac_from_packed(packed: bytes) -> MacAddress:
    """A cached MacAddress for 6 bytes read off a wire (parsers call this: few MACs, many frames)."""
    return MacAddress(packed)
