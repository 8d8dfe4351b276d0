"""The routing table: connected and static routes, longest-prefix match (RFC 1812 §5.2.4.3).

The course's rule — "my IP AND mask equals the target's IP AND mask: same LAN, deliver directly;
otherwise, send to the gateway" — is this table with one connected route per interface and a
default route: :func:`explain_and` spells out the arithmetic for traces.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from wirelab.wire.ipaddr import address_value


@dataclass(frozen=True, slots=True)
class Route:
    network: IPv4Network
    interface: int  # index of the outgoing interface
    gateway: IPv4Address | None = None  # None: the destination is on the link (connected)
    source: str = "static"  # "connected" or "static"
    metric: int = 0

    @property
    def is_default(self) -> bool:
        return self.network.prefixlen == 0

    def __str__(self) -> str:
        via = f"via {self.gateway}" if self.gateway else "directly connected"
        return f"{self.network} {via}, interface {self.interface} ({self.source})"


class RoutingTable:
    """Routes indexed by prefix length; lookups try the longest prefixes first.

    As Linux's FIB, a prefix may hold several routes that differ in metric (``ip route add ... metric
    N``); a lookup takes the lowest metric. Adding a route whose prefix and metric are taken fails with
    EEXIST, as ``ip route add`` does ("RTNETLINK answers: File exists"); :meth:`replace` is ``ip route
    replace``. Connected routes are the kernel's own and are appended instead (two interfaces on one
    subnet: both routes are kept, the first is used), as ``fib_add_ifaddr`` does with NLM_F_APPEND.
    """

    def __init__(self) -> None:
        # prefix length -> network (as int) -> that prefix's routes, lowest metric first (ties: oldest first)
        self._by_length: dict[int, dict[int, list[Route]]] = {}
        self._lengths: list[int] = []  # prefix lengths in use, longest first
        self._cache: dict[int, Route | None] = {}  # destination -> route, emptied whenever a route changes

    def add(self, route: Route) -> None:
        """``ip route add``: raises FileExistsError (EEXIST) if the prefix already has a route of that metric."""
        routes = self._by_length.setdefault(route.network.prefixlen, {}).setdefault(
            int(route.network.network_address), []
        )
        if route.source != "connected" and any(existing.metric == route.metric for existing in routes):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(route.network))
        self._insert(routes, route)
        self._changed()

    def replace(self, route: Route) -> Route | None:
        """``ip route replace``: the route of the same prefix and metric is replaced (or this one added).

        Returns the route replaced, if there was one.
        """
        routes = self._by_length.setdefault(route.network.prefixlen, {}).setdefault(
            int(route.network.network_address), []
        )
        for index, existing in enumerate(routes):
            if existing.metric == route.metric:
                routes[index] = route
                self._changed()
                return existing
        self._insert(routes, route)
        self._changed()
        return None

    def remove(self, network: IPv4Network, metric: int | None = None) -> Route:
        """``ip route del``: the prefix's route of ``metric`` (None: its first, the one in use).

        Raises ProcessLookupError (ESRCH, "No such process") if there is none, as Linux does.
        """
        routes = self._by_length.get(network.prefixlen, {}).get(int(network.network_address), [])
        for index, existing in enumerate(routes):
            if metric is None or existing.metric == metric:
                del routes[index]
                if not routes:
                    self._forget(network)
                self._changed()
                return existing
        raise ProcessLookupError(errno.ESRCH, os.strerror(errno.ESRCH), str(network))

    @staticmethod
    def _insert(routes: list[Route], route: Route) -> None:
        index = len(routes)
        while index and routes[index - 1].metric > route.metric:
            index -= 1
        routes.insert(index, route)

    def _forget(self, network: IPv4Network) -> None:
        table = self._by_length[network.prefixlen]
        del table[int(network.network_address)]
        if not table:
            del self._by_length[network.prefixlen]

    def _changed(self) -> None:
        # Every change empties the lookup cache: a cached answer may name a route that moved or went.
        self._lengths = sorted(self._by_length, reverse=True)
        self._cache.clear()

    def lookup(self, destination: IPv4Address) -> Route | None:
        """The route with the longest prefix that contains ``destination``."""
        value = address_value(destination)
        cache = self._cache
        if value in cache:
            return cache[value]
        found = None
        for length in self._lengths:
            mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
            routes = self._by_length[length].get(value & mask)
            if routes:
                found = routes[0]
                break
        if len(cache) >= 4096:
            cache.clear()  # bounded: a scan of many destinations must not grow it without end
        cache[value] = found
        return found

    def routes(self) -> list[Route]:
        return [route for length in self._lengths for routes in self._by_length[length].values() for route in routes]

    def render(self) -> str:
        """Like ``ip route``: one route per line, longest prefix first.

        In iproute2's order and spelling: ``default via 192.168.1.1 dev if0 proto static``,
        ``192.168.1.0/24 dev if0 proto connected scope link``, a host route without its ``/32``, and
        ``metric N`` when it is not 0.
        """
        lines = []
        for route in self.routes():
            if route.is_default:
                target = "default"
            elif route.network.prefixlen == 32:
                target = str(route.network.network_address)
            else:
                target = str(route.network)
            via = f" via {route.gateway}" if route.gateway else ""
            scope = "" if route.gateway else " scope link"
            metric = f" metric {route.metric}" if route.metric else ""
            lines.append(f"{target}{via} dev if{route.interface} proto {route.source}{scope}{metric}")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class AndExplanation:
    """The course's arithmetic for one decision: both addresses AND the mask."""

    mine: IPv4Address
    target: IPv4Address
    mask: IPv4Address
    my_network: IPv4Address
    target_network: IPv4Address

    @property
    def same_network(self) -> bool:
        return self.my_network == self.target_network


def explain_and(interface: IPv4Interface, target: IPv4Address) -> AndExplanation:
    mask = interface.network.netmask
    target_network = IPv4Address(int(target) & int(mask))
    return AndExplanation(interface.ip, target, mask, interface.network.network_address, target_network)
