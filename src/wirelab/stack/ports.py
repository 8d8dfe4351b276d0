"""Ephemeral ports, as Linux hands them out to TCP and UDP sockets that ask for port 0.

From ``net.ipv4.ip_local_port_range`` (32768-60999 by default: :data:`LINUX_EPHEMERAL_RANGE`),
starting at a random point of the node's seeded stream, then in turn, skipping ports in use.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

from wirelab.addressing.ports import LINUX_EPHEMERAL_RANGE

EPHEMERAL_LOW: Final = LINUX_EPHEMERAL_RANGE.first
EPHEMERAL_HIGH: Final = LINUX_EPHEMERAL_RANGE.last
_SPAN: Final = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1


class EphemeralPorts:
    __slots__ = ("_next",)

    def __init__(self, rng: random.Random) -> None:
        self._next = rng.randrange(EPHEMERAL_LOW, EPHEMERAL_HIGH + 1)

    def take(self, in_use: Callable[[int], bool]) -> int | None:
        """The next port of the range that is not ``in_use``; None when every one is."""
        for _ in range(_SPAN):
            port = self._next
            self._next = EPHEMERAL_LOW + (port + 1 - EPHEMERAL_LOW) % _SPAN
            if not in_use(port):
                return port
        return None
