"""The routing table (RFC 1812 §5.2.4.3: longest prefix match) and the course's AND arithmetic."""

from __future__ import annotations

import errno
import os
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest

from wirelab.stack.routing import Route, RoutingTable, explain_and

LAN = IPv4Network("192.168.1.0/24")
GATEWAY = IPv4Address("192.168.1.1")
OTHER_GATEWAY = IPv4Address("192.168.1.254")


def table() -> RoutingTable:
    """A host's table: its LAN (connected), a default route, a /16 and one host route via elsewhere."""
    routes = RoutingTable()
    routes.add(Route(LAN, 0, None, "connected"))
    routes.add(Route(IPv4Network("0.0.0.0/0"), 0, GATEWAY))
    routes.add(Route(IPv4Network("10.1.0.0/16"), 1, IPv4Address("10.0.0.1")))
    routes.add(Route(IPv4Network("192.168.1.77/32"), 0, OTHER_GATEWAY))
    return routes


class TestLongestPrefixMatch:
    @pytest.mark.parametrize(
        ("destination", "expected"),
        [
            pytest.param("192.168.1.77", "192.168.1.77/32", id="host route beats /24"),
            pytest.param("192.168.1.78", "192.168.1.0/24", id="/24 beats default"),
            pytest.param("10.1.200.3", "10.1.0.0/16", id="/16 beats default"),
            pytest.param("10.2.0.1", "0.0.0.0/0", id="default catches the rest"),
            pytest.param("255.255.255.255", "0.0.0.0/0", id="top of the space"),
            pytest.param("0.0.0.0", "0.0.0.0/0", id="bottom of the space"),
        ],
    )
    def test_the_longest_prefix_wins(self, destination: str, expected: str) -> None:
        route = table().lookup(IPv4Address(destination))
        assert route is not None
        assert route.network == IPv4Network(expected)

    def test_the_order_of_adding_does_not_matter(self) -> None:
        routes = RoutingTable()
        routes.add(Route(IPv4Network("192.168.1.77/32"), 0, OTHER_GATEWAY))
        routes.add(Route(IPv4Network("0.0.0.0/0"), 0, GATEWAY))
        routes.add(Route(LAN, 0, None, "connected"))
        assert routes.lookup(IPv4Address("192.168.1.77")).network.prefixlen == 32  # type: ignore[union-attr]
        assert routes.lookup(IPv4Address("192.168.1.5")).network == LAN  # type: ignore[union-attr]

    def test_no_route_without_a_default(self) -> None:
        routes = RoutingTable()
        routes.add(Route(LAN, 0, None, "connected"))
        assert routes.lookup(IPv4Address("8.8.8.8")) is None

    def test_an_empty_table_has_no_route(self) -> None:
        assert RoutingTable().lookup(IPv4Address("192.168.1.1")) is None

    def test_network_boundaries(self) -> None:
        routes = RoutingTable()
        routes.add(Route(LAN, 0))
        assert routes.lookup(IPv4Address("192.168.1.0")) is not None
        assert routes.lookup(IPv4Address("192.168.1.255")) is not None
        assert routes.lookup(IPv4Address("192.168.0.255")) is None
        assert routes.lookup(IPv4Address("192.168.2.0")) is None

    def test_routes_of_one_prefix_differ_in_metric_and_the_lowest_is_used(self) -> None:
        # Linux: ``ip route add 10.9.1.0/24 via A`` then ``... via B metric 5`` keeps both (checked in a
        # network namespace); the lookup takes the lowest metric whatever the order of adding.
        routes = RoutingTable()
        routes.add(Route(IPv4Network("0.0.0.0/0"), 0, GATEWAY, metric=10))
        routes.add(Route(IPv4Network("0.0.0.0/0"), 0, OTHER_GATEWAY, metric=5))
        routes.add(Route(IPv4Network("0.0.0.0/0"), 0, IPv4Address("192.168.1.99"), metric=20))
        assert routes.lookup(IPv4Address("8.8.8.8")).gateway == OTHER_GATEWAY  # type: ignore[union-attr]
        assert [route.metric for route in routes.routes()] == [5, 10, 20]


class TestAddReplace:
    """``ip route add`` of a prefix and metric that have a route fails with EEXIST; ``replace`` replaces."""

    def test_adding_a_taken_prefix_and_metric_fails_with_eexist(self) -> None:
        # Linux (checked in a network namespace): RTNETLINK answers: File exists — for another gateway,
        # for the very same route, and for a static route over a connected one.
        routes = table()
        before = routes.routes()
        for route in (
            Route(IPv4Network("0.0.0.0/0"), 0, OTHER_GATEWAY),
            Route(IPv4Network("0.0.0.0/0"), 0, GATEWAY),
            Route(LAN, 0, OTHER_GATEWAY),
        ):
            with pytest.raises(FileExistsError) as caught:
                routes.add(route)
            assert caught.value.errno == errno.EEXIST
            assert caught.value.strerror == os.strerror(errno.EEXIST)
        assert routes.routes() == before  # an illegal call changes nothing
        assert routes.lookup(IPv4Address("8.8.8.8")).gateway == GATEWAY  # type: ignore[union-attr]

    def test_a_connected_route_is_appended_as_the_kernel_does(self) -> None:
        # Two interfaces on one subnet: Linux keeps both connected routes and uses the first.
        routes = RoutingTable()
        routes.add(Route(LAN, 0, None, "connected"))
        routes.add(Route(LAN, 1, None, "connected"))
        assert [route.interface for route in routes.routes()] == [0, 1]
        assert routes.lookup(IPv4Address("192.168.1.5")).interface == 0  # type: ignore[union-attr]

    def test_replace_replaces_the_route_of_that_metric(self) -> None:
        routes = table()
        assert routes.lookup(IPv4Address("8.8.8.8")).gateway == GATEWAY  # type: ignore[union-attr]  # cached
        old = routes.replace(Route(IPv4Network("0.0.0.0/0"), 0, OTHER_GATEWAY))
        assert old is not None and old.gateway == GATEWAY
        assert routes.lookup(IPv4Address("8.8.8.8")).gateway == OTHER_GATEWAY  # type: ignore[union-attr]
        assert len(routes.routes()) == 4

    def test_replace_adds_a_route_that_was_not_there(self) -> None:
        routes = RoutingTable()
        assert routes.replace(Route(IPv4Network("10.9.8.0/24"), 0, GATEWAY)) is None
        assert routes.lookup(IPv4Address("10.9.8.1")).gateway == GATEWAY  # type: ignore[union-attr]

    def test_every_change_invalidates_the_lookup_cache(self) -> None:
        routes = RoutingTable()
        target = IPv4Address("10.9.1.5")
        assert routes.lookup(target) is None  # a cached miss
        routes.add(Route(IPv4Network("10.9.1.0/24"), 0, GATEWAY, metric=5))
        assert routes.lookup(target).gateway == GATEWAY  # type: ignore[union-attr]
        routes.add(Route(IPv4Network("10.9.1.0/24"), 0, OTHER_GATEWAY))  # a lower metric
        assert routes.lookup(target).gateway == OTHER_GATEWAY  # type: ignore[union-attr]
        routes.replace(Route(IPv4Network("10.9.1.0/24"), 1, OTHER_GATEWAY))
        assert routes.lookup(target).interface == 1  # type: ignore[union-attr]
        routes.add(Route(IPv4Network("10.9.1.5/32"), 0, IPv4Address("192.168.1.99")))  # a longer prefix
        assert routes.lookup(target).network.prefixlen == 32  # type: ignore[union-attr]
        routes.remove(IPv4Network("10.9.1.5/32"))
        routes.remove(IPv4Network("10.9.1.0/24"))  # the one in use: metric 0
        assert routes.lookup(target).metric == 5  # type: ignore[union-attr]
        routes.remove(IPv4Network("10.9.1.0/24"), metric=5)
        assert routes.lookup(target) is None


class TestConnectedOrViaGateway:
    def test_a_connected_route_delivers_directly(self) -> None:
        route = table().lookup(IPv4Address("192.168.1.20"))
        assert route is not None
        assert route.gateway is None
        assert route.source == "connected"
        assert str(route) == "192.168.1.0/24 directly connected, interface 0 (connected)"

    def test_a_static_route_goes_via_its_gateway(self) -> None:
        route = table().lookup(IPv4Address("10.1.2.3"))
        assert route is not None
        assert route.gateway == IPv4Address("10.0.0.1")
        assert route.interface == 1
        assert not route.is_default
        assert str(route) == "10.1.0.0/16 via 10.0.0.1, interface 1 (static)"

    def test_the_default_route(self) -> None:
        route = table().lookup(IPv4Address("8.8.8.8"))
        assert route is not None
        assert route.is_default
        assert route.gateway == GATEWAY


class TestRemove:
    def test_removing_a_route_falls_back_to_a_shorter_prefix(self) -> None:
        routes = table()
        routes.remove(IPv4Network("192.168.1.77/32"))
        assert routes.lookup(IPv4Address("192.168.1.77")).network == LAN  # type: ignore[union-attr]
        routes.remove(LAN)
        assert routes.lookup(IPv4Address("192.168.1.77")).is_default  # type: ignore[union-attr]
        routes.remove(IPv4Network("0.0.0.0/0"))
        assert routes.lookup(IPv4Address("192.168.1.77")) is None

    def test_removing_leaves_other_routes_of_the_same_length(self) -> None:
        routes = RoutingTable()
        routes.add(Route(IPv4Network("10.0.0.0/24"), 0))
        routes.add(Route(IPv4Network("10.0.1.0/24"), 1))
        routes.remove(IPv4Network("10.0.0.0/24"))
        assert routes.lookup(IPv4Address("10.0.0.5")) is None
        assert routes.lookup(IPv4Address("10.0.1.5")).interface == 1  # type: ignore[union-attr]

    def test_removing_an_absent_route_fails_with_esrch(self) -> None:
        # Linux: ``ip route del`` of a route that is not there says "RTNETLINK answers: No such process".
        routes = table()
        before = routes.routes()
        for network, metric in (("172.16.0.0/12", None), ("10.1.0.0/24", None), ("0.0.0.0/0", 7)):
            with pytest.raises(ProcessLookupError) as caught:
                routes.remove(IPv4Network(network), metric)
            assert caught.value.errno == errno.ESRCH
        assert routes.routes() == before


class TestRender:
    """iproute2's order and spelling: ``<dst> [via <gw>] dev <dev> proto <p> [scope link] [metric <n>]``."""

    def test_like_ip_route_longest_prefix_first(self) -> None:
        assert table().render() == "\n".join(
            [
                "192.168.1.77 via 192.168.1.254 dev if0 proto static",  # a host route: no /32
                "192.168.1.0/24 dev if0 proto connected scope link",
                "10.1.0.0/16 via 10.0.0.1 dev if1 proto static",
                "default via 192.168.1.1 dev if0 proto static",
            ]
        )

    def test_a_metric_is_shown_when_not_zero(self) -> None:
        routes = RoutingTable()
        routes.add(Route(IPv4Network("0.0.0.0/0"), 2, GATEWAY, metric=100))
        assert routes.render() == "default via 192.168.1.1 dev if2 proto static metric 100"

    def test_an_empty_table_renders_empty(self) -> None:
        assert RoutingTable().render() == ""


class TestAndArithmetic:
    """The course's rule: my IP AND mask == target IP AND mask ⇒ same LAN, deliver directly."""

    def test_same_network(self) -> None:
        explanation = explain_and(IPv4Interface("192.168.1.10/24"), IPv4Address("192.168.1.77"))
        assert explanation.mine == IPv4Address("192.168.1.10")
        assert explanation.target == IPv4Address("192.168.1.77")
        assert explanation.mask == IPv4Address("255.255.255.0")
        assert explanation.my_network == IPv4Address("192.168.1.0")
        assert explanation.target_network == IPv4Address("192.168.1.0")
        assert explanation.same_network

    def test_different_network(self) -> None:
        explanation = explain_and(IPv4Interface("192.168.1.10/24"), IPv4Address("192.168.2.5"))
        assert explanation.my_network == IPv4Address("192.168.1.0")
        assert explanation.target_network == IPv4Address("192.168.2.0")
        assert not explanation.same_network

    def test_the_mask_decides_not_the_addresses_alone(self) -> None:
        # The same two addresses are on one LAN under /16 and on two under /24.
        assert explain_and(IPv4Interface("192.168.1.10/16"), IPv4Address("192.168.2.5")).same_network
        assert not explain_and(IPv4Interface("192.168.1.10/24"), IPv4Address("192.168.2.5")).same_network

    def test_a_non_octet_mask(self) -> None:
        # /26: 192.168.1.10 is in .0-.63; .70 is in .64-.127.
        explanation = explain_and(IPv4Interface("192.168.1.10/26"), IPv4Address("192.168.1.70"))
        assert explanation.mask == IPv4Address("255.255.255.192")
        assert explanation.target_network == IPv4Address("192.168.1.64")
        assert not explanation.same_network

    @pytest.mark.parametrize("target", ["192.168.1.0", "192.168.1.77", "192.168.1.255", "192.168.2.5", "8.8.8.8"])
    def test_agrees_with_the_connected_route(self, target: str) -> None:
        interface = IPv4Interface("192.168.1.10/24")
        routes = RoutingTable()
        routes.add(Route(interface.network, 0, None, "connected"))
        same = explain_and(interface, IPv4Address(target)).same_network
        assert same == (routes.lookup(IPv4Address(target)) is not None)
