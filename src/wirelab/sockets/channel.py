"""Wait channels: how a blocked system call learns that something changed.

Every kernel object (a socket, a lock) owns one :class:`Channel`. A process that must block adds a
waiter to the channels it depends on (``select`` adds one to each of its sockets) and sleeps; the
stack's callbacks :meth:`~Channel.notify` the channel when anything about the object changes. Waking
is level-triggered: the woken call looks again at the object, so a spurious wake-up costs one check
and can never lose an event.
"""

from __future__ import annotations

from collections.abc import Callable


class Channel:
    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: dict[object, Callable[[], None]] = {}

    def add_waiter(self, token: object, wake: Callable[[], None]) -> None:
        self._waiters[token] = wake

    def remove_waiter(self, token: object) -> None:
        self._waiters.pop(token, None)

    def notify(self) -> None:
        if self._waiters:
            waiters, self._waiters = self._waiters, {}
            for wake in waiters.values():
                wake()

    def __len__(self) -> int:
        return len(self._waiters)
