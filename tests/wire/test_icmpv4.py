"""ICMPv4 (RFC 792, RFC 1191): echo, destination unreachable, time exceeded, the quote, and refusals.

Golden messages were produced once with scapy 2.8 (``raw(ICMP(...)/...)``, expression in each comment)
and pasted as hex; checksums of hand-built messages are computed by :func:`reference_checksum`, RFC 1071's
loop written out here, not by the module under test.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import icmp_echo_messages, icmp_error_messages, icmp_messages, ipv4_datagrams

from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.icmpv4 import (
    HEADER_LEN,
    IcmpMessage,
    IcmpType,
    TimeExceededCode,
    UnreachableCode,
    quote,
)


def reference_checksum(message: bytes) -> int:
    """RFC 1071 §4.1 over ``message`` with its checksum field (octets 2-3) taken as zero."""
    message = message[:2] + b"\x00\x00" + message[4:]
    if len(message) % 2:
        message += b"\x00"
    total = sum(message[i] << 8 | message[i + 1] for i in range(0, len(message), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def icmp_bytes(kind: int, code: int, rest: bytes, data: bytes) -> bytes:
    """An ICMP message built octet by octet, its checksum by the reference loop."""
    message = bytes([kind, code, 0, 0]) + rest + data
    return message[:2] + reference_checksum(message).to_bytes(2, "big") + message[4:]


# raw(ICMP(type=8, id=0x1234, seq=1) / b"abcdefgh") and the same with type=0.
ECHO_REQUEST = bytes.fromhex("08005435123400016162636465666768")
ECHO_REPLY = bytes.fromhex("00005c35123400016162636465666768")

# A UDP traceroute probe with a Router Alert option (IHL 6), 44 octets: raw(IP(src="192.0.2.1",
# dst="198.51.100.7", id=0x1c46, ttl=1, proto=17, options=[IPOption_Router_Alert()])
# / UDP(sport=33434, dport=33435) / b"hello, world").
PROBE = bytes.fromhex(
    "4600002c1c46000001111c3bc0000201c6336407 94040000"  # IPv4 header, 24 octets
    "829a829b0014ce07"  # UDP header: the first 8 octets of the payload
    "68656c6c6f2c20776f726c64"  # "hello, world": not quoted
)
PROBE_QUOTE = PROBE[:32]
# raw(ICMP(type=11, code=0) / PROBE_QUOTE) and raw(ICMP(type=3, code=3) / PROBE_QUOTE).
TTL_EXCEEDED = bytes.fromhex("0b0021ae00000000") + PROBE_QUOTE
PORT_UNREACHABLE = bytes.fromhex("030329ab00000000") + PROBE_QUOTE

# raw(ICMP(type=3, code=4, nexthopmtu=1400) / IP(src="192.0.2.2", dst="1.2.3.4") / UDP()).
UDP_DNS_DATAGRAM = bytes.fromhex("4500001c000100004011b4c8c000020201020304 003500350008396c")
FRAG_NEEDED = bytes.fromhex("0304bda500000578") + UDP_DNS_DATAGRAM


def reason(data: bytes) -> Malformation:
    with pytest.raises(MalformedPacket) as caught:
        IcmpMessage.parse(data)
    assert caught.value.protocol == "icmp"
    return caught.value.reason


class TestEcho:
    def test_parse_request(self) -> None:
        message = IcmpMessage.parse(ECHO_REQUEST)
        assert message == IcmpMessage(IcmpType.ECHO_REQUEST, 0, 0x12340001, b"abcdefgh")
        assert message.type is IcmpType.ECHO_REQUEST
        assert message.identifier == 0x1234
        assert message.sequence == 1
        assert message.data == b"abcdefgh"
        assert not message.is_error

    def test_emit_request(self) -> None:
        assert IcmpMessage.echo_request(0x1234, 1, b"abcdefgh").emit() == ECHO_REQUEST

    def test_parse_reply(self) -> None:
        message = IcmpMessage.parse(ECHO_REPLY)
        assert message.type is IcmpType.ECHO_REPLY
        assert (message.identifier, message.sequence, message.data) == (0x1234, 1, b"abcdefgh")

    def test_emit_reply(self) -> None:
        assert IcmpMessage.echo_reply(0x1234, 1, b"abcdefgh").emit() == ECHO_REPLY

    def test_reply_to_a_request(self) -> None:
        assert IcmpMessage.parse(ECHO_REQUEST).reply().emit() == ECHO_REPLY
        assert IcmpMessage.parse(ECHO_REQUEST).reply() == IcmpMessage.parse(ECHO_REPLY)

    @pytest.mark.parametrize(("identifier", "sequence"), [(0, 0), (0xFFFF, 0xFFFF), (1, 0xFFFF), (0xFFFF, 0)])
    def test_identifier_and_sequence_limits(self, identifier: int, sequence: int) -> None:
        wire = IcmpMessage.echo_request(identifier, sequence).emit()
        assert wire == icmp_bytes(8, 0, identifier.to_bytes(2, "big") + sequence.to_bytes(2, "big"), b"")
        message = IcmpMessage.parse(wire)
        assert (message.identifier, message.sequence) == (identifier, sequence)

    @pytest.mark.parametrize("identifier", [-1, 0x10000])
    def test_identifier_out_of_range(self, identifier: int) -> None:
        with pytest.raises(ValueError):
            IcmpMessage.echo_request(identifier, 0).emit()

    def test_odd_length_data(self) -> None:
        wire = IcmpMessage.echo_request(7, 9, b"abc").emit()
        assert wire == icmp_bytes(8, 0, bytes.fromhex("00070009"), b"abc")
        assert IcmpMessage.parse(wire).data == b"abc"

    def test_ping_default_data(self) -> None:
        # Linux ping: 56 octets of data, the first 16 a timestamp, then 0x10, 0x11, ...
        data = bytes(16) + bytes(range(0x10, 0x38))
        wire = IcmpMessage.echo_request(0x0BAD, 3, data).emit()
        assert wire == icmp_bytes(8, 0, bytes.fromhex("0bad0003"), data)
        assert len(wire) == 64

    @given(icmp_echo_messages())
    def test_reply_keeps_identifier_sequence_data(self, message: IcmpMessage) -> None:
        request = message._replace(type=IcmpType.ECHO_REQUEST)
        reply = IcmpMessage.parse(request.emit()).reply()
        assert reply.type == IcmpType.ECHO_REPLY
        assert reply.code == 0
        assert (reply.identifier, reply.sequence, reply.data) == (request.identifier, request.sequence, request.data)
        assert reply.emit() == icmp_bytes(0, 0, request.emit()[4:8], request.data)


class TestDestinationUnreachable:
    def test_every_code_0_to_15_is_named(self) -> None:
        assert [int(code) for code in UnreachableCode] == list(range(16))

    @pytest.mark.parametrize("code", list(UnreachableCode))
    def test_every_code(self, code: UnreachableCode) -> None:
        message = IcmpMessage.destination_unreachable(code, PROBE)
        wire = message.emit()
        assert wire == icmp_bytes(3, int(code), bytes(4), PROBE_QUOTE)
        parsed = IcmpMessage.parse(wire)
        assert parsed == message
        assert parsed.type is IcmpType.DEST_UNREACHABLE
        assert parsed.code == code
        assert parsed.is_error
        assert parsed.quoted == PROBE_QUOTE
        assert parsed.next_hop_mtu == 0

    def test_port_unreachable_golden(self) -> None:
        message = IcmpMessage.destination_unreachable(UnreachableCode.PORT, PROBE)
        assert message.emit() == PORT_UNREACHABLE
        assert IcmpMessage.parse(PORT_UNREACHABLE) == message

    def test_fragmentation_needed_with_next_hop_mtu(self) -> None:
        # RFC 1191 §4: the low-order 16 bits of the rest of the header carry the next-hop MTU.
        message = IcmpMessage.destination_unreachable(UnreachableCode.FRAGMENTATION_NEEDED, UDP_DNS_DATAGRAM, 1400)
        assert message.emit() == FRAG_NEEDED
        parsed = IcmpMessage.parse(FRAG_NEEDED)
        assert parsed == message
        assert parsed.code == UnreachableCode.FRAGMENTATION_NEEDED == 4
        assert parsed.next_hop_mtu == 1400
        assert parsed.quoted == UDP_DNS_DATAGRAM

    @pytest.mark.parametrize("mtu", [0, 68, 576, 1280, 1492, 1500, 9000, 65535])
    def test_next_hop_mtu_values(self, mtu: int) -> None:
        wire = IcmpMessage.destination_unreachable(UnreachableCode.FRAGMENTATION_NEEDED, PROBE, mtu).emit()
        assert wire[4:8] == b"\x00\x00" + mtu.to_bytes(2, "big")
        assert IcmpMessage.parse(wire).next_hop_mtu == mtu

    def test_pre_rfc1191_router_sends_zero_mtu(self) -> None:
        wire = icmp_bytes(3, 4, bytes(4), PROBE_QUOTE)
        assert IcmpMessage.parse(wire).next_hop_mtu == 0


class TestTimeExceeded:
    def test_both_codes_are_named(self) -> None:
        assert [int(code) for code in TimeExceededCode] == [0, 1]

    def test_ttl_exceeded_golden(self) -> None:
        message = IcmpMessage.time_exceeded(TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT, PROBE)
        assert message.emit() == TTL_EXCEEDED
        parsed = IcmpMessage.parse(TTL_EXCEEDED)
        assert parsed == message
        assert parsed.type is IcmpType.TIME_EXCEEDED
        assert parsed.code == 0
        assert parsed.is_error

    def test_reassembly_time_exceeded(self) -> None:
        message = IcmpMessage.time_exceeded(TimeExceededCode.FRAGMENT_REASSEMBLY_TIME_EXCEEDED, PROBE)
        wire = message.emit()
        assert wire == icmp_bytes(11, 1, bytes(4), PROBE_QUOTE)
        assert IcmpMessage.parse(wire) == message
        assert IcmpMessage.parse(wire).code == 1


class TestQuote:
    """RFC 792: an error carries "the internet header plus the first 64 bits of the original datagram"."""

    def test_header_with_options_plus_8_octets(self) -> None:
        assert quote(PROBE) == PROBE[:32]  # IHL 6: 24 + 8

    def test_plain_header_plus_8_octets(self) -> None:
        assert quote(UDP_DNS_DATAGRAM + b"payload that is not quoted") == UDP_DNS_DATAGRAM

    def test_longest_header(self) -> None:
        datagram = bytes([0x4F]) + bytes(59) + bytes(range(100))
        assert quote(datagram) == datagram[:68]

    def test_short_datagram_is_quoted_whole(self) -> None:
        assert quote(PROBE[:27]) == PROBE[:27]
        assert quote(PROBE[:24]) == PROBE[:24]

    def test_empty(self) -> None:
        assert quote(b"") == b""

    @given(ipv4_datagrams(max_payload=40))
    def test_any_datagram(self, datagram: bytes) -> None:
        header_len = (datagram[0] & 0x0F) * 4
        quoted = quote(datagram)
        assert quoted == datagram[: header_len + 8]
        assert IcmpMessage.time_exceeded(TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT, datagram).quoted == quoted


class TestRefusals:
    @pytest.mark.parametrize("wire", [ECHO_REQUEST, FRAG_NEEDED, TTL_EXCEEDED], ids=["echo", "frag-needed", "ttl"])
    @pytest.mark.parametrize("offset", [0, 1, 2, 3, 5, 8, -1])
    def test_bad_checksum(self, wire: bytes, offset: int) -> None:
        damaged = bytearray(wire)
        damaged[offset] ^= 0x40
        assert reason(bytes(damaged)) is Malformation.BAD_CHECKSUM

    def test_verify_checksum_false(self) -> None:
        damaged = ECHO_REQUEST[:2] + b"\x00\x00" + ECHO_REQUEST[4:]
        assert reason(damaged) is Malformation.BAD_CHECKSUM
        assert IcmpMessage.parse(damaged, verify_checksum=False) == IcmpMessage.parse(ECHO_REQUEST)

    def test_checksum_covers_the_data(self) -> None:
        assert reason(ECHO_REQUEST[:-1] + b"i") is Malformation.BAD_CHECKSUM
        assert reason(ECHO_REQUEST + b"\x00\x01") is Malformation.BAD_CHECKSUM

    def test_all_zero_message_is_refused(self) -> None:
        # Type 0 code 0 rest 0 needs checksum 0xffff; a zero checksum field is wrong.
        assert reason(bytes(8)) is Malformation.BAD_CHECKSUM
        assert IcmpMessage.parse(bytes.fromhex("0000ffff00000000")) == IcmpMessage(IcmpType.ECHO_REPLY, 0)

    @pytest.mark.parametrize("length", range(HEADER_LEN))
    def test_truncated(self, length: int) -> None:
        assert reason(ECHO_REQUEST[:length]) is Malformation.TRUNCATED

    def test_header_only(self) -> None:
        message = IcmpMessage.parse(icmp_bytes(8, 0, bytes.fromhex("00010002"), b""))
        assert message == IcmpMessage(IcmpType.ECHO_REQUEST, 0, 0x00010002, b"")

    def test_unknown_type_is_kept_as_int(self) -> None:
        message = IcmpMessage.parse(icmp_bytes(42, 7, bytes.fromhex("deadbeef"), b"xy"))
        assert message == IcmpMessage(42, 7, 0xDEADBEEF, b"xy")
        assert not message.is_error


class TestRoundTrip:
    @given(st.one_of(icmp_messages(), icmp_echo_messages(), icmp_error_messages()))
    def test_emit_then_parse(self, message: IcmpMessage) -> None:
        wire = message.emit()
        assert IcmpMessage.parse(wire) == message
        assert int.from_bytes(wire[2:4], "big") == reference_checksum(wire)

    @given(
        st.integers(min_value=0, max_value=255),
        st.integers(min_value=0, max_value=255),
        st.binary(min_size=4, max_size=4),
        st.binary(max_size=64),
    )
    def test_parse_then_emit(self, kind: int, code: int, rest: bytes, data: bytes) -> None:
        wire = icmp_bytes(kind, code, rest, data)
        assert IcmpMessage.parse(wire).emit() == wire
