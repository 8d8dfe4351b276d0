"""IPv4 addresses as the stdlib's :class:`ipaddress.IPv4Address`, made cheaply from wire bytes."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from ipaddress import IPv4Address
from typing import Final

UNSPECIFIED: Final = IPv4Address("0.0.0.0")
LIMITED_BROADCAST: Final = IPv4Address("255.255.255.255")


@functools.lru_cache(maxsize=4096)
def ipv4_from_packed(packed: bytes) -> IPv4Address:
    """The address for 4 octets read off a wire; cached, since a network has few and sends many."""
    return IPv4Address(packed)


# ``int(address)`` goes through IPv4Address.__int__, a Python-level method; reading the slot it
# returns is about four times faster, and checksum pseudo-headers need it for every segment.
# (``_ip`` has been IPv4Address's one storage slot since Python 3.3; tests check it equals int().)
address_value: Callable[[IPv4Address], int] = operator.attrgetter("_ip")
