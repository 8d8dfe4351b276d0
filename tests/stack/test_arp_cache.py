"""The ARP cache (RFC 826, RFC 1122 §2.3.2), sans-IO: every call takes ``now``; nothing is sent.

Grouped by state, as the cache's own docstring describes it: INCOMPLETE (resolution, retries, give up,
the waiting queue), learning (RFC 826's merge flag), REACHABLE → STALE → gone, PERMANENT, and the
timer bookkeeping (``history``, ``poll_at``).
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from wirelab.stack.arp import ArpAction, ArpCache, ArpChange, ArpState
from wirelab.wire.mac import MacAddress

SECOND = 1_000_000_000
MILLISECOND = 1_000_000

PEER = IPv4Address("192.168.1.11")
OTHER = IPv4Address("192.168.1.12")
PEER_MAC = MacAddress("02:00:00:00:00:0b")
NEW_MAC = MacAddress("02:00:00:00:00:bb")
OTHER_MAC = MacAddress("02:00:00:00:00:0c")


def learned(ip: IPv4Address = PEER, mac: MacAddress = PEER_MAC, now: int = 0, **settings: int) -> ArpCache:
    """A cache that has just learned ``ip`` at ``now`` (REACHABLE)."""
    cache = ArpCache(**settings)
    cache.update(ip, mac, now, create=True)
    return cache


def state(cache: ArpCache, ip: IPv4Address = PEER) -> ArpState | None:
    entry = cache.entries.get(int(ip))
    return entry.state if entry is not None else None


# --- INCOMPLETE: a cold cache resolves ----------------------------------------------------------------


class TestColdCache:
    def test_resolve_queues_the_packet_and_asks_for_one_broadcast_request(self) -> None:
        cache = ArpCache()
        mac, action = cache.resolve(PEER, b"packet 1", 0)
        assert mac is None
        assert action == ArpAction("request", PEER)
        assert action.unicast_to is None  # broadcast: nobody's MAC is known yet
        assert state(cache) is ArpState.INCOMPLETE
        assert cache.entries[int(PEER)].waiting == [b"packet 1"]
        assert cache.lookup(PEER) is None

    def test_more_packets_while_incomplete_wait_without_another_request(self) -> None:
        # RFC 1122 §2.3.2.1: no more than one request a second per destination, however much traffic.
        cache = ArpCache()
        cache.resolve(PEER, b"packet 1", 0)
        assert cache.resolve(PEER, b"packet 2", 1) == (None, None)
        assert cache.resolve(PEER, b"packet 3", 999 * MILLISECOND) == (None, None)
        assert cache.entries[int(PEER)].waiting == [b"packet 1", b"packet 2", b"packet 3"]

    def test_each_destination_has_its_own_request(self) -> None:
        cache = ArpCache()
        assert cache.resolve(PEER, b"a", 0)[1] == ArpAction("request", PEER)
        assert cache.resolve(OTHER, b"b", 0)[1] == ArpAction("request", OTHER)


class TestRetries:
    def test_nothing_is_due_before_one_second(self) -> None:
        cache = ArpCache()
        cache.resolve(PEER, b"p", 0)
        assert cache.poll_at() == 1 * SECOND
        assert cache.poll(1 * SECOND - 1) == []
        assert state(cache) is ArpState.INCOMPLETE

    def test_retries_at_exactly_one_and_two_seconds(self) -> None:
        cache = ArpCache()
        cache.resolve(PEER, b"p", 0)
        assert cache.poll(1 * SECOND) == [ArpAction("request", PEER)]
        assert cache.poll_at() == 2 * SECOND
        assert cache.poll(2 * SECOND - 1) == []
        assert cache.poll(2 * SECOND) == [ArpAction("request", PEER)]
        assert cache.poll_at() == 3 * SECOND

    def test_gives_up_after_three_tries_at_three_seconds_returning_the_waiting_packets(self) -> None:
        cache = ArpCache()
        cache.resolve(PEER, b"first", 0)
        cache.resolve(PEER, b"second", 500 * MILLISECOND)
        requests = [action for when in (1, 2) for action in cache.poll(when * SECOND)]
        assert len(requests) == 2  # with the first: three requests in all (Linux mcast_solicit)
        assert cache.poll(3 * SECOND - 1) == []
        assert cache.poll(3 * SECOND) == [ArpAction("unreachable", PEER, packets=(b"first", b"second"))]
        assert PEER not in cache
        assert cache.poll_at() is None

    def test_a_packet_after_giving_up_starts_a_fresh_resolution(self) -> None:
        cache = ArpCache()
        cache.resolve(PEER, b"p", 0)
        for when in (1, 2, 3):
            cache.poll(when * SECOND)
        mac, action = cache.resolve(PEER, b"again", 4 * SECOND)
        assert (mac, action) == (None, ArpAction("request", PEER))
        assert cache.poll_at() == 5 * SECOND

    def test_polling_late_sends_one_request_not_a_burst(self) -> None:
        # A runtime that polls 10 s late gets one overdue retry; the next is a second after *that*.
        cache = ArpCache()
        cache.resolve(PEER, b"p", 0)
        assert cache.poll(10 * SECOND) == [ArpAction("request", PEER)]
        assert cache.poll_at() == 11 * SECOND

    def test_settings_change_the_schedule(self) -> None:
        cache = ArpCache(retry_interval=250 * MILLISECOND, max_tries=2)
        cache.resolve(PEER, b"p", 0)
        assert cache.poll(250 * MILLISECOND) == [ArpAction("request", PEER)]
        assert cache.poll(500 * MILLISECOND) == [ArpAction("unreachable", PEER, packets=(b"p",))]


class TestWaitingQueue:
    def test_the_queue_is_bounded_dropping_the_oldest(self) -> None:
        cache = ArpCache(queue_limit=3)
        for number in range(5):
            cache.resolve(PEER, f"packet {number}".encode(), number)
        assert cache.entries[int(PEER)].waiting == [b"packet 2", b"packet 3", b"packet 4"]
        assert cache.queue_drops == 2

    def test_a_reply_releases_the_waiting_packets_in_order(self) -> None:
        cache = ArpCache()
        cache.resolve(PEER, b"one", 0)
        cache.resolve(PEER, b"two", 1)
        merged, released = cache.update(PEER, PEER_MAC, 300 * MILLISECOND, create=False)
        assert merged is True
        assert released == [b"one", b"two"]
        assert state(cache) is ArpState.REACHABLE
        assert cache.lookup(PEER) == PEER_MAC
        assert cache.entries[int(PEER)].waiting == []
        # Resolved: no more retries, and the next packet goes straight out.
        assert cache.poll(1 * SECOND) == []
        assert cache.resolve(PEER, b"three", 1 * SECOND) == (PEER_MAC, None)


# --- learning: RFC 826's merge flag ----------------------------------------------------------------------


class TestMerge:
    def test_without_create_an_unknown_sender_is_not_added(self) -> None:
        cache = ArpCache()
        assert cache.update(PEER, PEER_MAC, 0, create=False) == (False, [])
        assert PEER not in cache
        assert cache.history == []

    def test_without_create_a_known_sender_is_updated(self) -> None:
        cache = learned()
        merged, released = cache.update(PEER, NEW_MAC, 5 * SECOND, create=False)
        assert (merged, released) == (True, [])
        assert cache.lookup(PEER) == NEW_MAC
        assert cache.entries[int(PEER)].updated == 5 * SECOND

    def test_with_create_an_unknown_sender_is_added_reachable(self) -> None:
        cache = ArpCache()
        merged, released = cache.update(PEER, PEER_MAC, 0, create=True)
        assert (merged, released) == (False, [])  # added, not merged: there was nothing to merge into
        assert state(cache) is ArpState.REACHABLE
        assert cache.lookup(PEER) == PEER_MAC

    def test_an_update_restarts_the_reachable_time(self) -> None:
        cache = learned(reachable_time=30 * SECOND)
        cache.update(PEER, PEER_MAC, 20 * SECOND, create=False)
        assert cache.poll(30 * SECOND) == []
        assert state(cache) is ArpState.REACHABLE
        assert cache.poll_at() == 50 * SECOND

    def test_lookup_knows_only_resolved_entries(self) -> None:
        cache = ArpCache()
        cache.resolve(PEER, b"p", 0)
        assert PEER in cache  # an INCOMPLETE entry exists ...
        assert cache.lookup(PEER) is None  # ... but has no MAC to give
        assert cache.knows_packed(PEER.packed)
        assert not cache.knows_packed(OTHER.packed)
        assert "192.168.1.11" not in cache  # only IPv4Address values are members


# --- REACHABLE → STALE → gone --------------------------------------------------------------------------


class TestAgeing:
    def test_reachable_becomes_stale_after_reachable_time(self) -> None:
        cache = learned(reachable_time=30 * SECOND, stale_time=60 * SECOND)
        assert cache.poll_at() == 30 * SECOND
        cache.poll(30 * SECOND - 1)
        assert state(cache) is ArpState.REACHABLE
        cache.poll(30 * SECOND)
        assert state(cache) is ArpState.STALE
        assert cache.lookup(PEER) == PEER_MAC  # still usable (Linux does too)

    def test_stale_is_deleted_after_stale_time(self) -> None:
        cache = learned(reachable_time=30 * SECOND, stale_time=60 * SECOND)
        cache.poll(30 * SECOND)
        assert cache.poll_at() == 90 * SECOND
        cache.poll(90 * SECOND - 1)
        assert state(cache) is ArpState.STALE
        cache.poll(90 * SECOND)
        assert PEER not in cache
        assert cache.poll_at() is None

    def test_using_a_stale_entry_sends_one_unicast_refresh(self) -> None:
        cache = learned()
        cache.poll(30 * SECOND)
        mac, action = cache.resolve(PEER, b"p", 31 * SECOND)
        assert mac == PEER_MAC  # the packet goes now, to the MAC we have
        assert action == ArpAction("request", PEER, unicast_to=PEER_MAC)
        # Just one per stale period, however many packets use it.
        assert cache.resolve(PEER, b"q", 32 * SECOND) == (PEER_MAC, None)

    def test_a_reply_to_the_refresh_makes_it_reachable_again(self) -> None:
        cache = learned(reachable_time=30 * SECOND)
        cache.poll(30 * SECOND)
        cache.resolve(PEER, b"p", 31 * SECOND)
        cache.update(PEER, PEER_MAC, 31 * SECOND + 1, create=False)
        assert state(cache) is ArpState.REACHABLE
        assert cache.poll_at() == 61 * SECOND + 1
        # The next stale period gets its own refresh.
        cache.poll(61 * SECOND + 1)
        assert cache.resolve(PEER, b"r", 62 * SECOND)[1] == ArpAction("request", PEER, unicast_to=PEER_MAC)

    def test_a_reachable_entry_sends_no_request(self) -> None:
        cache = learned()
        assert cache.resolve(PEER, b"p", 1 * SECOND) == (PEER_MAC, None)


# --- PERMANENT: static entries ------------------------------------------------------------------------


class TestStatic:
    def test_a_static_entry_never_ages(self) -> None:
        cache = ArpCache()
        cache.add_static(PEER, PEER_MAC, 0)
        assert cache.poll_at() is None
        assert cache.poll(10**6 * SECOND) == []
        assert state(cache) is ArpState.PERMANENT
        assert cache.resolve(PEER, b"p", 10**6 * SECOND) == (PEER_MAC, None)

    @pytest.mark.parametrize("create", [False, True])
    def test_the_network_does_not_overwrite_a_static_entry(self, create: bool) -> None:
        cache = ArpCache()
        cache.add_static(PEER, PEER_MAC, 0)
        assert cache.update(PEER, NEW_MAC, 1, create=create) == (True, [])
        assert cache.lookup(PEER) == PEER_MAC
        assert state(cache) is ArpState.PERMANENT

    def test_a_static_entry_replaces_a_learned_one_and_stops_its_timer(self) -> None:
        cache = learned()
        cache.add_static(PEER, NEW_MAC, 1)
        assert cache.lookup(PEER) == NEW_MAC
        assert cache.poll_at() is None
        assert cache.poll(100 * SECOND) == []
        assert state(cache) is ArpState.PERMANENT


    def test_a_static_entry_for_an_address_being_resolved_releases_its_queue(self) -> None:
        # Packets queued while resolving go out once the address is known, however it becomes known
        # (Linux's neigh_update sends an entry's arp_queue when it turns valid): a static add too.
        cache = ArpCache()
        cache.resolve(PEER, b"one", 0)
        cache.resolve(PEER, b"two", 1)
        assert cache.add_static(PEER, PEER_MAC, 2) == [b"one", b"two"]
        entry = cache.entries[int(PEER)]
        assert (entry.state, entry.mac, entry.waiting) == (ArpState.PERMANENT, PEER_MAC, [])
        assert cache.poll_at() is None  # no retry of the request is left
        assert cache.poll(10 * SECOND) == []
        assert cache.resolve(PEER, b"three", 10 * SECOND) == (PEER_MAC, None)

    def test_a_static_entry_over_a_known_one_releases_nothing(self) -> None:
        assert learned().add_static(PEER, NEW_MAC, 1) == []
        assert ArpCache().add_static(PEER, PEER_MAC, 0) == []


class TestDelete:
    def test_deleting_an_entry_being_resolved_returns_its_queue(self) -> None:
        # The packets are dropped (Linux purges the queue), but handed back so that they are counted.
        cache = ArpCache()
        cache.resolve(PEER, b"one", 0)
        cache.resolve(PEER, b"two", 1)
        assert cache.delete(PEER, 2) == [b"one", b"two"]
        assert PEER not in cache
        assert cache.poll_at() is None
        assert cache.poll(10 * SECOND) == []  # no retry, no "unreachable" for packets already given back

    def test_deleting_an_absent_or_resolved_entry_returns_nothing(self) -> None:
        assert ArpCache().delete(PEER, 0) == []
        assert learned().delete(PEER, 1) == []


# --- history and timers ----------------------------------------------------------------------------------


class TestHistory:
    def test_a_full_lifecycle_is_recorded_change_by_change(self) -> None:
        cache = ArpCache(reachable_time=30 * SECOND, stale_time=60 * SECOND)
        cache.resolve(PEER, b"p", 0)
        cache.poll(1 * SECOND)  # a retry is not a change of state
        cache.update(PEER, PEER_MAC, 1500 * MILLISECOND, create=False)
        cache.poll(31500 * MILLISECOND)
        cache.poll(91500 * MILLISECOND)
        assert cache.history == [
            ArpChange(0, PEER, None, ArpState.INCOMPLETE, None),
            ArpChange(1500 * MILLISECOND, PEER, ArpState.INCOMPLETE, ArpState.REACHABLE, PEER_MAC),
            ArpChange(31500 * MILLISECOND, PEER, ArpState.REACHABLE, ArpState.STALE, PEER_MAC),
            ArpChange(91500 * MILLISECOND, PEER, ArpState.STALE, None, PEER_MAC),
        ]

    def test_a_failure_is_recorded(self) -> None:
        cache = ArpCache()
        cache.resolve(PEER, b"p", 0)
        for when in (1, 2, 3):
            cache.poll(when * SECOND)
        assert [(change.time, change.old, change.new) for change in cache.history] == [
            (0, None, ArpState.INCOMPLETE),
            (3 * SECOND, ArpState.INCOMPLETE, ArpState.FAILED),
        ]

    def test_a_confirmation_is_recorded_even_without_a_state_change(self) -> None:
        cache = learned()
        cache.update(PEER, NEW_MAC, 2 * SECOND, create=False)
        assert cache.history[-1] == ArpChange(2 * SECOND, PEER, ArpState.REACHABLE, ArpState.REACHABLE, NEW_MAC)

    def test_static_and_delete_are_recorded(self) -> None:
        cache = ArpCache()
        cache.add_static(PEER, PEER_MAC, 0)
        cache.delete(PEER, 5)
        assert cache.history == [
            ArpChange(0, PEER, None, ArpState.PERMANENT, PEER_MAC),
            ArpChange(5, PEER, ArpState.PERMANENT, None, PEER_MAC),
        ]
        assert PEER not in cache

    def test_history_is_bounded(self) -> None:
        cache = ArpCache(history=10)
        for number in range(25):
            cache.update(PEER, PEER_MAC, number, create=True)
        assert len(cache.history) <= 10
        assert cache.history[-1].time == 24  # the newest is always kept


class TestPollAt:
    def test_an_empty_cache_has_nothing_to_do(self) -> None:
        assert ArpCache().poll_at() is None

    def test_the_earliest_deadline_of_all_entries(self) -> None:
        cache = learned(PEER, now=0, reachable_time=30 * SECOND)  # goes stale at 30 s
        cache.resolve(OTHER, b"p", 5 * SECOND)  # retries at 6 s
        assert cache.poll_at() == 6 * SECOND

    def test_a_superseded_deadline_is_not_reported(self) -> None:
        cache = ArpCache(reachable_time=30 * SECOND)
        cache.resolve(PEER, b"p", 0)  # would retry at 1 s ...
        cache.update(PEER, PEER_MAC, 500 * MILLISECOND, create=False)  # ... but is resolved first
        assert cache.poll_at() == 30500 * MILLISECOND

    def test_a_deleted_entry_leaves_no_deadline(self) -> None:
        cache = learned()
        cache.delete(PEER, 1)
        assert cache.poll_at() is None
        assert cache.poll(100 * SECOND) == []

    def test_polling_exactly_at_poll_at_makes_progress(self) -> None:
        # A runtime that only ever polls at poll_at() still walks the whole lifecycle.
        cache = ArpCache()
        cache.resolve(PEER, b"p", 0)
        cache.resolve(OTHER, b"q", 250 * MILLISECOND)
        actions: list[tuple[int, ArpAction]] = []
        while (when := cache.poll_at()) is not None:
            actions.extend((when, action) for action in cache.poll(when))
        assert [(when, action.kind, action.ip) for when, action in actions] == [
            (1 * SECOND, "request", PEER),
            (1250 * MILLISECOND, "request", OTHER),
            (2 * SECOND, "request", PEER),
            (2250 * MILLISECOND, "request", OTHER),
            (3 * SECOND, "unreachable", PEER),
            (3250 * MILLISECOND, "unreachable", OTHER),
        ]

    def test_iteration_is_in_address_order(self) -> None:
        cache = ArpCache()
        cache.update(OTHER, OTHER_MAC, 0, create=True)
        cache.update(PEER, PEER_MAC, 0, create=True)
        assert [entry.ip for entry in cache] == [PEER, OTHER]
