"""Sequence-number arithmetic (RFC 9293 §3.4; RFC 1982 serial-number comparison).

The expected values are worked out by hand: the codec under test is the only arithmetic involved.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wirelab.wire.seqnum import MODULUS, SeqNum, seq_between

u32 = st.integers(0, MODULUS - 1)
forward = st.integers(1, (1 << 31) - 1)  # a distance TCP's window rules allow ("less than 2**31 apart")


# --- construction and wrapping ----------------------------------------------------------------------


def test_construction_reduces_modulo_2_to_the_32() -> None:
    assert SeqNum(0) == 0
    assert SeqNum(MODULUS) == 0
    assert SeqNum(MODULUS + 7) == 7
    assert SeqNum(-1) == 0xFFFFFFFF
    assert SeqNum(-MODULUS - 2) == 0xFFFFFFFE


def test_addition_wraps_and_stays_a_seqnum() -> None:
    total = SeqNum(0xFFFFFFFF) + 1
    assert total == 0
    assert type(total) is SeqNum
    assert SeqNum(0xFFFFFFF0) + 0x20 == 0x10
    assert SeqNum(5) + MODULUS == 5


def test_reflected_addition_wraps_and_stays_a_seqnum() -> None:
    total = 0x20 + SeqNum(0xFFFFFFF0)
    assert total == 0x10
    assert type(total) is SeqNum


def test_subtracting_an_int_wraps_and_stays_a_seqnum() -> None:
    result = SeqNum(3) - 5
    assert result == 0xFFFFFFFE
    assert type(result) is SeqNum
    assert SeqNum(0) - 1 == 0xFFFFFFFF


def test_subtracting_a_seqnum_is_the_signed_distance() -> None:
    distance = SeqNum(5) - SeqNum(0xFFFFFFF0)
    assert distance == 21
    assert type(distance) is int
    assert SeqNum(0xFFFFFFF0) - SeqNum(5) == -21
    assert SeqNum(100) - SeqNum(100) == 0
    assert SeqNum(1000) - SeqNum(400) == 600
    assert SeqNum(400) - SeqNum(1000) == -600


def test_repr_and_str() -> None:
    assert repr(SeqNum(-1)) == "SeqNum(4294967295)"
    assert str(SeqNum(MODULUS + 42)) == "42"


# --- comparisons across the wrap ---------------------------------------------------------------------


def test_comparisons_survive_wraparound() -> None:
    before, after = SeqNum(0xFFFFFFF0), SeqNum(5)
    assert before < after
    assert before <= after
    assert after > before
    assert after >= before
    assert not after < before
    assert not before > after
    assert not before >= after
    assert not after <= before


def test_comparisons_with_plain_ints_are_taken_modulo_2_to_the_32() -> None:
    assert SeqNum(0xFFFFFFF0) < 5
    assert SeqNum(5) > 0xFFFFFFF0
    assert SeqNum(5) < MODULUS + 6  # 2**32 + 6 is sequence number 6
    assert SeqNum(5) >= MODULUS + 5
    assert SeqNum(5) <= MODULUS + 5


def test_equal_numbers_are_neither_before_nor_after() -> None:
    a = SeqNum(0x80000000)
    assert a <= SeqNum(0x80000000)
    assert a >= SeqNum(0x80000000)
    assert not a < SeqNum(0x80000000)
    assert not a > SeqNum(0x80000000)


def test_ordinary_ordering_far_from_the_wrap() -> None:
    assert SeqNum(1000) < SeqNum(2000)
    assert SeqNum(0x7FFFFFFE) < SeqNum(0x7FFFFFFF)
    assert SeqNum(0x7FFFFFFF) < SeqNum(0x80000000)  # crossing the midpoint is not special


# --- seq_between ---------------------------------------------------------------------------------------


def test_seq_between_is_half_open() -> None:
    assert seq_between(10, 10, 20)
    assert seq_between(10, 19, 20)
    assert not seq_between(10, 20, 20)
    assert not seq_between(10, 9, 20)


def test_seq_between_across_the_wrap() -> None:
    low, high = SeqNum(0xFFFFFFF0), SeqNum(0x10)
    assert seq_between(low, SeqNum(0xFFFFFFF0), high)
    assert seq_between(low, SeqNum(0xFFFFFFFF), high)
    assert seq_between(low, SeqNum(0), high)
    assert seq_between(low, SeqNum(0xF), high)
    assert not seq_between(low, SeqNum(0x10), high)
    assert not seq_between(low, SeqNum(0xFFFFFFEF), high)
    assert not seq_between(low, SeqNum(0x80000000), high)


def test_seq_between_an_empty_window_holds_nothing() -> None:
    assert not seq_between(7, 7, 7)
    assert not seq_between(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)


def test_seq_between_accepts_plain_ints_out_of_range() -> None:
    assert seq_between(MODULUS - 1, MODULUS + 2, 5)  # 0xFFFFFFFF <= 2 < 5


# --- properties ------------------------------------------------------------------------------------------


@given(u32, forward)
def test_adding_a_forward_distance_moves_after(a: int, n: int) -> None:
    start = SeqNum(a)
    later = start + n
    assert later > start
    assert later >= start
    assert start < later
    assert start <= later
    assert not later < start
    assert later != start


@given(u32, forward)
def test_subtracting_a_forward_distance_moves_before(a: int, n: int) -> None:
    start = SeqNum(a)
    assert start - n < start
    assert start > start - n


@given(u32, st.integers(-(1 << 31) + 1, (1 << 31) - 1))
def test_distance_recovers_what_was_added(a: int, n: int) -> None:
    start = SeqNum(a)
    assert (start + n) - start == n
    assert start - (start + n) == -n


@given(u32, st.integers(-(1 << 40), 1 << 40))
def test_addition_is_modular(a: int, n: int) -> None:
    result = SeqNum(a) + n
    assert int(result) == (a + n) % MODULUS
    assert type(result) is SeqNum
    assert int(SeqNum(a) - n) == (a - n) % MODULUS


@given(u32, u32)
def test_exactly_one_order_holds_unless_half_the_space_apart(a: int, b: int) -> None:
    x, y = SeqNum(a), SeqNum(b)
    if (a - b) % MODULUS == 1 << 31:
        return  # RFC 1982 §3.2: the comparison is undefined exactly half the space apart
    assert [x < y, x == y, x > y].count(True) == 1
    assert (x <= y) == (x < y or x == y)
    assert (x >= y) == (x > y or x == y)


@given(u32, st.integers(0, (1 << 31) - 1), forward)
def test_seq_between_matches_distances(low: int, offset: int, width: int) -> None:
    value = SeqNum(low) + offset
    assert seq_between(low, value, SeqNum(low) + width) == (offset < width)


@given(u32, u32, u32)
def test_seq_between_is_invariant_under_rotation(low: int, width: int, shift: int) -> None:
    # Moving the whole picture around the circle changes nothing.
    value = (low + width // 2) % MODULUS
    high = (low + width) % MODULUS
    rotated = seq_between((low + shift) % MODULUS, (value + shift) % MODULUS, (high + shift) % MODULUS)
    assert seq_between(low, value, high) == rotated
