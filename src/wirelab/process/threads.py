"""The ``_thread`` module a simulated process sees: threads are processes of the same host.

The process runs the **stdlib's own** ``threading.py`` over this ``_thread`` (see
:mod:`wirelab.process`), so ``Thread``, ``Condition``, ``Event``, ``Semaphore``, ``Timer``, ``join``
and the interpreter's wait for non-daemon threads at exit are CPython's code; only the primitives are
simulated: a lock whose blocking ``acquire`` (with its timeout) waits on virtual time, and
``start_new_thread`` which starts a new process sharing the caller's descriptors, modules and streams.
"""

from __future__ import annotations

import _thread as _real_thread
import math
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wirelab.sockets.channel import Channel

if TYPE_CHECKING:
    from wirelab.process.scheduler import ProcessImage, Scheduler

NANOSECONDS = 1_000_000_000


class SimLock:
    """``_thread.LockType``: not owned, not reentrant, FIFO wake-ups (deterministic)."""

    __slots__ = ("__weakref__", "_locked", "_scheduler", "channel")

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._locked = False
        self.channel = Channel()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        if timeout < 0 and timeout != -1:
            raise ValueError("timeout value must be a non-negative number")
        if not self._locked:
            self._locked = True
            return True
        if not blocking:
            self._scheduler.idle()
            return False
        sim = self._scheduler.sim
        deadline = None if timeout == -1 else sim.now + math.ceil(timeout * NANOSECONDS)
        while self._locked:
            if not self._scheduler.wait((self.channel,), deadline):
                return False
        self._locked = True
        return True

    acquire_lock = acquire

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("release unlocked lock")
        self._locked = False
        self.channel.notify()

    release_lock = release

    def locked(self) -> bool:
        return self._locked

    locked_lock = locked

    def _at_fork_reinit(self) -> None:
        self._locked = False

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<{'locked' if self._locked else 'unlocked'} _thread.lock object at {id(self):#x}>"


SimLock.__module__ = "_thread"
SimLock.__qualname__ = SimLock.__name__ = "lock"


def make_thread_module(image: ProcessImage) -> types.ModuleType:
    module = types.ModuleType("_thread", _real_thread.__doc__)
    scheduler = image.scheduler

    def allocate_lock() -> SimLock:
        return SimLock(scheduler)

    def get_ident() -> int:
        current = scheduler.current
        if current is not None and current.image is image:
            return current.pid
        return image.main.pid

    def start_new_thread(
        function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any] | None = None
    ) -> int:
        if not isinstance(args, tuple):
            raise TypeError("2nd arg must be a tuple")
        thread = image.start_thread(function, args, kwargs or {})
        return thread.pid

    def _set_sentinel() -> SimLock:
        lock = SimLock(scheduler)
        current = scheduler.current
        owner = current if current is not None and current.image is image else image.main
        owner.sentinels.append(lock)
        return lock

    def _count() -> int:
        return sum(1 for thread in image.threads if not thread.exited)

    def stack_size(size: int = 0) -> int:
        return 0

    def daemon_threads_allowed() -> bool:
        return True

    def _is_main_interpreter() -> bool:
        return True

    def exit() -> None:
        raise SystemExit

    def interrupt_main(signum: int = 2) -> None:
        pass

    functions: dict[str, Callable[..., Any]] = {
        "allocate_lock": allocate_lock,
        "allocate": allocate_lock,
        "get_ident": get_ident,
        "get_native_id": get_ident,
        "start_new_thread": start_new_thread,
        "start_new": start_new_thread,
        "_set_sentinel": _set_sentinel,
        "_count": _count,
        "stack_size": stack_size,
        "daemon_threads_allowed": daemon_threads_allowed,
        "_is_main_interpreter": _is_main_interpreter,
        "exit": exit,
        "exit_thread": exit,
        "interrupt_main": interrupt_main,
    }
    for name, function in functions.items():
        function.__module__ = "_thread"
        setattr(module, name, function)
    module.LockType = SimLock  # type: ignore[attr-defined]
    module.error = RuntimeError  # type: ignore[attr-defined]
    module.TIMEOUT_MAX = _real_thread.TIMEOUT_MAX  # type: ignore[attr-defined]
    return module
