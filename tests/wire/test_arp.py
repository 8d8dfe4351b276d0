"""ARP (RFC 826, RFC 5227): the four forms, golden bytes both ways, and what is refused.

Golden packets are written out field by field from RFC 826's layout (the request matches scapy 2.8's
``raw(ARP(op=1, hwsrc="02:00:00:00:00:0a", psrc="192.168.1.10", pdst="192.168.1.11"))``).
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import ipv4_addresses, mac_addresses

from wirelab.wire.arp import PACKET_LEN, ArpOperation, ArpPacket
from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.mac import ZERO, MacAddress

ALICE_MAC = MacAddress("02:00:00:00:00:0a")
ALICE_IP = IPv4Address("192.168.1.10")
BOB_MAC = MacAddress("02:00:00:00:00:0b")
BOB_IP = IPv4Address("192.168.1.11")


def arp_bytes(op: int, sha: str, spa: str, tha: str, tpa: str) -> bytes:
    """RFC 826's packet: Ethernet (1), IPv4 (0x0800), lengths 6 and 4, then op and the addresses."""
    return bytes.fromhex("0001 0800 06 04") + op.to_bytes(2, "big") + bytes.fromhex(sha + spa + tha + tpa)


# "Who has 192.168.1.11? Tell 192.168.1.10."
REQUEST = arp_bytes(1, "02000000000a", "c0a8010a", "000000000000", "c0a8010b")
# "192.168.1.11 is at 02:00:00:00:00:0b."
REPLY = arp_bytes(2, "02000000000b", "c0a8010b", "02000000000a", "c0a8010a")
# RFC 5227 probe: "is anyone using 192.168.1.10?" (sender IP all zeros).
PROBE = arp_bytes(1, "02000000000a", "00000000", "000000000000", "c0a8010a")
# RFC 5227 announcement (gratuitous ARP): a request for one's own address.
GRATUITOUS = arp_bytes(1, "02000000000a", "c0a8010a", "000000000000", "c0a8010a")

GOLDEN = [
    pytest.param(REQUEST, ArpPacket(ArpOperation.REQUEST, ALICE_MAC, ALICE_IP, ZERO, BOB_IP), id="request"),
    pytest.param(REPLY, ArpPacket(ArpOperation.REPLY, BOB_MAC, BOB_IP, ALICE_MAC, ALICE_IP), id="reply"),
    pytest.param(PROBE, ArpPacket(ArpOperation.REQUEST, ALICE_MAC, IPv4Address(0), ZERO, ALICE_IP), id="probe"),
    pytest.param(GRATUITOUS, ArpPacket(ArpOperation.REQUEST, ALICE_MAC, ALICE_IP, ZERO, ALICE_IP), id="gratuitous"),
]


class TestGolden:
    @pytest.mark.parametrize(("wire", "value"), GOLDEN)
    def test_parse(self, wire: bytes, value: ArpPacket) -> None:
        assert ArpPacket.parse(wire) == value

    @pytest.mark.parametrize(("wire", "value"), GOLDEN)
    def test_emit(self, wire: bytes, value: ArpPacket) -> None:
        assert value.emit() == wire
        assert len(wire) == PACKET_LEN == 28

    def test_parsed_fields(self) -> None:
        packet = ArpPacket.parse(REQUEST)
        assert packet.operation is ArpOperation.REQUEST
        assert packet.sender_mac == MacAddress("02-00-00-00-00-0A")
        assert packet.sender_ip == IPv4Address("192.168.1.10")
        assert packet.target_mac == ZERO
        assert packet.target_ip == IPv4Address("192.168.1.11")
        assert ArpPacket.parse(REPLY).operation is ArpOperation.REPLY


class TestForms:
    def test_request_constructor(self) -> None:
        assert ArpPacket.request(ALICE_MAC, ALICE_IP, BOB_IP).emit() == REQUEST

    def test_probe_constructor(self) -> None:
        assert ArpPacket.probe(ALICE_MAC, ALICE_IP).emit() == PROBE

    def test_gratuitous_constructor(self) -> None:
        assert ArpPacket.gratuitous(ALICE_MAC, ALICE_IP).emit() == GRATUITOUS

    def test_reply_to(self) -> None:
        request = ArpPacket.parse(REQUEST)
        reply = ArpPacket.reply_to(request, BOB_MAC)
        assert reply.operation is ArpOperation.REPLY
        assert reply.sender_mac == BOB_MAC  # the answer: my MAC
        assert reply.sender_ip == request.target_ip  # for the address asked about
        assert reply.target_mac == request.sender_mac  # back to the asker
        assert reply.target_ip == request.sender_ip
        assert reply.emit() == REPLY

    @pytest.mark.parametrize(
        ("wire", "probe", "gratuitous"),
        [
            (REQUEST, False, False),
            (REPLY, False, False),
            (PROBE, True, False),
            (GRATUITOUS, False, True),
            # A gratuitous *reply* (some stacks announce that way) is gratuitous too.
            (arp_bytes(2, "02000000000a", "c0a8010a", "ffffffffffff", "c0a8010a"), False, True),
            # A reply from 0.0.0.0 is not a probe: probes are requests (RFC 5227 §2.1.1).
            (arp_bytes(2, "02000000000a", "00000000", "000000000000", "c0a8010a"), False, False),
            # 0.0.0.0 asking for 0.0.0.0: a probe, never an announcement.
            (arp_bytes(1, "02000000000a", "00000000", "000000000000", "00000000"), True, False),
        ],
    )
    def test_recognised_by_properties(self, wire: bytes, probe: bool, gratuitous: bool) -> None:
        packet = ArpPacket.parse(wire)
        assert packet.is_probe is probe
        assert packet.is_gratuitous is gratuitous

    @given(mac_addresses(), ipv4_addresses(), ipv4_addresses(), mac_addresses())
    def test_reply_to_any_request_swaps_roles(
        self, asker: MacAddress, asker_ip: IPv4Address, wanted: IPv4Address, owner: MacAddress
    ) -> None:
        reply = ArpPacket.reply_to(ArpPacket.request(asker, asker_ip, wanted), owner)
        assert reply == ArpPacket(ArpOperation.REPLY, owner, wanted, asker, asker_ip)
        wire = reply.emit()
        assert wire[6:8] == b"\x00\x02"
        assert wire[8:14] == owner.packed
        assert wire[14:18] == wanted.packed
        assert wire[18:24] == asker.packed
        assert wire[24:28] == asker_ip.packed


class TestRefusals:
    @pytest.mark.parametrize(
        ("offset", "value", "what"),
        [
            (0, b"\x00\x06", "hardware type IEEE 802 (6)"),
            (0, b"\x00\x00", "hardware type 0"),
            (2, b"\x86\xdd", "protocol type IPv6"),
            (2, b"\x08\x06", "protocol type ARP"),
            (4, b"\x08", "hardware length 8"),
            (4, b"\x00", "hardware length 0"),
            (5, b"\x10", "protocol length 16"),
            (5, b"\x06", "protocol length 6"),
            (6, b"\x00\x00", "operation 0"),
            (6, b"\x00\x03", "operation 3 (RARP request)"),
            (6, b"\x00\x04", "operation 4 (RARP reply)"),
            (6, b"\x01\x01", "operation 257"),
        ],
    )
    def test_wrong_fixed_fields(self, offset: int, value: bytes, what: str) -> None:
        wire = REQUEST[:offset] + value + REQUEST[offset + len(value) :]
        with pytest.raises(MalformedPacket) as caught:
            ArpPacket.parse(wire)
        assert caught.value.reason is Malformation.UNSUPPORTED, what
        assert caught.value.protocol == "arp"

    @pytest.mark.parametrize("length", range(PACKET_LEN))
    def test_truncated(self, length: int) -> None:
        with pytest.raises(MalformedPacket) as caught:
            ArpPacket.parse(REQUEST[:length])
        assert caught.value.reason is Malformation.TRUNCATED


class TestPadding:
    def test_ethernet_padding_is_ignored(self) -> None:
        # 28 octets of ARP in a 60-octet frame: 18 octets of padding follow it.
        assert ArpPacket.parse(REQUEST + bytes(18)) == ArpPacket.parse(REQUEST)

    @given(st.binary(max_size=100))
    def test_any_trailer_is_ignored(self, trailer: bytes) -> None:
        assert ArpPacket.parse(REPLY + trailer) == ArpPacket.parse(REPLY)


class TestRoundTrip:
    # emit -> parse over random packets is in test_malformed_l2l3.py, with the other protocols.
    @given(st.sampled_from([1, 2]), st.binary(min_size=20, max_size=20))
    def test_parse_then_emit(self, op: int, addresses: bytes) -> None:
        wire = bytes.fromhex("0001 0800 06 04") + op.to_bytes(2, "big") + addresses
        assert ArpPacket.parse(wire).emit() == wire
