"""Octets that arrived beyond a hole (RFC 9293 §3.10.7.4, seventh: "segments ... may be held"),
kept as merged blocks, so that SACK blocks (RFC 2018) come straight from them.

Each block is a contiguous range ``[start, end)`` with its octets and the time (a counter) it last
grew: RFC 2018 §4 wants the block holding the most recent arrival reported first, then the others
by how recently they changed, so that with room for only three the oldest news is what is left out.
Blocks are kept in a sorted list; since they never overlap or touch, their ends are sorted too, so an
arrival finds the blocks it meets by bisection (after a burst of losses there are hundreds of holes).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter


@dataclass(slots=True)
class Block:
    start: int
    end: int
    data: bytearray
    touched: int


class OutOfOrderQueue:
    def __init__(self) -> None:
        self.blocks: list[Block] = []  # sorted by start, never overlapping or touching
        # The same blocks by id, in the order they last grew (the most recent last): SACK blocks are read
        # from its end, without sorting hundreds of blocks for every ACK after a burst of losses.
        self._recency: dict[int, Block] = {}
        self._clock = 0
        self.octets = 0

    def __bool__(self) -> bool:
        return bool(self.blocks)

    def add(self, seq: int, data: bytes) -> None:
        """Keep ``data`` at ``seq``, merging with every block it overlaps or touches."""
        self._clock += 1
        end = seq + len(data)
        blocks = self.blocks
        first = bisect.bisect_left(blocks, seq, key=_end)  # the first block ending at or after seq
        last = bisect.bisect_right(blocks, end, key=_start, lo=first)  # past the last one starting by end
        joined = [*blocks[first:last], Block(seq, end, bytearray(data), self._clock)]
        joined.sort(key=lambda block: block.start)
        # The first block's octets are taken over, not copied: the block it was leaves the queue here (a
        # copy made every in-order arrival behind a hole cost the whole block, again and again).
        merged = Block(joined[0].start, joined[0].end, joined[0].data, self._clock)
        for block in joined[1:]:
            if block.end > merged.end:
                merged.data += block.data[merged.end - block.start :]
                merged.end = block.end
        self.octets += (merged.end - merged.start) - sum(block.end - block.start for block in blocks[first:last])
        recency = self._recency
        for block in blocks[first:last]:
            del recency[id(block)]
        recency[id(merged)] = merged
        blocks[first:last] = [merged]

    def pop_ready(self, rcv_nxt: int) -> bytes | None:
        """The octets from ``rcv_nxt`` on of the first block, if it now starts at or before ``rcv_nxt``."""
        blocks = self.blocks
        if not blocks or blocks[0].start > rcv_nxt:
            return None
        block = blocks.pop(0)
        del self._recency[id(block)]
        self.octets -= block.end - block.start
        return bytes(block.data[rcv_nxt - block.start :]) if block.end > rcv_nxt else b""

    def sack_blocks(self, limit: int) -> list[tuple[int, int]]:
        """Up to ``limit`` ranges, the most recently changed first (RFC 2018 §4)."""
        return [(block.start, block.end) for block in islice(reversed(self._recency.values()), limit)]


_start = attrgetter("start")
_end = attrgetter("end")
