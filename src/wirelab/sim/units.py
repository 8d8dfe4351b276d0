"""Quantities as people write them: ``"10us"``, ``"1Gbit"``, ``"5s"``, ``"1500B"``, ``"1%"``.

Each parser raises :class:`UnitError` (a ValueError) naming what was wrong; topology loading turns it
into an error that names the offending field.
"""

from __future__ import annotations

import math
import re
from typing import Final

_NUMBER = r"(?P<number>\d+(?:\.\d+)?|\.\d+)(?:e(?P<exponent>[+-]?\d+))?"
_QUANTITY = re.compile(rf"^\s*{_NUMBER}\s*(?P<unit>[A-Za-zµ%/]*)\s*$")

TIME_UNITS: Final = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "min": 60_000_000_000,
    "h": 3_600_000_000_000,
}
RATE_UNITS: Final = {
    "bit": 1,
    "bps": 1,
    "kbit": 1_000,
    "kbps": 1_000,
    "mbit": 1_000_000,
    "mbps": 1_000_000,
    "gbit": 1_000_000_000,
    "gbps": 1_000_000_000,
    "tbit": 1_000_000_000_000,
}
SIZE_UNITS: Final = {"b": 1, "kb": 1_000, "kib": 1_024, "mb": 1_000_000, "mib": 1_048_576}


class UnitError(ValueError):
    """A quantity that does not parse."""


def _split(text: str | int | float, what: str) -> tuple[float, str]:
    if isinstance(text, bool):
        raise UnitError(f"{what}: expected a quantity, got {text!r}")
    try:
        if isinstance(text, int | float):
            number, unit = float(text), ""
        else:
            match = _QUANTITY.match(text)
            if match is None:
                raise UnitError(f"{what}: {text!r} is not a number with a unit")
            number, unit = float(match["number"]) * 10 ** int(match["exponent"] or 0), match["unit"]
    except OverflowError:
        raise UnitError(f"{what}: {text!r} is out of range") from None
    if not math.isfinite(number):
        raise UnitError(f"{what}: {text!r} is not a finite number")
    return number, unit


def _whole(value: float, what: str, text: str | int | float) -> int:
    """``value`` rounded to an integer; a UnitError (not an OverflowError) if it is out of range."""
    if not math.isfinite(value):
        raise UnitError(f"{what}: {text!r} is out of range")
    return round(value)


def parse_time(text: str | int | float, what: str = "time") -> int:
    """Nanoseconds. A bare number is seconds (as ``sleep`` takes), ``"10us"`` is 10,000."""
    number, unit = _split(text, what)
    if not unit:
        return _whole(number * 1_000_000_000, what, text)
    scale = TIME_UNITS.get(unit)
    if scale is None:
        raise UnitError(f"{what}: unknown time unit {unit!r} in {text!r} (use ns, us, ms, s, min, h)")
    return _whole(number * scale, what, text)


def parse_rate(text: str | int | float, what: str = "bandwidth") -> int:
    """Bits per second. ``"1Gbit"``, ``"100Mbps"``; a bare number is bits per second."""
    number, unit = _split(text, what)
    if not unit:
        rate = _whole(number, what, text)
    else:
        scale = RATE_UNITS.get(unit.lower().removesuffix("/s"))
        if scale is None:
            raise UnitError(f"{what}: unknown rate unit {unit!r} in {text!r} (use bit, kbit, Mbit, Gbit)")
        rate = _whole(number * scale, what, text)
    if rate <= 0:
        raise UnitError(f"{what}: a rate must be positive, got {text!r}")
    return rate


def parse_size(text: str | int | float, what: str = "size") -> int:
    """Octets. ``"1500B"``, ``"64KiB"``; a bare number is octets."""
    number, unit = _split(text, what)
    if not unit:
        return _whole(number, what, text)
    scale = SIZE_UNITS.get(unit.lower())
    if scale is None:
        raise UnitError(f"{what}: unknown size unit {unit!r} in {text!r} (use B, KB, KiB, MB, MiB)")
    return _whole(number * scale, what, text)


def parse_probability(text: str | int | float, what: str = "probability") -> float:
    """A probability: ``0.01`` or ``"1%"``."""
    number, unit = _split(text, what)
    if unit == "%":
        number /= 100
    elif unit:
        raise UnitError(f"{what}: {text!r} is not a probability (use 0.01 or 1%)")
    if not 0.0 <= number <= 1.0:
        raise UnitError(f"{what}: {text!r} is not between 0 and 1")
    return number


def format_time(nanoseconds: int) -> str:
    """``12.345678s`` style, as traces print virtual time."""
    seconds, rest = divmod(nanoseconds, 1_000_000_000)
    return f"{seconds}.{rest:09d}s"
