"""A discrete-event engine on virtual time.

Time is an integer count of nanoseconds and moves only when the engine takes the next event from its
queue; nothing here reads a wall clock. Events scheduled for the same instant run in the order they
were scheduled (a sequence number breaks ties), so a run is a pure function of the topology and the
seed: the same seed gives the same bytes.

Randomness: every component that needs it asks for its own stream with :meth:`Simulator.random`,
named after itself (``"link sw1:2->a:0"``). The stream's seed is derived from the simulator's seed
and that name with a stable hash, so adding a component does not perturb the others' draws.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

NANOSECOND: Final = 1
MICROSECOND: Final = 1_000
MILLISECOND: Final = 1_000_000
SECOND: Final = 1_000_000_000

# An entry in the queue: (time, sequence, callback, argument). A tuple — one allocation, and the
# cheapest thing for the heap to compare, which matters once a run holds thousands of events.
# (time, sequence) is unique, so comparison never reaches the callback. A cancellable event's callback
# slot holds its Timer, which the loop unwraps, and skips once cancelled ("lazy deletion").
_TIME = 0
_CALLBACK = 2

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
        self._queue: list[tuple[int, int, Any, Any]] = []
        self._sequence = 0

    # -- scheduling -------------------------------------------------------------------------------
    def call_at(self, when: int, callback: Callable[[Any], object], argument: Any = None) -> Timer:
        """Run ``callback(argument)`` at virtual time ``when`` (never in the past)."""
        if when < self.now:
            raise ValueError(f"cannot schedule in the past ({when} < now {self.now})")
        self._sequence += 1
        timer = Timer(when, callback)
        _push(self._queue, (when, self._sequence, timer, argument))
        return timer

    def call_later(self, delay: int, callback: Callable[[Any], object], argument: Any = None) -> Timer:
        """Run ``callback(argument)`` after ``delay`` nanoseconds."""
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        self._sequence += 1
        timer = Timer(self.now + delay, callback)
        _push(self._queue, (timer.when, self._sequence, timer, argument))
        return timer

    def post(self, when: int, callback: Callable[[Any], object], argument: Any = None) -> None:
        """Like :meth:`call_at` without a handle: the hot path (links) never cancels."""
        self._sequence = sequence = self._sequence + 1
        _push(self._queue, (when, sequence, callback, argument))

    # -- running ----------------------------------------------------------------------------------
    def run(self, until: int | None = None, *, max_events: int | None = None) -> RunResult:
        """Run events in time order until none is left, virtual time ``until``, or ``max_events``.

        With ``until``, the clock ends exactly at ``until`` even if the last event came earlier, so
        that consecutive ``run`` calls tile time. With ``max_events`` (a packet budget for runaway
        scenarios such as a broadcast storm), the run stops after that many events.
        """
        queue = self._queue
        ran = 0
        try:
            if until is None and max_events is None:
                # The usual case, kept tight: run to the end, nothing to peek at or count down.
                while queue:
                    entry = _pop(queue)
                    callback = entry[2]
                    if callback.__class__ is Timer:
                        callback = callback.callback
                        if callback is None:
                            continue  # cancelled
                    self.now = entry[0]
                    ran += 1
                    callback(entry[3])
            else:
                budget = max_events if max_events is not None else -1
                while queue:
                    entry = queue[0]
                    if until is not None and entry[0] > until:
                        break
                    _pop(queue)
                    callback = entry[2]
                    if callback.__class__ is Timer:
                        callback = callback.callback
                        if callback is None:
                            continue  # cancelled
                    if ran == budget:
                        _push(queue, entry)
                        return RunResult("budget", ran, self.now)
                    self.now = entry[0]
                    ran += 1
                    callback(entry[3])
        finally:
            self.events_run += ran
        if until is not None:
            self.now = max(self.now, until)
            return RunResult("until" if queue else "idle", ran, self.now)
        return RunResult("idle", ran, self.now)

    def pending(self) -> int:
        """Events still queued (cancelled ones included until they surface)."""
        return len(self._queue)

    def next_event_time(self) -> int | None:
        queue = self._queue
        while queue:
            callback = queue[0][_CALLBACK]
            if not (isinstance(callback, Timer) and callback.callback is None):
                return int(queue[0][_TIME])
            _pop(queue)  # cancelled
        return None

    # -- randomness -------------------------------------------------------------------------------
    def random(self, owner: str) -> random.Random:
        """A random stream owned by ``owner``, seeded from (simulator seed, owner name) stably."""
        digest = hashlib.blake2b(f"{self.seed}\x00{owner}".encode(), digest_size=8).digest()
        return random.Random(int.from_bytes(digest, "big"))
