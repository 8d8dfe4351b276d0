"""When an ICMP error may be sent (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7), and the rate limit (§4.3.2.8)."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from wirelab.stack.icmp import TokenBucket, error_forbidden
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType, TimeExceededCode, UnreachableCode
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.udp import UdpHeader

SECOND = 1_000_000_000
MILLISECOND = 1_000_000
HOST = IPv4Address("192.168.1.10")
ME = IPv4Address("192.168.1.1")
LOCAL_BROADCASTS = {IPv4Address("255.255.255.255"), IPv4Address("192.168.1.255"), IPv4Address("10.0.0.255")}


def udp(src: IPv4Address = HOST, dst: IPv4Address = ME, **fields: object) -> tuple[Ipv4Header, bytes]:
    header = Ipv4Header(src, dst, IpProtocol.UDP, **fields)  # type: ignore[arg-type]
    return header, UdpHeader(5000, 9).emit(b"data", src, dst)


def icmp(message: IcmpMessage) -> tuple[Ipv4Header, bytes]:
    return Ipv4Header(HOST, ME, IpProtocol.ICMP), message.emit()


def forbidden(datagram: tuple[Ipv4Header, bytes], *, link_broadcast: bool = False) -> str | None:
    header, payload = datagram
    return error_forbidden(header, payload, link_broadcast=link_broadcast, local_broadcasts=LOCAL_BROADCASTS)


class TestAllowed:
    def test_an_ordinary_unicast_datagram(self) -> None:
        assert forbidden(udp()) is None

    def test_a_first_fragment(self) -> None:
        assert forbidden(udp(more_fragments=True)) is None

    @pytest.mark.parametrize(
        "message",
        [
            pytest.param(IcmpMessage.echo_request(1, 1, b"ping"), id="echo request"),
            pytest.param(IcmpMessage.echo_reply(1, 1, b"pong"), id="echo reply"),
            pytest.param(IcmpMessage(IcmpType.TIMESTAMP, 0), id="timestamp"),
            pytest.param(IcmpMessage(42, 0), id="unknown type"),
        ],
    )
    def test_an_icmp_query_or_reply(self, message: IcmpMessage) -> None:
        # Only errors about *errors* are forbidden: an echo request can be unreachable, time out, etc.
        assert forbidden(icmp(message)) is None

    def test_an_empty_icmp_payload_is_not_taken_for_an_error(self) -> None:
        assert (
            error_forbidden(
                Ipv4Header(HOST, ME, IpProtocol.ICMP), b"", link_broadcast=False, local_broadcasts=LOCAL_BROADCASTS
            )
            is None
        )

    def test_another_networks_broadcast_address_is_not_known_as_one(self) -> None:
        # A router cannot tell 172.16.0.255 is a broadcast address unless it is on that network.
        assert forbidden(udp(dst=IPv4Address("172.16.0.255"))) is None


class TestForbidden:
    @pytest.mark.parametrize(
        "message",
        [
            pytest.param(IcmpMessage.destination_unreachable(UnreachableCode.PORT, b""), id="unreachable"),
            pytest.param(IcmpMessage.time_exceeded(TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT, b""), id="time exceeded"),
            pytest.param(IcmpMessage(IcmpType.PARAMETER_PROBLEM, 0), id="parameter problem"),
            pytest.param(IcmpMessage(IcmpType.REDIRECT, 1), id="redirect"),
            pytest.param(IcmpMessage(IcmpType.SOURCE_QUENCH, 0), id="source quench"),
        ],
    )
    def test_about_an_icmp_error(self, message: IcmpMessage) -> None:
        assert forbidden(icmp(message)) == "about-icmp-error"

    def test_a_non_first_fragment(self) -> None:
        assert forbidden(udp(fragment_offset=8, more_fragments=True)) == "non-first-fragment"
        assert forbidden(udp(fragment_offset=1480)) == "non-first-fragment"  # the last one too

    def test_a_link_layer_broadcast(self) -> None:
        # Sent to ff:ff:ff:ff:ff:ff even though the IP destination is a unicast address.
        assert forbidden(udp(), link_broadcast=True) == "link-broadcast"

    @pytest.mark.parametrize(
        "destination",
        [
            pytest.param("255.255.255.255", id="limited broadcast"),
            pytest.param("192.168.1.255", id="directed broadcast of my LAN"),
            pytest.param("10.0.0.255", id="directed broadcast of my other LAN"),
            pytest.param("224.0.0.1", id="multicast all-hosts"),
            pytest.param("239.255.255.250", id="multicast SSDP"),
        ],
    )
    def test_an_ip_broadcast_or_multicast_destination(self, destination: str) -> None:
        assert forbidden(udp(dst=IPv4Address(destination))) == "ip-broadcast"

    @pytest.mark.parametrize(
        "source",
        [
            pytest.param("0.0.0.0", id="unspecified"),
            pytest.param("127.0.0.1", id="loopback"),
            pytest.param("127.1.2.3", id="loopback network"),
            pytest.param("255.255.255.255", id="limited broadcast"),
            pytest.param("192.168.1.255", id="directed broadcast"),
            pytest.param("224.0.0.5", id="multicast"),
            pytest.param("240.0.0.1", id="class E"),
        ],
    )
    def test_a_source_that_is_not_one_host(self, source: str) -> None:
        assert forbidden(udp(src=IPv4Address(source))) == "bad-source"

    def test_loopback_to_loopback_is_looped_back_inside_the_host_and_answered(self) -> None:
        loopback = IPv4Address("127.0.0.1")
        assert forbidden(udp(src=loopback, dst=loopback)) is None


class TestTokenBucket:
    def test_a_burst_then_nothing(self) -> None:
        bucket = TokenBucket(rate=10, burst=3)
        assert [bucket.allow(0) for _ in range(5)] == [True, True, True, False, False]

    def test_then_the_rate(self) -> None:
        bucket = TokenBucket(rate=10, burst=3)  # one token per 100 ms
        for _ in range(3):
            bucket.allow(0)
        assert bucket.allow(99 * MILLISECOND) is False
        assert bucket.allow(100 * MILLISECOND) is True
        assert bucket.allow(100 * MILLISECOND) is False
        assert bucket.allow(200 * MILLISECOND) is True

    def test_a_steady_overload_gets_exactly_the_rate(self) -> None:
        bucket = TokenBucket(rate=10, burst=3)
        allowed = sum(bucket.allow(when * MILLISECOND) for when in range(0, 10_000, 10))  # 100/s for 10 s
        assert allowed == 3 + 10 * 10 - 1  # the burst, then 10/s (the first refill is at 100 ms)

    def test_saved_tokens_are_capped_at_the_burst(self) -> None:
        bucket = TokenBucket(rate=10, burst=3)
        results = [bucket.allow(60 * SECOND) for _ in range(5)]
        assert results == [True, True, True, False, False]

    def test_linux_defaults(self) -> None:
        bucket = TokenBucket()
        assert (bucket.rate, bucket.burst) == (1000, 50)
        assert sum(bucket.allow(0) for _ in range(100)) == 50
        assert bucket.allow(1 * MILLISECOND) is True  # 1000/s: one more token each millisecond
        assert bucket.allow(1 * MILLISECOND) is False
