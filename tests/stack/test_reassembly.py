"""IPv4 reassembly (RFC 791 §3.2, RFC 815): order, duplicates, overlaps, timeout, bounds, 65535.

Fragments are made with :func:`wirelab.wire.ipv4.fragment`, the same code a sender uses, so a test
reads as "send this datagram over a small MTU, deliver the pieces in this order".
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wirelab.stack.reassembly import Expired, Reassembler
from wirelab.trace import Trace
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header, fragment

SECOND = 1_000_000_000
SRC = IPv4Address("192.168.1.10")
DST = IPv4Address("192.168.2.20")

Piece = tuple[Ipv4Header, bytes, bytes]  # header, payload, the fragment's bytes as received


def datagram(identification: int = 7, size: int = 1000, *, src: IPv4Address = SRC) -> tuple[Ipv4Header, bytes]:
    header = Ipv4Header(src, DST, IpProtocol.UDP, ttl=64, identification=identification)
    return header, bytes(index % 251 for index in range(size))


def pieces(header: Ipv4Header, payload: bytes, mtu: int = 300) -> list[Piece]:
    return [(part, data, part.emit(data)) for part, data in fragment(header, payload, mtu)]


def feed(reassembler: Reassembler, parts: list[Piece], now: int = 0) -> list[tuple[Ipv4Header, bytes] | None]:
    return [reassembler.add(header, payload, packet, now) for header, payload, packet in parts]


def key(header: Ipv4Header) -> tuple[IPv4Address, IPv4Address, int, int]:
    return (header.src, header.dst, header.protocol, header.identification)


class TestCompletion:
    def test_in_order(self) -> None:
        header, payload = datagram()
        parts = pieces(header, payload)
        assert len(parts) == 4  # 280 + 280 + 280 + 160
        results = feed(Reassembler(), parts)
        assert results[:-1] == [None, None, None]
        assert results[-1] == (header, payload)

    def test_the_whole_header_is_the_first_fragments_with_mf_and_offset_cleared(self) -> None:
        header, payload = datagram()
        whole = feed(Reassembler(), pieces(header, payload))[-1]
        assert whole is not None
        assert whole[0].more_fragments is False
        assert whole[0].fragment_offset == 0
        assert whole[0].identification == header.identification

    def test_out_of_order(self) -> None:
        header, payload = datagram()
        first, second, third, last = pieces(header, payload)
        results = feed(Reassembler(), [last, second, first, third])
        assert results == [None, None, None, (header, payload)]

    def test_last_fragment_first_then_the_rest_backwards(self) -> None:
        header, payload = datagram(size=3000)
        parts = pieces(header, payload, mtu=576)
        results = feed(Reassembler(), parts[::-1])
        assert results[-1] == (header, payload)
        assert all(result is None for result in results[:-1])

    def test_not_complete_without_the_first_fragment(self) -> None:
        header, payload = datagram()
        reassembler = Reassembler()
        assert feed(reassembler, pieces(header, payload)[1:]) == [None, None, None]
        assert len(reassembler) == 1

    def test_not_complete_with_a_hole(self) -> None:
        header, payload = datagram()
        first, second, _third, last = pieces(header, payload)
        assert feed(Reassembler(), [first, second, last]) == [None, None, None]

    def test_a_completed_datagram_is_forgotten(self) -> None:
        header, payload = datagram()
        reassembler = Reassembler()
        feed(reassembler, pieces(header, payload))
        assert len(reassembler) == 0
        assert reassembler.poll_at() is None

    def test_two_datagrams_interleaved(self) -> None:
        header_a, payload_a = datagram(1)
        header_b, payload_b = datagram(2, size=700)
        parts_a, parts_b = pieces(header_a, payload_a), pieces(header_b, payload_b)
        reassembler = Reassembler()
        results = []
        for index in range(max(len(parts_a), len(parts_b))):
            for parts in (parts_b, parts_a):
                if index < len(parts):
                    results.extend(feed(reassembler, [parts[index]]))
        assert [result for result in results if result is not None] == [(header_b, payload_b), (header_a, payload_a)]

    def test_the_key_includes_the_source(self) -> None:
        # Same identification from two hosts: two datagrams, not one.
        header_a, payload_a = datagram(9)
        header_b, payload_b = datagram(9, src=IPv4Address("192.168.1.11"))
        reassembler = Reassembler()
        a, b = pieces(header_a, payload_a), pieces(header_b, payload_b)
        assert feed(reassembler, [a[0], b[0], a[1], b[1], a[2], b[2]]) == [None] * 6
        assert feed(reassembler, [b[3]]) == [(header_b, payload_b)]
        assert feed(reassembler, [a[3]]) == [(header_a, payload_a)]


def part(header: Ipv4Header, payload: bytes, start: int, end: int, *, last: bool | None = None) -> Piece:
    """The fragment carrying ``payload[start:end]`` (MF set unless it ends the payload, or as ``last`` says)."""
    more = end < len(payload) if last is None else not last
    piece = header._replace(fragment_offset=start, more_fragments=more)
    return piece, payload[start:end], piece.emit(payload[start:end])


class TestDuplicatesAndOverlaps:
    """Linux since 2018 (inet_frag_queue_insert; CVE-2018-5391): duplicates ignored, overlaps discard all."""

    def test_a_duplicate_is_ignored_and_counted(self) -> None:
        header, payload = datagram()
        first, second, third, last = pieces(header, payload)
        reassembler = Reassembler()
        results = feed(reassembler, [first, second, second, third, last])
        assert results == [None, None, None, None, (header, payload)]
        assert reassembler.duplicates == 1
        assert reassembler.overlaps == 0

    def test_a_fragment_inside_one_held_is_a_duplicate(self) -> None:
        # Linux's IPFRAG_DUP: wholly inside a held fragment, it is dropped and the datagram goes on.
        header, payload = datagram(size=40)
        reassembler = Reassembler()
        results = feed(reassembler, [part(header, payload, 0, 32), part(header, payload, 8, 16)])
        results += feed(reassembler, [part(header, payload, 32, 40)])
        assert results == [None, None, (header, payload)]
        assert reassembler.duplicates == 1

    @pytest.mark.parametrize(
        ("held", "arriving"),
        [
            ((0, 24), (16, 40)),  # runs past the end of a held piece
            ((16, 40), (8, 24)),  # starts before a held piece and runs into it
            ((16, 24), (8, 32)),  # covers a held piece and more
            ((0, 16), (0, 24)),  # same offset, longer
        ],
    )
    def test_an_overlap_discards_the_whole_datagram(self, held: tuple[int, int], arriving: tuple[int, int]) -> None:
        # The teardrop attack's shape. The rest of the datagram cannot complete it afterwards: the
        # fragments that follow start a new reassembly that never gets the discarded pieces.
        header, payload = datagram(size=48)
        trace = Trace()
        reassembler = Reassembler(trace=trace, node="b")
        assert feed(reassembler, [part(header, payload, 40, 48)]) == [None]  # held too, and discarded with the rest
        assert feed(reassembler, [part(header, payload, *held), part(header, payload, *arriving)]) == [None, None]
        assert len(reassembler) == 0
        assert reassembler.overlaps == 1
        assert reassembler.counters["ip.reassembly.overlap"] == 1
        [event] = list(trace)
        assert (event.node, event.kind) == ("b", "ip.reassembly.overlap")
        assert event.fields["offset"] == arriving[0]
        assert event.fields["identification"] == header.identification
        assert "overlaps" in event.render()
        assert event.render("zh") != event.render()

    def test_after_an_overlap_the_rest_does_not_complete(self) -> None:
        header, payload = datagram(size=48)
        reassembler = Reassembler()
        results = feed(
            reassembler,
            [part(header, payload, 0, 24), part(header, payload, 16, 40), part(header, payload, 24, 48)],
        )
        assert results == [None, None, None]
        assert len(reassembler) == 1  # the last piece alone, waiting for its timeout

    def test_a_second_last_fragment_with_another_end_discards_the_datagram(self) -> None:
        # RFC 791: a datagram has one end; Linux's ip_frag_queue: "different end" -> discard_qp.
        header, payload = datagram(size=48)
        reassembler = Reassembler()
        longer = part(header, payload + bytes(8), 48, 56)  # says the datagram ends at 56, not 48
        assert feed(reassembler, [part(header, payload, 0, 16), part(header, payload, 32, 48), longer]) == [None] * 3
        assert len(reassembler) == 0
        assert reassembler.counters["ip.reassembly.bad-end"] == 1

    def test_data_beyond_a_known_end_discards_the_datagram(self) -> None:
        header, payload = datagram(size=48)
        reassembler = Reassembler()
        beyond = part(header, payload + bytes(16), 48, 64, last=False)
        assert feed(reassembler, [part(header, payload, 32, 48), beyond]) == [None, None]
        assert len(reassembler) == 0
        assert reassembler.counters["ip.reassembly.bad-end"] == 1

    def test_a_last_fragment_ending_before_data_held_discards_the_datagram(self) -> None:
        header, payload = datagram(size=48)
        reassembler = Reassembler()
        assert feed(reassembler, [part(header, payload, 32, 48), part(header, payload, 0, 16, last=True)]) == [
            None,
            None,
        ]
        assert len(reassembler) == 0
        assert reassembler.counters["ip.reassembly.bad-end"] == 1

    def test_a_non_last_fragment_not_a_multiple_of_8_is_trimmed_as_linux_does(self) -> None:
        # [0, 27) with MF: the 3 odd octets are cut (ip_frag_queue: end &= ~7), so [24, 48) fits after it.
        header, payload = datagram(size=48)
        odd = part(header, payload, 0, 27)
        assert feed(Reassembler(), [odd, part(header, payload, 24, 48)]) == [None, (header, payload)]

    def test_an_empty_fragment_discards_the_datagram(self) -> None:
        header, payload = datagram(size=48)
        reassembler = Reassembler()
        feed(reassembler, [part(header, payload, 0, 16), part(header, payload, 16, 16)])
        assert len(reassembler) == 0
        assert reassembler.counters["ip.reassembly.empty"] == 1

    @given(
        size=st.integers(min_value=9, max_value=4000),
        mtu=st.integers(min_value=68, max_value=1500),
        data=st.data(),
    )
    def test_any_order_with_duplicates_completes_with_the_original(
        self, size: int, mtu: int, data: st.DataObject
    ) -> None:
        header, payload = datagram(size=size)
        parts = pieces(header, payload, mtu)
        if len(parts) == 1:
            return  # a datagram that fits is not a fragment; the reassembler never sees it
        order = data.draw(st.permutations(parts))
        # Duplicates of pieces already delivered, inserted anywhere before the last new piece.
        for _ in range(data.draw(st.integers(min_value=0, max_value=3))):
            position = data.draw(st.integers(min_value=1, max_value=len(order) - 1))
            order.insert(position, data.draw(st.sampled_from(order[:position])))
        results = feed(Reassembler(), order)
        assert results[-1] == (header, payload)
        assert results[:-1] == [None] * (len(order) - 1)


class TestTimeout:
    def test_expires_at_the_deadline_with_the_first_fragment_if_it_came(self) -> None:
        header, payload = datagram()
        first, second, _third, _last = pieces(header, payload)
        reassembler = Reassembler(timeout=30 * SECOND)
        feed(reassembler, [first, second], now=0)
        assert reassembler.poll_at() == 30 * SECOND
        assert reassembler.poll(30 * SECOND - 1) == []
        assert reassembler.poll(30 * SECOND) == [Expired(key(header), first[2])]
        assert len(reassembler) == 0

    def test_expires_without_the_first_fragment_if_it_never_came(self) -> None:
        # RFC 1122 §3.3.2: no "reassembly time exceeded" unless fragment zero arrived.
        header, payload = datagram()
        _first, second, third, _last = pieces(header, payload)
        reassembler = Reassembler(timeout=30 * SECOND)
        feed(reassembler, [second, third])
        assert reassembler.poll(30 * SECOND) == [Expired(key(header), b"")]

    def test_the_timer_runs_from_the_first_fragment_to_arrive(self) -> None:
        header, payload = datagram()
        first, second, _third, _last = pieces(header, payload)
        reassembler = Reassembler(timeout=30 * SECOND)
        feed(reassembler, [second], now=1 * SECOND)
        feed(reassembler, [first], now=29 * SECOND)  # later fragments do not extend it
        assert reassembler.poll_at() == 31 * SECOND
        assert reassembler.poll(31 * SECOND) == [Expired(key(header), first[2])]

    def test_poll_at_is_the_earliest_deadline(self) -> None:
        reassembler = Reassembler(timeout=30 * SECOND)
        header_a, payload_a = datagram(1)
        header_b, payload_b = datagram(2)
        feed(reassembler, pieces(header_a, payload_a)[:1], now=5 * SECOND)
        feed(reassembler, pieces(header_b, payload_b)[:1], now=2 * SECOND)
        assert reassembler.poll_at() == 32 * SECOND
        assert [expired.key[3] for expired in reassembler.poll(32 * SECOND)] == [2]
        assert reassembler.poll_at() == 35 * SECOND

    def test_a_late_fragment_after_expiry_starts_over(self) -> None:
        header, payload = datagram()
        parts = pieces(header, payload)
        reassembler = Reassembler(timeout=30 * SECOND)
        feed(reassembler, parts[:3], now=0)
        reassembler.poll(30 * SECOND)
        assert feed(reassembler, parts[3:], now=31 * SECOND) == [None]
        assert len(reassembler) == 1


class TestBounds:
    """Linux since 2018 (checked on 6.18 with ipfrag_high_thresh lowered in a network namespace): above the
    threshold every fragment is refused, even one that would complete a datagram; nothing is evicted."""

    def test_max_datagrams_refuses_a_new_datagram_and_evicts_none(self) -> None:
        trace = Trace()
        reassembler = Reassembler(max_datagrams=2, trace=trace, node="b")
        datagrams = [datagram(identification) for identification in (1, 2, 3)]
        for header, payload in datagrams:
            feed(reassembler, pieces(header, payload)[:1])
        assert len(reassembler) == 2
        assert reassembler.refused == 1
        [event] = list(trace)
        assert (event.kind, event.fields["identification"], event.fields["datagrams"]) == ("ip.reassembly.full", 3, 2)
        # Datagrams 1 and 2 go on and complete ...
        for header, payload in datagrams[:2]:
            assert feed(reassembler, pieces(header, payload)[1:])[-1] == (header, payload)
        # ... datagram 3, whose first fragment was refused, cannot.
        header, payload = datagrams[2]
        assert feed(reassembler, pieces(header, payload)[1:])[-1] is None

    def test_above_max_octets_every_fragment_is_refused_until_memory_frees(self) -> None:
        reassembler = Reassembler(max_octets=1000, timeout=30 * SECOND)
        header_a, payload_a = datagram(1, size=1200)
        header_b, payload_b = datagram(2, size=1200)
        header_c, payload_c = datagram(3, size=1200)
        first_a, last_a = pieces(header_a, payload_a, mtu=620)
        first_b, _last_b = pieces(header_b, payload_b, mtu=620)
        first_c, last_c = pieces(header_c, payload_c, mtu=620)
        # 600 held is not above 1000, so B's first is taken (as Linux, the check precedes the fragment):
        assert feed(reassembler, [first_a, first_b], now=0) == [None, None]
        # 1200 held: above the bound. A new datagram is refused, and so is the piece completing A.
        assert feed(reassembler, [first_c, last_a], now=1 * SECOND) == [None, None]
        assert reassembler.refused == 2
        assert len(reassembler) == 2
        # The timeout frees A's and B's octets; then fragments are taken again.
        assert len(reassembler.poll(30 * SECOND)) == 2
        assert feed(reassembler, [first_c, last_c], now=31 * SECOND) == [None, (header_c, payload_c)]

    def test_a_datagram_larger_than_max_octets_never_completes(self) -> None:
        reassembler = Reassembler(max_octets=1000)
        header, payload = datagram(1, size=3000)
        parts = pieces(header, payload, mtu=1020)  # 1000 + 1000 + 1000
        assert feed(reassembler, parts) == [None, None, None]
        assert reassembler.refused == 1  # the third: 2000 held
        assert len(reassembler) == 1

    def test_a_duplicate_takes_no_room(self) -> None:
        reassembler = Reassembler(max_octets=1000)
        header, payload = datagram(1, size=800)
        first, last = pieces(header, payload, mtu=420)
        assert feed(reassembler, [first, first, first, last]) == [None, None, None, (header, payload)]
        assert reassembler.refused == 0
        assert reassembler.duplicates == 2


class TestTooBig:
    def test_a_fragment_ending_past_65535_is_rejected_with_its_datagram(self) -> None:
        header, payload = datagram()
        first = pieces(header, payload)[0]
        reassembler = Reassembler()
        feed(reassembler, [first])
        # Offset 65528 (the largest the 13-bit field holds) + 8 octets + 20 of header = 65556.
        bogus = header._replace(fragment_offset=65528, more_fragments=False)
        assert reassembler.add(bogus, bytes(8), bogus.emit(bytes(8)), 0) is None
        assert len(reassembler) == 0  # the whole datagram is dropped, not just the fragment
        assert reassembler.poll(10**12) == []

    def test_the_largest_legal_datagram_is_reassembled(self) -> None:
        header = Ipv4Header(SRC, DST, IpProtocol.UDP, identification=3)
        payload = bytes(index % 253 for index in range(65535 - 20))
        parts = pieces(header, payload, mtu=1500)
        assert feed(Reassembler(), parts)[-1] == (header, payload)

    def test_a_datagram_whose_first_header_has_options_is_measured_with_them(self) -> None:
        # Each fragment fits on its own, but the first carries 4 octets of options: reassembled,
        # 24 + 65515 = 65539 octets, more than RFC 791's 65535 (the "ping of death").
        options = b"\x94\x04\x00\x00"  # router alert
        head = Ipv4Header(SRC, DST, IpProtocol.UDP, identification=5)
        first = head._replace(options=options, more_fragments=True)
        middle = head._replace(fragment_offset=8, more_fragments=True)
        last = head._replace(fragment_offset=65512)
        reassembler = Reassembler()
        results = [
            reassembler.add(first, bytes(8), first.emit(bytes(8)), 0),
            reassembler.add(middle, bytes(65504), middle.emit(bytes(65504)), 0),
            reassembler.add(last, bytes(3), last.emit(bytes(3)), 0),
        ]
        assert results == [None, None, None]
        assert len(reassembler) == 0
