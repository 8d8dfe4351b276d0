"""TCP sequence numbers: arithmetic modulo 2**32 (RFC 9293 §3.4, RFC 1982 serial numbers).

Sequence space wraps: 0xFFFFFFFF + 1 is 0, and 5 is "after" 0xFFFFFFF0. Comparisons therefore look at
the signed 32-bit difference: ``a < b`` iff ``(a - b) mod 2**32`` is in the upper half. This is only
meaningful for numbers less than 2**31 apart, which TCP's window rules guarantee.
"""

from __future__ import annotations

from typing import Final

MODULUS: Final = 1 << 32
_MASK: Final = MODULUS - 1
_HALF: Final = 1 << 31


class SeqNum(int):
    """A 32-bit sequence number whose ordering survives wraparound.

    ``SeqNum + int`` and ``SeqNum - int`` wrap and stay ``SeqNum``; ``SeqNum - SeqNum`` is the signed
    distance (an ``int``), so ``rcv_nxt - seg_seq`` reads like the RFC.
    """

    __slots__ = ()

    def __new__(cls, value: int) -> SeqNum:
        return int.__new__(cls, value & _MASK)

    def __add__(self, other: int) -> SeqNum:
        return SeqNum(int(self) + int(other))

    __radd__ = __add__

    def __sub__(self, other: int) -> int:
        if isinstance(other, SeqNum):
            diff = (int(self) - int(other)) & _MASK
            return diff - MODULUS if diff >= _HALF else diff
        return SeqNum(int(self) - int(other))

    def _signed(self, other: int) -> int:
        diff = (int(self) - (int(other) & _MASK)) & _MASK
        return diff - MODULUS if diff >= _HALF else diff

    def __lt__(self, other: int) -> bool:
        return self._signed(other) < 0

    def __le__(self, other: int) -> bool:
        return self._signed(other) <= 0

    def __gt__(self, other: int) -> bool:
        return self._signed(other) > 0

    def __ge__(self, other: int) -> bool:
        return self._signed(other) >= 0

    def __repr__(self) -> str:
        return f"SeqNum({int(self)})"

    def __str__(self) -> str:
        return str(int(self))


def seq_between(low: SeqNum | int, value: SeqNum | int, high: SeqNum | int) -> bool:
    """``low <= value < high`` in sequence space (the RFC's window tests), with wraparound."""
    return ((int(value) - int(low)) & _MASK) < ((int(high) - int(low)) & _MASK)


def seq_delta(a: int, b: int) -> int:
    """``a - b`` as the signed 32-bit distance in sequence space (the same as ``SeqNum(a) - SeqNum(b)``,
    without making the objects: TCP computes one for every field of every segment)."""
    diff = (a - b) & _MASK
    return diff - MODULUS if diff >= _HALF else diff
