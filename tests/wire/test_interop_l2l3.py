"""Layer 2 and 3 checked against scapy: an implementation nobody here wrote.

Both directions, field by field: what wirelab emits, scapy decodes to the same fields (and scapy, asked
to recompute a checksum from scratch, gets the one we wrote); what scapy builds, wirelab parses to the
same fields and emits back to the same bytes. Then whole frames as golden hex, produced once with
scapy 2.8 (the expression is above each) and tested in both directions.

scapy does not pad Ethernet frames to 60 octets, so frames are emitted here with ``pad=False``.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import (
    ICMP,
    IP,
    UDP,
    IPOption,
    IPOption_LSRR,
    IPOption_NOP,
    IPOption_Router_Alert,
    IPOption_RR,
    IPOption_Security,
    IPOption_SSRR,
    IPOption_Stream_Id,
    UDPerror,
    defragment,
)
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Packet, Raw
from strategies import (
    arp_packets,
    ethernet_headers,
    ethertypes,
    icmp_echo_messages,
    icmp_error_messages,
    ipv4_addresses,
    ipv4_datagrams,
    ipv4_headers,
    mac_addresses,
)

from wirelab.wire.arp import ArpOperation, ArpPacket
from wirelab.wire.ethernet import EthernetHeader, EtherType, VlanTag
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType, TimeExceededCode, UnreachableCode
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header, fragment
from wirelab.wire.mac import BROADCAST, MacAddress

payloads = st.binary(max_size=64)
uint16 = st.integers(min_value=0, max_value=0xFFFF)
uint8 = st.integers(min_value=0, max_value=0xFF)


def rechecksummed(packet: Packet, layer: type[Packet]) -> int:
    """The checksum scapy computes for ``layer`` of ``packet`` when its checksum field is deleted."""
    fresh = packet.copy()
    del fresh[layer].chksum
    return int(packet.__class__(bytes(fresh))[layer].chksum)


def scapy_ip_flags(header: Ipv4Header) -> int:
    """scapy's IP ``flags``: bit 0 MF, bit 1 DF, bit 2 the reserved ("evil") bit."""
    return header.more_fragments | header.dont_fragment << 1 | header.reserved_flag << 2


# --- Ethernet and 802.1Q ---------------------------------------------------------------------------


class TestEthernet:
    @given(ethernet_headers(), payloads)
    def test_ours_decoded_by_scapy(self, header: EthernetHeader, payload: bytes) -> None:
        frame = header.emit(payload, pad=False)
        decoded = Ether(frame)
        assert MacAddress(decoded.dst) == header.dst
        assert MacAddress(decoded.src) == header.src
        if header.vlan is None:
            assert decoded.type == header.ethertype
        else:
            assert decoded.type == 0x8100
            tag = decoded[Dot1Q]
            assert (tag.vlan, tag.prio, tag.dei) == (header.vlan.vid, header.vlan.pcp, header.vlan.dei)
            assert tag.type == header.ethertype
        assert bytes(decoded.payload if header.vlan is None else decoded[Dot1Q].payload) == payload

    @given(mac_addresses(), mac_addresses(), ethertypes(), payloads)
    def test_scapy_untagged_decoded_by_us(self, dst: MacAddress, src: MacAddress, ethertype: int, data: bytes) -> None:
        frame = bytes(Ether(dst=str(dst), src=str(src), type=ethertype) / Raw(data))
        header, payload = EthernetHeader.parse(frame)
        assert header == EthernetHeader(dst, src, ethertype, None)
        assert payload == data
        assert header.emit(payload, pad=False) == frame

    @given(
        mac_addresses(),
        mac_addresses(),
        st.integers(min_value=0, max_value=4095),
        st.integers(min_value=0, max_value=7),
        st.booleans(),
        ethertypes(allow_vlan_tpid=True),
        payloads,
    )
    def test_scapy_dot1q_decoded_by_us(
        self, dst: MacAddress, src: MacAddress, vid: int, pcp: int, dei: bool, ethertype: int, data: bytes
    ) -> None:
        frame = bytes(
            Ether(dst=str(dst), src=str(src)) / Dot1Q(vlan=vid, prio=pcp, dei=dei, type=ethertype) / Raw(data)
        )
        header, payload = EthernetHeader.parse(frame)
        assert header == EthernetHeader(dst, src, ethertype, VlanTag(vid, pcp, dei))
        assert payload == data
        assert header.emit(payload, pad=False) == frame

    def test_scapy_broadcast(self) -> None:
        frame = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:01", type=0x0806) / Raw(bytes(28)))
        header, _ = EthernetHeader.parse(frame)
        assert header.dst == BROADCAST
        assert header.dst.is_broadcast
        assert header.ethertype == EtherType.ARP


# --- ARP ---------------------------------------------------------------------------------------------


QEMU_HOST = MacAddress("52:54:00:12:34:56")
QEMU_GATEWAY = MacAddress("52:55:0a:00:02:02")

# Each form as a wirelab value and as the scapy fields that build the same packet.
REQUEST = ArpPacket.request(QEMU_HOST, IPv4Address("10.0.2.15"), IPv4Address("10.0.2.2"))
REQUEST_FIELDS = {
    "op": 1,
    "hwsrc": "52:54:00:12:34:56",
    "psrc": "10.0.2.15",
    "hwdst": "00:00:00:00:00:00",
    "pdst": "10.0.2.2",
}
REPLY = ArpPacket(ArpOperation.REPLY, QEMU_GATEWAY, IPv4Address("10.0.2.2"), QEMU_HOST, IPv4Address("10.0.2.15"))
REPLY_FIELDS = {
    "op": 2,
    "hwsrc": "52:55:0a:00:02:02",
    "psrc": "10.0.2.2",
    "hwdst": "52:54:00:12:34:56",
    "pdst": "10.0.2.15",
}
PROBE = ArpPacket.probe(QEMU_HOST, IPv4Address("10.0.2.15"))
PROBE_FIELDS = {
    "op": 1,
    "hwsrc": "52:54:00:12:34:56",
    "psrc": "0.0.0.0",
    "hwdst": "00:00:00:00:00:00",
    "pdst": "10.0.2.15",
}
GRATUITOUS = ArpPacket.gratuitous(QEMU_HOST, IPv4Address("10.0.2.15"))
GRATUITOUS_FIELDS = {
    "op": 1,
    "hwsrc": "52:54:00:12:34:56",
    "psrc": "10.0.2.15",
    "hwdst": "00:00:00:00:00:00",
    "pdst": "10.0.2.15",
}

ARP_FORMS = [
    pytest.param(REQUEST, REQUEST_FIELDS, id="request"),
    pytest.param(REPLY, REPLY_FIELDS, id="reply"),
    pytest.param(PROBE, PROBE_FIELDS, id="probe"),
    pytest.param(GRATUITOUS, GRATUITOUS_FIELDS, id="gratuitous"),
]


def assert_arp_fields(decoded: Packet, packet: ArpPacket) -> None:
    assert (decoded.hwtype, decoded.ptype, decoded.hwlen, decoded.plen) == (1, 0x0800, 6, 4)
    assert decoded.op == packet.operation
    assert MacAddress(decoded.hwsrc) == packet.sender_mac
    assert IPv4Address(decoded.psrc) == packet.sender_ip
    assert MacAddress(decoded.hwdst) == packet.target_mac
    assert IPv4Address(decoded.pdst) == packet.target_ip


class TestArp:
    @pytest.mark.parametrize(("packet", "fields"), ARP_FORMS)
    def test_forms_ours_decoded_by_scapy(self, packet: ArpPacket, fields: dict[str, object]) -> None:
        decoded = ARP(packet.emit())
        assert_arp_fields(decoded, packet)
        assert {name: decoded.getfieldval(name) for name in fields} == fields

    @pytest.mark.parametrize(("packet", "fields"), ARP_FORMS)
    def test_forms_scapy_decoded_by_us(self, packet: ArpPacket, fields: dict[str, object]) -> None:
        wire = bytes(ARP(**fields))
        assert ArpPacket.parse(wire) == packet
        assert packet.emit() == wire

    def test_scapy_recognises_the_forms_as_we_do(self) -> None:
        assert ARP(PROBE.emit()).psrc == "0.0.0.0"
        assert PROBE.is_probe
        assert not PROBE.is_gratuitous
        decoded = ARP(GRATUITOUS.emit())
        assert decoded.psrc == decoded.pdst
        assert GRATUITOUS.is_gratuitous
        assert not GRATUITOUS.is_probe
        assert not REQUEST.is_probe
        assert not REQUEST.is_gratuitous

    def test_reply_to_is_what_scapy_calls_is_at(self) -> None:
        request = ArpPacket.parse(bytes(ARP(**REQUEST_FIELDS)))
        reply = ArpPacket.reply_to(request, MacAddress("52:55:0a:00:02:02"))
        decoded = ARP(reply.emit())
        assert decoded.op == 2
        assert decoded.sprintf("%ARP.op%") == "is-at"
        assert (decoded.hwsrc, decoded.psrc) == ("52:55:0a:00:02:02", "10.0.2.2")
        assert (decoded.hwdst, decoded.pdst) == ("52:54:00:12:34:56", "10.0.2.15")

    @given(arp_packets())
    def test_ours_decoded_by_scapy(self, packet: ArpPacket) -> None:
        assert_arp_fields(ARP(packet.emit()), packet)

    @given(st.sampled_from([1, 2]), mac_addresses(), ipv4_addresses(), mac_addresses(), ipv4_addresses())
    def test_scapy_decoded_by_us(
        self, op: int, sha: MacAddress, spa: IPv4Address, tha: MacAddress, tpa: IPv4Address
    ) -> None:
        wire = bytes(ARP(op=op, hwsrc=str(sha), psrc=str(spa), hwdst=str(tha), pdst=str(tpa)))
        packet = ArpPacket.parse(wire)
        assert packet == ArpPacket(ArpOperation(op), sha, spa, tha, tpa)
        assert packet.emit() == wire

    def test_in_an_ethernet_frame_with_padding(self) -> None:
        frame = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src="52:54:00:12:34:56") / ARP(**REQUEST_FIELDS))
        header, payload = EthernetHeader.parse(frame + bytes(60 - len(frame)))
        assert header.ethertype == EtherType.ARP
        assert ArpPacket.parse(payload) == REQUEST


# --- IPv4 --------------------------------------------------------------------------------------------


def assert_ip_fields(decoded: Packet, header: Ipv4Header, payload: bytes) -> None:
    assert decoded.version == 4
    assert decoded.ihl == header.header_len // 4
    assert decoded.tos == header.dscp << 2 | header.ecn
    assert decoded.len == header.header_len + len(payload)
    assert decoded.id == header.identification
    assert int(decoded.flags) == scapy_ip_flags(header)
    assert decoded.frag * 8 == header.fragment_offset
    assert decoded.ttl == header.ttl
    assert decoded.proto == header.protocol
    assert IPv4Address(decoded.src) == header.src
    assert IPv4Address(decoded.dst) == header.dst
    assert b"".join(bytes(option) for option in decoded.options) == header.options


@st.composite
def scapy_options(draw: st.DrawFn) -> list[IPOption]:
    """A list of options as scapy builds them (it pads the list to 4 octets itself)."""
    routers = st.lists(ipv4_addresses().map(str), min_size=1, max_size=4)
    kinds = st.one_of(
        st.just(IPOption_NOP()),
        uint16.map(lambda alert: IPOption_Router_Alert(alert=alert)),
        uint16.map(lambda stream: IPOption_Stream_Id(security=stream)),
        st.just(IPOption_Security()),
        routers.map(lambda addresses: IPOption_RR(routers=addresses)),
        routers.map(lambda addresses: IPOption_LSRR(routers=addresses)),
        routers.map(lambda addresses: IPOption_SSRR(routers=addresses)),
    )
    options: list[IPOption] = []
    for option in draw(st.lists(kinds, max_size=4)):
        if sum(len(bytes(o)) for o in options) + len(bytes(option)) <= 40:
            options.append(option)
    return options


class TestIpv4:
    @given(ipv4_headers(), payloads)
    def test_ours_decoded_by_scapy(self, header: Ipv4Header, payload: bytes) -> None:
        wire = header.emit(payload)
        decoded = IP(wire)
        assert_ip_fields(decoded, header, payload)
        assert decoded.chksum == int.from_bytes(wire[10:12], "big")
        assert rechecksummed(decoded, IP) == decoded.chksum

    @given(
        st.tuples(ipv4_addresses(), ipv4_addresses()),
        uint8,
        uint8,
        uint16,
        st.integers(min_value=0, max_value=7),
        st.integers(min_value=0, max_value=0x1FFF),
        uint8,
        scapy_options(),
        payloads,
    )
    def test_scapy_decoded_by_us(
        self,
        addresses: tuple[IPv4Address, IPv4Address],
        tos: int,
        proto: int,
        ident: int,
        flags: int,
        frag: int,
        ttl: int,
        options: list[IPOption],
        data: bytes,
    ) -> None:
        src, dst = addresses
        packet = IP(
            src=str(src), dst=str(dst), tos=tos, proto=proto, id=ident, flags=flags, frag=frag, ttl=ttl, options=options
        )
        wire = bytes(packet / Raw(data))
        header, payload = Ipv4Header.parse(wire)
        option_bytes = b"".join(bytes(option) for option in options)
        assert header == Ipv4Header(
            src=src,
            dst=dst,
            protocol=proto,
            ttl=ttl,
            identification=ident,
            dont_fragment=bool(flags & 2),
            more_fragments=bool(flags & 1),
            fragment_offset=frag * 8,
            dscp=tos >> 2,
            ecn=tos & 3,
            options=option_bytes + bytes(-len(option_bytes) % 4),
            reserved_flag=bool(flags & 4),
        )
        assert payload == data
        assert header.emit(payload) == wire

    def test_router_alert_and_record_route_as_scapy_reads_them(self) -> None:
        options = b"\x94\x04\x00\x00" + b"\x07\x0b\x04" + bytes(8) + b"\x00"
        header = Ipv4Header(IPv4Address("192.0.2.1"), IPv4Address("192.0.2.2"), IpProtocol.UDP, options=options)
        decoded = IP(header.emit(b""))
        router_alert, record_route, end = decoded.options
        assert isinstance(router_alert, IPOption_Router_Alert)
        assert (router_alert.copy_flag, router_alert.option, router_alert.length) == (1, 20, 4)
        assert isinstance(record_route, IPOption_RR)
        assert (record_route.copy_flag, record_route.length, record_route.pointer) == (0, 11, 4)
        assert record_route.routers == ["0.0.0.0", "0.0.0.0"]
        assert end.option == 0

    @given(
        ipv4_headers(fragments=False, options=st.sampled_from([b"", b"\x94\x04\x00\x00"])),
        st.integers(min_value=1, max_value=3000).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
        st.integers(min_value=68, max_value=1500),
    )
    @settings(max_examples=50)  # scapy takes ~1 ms per fragment
    def test_our_fragments_reassembled_by_scapy(self, header: Ipv4Header, payload: bytes, mtu: int) -> None:
        pieces = [IP(fragment_header.emit(data)) for fragment_header, data in fragment(header, payload, mtu)]
        for piece in pieces:
            assert rechecksummed(piece, IP) == piece.chksum
        whole = defragment(pieces)
        assert len(whole) == 1
        assert bytes(whole[0].payload) == payload


# --- ICMPv4 ------------------------------------------------------------------------------------------


def assert_icmp_checksum(decoded: Packet, wire: bytes) -> None:
    assert decoded.chksum == int.from_bytes(wire[2:4], "big")
    assert rechecksummed(decoded, ICMP) == decoded.chksum


class TestIcmp:
    @given(icmp_echo_messages())
    def test_echo_ours_decoded_by_scapy(self, message: IcmpMessage) -> None:
        wire = message.emit()
        decoded = ICMP(wire)
        assert (decoded.type, decoded.code) == (message.type, 0)
        assert (decoded.id, decoded.seq) == (message.identifier, message.sequence)
        assert bytes(decoded.payload) == message.data
        assert_icmp_checksum(decoded, wire)

    @given(st.sampled_from([0, 8]), uint16, uint16, payloads)
    def test_echo_scapy_decoded_by_us(self, kind: int, identifier: int, sequence: int, data: bytes) -> None:
        wire = bytes(ICMP(type=kind, id=identifier, seq=sequence) / Raw(data))
        message = IcmpMessage.parse(wire)
        assert (message.type, message.code) == (kind, 0)
        assert (message.identifier, message.sequence, message.data) == (identifier, sequence, data)
        assert message.emit() == wire

    def test_reply_as_scapy_answers(self) -> None:
        request = ICMP(type=8, id=0x4D2, seq=7) / Raw(b"0123456789")
        reply = IcmpMessage.parse(bytes(request)).reply()
        decoded = ICMP(reply.emit())
        assert decoded.answers(request)
        assert bytes(decoded) == bytes(ICMP(type=0, id=0x4D2, seq=7) / Raw(b"0123456789"))

    @pytest.mark.parametrize("code", list(UnreachableCode))
    def test_every_unreachable_code_both_ways(self, code: UnreachableCode) -> None:
        datagram = bytes(IP(src="10.0.0.1", dst="10.9.9.9", id=99) / UDP(sport=5000, dport=7) / Raw(b"x" * 40))
        mtu = 1400 if code == UnreachableCode.FRAGMENTATION_NEEDED else 0
        ours = IcmpMessage.destination_unreachable(code, datagram, mtu).emit()
        decoded = ICMP(ours)
        assert (decoded.type, decoded.code) == (3, code)
        assert decoded.nexthopmtu == mtu
        assert decoded.sprintf("%ICMP.type%") == "dest-unreach"
        quoted = decoded.payload
        assert (quoted.src, quoted.dst, quoted.id) == ("10.0.0.1", "10.9.9.9", 99)
        assert (quoted[UDPerror].sport, quoted[UDPerror].dport) == (5000, 7)  # scapy: the quoted UDP header
        assert bytes(quoted) == datagram[:28]
        assert_icmp_checksum(decoded, ours)
        theirs = bytes(ICMP(type=3, code=int(code), nexthopmtu=mtu) / Raw(datagram[:28]))
        assert ours == theirs
        assert IcmpMessage.parse(theirs) == IcmpMessage(IcmpType.DEST_UNREACHABLE, code, mtu, datagram[:28])

    @pytest.mark.parametrize("mtu", [68, 576, 1280, 1492, 65535])
    def test_fragmentation_needed_next_hop_mtu(self, mtu: int) -> None:
        datagram = bytes(IP(src="10.0.0.1", dst="10.9.9.9", flags="DF") / UDP() / Raw(b"x" * 1500))
        ours = IcmpMessage.destination_unreachable(UnreachableCode.FRAGMENTATION_NEEDED, datagram, mtu).emit()
        assert ICMP(ours).nexthopmtu == mtu
        theirs = bytes(ICMP(type=3, code=4, nexthopmtu=mtu) / Raw(datagram[:28]))
        assert IcmpMessage.parse(theirs).next_hop_mtu == mtu
        assert ours == theirs

    @pytest.mark.parametrize("code", list(TimeExceededCode))
    def test_time_exceeded_both_ways(self, code: TimeExceededCode) -> None:
        datagram = bytes(IP(src="10.0.0.1", dst="10.9.9.9", ttl=1, options=[IPOption_Router_Alert()]) / ICMP(seq=3))
        ours = IcmpMessage.time_exceeded(code, datagram).emit()
        decoded = ICMP(ours)
        assert (decoded.type, decoded.code) == (11, code)
        assert bytes(decoded.payload) == datagram[:32]  # IHL 6: 24 + 8
        assert decoded.payload.ttl == 1
        assert_icmp_checksum(decoded, ours)
        theirs = bytes(ICMP(type=11, code=int(code)) / Raw(datagram[:32]))
        assert ours == theirs
        assert IcmpMessage.parse(theirs) == IcmpMessage(IcmpType.TIME_EXCEEDED, code, 0, datagram[:32])

    @given(icmp_error_messages())
    def test_errors_ours_decoded_by_scapy(self, message: IcmpMessage) -> None:
        wire = message.emit()
        decoded = ICMP(wire)
        assert (decoded.type, decoded.code) == (message.type, message.code)
        if message.type == IcmpType.DEST_UNREACHABLE:
            assert decoded.nexthopmtu == message.next_hop_mtu
        assert bytes(decoded.payload) == message.quoted
        assert_icmp_checksum(decoded, wire)

    @given(ipv4_datagrams(max_payload=40), st.sampled_from([(3, c) for c in range(16)] + [(11, 0), (11, 1)]), uint16)
    def test_errors_scapy_decoded_by_us(self, datagram: bytes, kind_code: tuple[int, int], mtu: int) -> None:
        kind, code = kind_code
        mtu = mtu if (kind, code) == (3, 4) else 0
        quote = datagram[: (datagram[0] & 0x0F) * 4 + 8]
        fields = {"nexthopmtu": mtu} if kind == 3 else {}
        wire = bytes(ICMP(type=kind, code=code, **fields) / Raw(quote))
        message = IcmpMessage.parse(wire)
        assert (message.type, message.code, message.next_hop_mtu, message.quoted) == (kind, code, mtu, quote)
        assert message.emit() == wire

    @given(
        ethernet_headers(tagged=False).map(lambda header: header._replace(ethertype=EtherType.IPV4)),
        ipv4_headers(fragments=False).map(lambda header: header._replace(protocol=IpProtocol.ICMP)),
        icmp_echo_messages(),
    )
    def test_whole_frame_ours_decoded_by_scapy(
        self, ethernet: EthernetHeader, ip: Ipv4Header, message: IcmpMessage
    ) -> None:
        frame = ethernet.emit(ip.emit(message.emit()), pad=False)
        decoded = Ether(frame)
        assert MacAddress(decoded.dst) == ethernet.dst
        assert decoded.type == 0x0800
        assert_ip_fields(decoded[IP], ip, message.emit())
        assert rechecksummed(decoded, IP) == decoded[IP].chksum
        assert rechecksummed(decoded, ICMP) == decoded[ICMP].chksum
        assert (decoded[ICMP].id, decoded[ICMP].seq) == (message.identifier, message.sequence)


# --- Golden frames (hex produced once with scapy 2.8.0's raw(); the expression is above each) ----------

HOST_IP = IPv4Address("10.0.2.15")
GATEWAY_IP = IPv4Address("10.0.2.2")

# The datagram quoted by the error messages below: raw(IP(src="10.0.2.15", dst="203.0.113.9", id=0x0101,
# flags="DF", ttl=64) / UDP(sport=40000, dport=53) / (b"q" * 1400))[:28]
QUOTED = bytes.fromhex("45000594010140004011ec3f0a00020fcb0071099c4000350580de2d")

GOLDEN_FRAMES = [
    # Ether(dst="ff:ff:ff:ff:ff:ff", src="52:54:00:12:34:56") / ARP(op=1, hwsrc="52:54:00:12:34:56",
    #   psrc="10.0.2.15", hwdst="00:00:00:00:00:00", pdst="10.0.2.2")
    pytest.param(
        "ffffffffffff525400123456080600010800060400015254001234560a00020f0000000000000a000202",
        (EthernetHeader(BROADCAST, QEMU_HOST, EtherType.ARP), ArpPacket.request(QEMU_HOST, HOST_IP, GATEWAY_IP)),
        id="arp-request",
    ),
    # Ether(dst="52:54:00:12:34:56", src="52:55:0a:00:02:02") / ARP(op=2, hwsrc="52:55:0a:00:02:02",
    #   psrc="10.0.2.2", hwdst="52:54:00:12:34:56", pdst="10.0.2.15")
    pytest.param(
        "52540012345652550a0002020806000108000604000252550a0002020a0002025254001234560a00020f",
        (
            EthernetHeader(QEMU_HOST, QEMU_GATEWAY, EtherType.ARP),
            ArpPacket.reply_to(ArpPacket.request(QEMU_HOST, HOST_IP, GATEWAY_IP), QEMU_GATEWAY),
        ),
        id="arp-reply",
    ),
    # Ether(dst="ff:ff:ff:ff:ff:ff", src="52:54:00:12:34:56") / ARP(op=1, hwsrc="52:54:00:12:34:56",
    #   psrc="0.0.0.0", hwdst="00:00:00:00:00:00", pdst="10.0.2.15")
    pytest.param(
        "ffffffffffff52540012345608060001080006040001525400123456000000000000000000000a00020f",
        (EthernetHeader(BROADCAST, QEMU_HOST, EtherType.ARP), ArpPacket.probe(QEMU_HOST, HOST_IP)),
        id="arp-probe",
    ),
    # Ether(dst="ff:ff:ff:ff:ff:ff", src="52:54:00:12:34:56") / ARP(op=1, hwsrc="52:54:00:12:34:56",
    #   psrc="10.0.2.15", hwdst="00:00:00:00:00:00", pdst="10.0.2.15")
    pytest.param(
        "ffffffffffff525400123456080600010800060400015254001234560a00020f0000000000000a00020f",
        (EthernetHeader(BROADCAST, QEMU_HOST, EtherType.ARP), ArpPacket.gratuitous(QEMU_HOST, HOST_IP)),
        id="arp-gratuitous",
    ),
    # Ether(dst="52:55:0a:00:02:02", src="52:54:00:12:34:56") / Dot1Q(prio=3, vlan=42) / IP(src="10.0.2.15",
    #   dst="10.0.2.2", id=0xabcd, flags="DF", ttl=64) / ICMP(type=8, id=1, seq=1) / b"ping"
    pytest.param(
        "52550a0002025254001234568100602a080045000020abcd4000400176ff0a00020f0a0002020800192d0001000170696e67",
        (
            EthernetHeader(QEMU_GATEWAY, QEMU_HOST, EtherType.IPV4, VlanTag(vid=42, pcp=3)),
            Ipv4Header(HOST_IP, GATEWAY_IP, IpProtocol.ICMP, ttl=64, identification=0xABCD, dont_fragment=True),
            IcmpMessage.echo_request(1, 1, b"ping"),
        ),
        id="vlan-ping",
    ),
    # Ether(dst="52:54:00:12:34:56", src="52:55:0a:00:02:02") / IP(src="10.0.2.2", dst="10.0.2.15",
    #   id=0x5555, ttl=255, tos=0xc0, options=[IPOption_Router_Alert()]) / ICMP(type=3, code=4,
    #   nexthopmtu=1280) / QUOTED
    pytest.param(
        "52540012345652550a000202080046c0003c55550000ff01b8960a0002020a00020f94040000030477d800000500" + QUOTED.hex(),
        (
            EthernetHeader(QEMU_HOST, QEMU_GATEWAY, EtherType.IPV4),
            Ipv4Header(
                GATEWAY_IP,
                HOST_IP,
                IpProtocol.ICMP,
                ttl=255,
                identification=0x5555,
                dscp=48,  # CS6, network control
                options=b"\x94\x04\x00\x00",
            ),
            IcmpMessage.destination_unreachable(UnreachableCode.FRAGMENTATION_NEEDED, QUOTED + b"q" * 1372, 1280),
        ),
        id="frag-needed",
    ),
    # Ether(dst="52:54:00:12:34:56", src="52:55:0a:00:02:02") / IP(src="10.0.2.2", dst="10.0.2.15", id=2,
    #   ttl=64) / ICMP(type=11, code=1) / QUOTED
    pytest.param(
        "52540012345652550a00020208004500003800020000400162b30a0002020a00020f0b0174db00000000" + QUOTED.hex(),
        (
            EthernetHeader(QEMU_HOST, QEMU_GATEWAY, EtherType.IPV4),
            Ipv4Header(GATEWAY_IP, HOST_IP, IpProtocol.ICMP, ttl=64, identification=2),
            IcmpMessage.time_exceeded(TimeExceededCode.FRAGMENT_REASSEMBLY_TIME_EXCEEDED, QUOTED),
        ),
        id="reassembly-time-exceeded",
    ),
    # Ether(dst="52:55:0a:00:02:02", src="52:54:00:12:34:56") / IP(src="10.0.2.15", dst="10.0.2.2",
    #   id=0x7777, flags="MF", frag=0, ttl=64, proto=17) / bytes(range(24))
    pytest.param(
        "52550a00020252540012345608004500002c777720004011cb390a00020f0a000202" + bytes(range(24)).hex(),
        (
            EthernetHeader(QEMU_GATEWAY, QEMU_HOST, EtherType.IPV4),
            Ipv4Header(HOST_IP, GATEWAY_IP, IpProtocol.UDP, ttl=64, identification=0x7777, more_fragments=True),
            bytes(range(24)),
        ),
        id="first-fragment",
    ),
]


def parse_frame(frame: bytes) -> tuple[object, ...]:
    """Ethernet, then ARP or IPv4, then ICMP (other IPv4 payloads stay bytes)."""
    ethernet, rest = EthernetHeader.parse(frame)
    if ethernet.ethertype == EtherType.ARP:
        return ethernet, ArpPacket.parse(rest)
    ip, data = Ipv4Header.parse(rest)
    if ip.protocol == IpProtocol.ICMP:
        return ethernet, ip, IcmpMessage.parse(data)
    return ethernet, ip, data


def emit_frame(layers: tuple[object, ...]) -> bytes:
    ethernet, *upper = layers
    assert isinstance(ethernet, EthernetHeader)
    if len(upper) == 1:
        assert isinstance(upper[0], ArpPacket)
        return ethernet.emit(upper[0].emit(), pad=False)
    ip, data = upper
    assert isinstance(ip, Ipv4Header)
    return ethernet.emit(ip.emit(data.emit() if isinstance(data, IcmpMessage) else data), pad=False)  # type: ignore[arg-type]


class TestGoldenFrames:
    @pytest.mark.parametrize(("wire", "layers"), GOLDEN_FRAMES)
    def test_parse(self, wire: str, layers: tuple[object, ...]) -> None:
        assert parse_frame(bytes.fromhex(wire)) == layers

    @pytest.mark.parametrize(("wire", "layers"), GOLDEN_FRAMES)
    def test_emit(self, wire: str, layers: tuple[object, ...]) -> None:
        assert emit_frame(layers) == bytes.fromhex(wire)

    @pytest.mark.parametrize(("wire", "layers"), GOLDEN_FRAMES)
    def test_parse_padded(self, wire: str, layers: tuple[object, ...]) -> None:
        frame = bytes.fromhex(wire)
        padded = frame + bytes(max(0, 60 - len(frame)))
        assert parse_frame(padded) == layers  # IPv4's total length and ARP's fixed size drop the padding
