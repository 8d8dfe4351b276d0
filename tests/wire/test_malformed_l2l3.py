"""The parsers' contract under hostile input: a value or :class:`MalformedPacket`, never anything else.

``errors.py`` promises that every parser, given any bytes at all, returns a value or raises
``MalformedPacket`` (never ``IndexError``, ``struct.error``, ``ValueError``...), because bad bytes are
the peer's fault and the runtime must count and drop them, not crash. This file checks the promise for
the layer 2/3 parsers with random bytes and with mutated valid packets (cut at every length, bytes
flipped), and checks that whatever *does* parse is faithful: it emits back to the bytes it came from.
Finally every valid value the shared strategies draw round-trips emit -> parse -> emit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    arp_packets,
    ethernet_headers,
    icmp_echo_messages,
    icmp_error_messages,
    icmp_messages,
    ipv4_datagrams,
    ipv4_headers,
)

from wirelab.wire.arp import PACKET_LEN, ArpPacket
from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.ethernet import EthernetFrame, EthernetHeader
from wirelab.wire.icmpv4 import IcmpMessage
from wirelab.wire.ipv4 import Ipv4Header, Ipv4Packet

Parser = Callable[[bytes], Any]

# Every way each protocol's bytes are read: the value parsers, with and without the checksum, and the views.
PARSERS: dict[str, list[Parser]] = {
    "ethernet": [EthernetHeader.parse, EthernetFrame],
    "arp": [ArpPacket.parse],
    "ipv4": [Ipv4Header.parse, lambda data: Ipv4Header.parse(data, verify_checksum=False), Ipv4Packet],
    "icmp": [IcmpMessage.parse, lambda data: IcmpMessage.parse(data, verify_checksum=False)],
}


def parse_or_refuse(parse: Parser, protocol: str, data: bytes) -> Any:
    """The parser's value, or None when it refused the bytes the one allowed way."""
    try:
        return parse(data)
    except MalformedPacket as refusal:
        assert refusal.protocol == protocol
        assert isinstance(refusal.reason, Malformation)
        assert str(refusal).startswith(f"{protocol}: {refusal.reason.value}")
        return None


def every_parser(protocol: str, data: bytes) -> None:
    for parse in PARSERS[protocol]:
        parse_or_refuse(parse, protocol, data)


def mutate(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    """``data`` with each (position, mask) XORed in; positions wrap around the length."""
    mutated = bytearray(data)
    for position, mask in flips:
        mutated[position % len(mutated)] ^= mask
    return bytes(mutated)


flip_lists = st.lists(
    st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=255)),
    min_size=1,
    max_size=4,
)


# Random bytes, and random bytes that at least start like the protocol, so the parsers' later checks
# are reached too (a random first octet is version 4 only one time in sixteen).
def ipv4_like() -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda ihl, total, rest: bytes([0x40 | ihl, 0]) + total.to_bytes(2, "big") + rest,
        st.integers(min_value=0, max_value=15),
        st.integers(min_value=0, max_value=120),
        st.binary(max_size=120),
    )


def arp_like() -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda fixed, rest: fixed + rest,
        st.sampled_from([bytes.fromhex("0001 0800 06 04 0001"), bytes.fromhex("0001 0800 06 04 0002")]),
        st.binary(max_size=40),
    )


def ethernet_like() -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda addresses, ethertype, rest: addresses + ethertype + rest,
        st.binary(min_size=12, max_size=12),
        st.sampled_from([b"\x81\x00", b"\x08\x00", b"\x05\xdc", b"\x06\x00"]),
        st.binary(max_size=30),
    )


RANDOM_INPUTS = {
    "ethernet": st.one_of(st.binary(max_size=80), ethernet_like()),
    "arp": st.one_of(st.binary(max_size=60), arp_like()),
    "ipv4": st.one_of(st.binary(max_size=100), ipv4_like()),
    "icmp": st.binary(max_size=80),
}


# Well-formed packets of each protocol (built by the shared strategies), to be damaged.
VALID_INPUTS = {
    "ethernet": st.builds(lambda header, payload: header.emit(payload), ethernet_headers(), st.binary(max_size=40)),
    "arp": arp_packets().map(lambda packet: packet.emit()),
    "ipv4": ipv4_datagrams(max_payload=40),
    "icmp": st.one_of(icmp_messages(), icmp_echo_messages(), icmp_error_messages()).map(lambda m: m.emit()),
}


class TestRandomBytes:
    @pytest.mark.parametrize("protocol", list(PARSERS))
    @given(data=st.data())
    def test_value_or_malformed(self, protocol: str, data: st.DataObject) -> None:
        every_parser(protocol, data.draw(RANDOM_INPUTS[protocol]))

    @pytest.mark.parametrize("protocol", list(PARSERS))
    @given(data=st.data())
    def test_a_bytearray_reads_as_its_bytes(self, protocol: str, data: st.DataObject) -> None:
        packet = data.draw(st.one_of(RANDOM_INPUTS[protocol], VALID_INPUTS[protocol]))
        for parse in PARSERS[protocol]:
            if parse in (EthernetFrame, Ipv4Packet):
                continue  # the views keep the buffer they are given
            expected = parse_or_refuse(parse, protocol, packet)
            assert parse_or_refuse(parse, protocol, bytearray(packet)) == expected

    @given(RANDOM_INPUTS["ethernet"])
    def test_ethernet_that_parses_emits_back(self, frame: bytes) -> None:
        parsed = parse_or_refuse(EthernetHeader.parse, "ethernet", frame)
        if parsed is not None:
            header, payload = parsed
            assert header.emit(payload, pad=False) == frame

    @given(RANDOM_INPUTS["arp"])
    def test_arp_that_parses_emits_back(self, data: bytes) -> None:
        packet = parse_or_refuse(ArpPacket.parse, "arp", data)
        if packet is not None:
            assert packet.emit() == data[:PACKET_LEN]

    @given(RANDOM_INPUTS["ipv4"])
    def test_ipv4_that_parses_emits_back_but_the_checksum(self, data: bytes) -> None:
        parsed = parse_or_refuse(PARSERS["ipv4"][1], "ipv4", data)
        if parsed is not None:
            header, payload = parsed
            total = int.from_bytes(data[2:4], "big")
            emitted = header.emit(payload)  # values that parsed are always in range: emit cannot fail
            assert emitted[:10] + emitted[12:] == data[:10] + data[12:total]

    @given(RANDOM_INPUTS["icmp"])
    def test_icmp_that_parses_emits_back_but_the_checksum(self, data: bytes) -> None:
        message = parse_or_refuse(PARSERS["icmp"][1], "icmp", data)
        if message is not None:
            emitted = message.emit()
            assert emitted[:2] + emitted[4:] == data[:2] + data[4:]


class TestMutations:
    @pytest.mark.parametrize("protocol", list(PARSERS))
    @given(data=st.data())
    def test_truncated_at_every_length(self, protocol: str, data: st.DataObject) -> None:
        packet = data.draw(VALID_INPUTS[protocol])
        for length in range(len(packet)):
            every_parser(protocol, packet[:length])

    @pytest.mark.parametrize("protocol", list(PARSERS))
    @given(data=st.data())
    def test_flipped_bytes(self, protocol: str, data: st.DataObject) -> None:
        packet = data.draw(VALID_INPUTS[protocol])
        every_parser(protocol, mutate(packet, data.draw(flip_lists)))

    @given(VALID_INPUTS["ipv4"], st.integers(min_value=0, max_value=39))
    def test_ipv4_cut_inside_the_header_is_truncated(self, datagram: bytes, cut: int) -> None:
        header_len = (datagram[0] & 0x0F) * 4
        with pytest.raises(MalformedPacket) as caught:
            Ipv4Header.parse(datagram[: cut % header_len])
        assert caught.value.reason is Malformation.TRUNCATED

    @given(VALID_INPUTS["ipv4"], flip_lists)
    def test_ipv4_flips_in_the_header_are_caught(self, datagram: bytes, flips: list[tuple[int, int]]) -> None:
        header_len = (datagram[0] & 0x0F) * 4
        damaged = mutate(datagram[:header_len], flips) + datagram[header_len:]
        if damaged != datagram:
            # Flips that cancel out in the one's complement sum exist (two flips in the same word
            # column), so the sum may still verify; but then every field must read back as written.
            parsed = parse_or_refuse(Ipv4Header.parse, "ipv4", damaged)
            if parsed is not None:
                header, payload = parsed
                total = int.from_bytes(damaged[2:4], "big")
                assert header.emit(payload)[:10] + header.emit(payload)[12:] == damaged[:10] + damaged[12:total]

    @given(VALID_INPUTS["icmp"], flip_lists)
    def test_icmp_single_flip_is_caught(self, message: bytes, flips: list[tuple[int, int]]) -> None:
        # One flipped byte always changes the sum by less than 0xFFFF: never undetected (RFC 1071).
        with pytest.raises(MalformedPacket) as caught:
            IcmpMessage.parse(mutate(message, flips[:1]))
        assert caught.value.reason is Malformation.BAD_CHECKSUM

    @given(VALID_INPUTS["arp"], st.binary(max_size=40))
    def test_arp_trailer_never_matters(self, packet: bytes, trailer: bytes) -> None:
        assert ArpPacket.parse(packet + trailer) == ArpPacket.parse(packet)


class TestRoundTrip:
    """Valid values from the shared strategies: emit -> parse gives the value, parse -> emit the bytes."""

    @given(ethernet_headers(), st.binary(max_size=80), st.booleans())
    def test_ethernet(self, header: EthernetHeader, payload: bytes, pad: bool) -> None:
        frame = header.emit(payload, pad=pad)
        parsed, rest = EthernetHeader.parse(frame)
        assert parsed == header
        assert rest[: len(payload)] == payload
        assert parsed.emit(rest, pad=pad) == frame

    @given(arp_packets())
    def test_arp(self, packet: ArpPacket) -> None:
        wire = packet.emit()
        assert ArpPacket.parse(wire) == packet
        assert ArpPacket.parse(wire).emit() == wire

    @given(ipv4_headers(), st.binary(max_size=80))
    def test_ipv4(self, header: Ipv4Header, payload: bytes) -> None:
        wire = header.emit(payload)
        parsed, rest = Ipv4Header.parse(wire)
        assert (parsed, rest) == (header, payload)
        assert parsed.emit(rest) == wire

    @given(st.one_of(icmp_messages(), icmp_echo_messages(), icmp_error_messages()))
    def test_icmp(self, message: IcmpMessage) -> None:
        wire = message.emit()
        assert IcmpMessage.parse(wire) == message
        assert IcmpMessage.parse(wire).emit() == wire

    @given(ethernet_headers(), ipv4_headers(fragments=False), icmp_echo_messages())
    def test_a_whole_frame(self, ethernet: EthernetHeader, ip: Ipv4Header, message: IcmpMessage) -> None:
        ethernet = ethernet._replace(ethertype=0x0800)
        ip = ip._replace(protocol=1)
        frame = ethernet.emit(ip.emit(message.emit()))  # padded: IPv4's total length finds the end
        parsed_ethernet, rest = EthernetHeader.parse(frame)
        parsed_ip, data = Ipv4Header.parse(rest)
        assert (parsed_ethernet, parsed_ip, IcmpMessage.parse(data)) == (ethernet, ip, message)
