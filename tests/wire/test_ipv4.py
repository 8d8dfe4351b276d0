"""IPv4 (RFC 791): every header field, options, refusals, the TTL-decrementing view, and fragmentation.

Golden datagrams: the first is the worked example of Wikipedia's "IPv4 header checksum" article (its
checksum b861 computed there by hand); the others were produced once with scapy 2.8 (``raw(IP(...))``,
the expression is in each comment) and pasted here as hex. Checksums of mutated headers are recomputed
with :func:`reference_checksum`, RFC 1071's loop written out in this file, not with the module under test.
"""

from __future__ import annotations

import random
from ipaddress import IPv4Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, IPOption_Router_Alert
from scapy.layers.inet import fragment as scapy_fragment
from scapy.packet import Raw
from strategies import ipv4_headers, ipv4_options

from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.ethernet import EthernetHeader, EtherType
from wirelab.wire.ipaddr import address_value, ipv4_from_packed
from wirelab.wire.ipv4 import MIN_HEADER_LEN, IpProtocol, Ipv4Header, Ipv4Packet, fragment
from wirelab.wire.mac import MacAddress


def reference_checksum(header: bytes) -> int:
    """RFC 1071 §4.1 over ``header`` with its checksum field taken as zero."""
    header = header[:10] + b"\x00\x00" + header[12:]
    total = sum(header[i] << 8 | header[i + 1] for i in range(0, len(header), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def with_checksum(header: bytes) -> bytes:
    """``header`` (bytes 0..IHL*4) with a correct checksum written in, by the reference loop."""
    return header[:10] + reference_checksum(header).to_bytes(2, "big") + header[12:]


def reason(data: bytes, *, verify_checksum: bool = True) -> Malformation:
    with pytest.raises(MalformedPacket) as caught:
        Ipv4Header.parse(data, verify_checksum=verify_checksum)
    assert caught.value.protocol == "ipv4"
    return caught.value.reason


# Wikipedia's example: 192.168.0.1 > 192.168.0.199, UDP, TTL 64, DF, total length 115.
WIKIPEDIA_HEADER = bytes.fromhex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7")
WIKIPEDIA_PAYLOAD = bytes(range(95))
WIKIPEDIA = WIKIPEDIA_HEADER + WIKIPEDIA_PAYLOAD
WIKIPEDIA_VALUE = Ipv4Header(
    src=IPv4Address("192.168.0.1"),
    dst=IPv4Address("192.168.0.199"),
    protocol=IpProtocol.UDP,
    ttl=64,
    identification=0,
    dont_fragment=True,
)

# raw(IP(src="192.0.2.1", dst="198.51.100.7", id=0xbeef, ttl=1, proto=17,
#        options=[IPOption_Router_Alert()]) / (b"\0" * 8))
ROUTER_ALERT = bytes.fromhex("46000020beef00000111799dc0000201c6336407 94040000") + bytes(8)
ROUTER_ALERT_VALUE = Ipv4Header(
    src=IPv4Address("192.0.2.1"),
    dst=IPv4Address("198.51.100.7"),
    protocol=17,
    ttl=1,
    identification=0xBEEF,
    options=b"\x94\x04\x00\x00",
)

# raw(IP(src="192.0.2.1", dst="198.51.100.7", id=7, ttl=64, proto=6,
#        options=[IPOption_RR(routers=["0.0.0.0", "0.0.0.0"])])): record route with two empty slots + EOL.
RECORD_ROUTE = bytes.fromhex("48000020000700004006808ac0000201c6336407 070b0400 00000000 00000000")
RECORD_ROUTE_VALUE = Ipv4Header(
    src=IPv4Address("192.0.2.1"),
    dst=IPv4Address("198.51.100.7"),
    protocol=IpProtocol.TCP,
    ttl=64,
    identification=7,
    options=bytes.fromhex("070b0400 00000000 00000000"),  # record route (11 octets), End of Option List
)

# raw(IP(src="10.1.1.1", dst="10.2.2.2", id=0x4242, flags="MF", frag=185, ttl=17, proto=17, tos=0x2a)
#     / (b"x" * 16)): a middle fragment at offset 185 * 8 = 1480, DSCP 10 (AF11), ECN 2 (ECT(0)).
MIDDLE_FRAGMENT = bytes.fromhex("452a0024424220b911112f9f0a0101010a020202") + b"x" * 16
MIDDLE_FRAGMENT_VALUE = Ipv4Header(
    src=IPv4Address("10.1.1.1"),
    dst=IPv4Address("10.2.2.2"),
    protocol=IpProtocol.UDP,
    ttl=17,
    identification=0x4242,
    more_fragments=True,
    fragment_offset=1480,
    dscp=10,
    ecn=2,
)

# raw(IP(src="10.1.1.1", dst="10.2.2.2", id=0x4242, flags="evil", ttl=17, proto=17)): the reserved bit.
RESERVED_FLAG = bytes.fromhex("45000014424280001111d0910a0101010a020202")
RESERVED_FLAG_VALUE = Ipv4Header(
    src=IPv4Address("10.1.1.1"),
    dst=IPv4Address("10.2.2.2"),
    protocol=IpProtocol.UDP,
    ttl=17,
    identification=0x4242,
    reserved_flag=True,
)

GOLDEN = [
    pytest.param(WIKIPEDIA, WIKIPEDIA_VALUE, WIKIPEDIA_PAYLOAD, id="wikipedia"),
    pytest.param(ROUTER_ALERT, ROUTER_ALERT_VALUE, bytes(8), id="router-alert"),
    pytest.param(RECORD_ROUTE, RECORD_ROUTE_VALUE, b"", id="record-route"),
    pytest.param(MIDDLE_FRAGMENT, MIDDLE_FRAGMENT_VALUE, b"x" * 16, id="fragment"),
    pytest.param(RESERVED_FLAG, RESERVED_FLAG_VALUE, b"", id="reserved-flag"),
]


class TestGolden:
    @pytest.mark.parametrize(("wire", "value", "payload"), GOLDEN)
    def test_parse(self, wire: bytes, value: Ipv4Header, payload: bytes) -> None:
        assert Ipv4Header.parse(wire) == (value, payload)

    @pytest.mark.parametrize(("wire", "value", "payload"), GOLDEN)
    def test_emit(self, wire: bytes, value: Ipv4Header, payload: bytes) -> None:
        assert value.emit(payload) == wire

    def test_wikipedia_fields(self) -> None:
        header, payload = Ipv4Header.parse(WIKIPEDIA)
        assert header.src == IPv4Address("192.168.0.1")
        assert header.dst == IPv4Address("192.168.0.199")
        assert header.protocol is IpProtocol.UDP
        assert header.ttl == 64
        assert header.identification == 0
        assert header.dont_fragment is True
        assert header.more_fragments is False
        assert header.reserved_flag is False
        assert header.fragment_offset == 0
        assert header.dscp == 0
        assert header.ecn == 0
        assert header.options == b""
        assert header.header_len == 20
        assert not header.is_fragment
        assert len(payload) == 0x73 - 20

    def test_options_are_kept_as_bytes(self) -> None:
        header, _ = Ipv4Header.parse(ROUTER_ALERT)
        assert header.options == b"\x94\x04\x00\x00"  # RFC 2113: copied, class 0, number 20, value 0
        assert header.header_len == 24
        header, _ = Ipv4Header.parse(RECORD_ROUTE)
        assert header.options[:3] == b"\x07\x0b\x04"  # RFC 791 record route: length 11, pointer 4
        assert header.header_len == 32

    def test_fragment_fields(self) -> None:
        header, _ = Ipv4Header.parse(MIDDLE_FRAGMENT)
        assert header.more_fragments
        assert header.fragment_offset == 1480  # octets: 185 units of 8 on the wire
        assert header.is_fragment
        assert (header.dscp, header.ecn) == (10, 2)

    def test_last_fragment_is_a_fragment(self) -> None:
        header, _ = Ipv4Header.parse(with_checksum(bytes.fromhex("45000014424200b911112f9f0a0101010a020202")))
        assert not header.more_fragments
        assert header.fragment_offset == 1480
        assert header.is_fragment

    def test_unknown_protocol_is_kept_as_int(self) -> None:
        header, _ = Ipv4Header.parse(with_checksum(bytes.fromhex("4500001400000000 40fd 0000 0a000001 0a000002")))
        assert header.protocol == 253
        assert not isinstance(header.protocol, IpProtocol)


class TestEveryField:
    """Each header field at its limits, set through the value and read back off the wire at its offset."""

    BASE = Ipv4Header(src=IPv4Address("10.0.0.1"), dst=IPv4Address("10.0.0.2"), protocol=IpProtocol.ICMP)

    @pytest.mark.parametrize(
        ("dscp", "ecn", "tos"), [(0, 0, 0x00), (46, 0, 0xB8), (46, 1, 0xB9), (63, 3, 0xFF), (0, 3, 0x03), (8, 2, 0x22)]
    )
    def test_dscp_ecn(self, dscp: int, ecn: int, tos: int) -> None:
        wire = self.BASE._replace(dscp=dscp, ecn=ecn).emit(b"")
        assert wire[1] == tos
        assert Ipv4Header.parse(wire)[0].dscp == dscp
        assert Ipv4Header.parse(wire)[0].ecn == ecn

    @pytest.mark.parametrize(
        ("reserved", "df", "mf", "offset", "word"),
        [
            (False, False, False, 0, 0x0000),
            (False, True, False, 0, 0x4000),
            (False, False, True, 0, 0x2000),
            (True, False, False, 0, 0x8000),
            (True, True, True, 8, 0xE001),
            (False, False, True, 1480, 0x20B9),
            (False, False, False, 0x1FFF * 8, 0x1FFF),
            (False, True, True, 65528, 0x7FFF),
        ],
    )
    def test_flags_and_fragment_offset(self, reserved: bool, df: bool, mf: bool, offset: int, word: int) -> None:
        value = self.BASE._replace(reserved_flag=reserved, dont_fragment=df, more_fragments=mf, fragment_offset=offset)
        wire = value.emit(b"")
        assert int.from_bytes(wire[6:8], "big") == word
        assert Ipv4Header.parse(wire)[0] == value

    @pytest.mark.parametrize("ttl", [0, 1, 64, 128, 255])
    def test_ttl(self, ttl: int) -> None:
        wire = self.BASE._replace(ttl=ttl).emit(b"")
        assert wire[8] == ttl
        assert Ipv4Header.parse(wire)[0].ttl == ttl

    @pytest.mark.parametrize("identification", [0, 1, 0x1234, 0xFFFF])
    def test_identification(self, identification: int) -> None:
        wire = self.BASE._replace(identification=identification).emit(b"")
        assert wire[4:6] == identification.to_bytes(2, "big")

    @pytest.mark.parametrize("protocol", [*IpProtocol, 0, 255])
    def test_protocol(self, protocol: int) -> None:
        wire = self.BASE._replace(protocol=protocol).emit(b"")
        assert wire[9] == protocol
        assert Ipv4Header.parse(wire)[0].protocol == protocol

    def test_addresses(self) -> None:
        value = self.BASE._replace(src=IPv4Address("255.255.255.255"), dst=IPv4Address("0.0.0.0"))
        wire = value.emit(b"")
        assert wire[12:16] == b"\xff\xff\xff\xff"
        assert wire[16:20] == b"\x00\x00\x00\x00"

    @pytest.mark.parametrize("options_len", [0, 4, 8, 36, 40])
    def test_ihl_and_total_length(self, options_len: int) -> None:
        value = self.BASE._replace(options=b"\x01" * (options_len - 1) + b"\x00" if options_len else b"")
        wire = value.emit(b"abc")
        assert wire[0] == 0x40 | (20 + options_len) // 4
        assert int.from_bytes(wire[2:4], "big") == 20 + options_len + 3
        assert wire[20 : 20 + options_len] == value.options
        assert reference_checksum(wire[: 20 + options_len]) == int.from_bytes(wire[10:12], "big")

    @pytest.mark.parametrize(
        "bad",
        [
            {"options": b"\x01\x01\x01"},  # not a multiple of 4
            {"options": bytes(44)},  # more than 40
            {"fragment_offset": 4},  # not a multiple of 8
            {"fragment_offset": 65536},
            {"fragment_offset": -8},
            {"ttl": 256},
            {"ttl": -1},
            {"identification": 0x10000},
            {"protocol": 256},
            {"dscp": 64},
            {"dscp": -1},
            {"ecn": 4},
            {"ecn": -1},
        ],
    )
    def test_emit_refuses_values_out_of_range(self, bad: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            self.BASE._replace(**bad).emit(b"")

    def test_emit_refuses_an_oversized_datagram(self) -> None:
        self.BASE.emit(bytes(65535 - 20))
        with pytest.raises(ValueError, match="65535"):
            self.BASE.emit(bytes(65535 - 19))


class TestRefusals:
    def test_bad_version(self) -> None:
        for version in (0, 5, 6, 15):
            header = with_checksum(bytes([version << 4 | 5]) + WIKIPEDIA_HEADER[1:])
            assert reason(header + WIKIPEDIA_PAYLOAD) is Malformation.BAD_VERSION

    @pytest.mark.parametrize("ihl", [0, 1, 4])
    def test_ihl_below_5(self, ihl: int) -> None:
        header = with_checksum(bytes([0x40 | ihl]) + WIKIPEDIA_HEADER[1:])
        assert reason(header + WIKIPEDIA_PAYLOAD) is Malformation.BAD_LENGTH

    @pytest.mark.parametrize(("ihl", "total"), [(5, 0), (5, 19), (6, 20), (6, 23), (15, 59)])
    def test_total_length_below_header_length(self, ihl: int, total: int) -> None:
        header = bytes([0x40 | ihl]) + b"\x00" + total.to_bytes(2, "big") + WIKIPEDIA_HEADER[4:] + bytes(ihl * 4 - 20)
        assert reason(with_checksum(header) + bytes(100)) is Malformation.BAD_LENGTH

    @pytest.mark.parametrize("cut", [1, 10, 95])
    def test_total_length_beyond_the_data(self, cut: int) -> None:
        assert reason(WIKIPEDIA[:-cut]) is Malformation.TRUNCATED
        assert reason(WIKIPEDIA[:-cut], verify_checksum=False) is Malformation.TRUNCATED

    @pytest.mark.parametrize("length", range(MIN_HEADER_LEN))
    def test_shorter_than_20_octets(self, length: int) -> None:
        assert reason(WIKIPEDIA[:length]) is Malformation.TRUNCATED

    @pytest.mark.parametrize("length", range(20, 24))
    def test_options_cut_short(self, length: int) -> None:
        assert reason(ROUTER_ALERT[:length]) is Malformation.TRUNCATED

    @pytest.mark.parametrize("offset", range(1, 20))  # offset 0 (version, IHL) is refused for itself, above
    @pytest.mark.parametrize("flip", [0x01, 0x80, 0xFF])
    def test_bad_checksum_anywhere_in_the_header(self, offset: int, flip: int) -> None:
        wire = bytearray(WIKIPEDIA + bytes(65535))  # room for any total length the flip may make
        wire[offset] ^= flip
        assert reason(bytes(wire)) is Malformation.BAD_CHECKSUM

    def test_bad_checksum_in_the_options(self) -> None:
        wire = bytearray(ROUTER_ALERT)
        wire[22] = 0x01
        assert reason(bytes(wire)) is Malformation.BAD_CHECKSUM
        assert Ipv4Header.parse(bytes(wire), verify_checksum=False)[0].options == b"\x94\x04\x01\x00"

    def test_payload_is_not_covered_by_the_checksum(self) -> None:
        header, payload = Ipv4Header.parse(WIKIPEDIA_HEADER + bytes(95))
        assert header == WIKIPEDIA_VALUE
        assert payload == bytes(95)

    def test_verify_checksum_false_accepts_a_wrong_checksum(self) -> None:
        wire = WIKIPEDIA[:10] + b"\xde\xad" + WIKIPEDIA[12:]
        assert reason(wire) is Malformation.BAD_CHECKSUM
        assert Ipv4Header.parse(wire, verify_checksum=False) == (WIKIPEDIA_VALUE, WIKIPEDIA_PAYLOAD)

    def test_all_zero_checksum_field_of_a_header_needing_one_is_refused(self) -> None:
        assert reason(WIKIPEDIA[:10] + b"\x00\x00" + WIKIPEDIA[12:]) is Malformation.BAD_CHECKSUM

    def test_checksum_zero_is_valid_when_the_sum_is_all_ones(self) -> None:
        # Pick the identification so that the header's words sum to 0xFFFF: the right checksum is 0x0000.
        header = bytearray(with_checksum(WIKIPEDIA_HEADER))
        header[10:12] = b"\x00\x00"
        total = sum(header[i] << 8 | header[i + 1] for i in range(0, 20, 2))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        header[4:6] = (0xFFFF - total).to_bytes(2, "big")
        assert reference_checksum(bytes(header)) == 0x0000
        parsed, _ = Ipv4Header.parse(bytes(header) + WIKIPEDIA_PAYLOAD)
        assert parsed.identification == 0xFFFF - total
        assert parsed.emit(WIKIPEDIA_PAYLOAD)[10:12] == b"\x00\x00"
        # The other one's complement zero, 0xffff, verifies too (the receiver's sum is all ones either
        # way: RFC 1624 §3); emitting writes the canonical 0x0000 back.
        header[10:12] = b"\xff\xff"
        assert Ipv4Header.parse(bytes(header) + WIKIPEDIA_PAYLOAD)[0] == parsed


class TestPayloadCut:
    def test_trailing_bytes_beyond_total_length_are_dropped(self) -> None:
        assert Ipv4Header.parse(WIKIPEDIA + b"trailer") == (WIKIPEDIA_VALUE, WIKIPEDIA_PAYLOAD)

    def test_ethernet_padding_is_dropped(self) -> None:
        # 20 + 8 octets of IPv4/ICMP echo in a 60-octet frame: 18 octets of Ethernet padding follow.
        datagram = bytes.fromhex("4500001c00010000400166de0a0000010a000002 0800f7ff00000000")
        assert reference_checksum(datagram[:20]) == 0x66DE
        frame = EthernetHeader(MacAddress(1), MacAddress(2), EtherType.IPV4).emit(datagram)
        assert len(frame) == 60
        _, ip_bytes = EthernetHeader.parse(frame)
        assert len(ip_bytes) == 46
        header, payload = Ipv4Header.parse(ip_bytes)
        assert payload == bytes.fromhex("0800f7ff00000000")
        assert header.protocol is IpProtocol.ICMP

    def test_header_only_datagram(self) -> None:
        assert Ipv4Header.parse(RESERVED_FLAG + bytes(26)) == (RESERVED_FLAG_VALUE, b"")


class TestRoundTrip:
    @given(ipv4_headers(options=st.one_of(ipv4_options(), st.binary(max_size=10).map(lambda b: b * 4))), st.binary())
    def test_emit_then_parse(self, header: Ipv4Header, payload: bytes) -> None:
        wire = header.emit(payload)
        assert Ipv4Header.parse(wire) == (header, payload)
        assert reference_checksum(wire[: header.header_len]) == int.from_bytes(wire[10:12], "big")

    @given(ipv4_headers(), st.binary(max_size=40))
    def test_parse_then_emit(self, header: Ipv4Header, payload: bytes) -> None:
        # Bytes built by hand from the value (checksum by the reference loop), then parsed and re-emitted.
        flags = header.reserved_flag << 15 | header.dont_fragment << 14 | header.more_fragments << 13
        raw = (
            bytes([0x40 | header.header_len // 4, header.dscp << 2 | header.ecn])
            + (header.header_len + len(payload)).to_bytes(2, "big")
            + header.identification.to_bytes(2, "big")
            + (flags | header.fragment_offset // 8).to_bytes(2, "big")
            + bytes([header.ttl, header.protocol, 0, 0])
            + header.src.packed
            + header.dst.packed
            + header.options
        )
        wire = with_checksum(raw) + payload
        parsed, rest = Ipv4Header.parse(wire)
        assert parsed == header
        assert parsed.emit(rest) == wire


class TestAddresses:
    @given(st.integers(min_value=0, max_value=2**32 - 1))
    def test_address_value_is_int(self, value: int) -> None:
        address = IPv4Address(value)
        assert address_value(address) == int(address) == value
        assert ipv4_from_packed(value.to_bytes(4, "big")) == address


class TestPacketView:
    def test_fields(self) -> None:
        view = Ipv4Packet(ROUTER_ALERT)
        assert view.version == 4
        assert view.header_len == 24
        assert view.total_length == 32
        assert view.ttl == 1
        assert view.protocol == 17
        assert view.checksum == 0x799D
        assert view.src == IPv4Address("192.0.2.1")
        assert view.dst == IPv4Address("198.51.100.7")

    @pytest.mark.parametrize("length", range(MIN_HEADER_LEN))
    def test_truncated(self, length: int) -> None:
        with pytest.raises(MalformedPacket) as caught:
            Ipv4Packet(WIKIPEDIA[:length])
        assert caught.value.reason is Malformation.TRUNCATED

    def test_decrement_ttl_golden(self) -> None:
        # TTL 0x40 -> 0x3f takes 0x0100 off the word 0x4011, so the checksum goes up by 0x0100.
        buffer = bytearray(WIKIPEDIA)
        assert Ipv4Packet(buffer).decrement_ttl() == 63
        assert buffer[8] == 63
        assert buffer[10:12] == b"\xb9\x61"
        assert buffer[12:] == WIKIPEDIA[12:]
        assert buffer[:8] == WIKIPEDIA[:8]
        assert buffer[9] == WIKIPEDIA[9]

    def test_decrement_to_zero_then_refuse(self) -> None:
        buffer = bytearray(ROUTER_ALERT)
        view = Ipv4Packet(buffer)
        assert view.decrement_ttl() == 0
        assert Ipv4Header.parse(bytes(buffer))[0].ttl == 0
        with pytest.raises(ValueError, match="TTL"):
            view.decrement_ttl()
        assert buffer[8] == 0
        assert Ipv4Header.parse(bytes(buffer))[0].ttl == 0  # unchanged, still verifies

    def test_decrement_needs_a_mutable_buffer(self) -> None:
        with pytest.raises(TypeError):
            Ipv4Packet(WIKIPEDIA).decrement_ttl()

    @given(ipv4_headers(), st.binary(max_size=16))
    def test_decrement_equals_full_recomputation(self, header: Ipv4Header, payload: bytes) -> None:
        header = header._replace(ttl=max(header.ttl, 1))
        buffer = bytearray(header.emit(payload))
        Ipv4Packet(buffer).decrement_ttl()
        assert buffer[8] == header.ttl - 1
        assert int.from_bytes(buffer[10:12], "big") == reference_checksum(bytes(buffer[: header.header_len]))
        assert Ipv4Header.parse(bytes(buffer)) == (header._replace(ttl=header.ttl - 1), payload)

    @given(ipv4_headers(options=st.just(b"")), st.booleans())
    def test_decrement_across_the_zero_checksum(self, header: Ipv4Header, after: bool) -> None:
        # Choose the identification so that the checksum is 0x0000 after the decrement (``after``) or
        # before it: the two places where the one's complement "negative zero" 0xFFFF could slip in.
        header = header._replace(ttl=max(header.ttl, 1), identification=0)
        target = header._replace(ttl=header.ttl - 1) if after else header
        others = 0xFFFF - reference_checksum(target.emit(b""))  # folded sum of the other words, 1..0xFFFF
        header = header._replace(identification=0xFFFF - others)
        buffer = bytearray(header.emit(b""))
        if not after:
            assert buffer[10:12] == b"\x00\x00"
        Ipv4Packet(buffer).decrement_ttl()
        expected = reference_checksum(bytes(buffer))
        if after:
            assert expected == 0x0000
        assert int.from_bytes(buffer[10:12], "big") == expected
        assert buffer[10:12] != b"\xff\xff"

    def test_decrement_every_ttl(self) -> None:
        buffer = bytearray(WIKIPEDIA_VALUE._replace(ttl=255).emit(b""))
        view = Ipv4Packet(buffer)
        for ttl in range(254, -1, -1):
            assert view.decrement_ttl() == ttl
            assert int.from_bytes(buffer[10:12], "big") == reference_checksum(bytes(buffer))


def reassemble(pieces: list[tuple[Ipv4Header, bytes]]) -> bytes:
    """Put fragments' payloads back at their offsets (RFC 791 §3.2 reassembly, without the timers)."""
    data = bytearray()
    for header, payload in pieces:
        end = header.fragment_offset + len(payload)
        if len(data) < end:
            data += bytes(end - len(data))
        data[header.fragment_offset : end] = payload
    return bytes(data)


ROUTER_ALERT_OPTION = b"\x94\x04\x00\x00"  # copied (type bit 0 set)
RECORD_ROUTE_OPTION = b"\x07\x07\x04\x00\x00\x00\x00"  # not copied


class TestFragment:
    BASE = Ipv4Header(
        src=IPv4Address("10.0.0.1"), dst=IPv4Address("10.0.0.2"), protocol=IpProtocol.UDP, identification=0x1234
    )

    def test_a_datagram_that_fits_is_whole(self) -> None:
        assert list(fragment(self.BASE, bytes(1480), 1500)) == [(self.BASE, bytes(1480))]
        df = self.BASE._replace(dont_fragment=True)
        assert list(fragment(df, bytes(1480), 1500)) == [(df, bytes(1480))]

    def test_split_for_576(self) -> None:
        payload = bytes(random.Random(1).randbytes(1000))
        pieces = list(fragment(self.BASE, payload, 576))
        # (576 - 20) rounded down to 8: 552 octets, then the remaining 448.
        assert [(h.fragment_offset, len(p), h.more_fragments) for h, p in pieces] == [(0, 552, True), (552, 448, False)]
        assert all(h._replace(fragment_offset=0, more_fragments=False) == self.BASE for h, _ in pieces)
        assert reassemble(pieces) == payload

    def test_wire_offsets_are_8_octet_units(self) -> None:
        pieces = list(fragment(self.BASE, bytes(4000), 1500))
        wire = [h.emit(p) for h, p in pieces]
        assert [int.from_bytes(w[6:8], "big") for w in wire] == [0x2000 | 0, 0x2000 | 185, 370]
        assert [len(w) for w in wire] == [1500, 1500, 20 + 4000 - 2960]

    def test_mtu_not_a_multiple_of_8(self) -> None:
        pieces = list(fragment(self.BASE, bytes(100), 61))  # room 41 -> 40 octets per fragment
        assert [(h.fragment_offset, len(p)) for h, p in pieces] == [(0, 40), (40, 40), (80, 20)]

    def test_smallest_mtus(self) -> None:
        assert [len(p) for _, p in fragment(self.BASE, bytes(20), 28)] == [8, 8, 4]
        with pytest.raises(ValueError, match="too small"):
            list(fragment(self.BASE, bytes(20), 27))
        # RFC 791: every module must forward a 68-octet datagram, so 60-octet headers leave 8 octets.
        full = self.BASE._replace(options=ROUTER_ALERT_OPTION * 10)
        assert [len(p) for _, p in fragment(full, bytes(20), 68)] == [8, 8, 4]

    def test_dont_fragment_raises(self) -> None:
        with pytest.raises(ValueError, match="DF"):
            list(fragment(self.BASE._replace(dont_fragment=True), bytes(1481), 1500))

    def test_copied_options_only_in_later_fragments(self) -> None:
        options = ROUTER_ALERT_OPTION + RECORD_ROUTE_OPTION + b"\x00"  # 12 octets
        header = self.BASE._replace(options=options)
        pieces = list(fragment(header, bytes(200), 100))
        first, *later = pieces
        assert first[0].options == options
        assert len(first[1]) == (100 - 32) & ~7 == 64
        for fragment_header, piece in later[:-1]:
            assert fragment_header.options == ROUTER_ALERT_OPTION
            assert len(piece) == (100 - 24) & ~7 == 72
        assert later[-1][0].options == ROUTER_ALERT_OPTION
        assert reassemble(pieces) == bytes(200)

    @pytest.mark.parametrize(
        ("options", "copied"),
        [
            (RECORD_ROUTE_OPTION + b"\x00", b""),  # record route: not copied
            (b"\x01\x01\x01\x01", b""),  # NOPs: not copied
            (b"\x01" + ROUTER_ALERT_OPTION + b"\x00\x00\x00", ROUTER_ALERT_OPTION),
            (b"\x44\x08\x05\x00\x00\x00\x00\x00", b""),  # timestamp: not copied
            (b"\x83\x07\x04\x0a\x00\x00\x63\x00", b"\x83\x07\x04\x0a\x00\x00\x63\x00"),  # LSRR: copied, padded
            (b"\x89\x07\x04\x0a\x00\x00\x63\x00", b"\x89\x07\x04\x0a\x00\x00\x63\x00"),  # SSRR
            (b"\x88\x04\xbe\xef", b"\x88\x04\xbe\xef"),  # stream identifier
            (b"\x82\x0b" + bytes(9) + b"\x00", b"\x82\x0b" + bytes(9) + b"\x00"),  # security
            (ROUTER_ALERT_OPTION + b"\x00\x94\x04\x00", ROUTER_ALERT_OPTION),  # nothing after End of Options
            (
                b"\x88\x04\xbe\xef" + RECORD_ROUTE_OPTION + b"\x01" + ROUTER_ALERT_OPTION,  # copied, not, copied
                b"\x88\x04\xbe\xef" + ROUTER_ALERT_OPTION,
            ),
        ],
    )
    def test_which_options_are_copied(self, options: bytes, copied: bytes) -> None:
        pieces = list(fragment(self.BASE._replace(options=options), bytes(300), 120))
        assert pieces[0][0].options == options
        assert {h.options for h, _ in pieces[1:]} == {copied}

    def test_refragmenting_a_fragment_keeps_offsets(self) -> None:
        payload = random.Random(2).randbytes(3000)
        at_1500 = list(fragment(self.BASE, payload, 1500))
        assert [h.fragment_offset for h, _ in at_1500] == [0, 1480, 2960]
        again = [piece for header, data in at_1500 for piece in fragment(header, data, 576)]
        assert [(h.fragment_offset, len(p), h.more_fragments) for h, p in again] == [
            (0, 552, True),
            (552, 552, True),
            (1104, 376, True),  # the end of the first 1500-octet fragment: MF stays set
            (1480, 552, True),
            (2032, 552, True),
            (2584, 376, True),
            (2960, 40, False),  # the original last fragment fits whole
        ]
        assert all(h.identification == 0x1234 for h, _ in again)
        assert reassemble(again) == payload

    def test_refragmenting_the_last_fragment_keeps_mf_clear_at_the_end(self) -> None:
        last = self.BASE._replace(fragment_offset=2960)
        pieces = list(fragment(last, bytes(1000), 576))
        assert [(h.fragment_offset, h.more_fragments) for h, _ in pieces] == [(2960, True), (3512, False)]

    @given(
        ipv4_headers(fragments=False),
        st.integers(min_value=0, max_value=3000).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
        st.integers(min_value=68, max_value=1500),
    )
    def test_any_datagram(self, header: Ipv4Header, payload: bytes, mtu: int) -> None:
        pieces = list(fragment(header, payload, mtu))
        assert reassemble(pieces) == payload
        for index, (piece_header, piece) in enumerate(pieces):
            last = index == len(pieces) - 1
            assert piece_header.more_fragments is not last
            assert piece_header.fragment_offset % 8 == 0
            if not last:
                assert len(piece) % 8 == 0
            wire = piece_header.emit(piece)
            assert len(wire) <= mtu
            assert piece_header._replace(options=b"", fragment_offset=0, more_fragments=False) == header._replace(
                options=b""
            )
            assert Ipv4Header.parse(wire) == (piece_header, piece)
        if len(pieces) == 1:
            assert pieces == [(header, payload)]
        offsets = [h.fragment_offset for h, _ in pieces]
        assert offsets == sorted(offsets)
        assert offsets[0] == 0

    @given(
        st.integers(min_value=1, max_value=3000).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
        st.integers(min_value=8, max_value=185).map(lambda units: units * 8),  # at most 47 fragments
        st.booleans(),
    )
    @settings(max_examples=40)  # scapy builds each fragment in ~1 ms
    def test_same_as_scapy(self, payload: bytes, fragsize: int, router_alert: bool) -> None:
        # scapy's fragment() takes the payload size per fragment, and copies every option into every
        # fragment; with only a copied option (Router Alert) RFC 791 agrees with it.
        options = ROUTER_ALERT_OPTION if router_alert else b""
        header = self.BASE._replace(options=options, ttl=33, dscp=12)
        scapy_options = [IPOption_Router_Alert()] if router_alert else []
        packet = IP(src="10.0.0.1", dst="10.0.0.2", proto=17, id=0x1234, ttl=33, tos=48, options=scapy_options)
        packet /= Raw(payload)
        theirs = [bytes(piece) for piece in scapy_fragment(packet, fragsize=fragsize)]
        ours = list(fragment(header, payload, len(options) + 20 + fragsize))
        assert [Ipv4Header.parse(wire) for wire in theirs] == ours
        assert [h.emit(p) for h, p in ours] == theirs
