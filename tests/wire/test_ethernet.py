"""Ethernet II and 802.1Q: golden frames both ways, padding, refusals, and the in-place view.

The golden frames are written out octet by octet from the header diagram in ``ethernet.py`` (and the
first two were checked against scapy 2.8's ``raw(Ether(...)/...)``), never produced by our own emit.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import ethernet_headers, ethertypes, mac_addresses

from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.ethernet import (
    HEADER_LEN,
    MIN_FRAME_LEN,
    VLAN_HEADER_LEN,
    EthernetFrame,
    EthernetHeader,
    EtherType,
    VlanTag,
)
from wirelab.wire.mac import BROADCAST, MacAddress

# "Who has 192.168.1.11? Tell 192.168.1.10", broadcast: 42 octets before padding.
ARP_REQUEST = bytes.fromhex("0001 0800 06 04 0001 02000000000a c0a8010a 000000000000 c0a8010b")
BROADCAST_ARP_FRAME = (
    bytes.fromhex(
        "ffffffffffff"  # destination: broadcast
        "02000000000a"  # source
        "0806"  # EtherType ARP
    )
    + ARP_REQUEST
)
BROADCAST_ARP_HEADER = EthernetHeader(BROADCAST, MacAddress("02:00:00:00:00:0a"), EtherType.ARP)

# An ICMP echo request in VLAN 100, priority 5, drop eligible: TCI = 101 1 000001100100 = 0xb064.
ICMP_IN_IPV4 = bytes.fromhex(
    "45b900241c464000400109d80a0000010a000002"  # IPv4: DSCP 46 ECN 1, DF, TTL 64, ICMP, 10.0.0.1 > 10.0.0.2
    "08005435123400016162636465666768"  # ICMP echo request id 0x1234 seq 1 "abcdefgh"
)
TAGGED_FRAME = (
    bytes.fromhex(
        "001122334455"  # destination
        "66778899aabb"  # source
        "8100"  # TPID: an 802.1Q tag follows
        "b064"  # PCP 5, DEI 1, VID 100
        "0800"  # EtherType IPv4
    )
    + ICMP_IN_IPV4
)
TAGGED_HEADER = EthernetHeader(
    MacAddress("00:11:22:33:44:55"),
    MacAddress("66:77:88:99:aa:bb"),
    EtherType.IPV4,
    VlanTag(vid=100, pcp=5, dei=True),
)


class TestGoldenFrames:
    def test_parse_broadcast_arp(self) -> None:
        header, payload = EthernetHeader.parse(BROADCAST_ARP_FRAME)
        assert header == BROADCAST_ARP_HEADER
        assert header.dst == MacAddress("ff:ff:ff:ff:ff:ff")
        assert header.dst.is_broadcast
        assert header.src == MacAddress("02-00-00-00-00-0A")
        assert header.ethertype == 0x0806
        assert header.vlan is None
        assert header.header_len == 14
        assert payload == ARP_REQUEST

    def test_emit_broadcast_arp(self) -> None:
        assert BROADCAST_ARP_HEADER.emit(ARP_REQUEST, pad=False) == BROADCAST_ARP_FRAME

    def test_parse_tagged(self) -> None:
        header, payload = EthernetHeader.parse(TAGGED_FRAME)
        assert header == TAGGED_HEADER
        assert header.vlan == VlanTag(vid=100, pcp=5, dei=True)
        assert header.vlan.vid == 100
        assert header.vlan.pcp == 5
        assert header.vlan.dei is True
        assert header.ethertype == EtherType.IPV4
        assert header.header_len == 18
        assert payload == ICMP_IN_IPV4

    def test_emit_tagged(self) -> None:
        assert TAGGED_HEADER.emit(ICMP_IN_IPV4, pad=False) == TAGGED_FRAME
        assert TAGGED_HEADER.emit(ICMP_IN_IPV4) == TAGGED_FRAME + bytes(6)  # 18 + 36 = 54 octets: padded to 60

    @pytest.mark.parametrize(
        ("tci", "tag"),
        [
            ("0000", VlanTag(vid=0, pcp=0, dei=False)),  # priority tag only (VID 0)
            ("0001", VlanTag(vid=1)),
            ("0fff", VlanTag(vid=4095)),
            ("e000", VlanTag(vid=0, pcp=7)),
            ("1000", VlanTag(vid=0, dei=True)),
            ("2abc", VlanTag(vid=0xABC, pcp=1)),
            ("ffff", VlanTag(vid=4095, pcp=7, dei=True)),
        ],
    )
    def test_tci_bits(self, tci: str, tag: VlanTag) -> None:
        frame = bytes.fromhex("001122334455 66778899aabb 8100" + tci + "86dd") + bytes(46)
        header, _ = EthernetHeader.parse(frame)
        assert header.vlan == tag
        assert header.ethertype == EtherType.IPV6
        assert EthernetHeader(header.dst, header.src, EtherType.IPV6, tag).emit(bytes(46)) == frame

    def test_unknown_ethertype_is_kept_as_int(self) -> None:
        frame = bytes.fromhex("001122334455 66778899aabb 88b5") + bytes(46)  # IEEE local experimental
        header, _ = EthernetHeader.parse(frame)
        assert header.ethertype == 0x88B5
        assert EthernetHeader(header.dst, header.src, 0x88B5).emit(bytes(46)) == frame

    def test_known_ethertype_is_the_enum(self) -> None:
        header, _ = EthernetHeader.parse(BROADCAST_ARP_FRAME)
        assert header.ethertype is EtherType.ARP

    def test_smallest_ethertype(self) -> None:
        frame = bytes.fromhex("001122334455 66778899aabb 0600") + bytes(46)  # XEROX NS IDP
        header, _ = EthernetHeader.parse(frame)
        assert header.ethertype == 0x0600


class TestBufferTypes:
    """A runtime may hand over a bytearray it read into (mypy lets it pass where bytes are expected)."""

    @pytest.mark.parametrize("wrap", [bytearray, memoryview])
    @pytest.mark.parametrize("frame", [BROADCAST_ARP_FRAME, TAGGED_FRAME], ids=["untagged", "tagged"])
    def test_parse_a_bytearray_or_memoryview(self, wrap: type, frame: bytes) -> None:
        header, payload = EthernetHeader.parse(wrap(frame))
        assert (header, bytes(payload)) == EthernetHeader.parse(frame)

    @pytest.mark.parametrize("length", [0, 13])
    def test_truncated_bytearray(self, length: int) -> None:
        with pytest.raises(MalformedPacket) as caught:
            EthernetHeader.parse(bytearray(BROADCAST_ARP_FRAME[:length]))
        assert caught.value.reason is Malformation.TRUNCATED


class TestPadding:
    def test_emit_pads_to_60_octets_with_zeros(self) -> None:
        frame = BROADCAST_ARP_HEADER.emit(ARP_REQUEST)
        assert len(frame) == MIN_FRAME_LEN == 60
        assert frame == BROADCAST_ARP_FRAME + bytes(18)

    def test_pad_false_does_not_pad(self) -> None:
        assert len(BROADCAST_ARP_HEADER.emit(ARP_REQUEST, pad=False)) == 42
        assert BROADCAST_ARP_HEADER.emit(b"", pad=False) == BROADCAST_ARP_FRAME[:14]

    def test_empty_payload_is_all_padding(self) -> None:
        assert BROADCAST_ARP_HEADER.emit(b"") == BROADCAST_ARP_FRAME[:14] + bytes(46)

    @pytest.mark.parametrize("payload_len", [45, 46, 47, 1500])
    def test_long_enough_frames_are_not_padded(self, payload_len: int) -> None:
        payload = bytes(range(256)) * 6
        frame = BROADCAST_ARP_HEADER.emit(payload[:payload_len])
        assert len(frame) == max(60, 14 + payload_len)
        assert frame[14:] == payload[:payload_len] + bytes(max(0, 46 - payload_len))

    def test_tagged_frame_pads_to_60_too(self) -> None:
        frame = TAGGED_HEADER.emit(b"\x01")
        assert len(frame) == 60
        assert frame[18:] == b"\x01" + bytes(41)

    def test_parse_keeps_padding_in_the_payload(self) -> None:
        # The frame cannot tell padding from payload: IPv4's total length does (see test_ipv4).
        _, payload = EthernetHeader.parse(BROADCAST_ARP_FRAME + bytes(18))
        assert payload == ARP_REQUEST + bytes(18)

    @given(ethernet_headers(), st.binary(max_size=80))
    def test_padded_length(self, header: EthernetHeader, payload: bytes) -> None:
        frame = header.emit(payload)
        unpadded = header.emit(payload, pad=False)
        assert len(unpadded) == header.header_len + len(payload)
        assert len(frame) == max(MIN_FRAME_LEN, len(unpadded))
        assert frame == unpadded + bytes(len(frame) - len(unpadded))


class TestRefusals:
    @pytest.mark.parametrize("length_field", [0x0000, 0x002E, 0x05DC, 0x05FF])
    def test_ieee_802_3_length_field_is_unsupported(self, length_field: int) -> None:
        frame = bytes.fromhex("0180c2000000 66778899aabb") + length_field.to_bytes(2, "big") + bytes(46)
        with pytest.raises(MalformedPacket) as caught:
            EthernetHeader.parse(frame)
        assert caught.value.reason is Malformation.UNSUPPORTED
        assert caught.value.protocol == "ethernet"

    def test_802_3_length_after_a_tag_is_unsupported(self) -> None:
        frame = bytes.fromhex("001122334455 66778899aabb 8100 0064 002e") + bytes(46)
        with pytest.raises(MalformedPacket) as caught:
            EthernetHeader.parse(frame)
        assert caught.value.reason is Malformation.UNSUPPORTED

    @pytest.mark.parametrize("length", range(HEADER_LEN))
    def test_truncated_header(self, length: int) -> None:
        with pytest.raises(MalformedPacket) as caught:
            EthernetHeader.parse(BROADCAST_ARP_FRAME[:length])
        assert caught.value.reason is Malformation.TRUNCATED

    @pytest.mark.parametrize("length", range(HEADER_LEN, VLAN_HEADER_LEN))
    def test_truncated_tag(self, length: int) -> None:
        with pytest.raises(MalformedPacket) as caught:
            EthernetHeader.parse(TAGGED_FRAME[:length])
        assert caught.value.reason is Malformation.TRUNCATED

    def test_header_alone_is_a_frame_with_empty_payload(self) -> None:
        assert EthernetHeader.parse(BROADCAST_ARP_FRAME[:14]) == (BROADCAST_ARP_HEADER, b"")
        assert EthernetHeader.parse(TAGGED_FRAME[:18]) == (TAGGED_HEADER, b"")

    @pytest.mark.parametrize("ethertype", [0x0000, 0x05FF, 0x10000, -1])
    def test_emit_refuses_a_length_or_out_of_range_ethertype(self, ethertype: int) -> None:
        with pytest.raises(ValueError, match="EtherType"):
            EthernetHeader(BROADCAST, BROADCAST, ethertype).emit(b"")

    @pytest.mark.parametrize("tag", [VlanTag(vid=4096), VlanTag(vid=-1), VlanTag(vid=1, pcp=8), VlanTag(1, pcp=-1)])
    def test_emit_refuses_a_bad_tag(self, tag: VlanTag) -> None:
        with pytest.raises(ValueError, match=r"802\.1Q"):
            EthernetHeader(BROADCAST, BROADCAST, EtherType.IPV4, tag).emit(b"")


class TestFrameView:
    def test_fields_of_an_untagged_frame(self) -> None:
        view = EthernetFrame(BROADCAST_ARP_FRAME)
        assert view.dst == b"\xff" * 6
        assert view.src == bytes.fromhex("02000000000a")
        assert view.ethertype == 0x0806
        assert view.is_broadcast
        assert view.is_multicast

    def test_fields_of_a_tagged_frame_look_through_the_tag(self) -> None:
        view = EthernetFrame(TAGGED_FRAME)
        assert view.dst == bytes.fromhex("001122334455")
        assert view.src == bytes.fromhex("66778899aabb")
        assert view.ethertype == 0x0800
        assert not view.is_broadcast
        assert not view.is_multicast

    def test_multicast_destination(self) -> None:
        view = EthernetFrame(bytes.fromhex("01005e0000fb 66778899aabb 0800"))
        assert view.is_multicast
        assert not view.is_broadcast

    def test_a_bytearray_is_read_in_place(self) -> None:
        buffer = bytearray(TAGGED_FRAME)
        view = EthernetFrame(buffer)
        buffer[0:6] = b"\xff" * 6
        assert view.is_broadcast
        assert view.dst == b"\xff" * 6
        assert isinstance(view.dst, bytes)

    def test_short_tagged_frame_reports_the_tpid(self) -> None:
        assert EthernetFrame(TAGGED_FRAME[:16]).ethertype == 0x8100
        assert EthernetFrame(TAGGED_FRAME[:17]).ethertype == 0x8100

    def test_tagged_header_alone_reports_the_inner_ethertype(self) -> None:
        assert EthernetFrame(TAGGED_FRAME[:18]).ethertype == 0x0800

    @pytest.mark.parametrize("length", range(HEADER_LEN))
    def test_truncated(self, length: int) -> None:
        with pytest.raises(MalformedPacket) as caught:
            EthernetFrame(BROADCAST_ARP_FRAME[:length])
        assert caught.value.reason is Malformation.TRUNCATED

    @given(ethernet_headers(), st.binary(max_size=64))
    def test_view_agrees_with_parse(self, header: EthernetHeader, payload: bytes) -> None:
        frame = header.emit(payload)
        view = EthernetFrame(frame)
        assert view.dst == header.dst.packed
        assert view.src == header.src.packed
        assert view.ethertype == header.ethertype
        assert view.is_broadcast is header.dst.is_broadcast
        assert view.is_multicast is header.dst.is_multicast


class TestRoundTrip:
    # emit -> parse over random headers is in test_malformed_l2l3.py, with the other protocols.
    @given(
        mac_addresses(),
        mac_addresses(),
        st.none() | st.integers(min_value=0, max_value=0xFFFF),
        ethertypes(allow_vlan_tpid=True),
        st.binary(max_size=80),
    )
    def test_parse_then_emit(
        self, dst: MacAddress, src: MacAddress, tci: int | None, ethertype: int, payload: bytes
    ) -> None:
        assume(tci is not None or ethertype != EtherType.VLAN)  # untagged 0x8100 *is* a tag
        tag = b"" if tci is None else b"\x81\x00" + tci.to_bytes(2, "big")
        frame = dst.packed + src.packed + tag + ethertype.to_bytes(2, "big") + payload
        header, rest = EthernetHeader.parse(frame)
        assert rest == payload
        assert header.emit(rest, pad=False) == frame
        assert (header.vlan is None) is (tci is None)
