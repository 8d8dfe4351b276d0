"""A discrete-event engine on virtual time.

Time is an integer count of nanoseconds and moves only when the engine takes the next event from its
queue; nothing here reads a wall clock. Events scheduled for the same instant run in the order they
were scheduled (each instant keeps its events in a first-in, first-out bucket), so a run is a pure
function of the topology and the seed: the same seed gives the same bytes.

Randomness: every component that needs it asks for its own stream with :meth:`Simulator.random`,
named after itself (``"link sw1:2->a:0"``). The stream's seed is derived from the simulator's seed
and that name with a stable hash, so adding a component does not perturb the others' draws.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

NANOSECOND: Final = 1
MICROSECOND: Final = 1_000
MILLISECOND: Final = 1_000_000
SECOND: Final = 1_000_000_000

# The queue: a heap of the distinct times that have events, and for each such time a "bucket": its
# events in scheduling order, flat ([callback, argument, callback, argument, ...]). Events at one
# instant run in the order they were scheduled, as a sequence number in a heap of events would make
# them, but the heap holds one entry per instant rather than one per event: a switch flooding a
# frame to 47 idle ports of one speed makes 47 arrivals at the same instant, one heap entry.
# A cancellable event's callback slot holds its Timer, which the loop unwraps and skips once
# cancelled ("lazy deletion").

_push = heapq.heappush  # module-level names: the hot path skips the attribute lookups
_pop = heapq.heappop


class Timer:
    """A handle on one scheduled callback; :meth:`cancel` it any time before it fires."""

    __slots__ = ("callback", "when")

    def __init__(self, when: int, callback: Callable[[Any], object]) -> None:
        self.when = when
        self.callback: Callable[[Any], object] | None = callback  # None once cancelled

    @property
    def pending(self) -> bool:
        return self.callback is not None

    def cancel(self) -> None:
        self.callback = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run ended: ``reason`` is ``"idle"`` (nothing left), ``"until"`` or ``"budget"``."""

    reason: str
    events: int
    now: int


class Simulator:
    """The virtual clock and its event queue."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.now = 0
        self.events_run = 0
        self._times: list[int] = []  # a heap: the instants that have a bucket
        self._buckets: dict[int, list[Any]] = {}
        # The bucket being run, as an iterator, and its instant: what an exception, a budget or a
        # nested run() takes back from the loop without per-event bookkeeping.
        self._running: Iterator[Any] | None = None
        self._running_time = 0

    # -- scheduling -------------------------------------------------------------------------------
    def call_at(self, when: int, callback: Callable[[Any], object], argument: Any = None) -> Timer:
        """Run ``callback(argument)`` at virtual time ``when`` (never in the past)."""
        if when < self.now:
            raise ValueError(f"cannot schedule in the past ({when} < now {self.now})")
        timer = Timer(when, callback)
        self._add(when, timer, argument)
        return timer

    def call_later(self, delay: int, callback: Callable[[Any], object], argument: Any = None) -> Timer:
        """Run ``callback(argument)`` after ``delay`` nanoseconds."""
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        timer = Timer(self.now + delay, callback)
        self._add(timer.when, timer, argument)
        return timer

    def post(self, when: int, callback: Callable[[Any], object], argument: Any = None) -> None:
        """Like :meth:`call_at` without a handle: the hot path (links) never cancels."""
        bucket = self._buckets.get(when)
        if bucket is None:
            self._buckets[when] = [callback, argument]
            _push(self._times, when)
        else:
            bucket.append(callback)
            bucket.append(argument)

    def _add(self, when: int, event: Callable[[Any], object] | Timer, argument: Any) -> None:
        self.post(when, event, argument)  # type: ignore[arg-type]  # the loop unwraps a Timer

    def _settle(self) -> None:
        """Queue what is left of the bucket being run, for code that looks at the queue from inside an event.

        The loop's iterator is then exhausted: the loop goes on with the put-back bucket, same order.
        """
        running = self._running
        if running is not None:
            self._put_back(self._running_time, list(running))

    def _put_back(self, when: int, events: list[Any]) -> None:
        """Return unrun events of the instant ``when`` to the front of its bucket."""
        if not events:
            return
        later = self._buckets.get(when)
        if later is None:
            _push(self._times, when)
            self._buckets[when] = events
        else:
            self._buckets[when] = events + later  # scheduled after these, so they run after them

    # -- running ----------------------------------------------------------------------------------
    def run(self, until: int | None = None, *, max_events: int | None = None) -> RunResult:
        """Run events in time order until none is left, virtual time ``until``, or ``max_events``.

        With ``until``, the clock ends exactly at ``until`` even if the last event came earlier, so
        that consecutive ``run`` calls tile time. With ``max_events`` (a packet budget for runaway
        scenarios such as a broadcast storm), the run stops after that many events.
        """
        times = self._times
        buckets = self._buckets
        self._settle()  # run() from inside an event: the rest of that instant comes first
        budget = max_events if max_events is not None else -1
        ran = 0
        try:
            while times:
                when = times[0]
                if until is not None and when > until:
                    break
                _pop(times)
                events = iter(buckets.pop(when))
                self._running = events
                self._running_time = when
                for callback, argument in zip(events, events, strict=True):  # (callback, argument) pairs
                    if callback.__class__ is Timer:
                        unwrapped = callback.callback
                        if unwrapped is None:
                            continue  # cancelled
                    else:
                        unwrapped = callback
                    if ran == budget:
                        self._put_back(when, [callback, argument, *events])
                        return RunResult("budget", ran, self.now)
                    self.now = when
                    ran += 1
                    unwrapped(argument)
        finally:
            self.events_run += ran
            left = self._running
            if left is not None:  # left by an exception: the instant's other events stay queued
                self._put_back(self._running_time, list(left))
            self._running = None
        if until is not None:
            self.now = max(self.now, until)
            return RunResult("until" if times else "idle", ran, self.now)
        return RunResult("idle", ran, self.now)

    def pending(self) -> int:
        """Events still queued (cancelled ones included until they surface)."""
        self._settle()
        return sum(len(bucket) for bucket in self._buckets.values()) // 2

    def next_event_time(self) -> int | None:
        self._settle()
        times = self._times
        buckets = self._buckets
        while times:
            when = times[0]
            bucket = buckets[when]
            while bucket and isinstance(bucket[0], Timer) and bucket[0].callback is None:
                del bucket[:2]  # cancelled
            if bucket:
                return when
            _pop(times)
            del buckets[when]
        return None

    # -- randomness -------------------------------------------------------------------------------
    def random(self, owner: str) -> random.Random:
        """A random stream owned by ``owner``, seeded from (simulator seed, owner name) stably."""
        digest = hashlib.blake2b(f"{self.seed}\x00{owner}".encode(), digest_size=8).digest()
        return random.Random(int.from_bytes(digest, "big"))
