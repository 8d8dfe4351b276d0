"""The ARP cache: IP → MAC for one interface (RFC 826; RFC 1122 §2.3.2.1 and §2.3.2.2).

States, one enum with one transition choke point (:meth:`ArpCache._set_state`):

- ``INCOMPLETE``: a request is out, packets wait in a bounded queue; retried at most once a second
  (RFC 1122 §2.3.2.1: "no more than one ARP request per second per destination"), ``max_tries`` in
  all, then the entry fails and its waiting packets are given back as *unreachable*.
- ``REACHABLE``: confirmed by a reply (or by the RFC 826 merge rule) within ``reachable_time``.
- ``STALE``: older than that; still used (Linux does too), and deleted ``stale_time`` later unless
  confirmed again. Using a stale entry sends one unicast request to refresh it.
- ``PERMANENT``: a static entry (``arp -s``); never ages.

Timers are deadlines kept in the entries; :meth:`poll` does what is due and :meth:`poll_at` says when.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Final

from wirelab.wire.ipaddr import address_value
from wirelab.wire.mac import MacAddress

SECOND: Final = 1_000_000_000
DEFAULT_REACHABLE_TIME: Final = 30 * SECOND  # Linux base_reachable_time
DEFAULT_STALE_TIME: Final = 60 * SECOND  # Linux gc_stale_time
DEFAULT_RETRY_INTERVAL: Final = 1 * SECOND  # RFC 1122 §2.3.2.1
DEFAULT_MAX_TRIES: Final = 3  # Linux mcast_solicit
DEFAULT_QUEUE_LIMIT: Final = 100  # packets waiting per unresolved address (Linux unres_qlen ~101)


class ArpState(enum.Enum):
    INCOMPLETE = "incomplete"
    REACHABLE = "reachable"
    STALE = "stale"
    PERMANENT = "permanent"
    FAILED = "failed"


@dataclass(slots=True)
class ArpEntry:
    ip: IPv4Address
    state: ArpState
    mac: MacAddress | None
    updated: int  # when the state last changed or the mapping was confirmed
    deadline: int | None  # next thing to do: retry, go stale, or expire
    tries: int = 0
    waiting: list[bytes] = field(default_factory=list)  # IP packets queued for resolution


@dataclass(frozen=True, slots=True)
class ArpChange:
    """A history record: the cache as ``arp -a`` would have shown it changing."""

    time: int
    ip: IPv4Address
    old: ArpState | None
    new: ArpState | None
    mac: MacAddress | None


@dataclass(frozen=True, slots=True)
class ArpAction:
    """What :meth:`ArpCache.poll` asks the node to do.

    ``kind`` is ``"request"`` (send an ARP request for ``ip``; ``unicast_to`` for a refresh) or
    ``"unreachable"`` (resolution failed: ``packets`` could not be delivered).
    """

    kind: str
    ip: IPv4Address
    unicast_to: MacAddress | None = None
    packets: tuple[bytes, ...] = ()


class ArpCache:
    """One interface's neighbour table."""

    # One cache per interface (so one per host): no per-instance __dict__.
    __slots__ = (
        "_deadlines",
        "_history_limit",
        "_sequence",
        "entries",
        "history",
        "max_tries",
        "queue_drops",
        "queue_limit",
        "reachable_time",
        "retry_interval",
        "stale_time",
    )

    def __init__(
        self,
        *,
        reachable_time: int = DEFAULT_REACHABLE_TIME,
        stale_time: int = DEFAULT_STALE_TIME,
        retry_interval: int = DEFAULT_RETRY_INTERVAL,
        max_tries: int = DEFAULT_MAX_TRIES,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        history: int = 1000,
    ) -> None:
        self.reachable_time = reachable_time
        self.stale_time = stale_time
        self.retry_interval = retry_interval
        self.max_tries = max_tries
        self.queue_limit = queue_limit
        # Keyed by the address as an int: IPv4Address hashes through a Python-level __hash__.
        self.entries: dict[int, ArpEntry] = {}
        self.history: list[ArpChange] = []
        self._history_limit = history
        self._deadlines: list[tuple[int, int, int]] = []  # (deadline, sequence, address), lazily pruned
        self._sequence = 0
        self.queue_drops = 0

    # -- the one transition choke point -----------------------------------------------------------
    def _set_state(
        self, entry: ArpEntry, state: ArpState, now: int, deadline: int | None, *, created: bool = False
    ) -> None:
        old = None if created else entry.state
        entry.state = state
        entry.updated = now
        entry.deadline = deadline
        if deadline is not None:
            self._sequence += 1
            heapq.heappush(self._deadlines, (deadline, self._sequence, address_value(entry.ip)))
        if old != state or state is ArpState.REACHABLE:
            self._remember(now, entry.ip, old, state, entry.mac)

    def _remember(
        self, now: int, ip: IPv4Address, old: ArpState | None, new: ArpState | None, mac: MacAddress | None
    ) -> None:
        if len(self.history) >= self._history_limit:
            del self.history[: self._history_limit // 2]
        self.history.append(ArpChange(now, ip, old, new, mac))

    # -- queries ----------------------------------------------------------------------------------
    def lookup(self, ip: IPv4Address) -> MacAddress | None:
        entry = self.entries.get(address_value(ip))
        if entry is None or entry.mac is None or entry.state is ArpState.INCOMPLETE:
            return None
        return entry.mac

    def __contains__(self, ip: object) -> bool:
        return isinstance(ip, IPv4Address) and address_value(ip) in self.entries

    def knows_packed(self, packed: bytes) -> bool:
        """Whether 4 octets straight off a wire name a cached address (the receive fast path)."""
        return int.from_bytes(packed, "big") in self.entries

    def __iter__(self) -> Iterator[ArpEntry]:
        return iter([self.entries[key] for key in sorted(self.entries)])

    # -- resolution (outgoing packets) ------------------------------------------------------------
    def resolve(self, ip: IPv4Address, packet: bytes, now: int) -> tuple[MacAddress | None, ArpAction | None]:
        """The MAC to send ``packet`` to, or None with the packet queued.

        The action, if any, is an ARP request to send now: the first of an INCOMPLETE entry, or a
        unicast refresh of a STALE one.
        """
        key = address_value(ip)
        entry = self.entries.get(key)
        if entry is not None and entry.mac is not None and entry.state is not ArpState.INCOMPLETE:
            if entry.state is ArpState.STALE and entry.tries == 0:
                entry.tries = 1  # one refresh per stale period; a reply makes it REACHABLE again
                return entry.mac, ArpAction("request", ip, unicast_to=entry.mac)
            return entry.mac, None
        if entry is None:
            entry = ArpEntry(ip, ArpState.INCOMPLETE, None, now, None, tries=1)
            self.entries[key] = entry
            self._set_state(entry, ArpState.INCOMPLETE, now, now + self.retry_interval, created=True)
            self._enqueue(entry, packet)
            return None, ArpAction("request", ip)
        self._enqueue(entry, packet)  # already INCOMPLETE: the request is out, wait for it
        return None, None

    def _enqueue(self, entry: ArpEntry, packet: bytes) -> None:
        if len(entry.waiting) >= self.queue_limit:
            entry.waiting.pop(0)  # Linux drops the oldest
            self.queue_drops += 1
        entry.waiting.append(packet)

    # -- learning (incoming ARP) ------------------------------------------------------------------
    def update(self, ip: IPv4Address, mac: MacAddress, now: int, *, create: bool) -> tuple[bool, list[bytes]]:
        """RFC 826's merge step: update ``ip`` if known (the *merge flag*), add it if ``create``.

        Returns (merged, packets that were waiting for this address and can now be sent).
        """
        key = address_value(ip)
        entry = self.entries.get(key)
        if entry is None:
            if not create:
                return False, []
            entry = ArpEntry(ip, ArpState.REACHABLE, mac, now, None)
            self.entries[key] = entry
            self._set_state(entry, ArpState.REACHABLE, now, now + self.reachable_time, created=True)
            return False, []
        if entry.state is ArpState.PERMANENT:
            return True, []  # static entries are not overwritten by the network
        entry.mac = mac
        entry.tries = 0
        waiting, entry.waiting = entry.waiting, []
        self._set_state(entry, ArpState.REACHABLE, now, now + self.reachable_time)
        return True, waiting

    def add_static(self, ip: IPv4Address, mac: MacAddress, now: int) -> list[bytes]:
        """``arp -s``: make ``ip`` PERMANENT at ``mac``.

        Returns the packets that were waiting for ``ip`` (an INCOMPLETE entry's queue), in order: the
        address is known now, so the caller sends them to ``mac`` — as Linux's ``neigh_update`` does with
        an entry's ``arp_queue`` however the entry becomes valid (reply, gratuitous ARP, ``ip neigh
        replace``). Left in a PERMANENT entry, nothing would ever send or drop them.
        """
        key = address_value(ip)
        existing = self.entries.get(key)
        entry = existing or ArpEntry(ip, ArpState.PERMANENT, mac, now, None)
        entry.mac = mac
        entry.tries = 0
        waiting, entry.waiting = entry.waiting, []
        self.entries[key] = entry
        self._set_state(entry, ArpState.PERMANENT, now, None, created=existing is None)
        return waiting

    def delete(self, ip: IPv4Address, now: int) -> list[bytes]:
        """``arp -d``: forget ``ip``. Returns the packets that were waiting for it, which are dropped
        (Linux purges an entry's queue when it is deleted): the caller counts them."""
        entry = self.entries.pop(address_value(ip), None)
        if entry is None:
            return []
        self._remember(now, ip, entry.state, None, entry.mac)
        return entry.waiting

    # -- timers -----------------------------------------------------------------------------------
    def poll_at(self) -> int | None:
        deadlines = self._deadlines
        while deadlines:
            when, _, key = deadlines[0]
            entry = self.entries.get(key)
            if entry is not None and entry.deadline == when:
                return when
            heapq.heappop(deadlines)  # superseded
        return None

    def poll(self, now: int) -> list[ArpAction]:
        """Retries, give-ups and ageing that are due at ``now``."""
        actions: list[ArpAction] = []
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            when, _, key = heapq.heappop(deadlines)
            entry = self.entries.get(key)
            if entry is None or entry.deadline != when:
                continue
            ip = entry.ip
            if entry.state is ArpState.INCOMPLETE:
                if entry.tries < self.max_tries:
                    # RFC 1122 §2.3.2.1: retransmit, at most once per second per destination.
                    entry.tries += 1
                    self._set_state(entry, ArpState.INCOMPLETE, now, now + self.retry_interval)
                    actions.append(ArpAction("request", ip))
                else:
                    # Give up: the waiting packets' senders must hear "host unreachable".
                    del self.entries[key]
                    self._remember(now, ip, ArpState.INCOMPLETE, ArpState.FAILED, None)
                    actions.append(ArpAction("unreachable", ip, packets=tuple(entry.waiting)))
            elif entry.state is ArpState.REACHABLE:
                entry.tries = 0
                self._set_state(entry, ArpState.STALE, now, now + self.stale_time)
            elif entry.state is ArpState.STALE:
                del self.entries[key]
                self._remember(now, ip, ArpState.STALE, None, entry.mac)
        return actions
