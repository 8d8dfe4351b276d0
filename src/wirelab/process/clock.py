"""The ``time`` module a simulated process sees: the simulator's virtual clock.

``time.time()`` is ``epoch + now``; ``monotonic``/``perf_counter`` count from the start of the run;
``sleep`` blocks the calling process and lets virtual time pass. Hosts live in UTC, so ``localtime``
and ``strftime`` are the same on every machine that runs the lab. Everything else (``struct_time``,
``strptime``…) is the real module's.
"""

from __future__ import annotations

import calendar
import math
import time as _real_time
import types
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from wirelab.process.scheduler import Scheduler

NANOSECONDS: Final = 1_000_000_000
UPTIME_AT_START: Final = 1000 * NANOSECONDS  # a monotonic clock that is not zero at boot, like Linux's


def make_time_module(scheduler: Scheduler) -> types.ModuleType:
    module = types.ModuleType("time", _real_time.__doc__)
    for name in dir(_real_time):
        if not name.startswith("__"):
            setattr(module, name, getattr(_real_time, name))
    sim = scheduler.sim

    def time_ns() -> int:
        scheduler.idle()
        return scheduler.epoch + sim.now

    def time() -> float:
        return time_ns() / NANOSECONDS

    def monotonic_ns() -> int:
        scheduler.idle()
        return UPTIME_AT_START + sim.now

    def monotonic() -> float:
        return monotonic_ns() / NANOSECONDS

    def sleep(seconds: float) -> None:
        seconds = float(seconds)
        if seconds < 0 or math.isnan(seconds):
            raise ValueError("sleep length must be non-negative")
        scheduler.sleep(math.ceil(seconds * NANOSECONDS))

    def _now(secs: float | None) -> float:
        return time() if secs is None else secs

    def gmtime(secs: float | None = None) -> _real_time.struct_time:
        return _real_time.gmtime(_now(secs))

    def ctime(secs: float | None = None) -> str:
        return _real_time.asctime(gmtime(secs))

    def asctime(t: Any = None) -> str:
        return _real_time.asctime(gmtime() if t is None else t)

    def strftime(format: str, t: Any = None) -> str:
        return _real_time.strftime(format, gmtime() if t is None else t)

    def mktime(t: Any) -> float:
        return float(calendar.timegm(t))

    def clock_gettime_ns(clock: int) -> int:
        return time_ns() if clock == _real_time.CLOCK_REALTIME else monotonic_ns()

    def clock_gettime(clock: int) -> float:
        return clock_gettime_ns(clock) / NANOSECONDS

    functions = {
        "time": time,
        "time_ns": time_ns,
        "monotonic": monotonic,
        "monotonic_ns": monotonic_ns,
        "perf_counter": monotonic,
        "perf_counter_ns": monotonic_ns,
        "process_time": monotonic,
        "process_time_ns": monotonic_ns,
        "thread_time": monotonic,
        "thread_time_ns": monotonic_ns,
        "sleep": sleep,
        "gmtime": gmtime,
        "localtime": gmtime,
        "ctime": ctime,
        "asctime": asctime,
        "strftime": strftime,
        "mktime": mktime,
        "clock_gettime": clock_gettime,
        "clock_gettime_ns": clock_gettime_ns,
    }
    for name, function in functions.items():
        function.__module__ = "time"
        function.__qualname__ = name
        setattr(module, name, function)
    module.timezone = 0  # type: ignore[attr-defined]
    module.altzone = 0  # type: ignore[attr-defined]
    module.daylight = 0  # type: ignore[attr-defined]
    module.tzname = ("UTC", "UTC")  # type: ignore[attr-defined]
    return module
