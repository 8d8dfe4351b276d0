"""IPv4 subnet arithmetic: reading addresses, same LAN or not, borrowing host bits, and the renderers."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wirelab.addressing.subnet import (
    AddressingError,
    Basis,
    Delivery,
    Language,
    Subnet,
    binary,
    display_width,
    parse_address,
    parse_interface,
    parse_network,
    plan_by_hosts,
    plan_by_subnets,
    render_plan,
    render_same_lan,
    same_lan,
    text_table,
    usable_hosts,
    words,
)

A = IPv4Address
BINARY = re.compile(r"[01]{8}(\.[01]{8}){3}")


def binary_span(line: str) -> tuple[int, int]:
    """Where the dotted binary address is in a rendered line."""
    match = BINARY.search(line)
    assert match is not None
    return match.span()


def rows(plan_text: str) -> list[list[str]]:
    """The subnet table's data rows, split into cells (the header and everything above dropped)."""
    lines = plan_text.split("\n")
    header = next(index for index, line in enumerate(lines) if line.lstrip().startswith("#"))
    return [line.split() for line in lines[header + 1 :]]


# --------------------------------------------------------------------------------------------------
# Reading addresses


class TestParsing:
    def test_addressing_error_is_a_value_error(self) -> None:
        assert issubclass(AddressingError, ValueError)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("300.1.1.1", "Octet 300 (> 255)"),
            ("1.2.3", "Expected 4 octets"),
            ("", "Address cannot be empty"),
            ("::1", "looks like IPv6"),
            ("10.0.0.1/24", "without a /prefix"),
        ],
    )
    def test_bad_address_is_refused_in_one_line(self, text: str, expected: str) -> None:
        with pytest.raises(AddressingError) as caught:
            parse_address(text)
        assert expected in str(caught.value)
        assert "\n" not in str(caught.value)

    def test_address_is_stripped(self) -> None:
        assert parse_address(" 192.168.1.77\n") == A("192.168.1.77")

    def test_interface_takes_a_prefix_or_a_dotted_mask(self) -> None:
        assert parse_interface("192.168.1.10/24") == parse_interface("192.168.1.10/255.255.255.0")
        assert parse_interface("192.168.1.10/24").network == IPv4Network("192.168.1.0/24")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("192.168.1.10", "has no mask"),
            ("192.168.1.10/33", "'33' is not a valid netmask; a mask is a prefix length 0–32"),
            ("192.168.1.10/255.0.255.0", "is not a valid netmask"),
            ("300.1.1.1/24", "Octet 300 (> 255)"),
            ("192.168.1.0/24", "is the network address of 192.168.1.0/24"),
            ("192.168.1.255/24", "is the broadcast address of 192.168.1.0/24"),
            ("fe80::1/64", "looks like IPv6"),
        ],
    )
    def test_bad_interface_is_refused_in_one_line(self, text: str, expected: str) -> None:
        with pytest.raises(AddressingError) as caught:
            parse_interface(text)
        assert expected in str(caught.value)
        assert "\n" not in str(caught.value)

    def test_point_to_point_and_host_route_interfaces_have_no_reserved_addresses(self) -> None:
        # RFC 3021: in a /31 both addresses are hosts; a /32 is one host.
        assert parse_interface("10.0.0.0/31").ip == A("10.0.0.0")
        assert parse_interface("10.0.0.1/31").ip == A("10.0.0.1")
        assert parse_interface("10.0.0.7/32").ip == A("10.0.0.7")

    def test_network_must_be_given_by_its_network_address(self) -> None:
        # Decision: host bits set where a network is needed is refused, naming the likely network.
        with pytest.raises(AddressingError) as caught:
            parse_network("192.168.1.10/24")
        assert str(caught.value) == (
            "192.168.1.10/24 has host bits set: a network address is needed here (did you mean 192.168.1.0/24?)"
        )

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("192.168.1.0/33", "'33' is not a valid netmask"),
            ("300.1.1.0/24", "Octet 300 (> 255)"),
            ("192.168.1.0", "has no prefix"),
            ("2001:db8::/32", "looks like IPv6"),
        ],
    )
    def test_bad_network_is_refused_in_one_line(self, text: str, expected: str) -> None:
        with pytest.raises(AddressingError) as caught:
            parse_network(text)
        assert expected in str(caught.value)
        assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------------------------------
# Same LAN or not


class TestSameLan:
    def test_same_lan_holds_both_ands_and_delivers_directly(self) -> None:
        check = same_lan("192.168.1.10/24", "192.168.1.77")
        assert check.source == A("192.168.1.10")
        assert check.target == A("192.168.1.77")
        assert check.netmask == A("255.255.255.0")
        assert check.prefixlen == 24
        assert check.source_network == A("192.168.1.0")
        assert check.target_network == A("192.168.1.0")
        assert check.same_lan
        assert check.delivery is Delivery.DIRECT
        assert check.arp_target == A("192.168.1.77")  # ARP for the target itself

    def test_other_lan_goes_to_the_gateway(self) -> None:
        check = same_lan("192.168.1.10/24", "192.168.2.1")
        assert check.target_network == A("192.168.2.0")
        assert not check.same_lan
        assert check.delivery is Delivery.VIA_GATEWAY
        assert check.arp_target is None  # no gateway given: nobody to name

    def test_a_known_gateway_is_whom_arp_asks_for(self) -> None:
        check = same_lan("192.168.1.10/24", "8.8.8.8", gateway="192.168.1.1")
        assert check.delivery is Delivery.VIA_GATEWAY
        assert check.arp_target == A("192.168.1.1")
        assert check.gateway == A("192.168.1.1")

    def test_the_target_is_anded_with_the_senders_mask(self) -> None:
        # The sender does not know the target's mask; .200 is outside 192.168.1.0/25.
        check = same_lan("192.168.1.10/25", "192.168.1.200")
        assert check.target_network == A("192.168.1.128")
        assert check.delivery is Delivery.VIA_GATEWAY

    def test_parsed_values_are_accepted(self) -> None:
        assert same_lan(parse_interface("10.1.2.3/8"), A("10.200.0.1")).delivery is Delivery.DIRECT

    @pytest.mark.parametrize(
        ("target", "delivery"),
        [
            ("192.168.1.255", Delivery.BROADCAST),  # this LAN's directed broadcast
            ("255.255.255.255", Delivery.BROADCAST),  # limited broadcast
            ("192.168.1.10", Delivery.LOCAL),
            ("127.0.0.1", Delivery.LOCAL),
            ("224.0.0.251", Delivery.MULTICAST),
            ("192.168.2.255", Delivery.VIA_GATEWAY),  # another LAN's broadcast is the router's business
        ],
    )
    def test_targets_that_need_no_arp(self, target: str, delivery: Delivery) -> None:
        check = same_lan("192.168.1.10/24", target, gateway="192.168.1.1")
        assert check.delivery is delivery
        if delivery is not Delivery.VIA_GATEWAY:
            assert check.arp_target is None

    def test_a_point_to_point_peer_is_on_the_lan_and_not_a_broadcast(self) -> None:
        check = same_lan("10.0.0.0/31", "10.0.0.1")
        assert check.delivery is Delivery.DIRECT

    def test_a_host_route_has_no_one_else_on_its_lan(self) -> None:
        assert same_lan("10.0.0.7/32", "10.0.0.8").delivery is Delivery.VIA_GATEWAY

    def test_gateway_must_be_another_host_on_the_lan(self) -> None:
        with pytest.raises(AddressingError, match=r"gateway 10\.0\.0\.1 is not another host on 192\.168\.1\.0/24"):
            same_lan("192.168.1.10/24", "8.8.8.8", gateway="10.0.0.1")
        with pytest.raises(AddressingError, match="is not another host"):
            same_lan("192.168.1.10/24", "8.8.8.8", gateway="192.168.1.10")

    def test_unspecified_address_is_not_a_destination(self) -> None:
        with pytest.raises(AddressingError, match=r"0\.0\.0\.0"):
            same_lan("192.168.1.10/24", "0.0.0.0")

    def test_the_check_is_immutable(self) -> None:
        check = same_lan("192.168.1.10/24", "192.168.1.77")
        with pytest.raises(AttributeError):
            check.target = A("1.1.1.1")  # type: ignore[misc]


class TestRenderSameLan:
    def test_binary_is_four_dotted_octets(self) -> None:
        assert binary(A("192.168.1.10")) == "11000000.10101000.00000001.00001010"
        assert binary(A("255.255.255.192")) == "11111111.11111111.11111111.11000000"

    def test_both_ands_in_binary_and_decimal(self) -> None:
        text = render_same_lan(same_lan("192.168.1.10/24", "192.168.1.77"))
        lines = text.split("\n")
        assert lines[0] == "Same LAN or not? 192.168.1.10/24 sending to 192.168.1.77"
        assert lines[2].split() == ["my", "IP", "11000000.10101000.00000001.00001010", "192.168.1.10"]
        assert lines[3].split() == ["subnet", "mask", "AND", "11111111.11111111.11111111.00000000", "255.255.255.0"]
        assert lines[4].split() == ["network", "address", "=", "11000000.10101000.00000001.00000000", "192.168.1.0"]
        assert lines[6].split() == ["target", "IP", "11000000.10101000.00000001.01001101", "192.168.1.77"]
        assert lines[8].split()[-1] == "192.168.1.0"
        assert lines[9] == "3. 192.168.1.0 = 192.168.1.0: on the same LAN"
        assert "ARP broadcast for the target's MAC (192.168.1.77)" in lines[10]

    @pytest.mark.parametrize("language", ["en", "zh"])
    def test_columns_line_up(self, language: Language) -> None:
        text = render_same_lan(same_lan("192.168.1.10/24", "10.9.8.7"), language)
        and_lines = [line for line in text.split("\n") if BINARY.search(line)]
        assert len(and_lines) == 6
        # Measured in terminal columns: Chinese labels are two columns a character.
        binary_columns = {display_width(line[: binary_span(line)[0]]) for line in and_lines}
        decimal_columns = {display_width(line[: binary_span(line)[1]]) for line in and_lines}
        assert len(binary_columns) == 1
        assert len(decimal_columns) == 1

    def test_other_lan_names_the_gateway(self) -> None:
        text = render_same_lan(same_lan("192.168.1.10/24", "192.168.2.77", gateway="192.168.1.1"))
        assert "3. 192.168.1.0 ≠ 192.168.2.0: not on the same LAN" in text
        assert "ARP broadcast for the gateway's MAC (192.168.1.1)" in text
        assert "stays addressed to 192.168.2.77" in text

    def test_chinese_uses_the_course_terms(self) -> None:
        same = render_same_lan(same_lan("192.168.1.10/24", "192.168.1.77"), "zh")
        other = render_same_lan(same_lan("192.168.1.10/24", "192.168.2.77"), "zh")
        for term in ("子网掩码", "网络地址", "按位与运算", "arp协议的广播包"):
            assert term in same
        assert "在同一个局域网内" in same
        assert "不在同一个局域网内" in other
        assert "网关的mac地址" in other


# --------------------------------------------------------------------------------------------------
# Subnetting: borrow host bits


class TestUsableHosts:
    @pytest.mark.parametrize(
        ("prefixlen", "hosts"),
        [(0, 2**32 - 2), (8, 16_777_214), (24, 254), (26, 62), (30, 2), (31, 2), (32, 1)],
    )
    def test_all_but_network_and_broadcast_except_31_and_32(self, prefixlen: int, hosts: int) -> None:
        assert usable_hosts(prefixlen) == hosts

    @pytest.mark.parametrize("prefixlen", [-1, 33])
    def test_prefix_lengths_outside_0_to_32_are_refused(self, prefixlen: int) -> None:
        with pytest.raises(AddressingError, match=f"/{prefixlen} is not an IPv4 prefix length"):
            usable_hosts(prefixlen)


class TestSubnet:
    def test_ordinary_subnet(self) -> None:
        subnet = Subnet.of(IPv4Network("192.168.1.64/26"))
        assert (subnet.first_host, subnet.last_host) == (A("192.168.1.65"), A("192.168.1.126"))
        assert subnet.broadcast == A("192.168.1.127")
        assert subnet.usable_hosts == 62

    def test_point_to_point_has_two_hosts_and_no_broadcast(self) -> None:
        subnet = Subnet.of(IPv4Network("10.0.0.2/31"))
        assert (subnet.first_host, subnet.last_host) == (A("10.0.0.2"), A("10.0.0.3"))
        assert subnet.broadcast is None
        assert subnet.usable_hosts == 2

    def test_host_route_is_one_address(self) -> None:
        subnet = Subnet.of(IPv4Network("10.0.0.9/32"))
        assert (subnet.first_host, subnet.last_host, subnet.broadcast) == (A("10.0.0.9"), A("10.0.0.9"), None)
        assert subnet.usable_hosts == 1


class TestPlanBySubnets:
    def test_four_subnets_of_a_slash_24(self) -> None:
        plan = plan_by_subnets("192.168.1.0/24", 4)
        assert plan.basis is Basis.SUBNETS
        assert plan.borrowed_bits == 2
        assert plan.prefixlen == 26
        assert plan.netmask == A("255.255.255.192")
        assert plan.subnet_count == 4
        assert plan.addresses_per_subnet == 64
        assert plan.usable_hosts == 62
        assert [
            (str(s.network), str(s.first_host), str(s.last_host), str(s.broadcast), s.usable_hosts)
            for s in plan.subnets()
        ] == [
            ("192.168.1.0/26", "192.168.1.1", "192.168.1.62", "192.168.1.63", 62),
            ("192.168.1.64/26", "192.168.1.65", "192.168.1.126", "192.168.1.127", 62),
            ("192.168.1.128/26", "192.168.1.129", "192.168.1.190", "192.168.1.191", 62),
            ("192.168.1.192/26", "192.168.1.193", "192.168.1.254", "192.168.1.255", 62),
        ]

    def test_a_count_between_powers_of_two_rounds_up(self) -> None:
        plan = plan_by_subnets("10.0.0.0/8", 3)
        assert plan.borrowed_bits == 2
        assert plan.prefixlen == 10
        assert plan.netmask == A("255.192.0.0")
        assert plan.subnet_count == 4
        assert [str(s.network) for s in plan.subnets()] == [
            "10.0.0.0/10",
            "10.64.0.0/10",
            "10.128.0.0/10",
            "10.192.0.0/10",
        ]

    def test_one_subnet_borrows_nothing(self) -> None:
        plan = plan_by_subnets("172.16.0.0/12", 1)
        assert (plan.borrowed_bits, plan.prefixlen, plan.subnet_count) == (0, 12, 1)

    def test_borrowing_every_host_bit_leaves_host_routes(self) -> None:
        plan = plan_by_subnets("192.168.1.0/24", 256)
        assert (plan.borrowed_bits, plan.prefixlen, plan.usable_hosts) == (8, 32, 1)

    def test_more_subnets_than_host_bits_allow(self) -> None:
        with pytest.raises(AddressingError) as caught:
            plan_by_subnets("192.168.1.0/24", 257)
        assert str(caught.value) == (
            "192.168.1.0/24 cannot be cut into 257 subnets: that needs 9 borrowed bits, "
            "and it has only 8 host bits (at most 256 subnets)"
        )

    @pytest.mark.parametrize("count", [0, -4])
    def test_fewer_than_one_subnet_is_refused(self, count: int) -> None:
        with pytest.raises(AddressingError, match="at least 1"):
            plan_by_subnets("192.168.1.0/24", count)

    def test_host_bits_set_are_refused(self) -> None:
        with pytest.raises(AddressingError, match=r"did you mean 192\.168\.1\.0/24"):
            plan_by_subnets("192.168.1.10/24", 4)

    def test_random_access_agrees_with_the_walk(self) -> None:
        plan = plan_by_subnets("10.0.0.0/16", 64)
        walked = list(plan.subnets())
        assert [plan.subnet(index) for index in range(plan.subnet_count)] == walked
        with pytest.raises(IndexError):
            plan.subnet(64)

    @given(prefixlen=st.integers(0, 32), wanted=st.integers(1, 2**12))
    def test_enough_subnets_and_no_more_bits_than_needed(self, prefixlen: int, wanted: int) -> None:
        parent = IPv4Network((0, prefixlen))
        try:
            plan = plan_by_subnets(parent, wanted)
        except AddressingError:
            assert wanted > 2 ** (32 - prefixlen)
            return
        assert plan.subnet_count >= wanted
        assert plan.borrowed_bits == 0 or 2 ** (plan.borrowed_bits - 1) < wanted
        assert plan.subnet(plan.subnet_count - 1).network.broadcast_address == parent.broadcast_address


class TestPlanByHosts:
    @pytest.mark.parametrize(
        ("network", "hosts", "prefixlen", "borrowed"),
        [
            ("192.168.1.0/24", 50, 26, 2),
            ("192.168.1.0/24", 62, 26, 2),
            ("192.168.1.0/24", 63, 25, 1),
            ("192.168.1.0/24", 100, 25, 1),
            ("192.168.1.0/24", 254, 24, 0),
            ("192.168.1.0/24", 3, 29, 5),
            ("192.168.1.0/24", 2, 31, 7),  # RFC 3021 point-to-point
            ("192.168.1.0/24", 1, 32, 8),
            ("10.0.0.0/8", 500, 23, 15),
        ],
    )
    def test_smallest_subnet_that_fits(self, network: str, hosts: int, prefixlen: int, borrowed: int) -> None:
        plan = plan_by_hosts(network, hosts)
        assert plan.basis is Basis.HOSTS
        assert (plan.prefixlen, plan.borrowed_bits) == (prefixlen, borrowed)

    def test_fifty_hosts_make_the_same_plan_as_four_subnets(self) -> None:
        by_hosts = plan_by_hosts("192.168.1.0/24", 50)
        by_subnets = plan_by_subnets("192.168.1.0/24", 4)
        assert by_hosts.netmask == by_subnets.netmask == A("255.255.255.192")
        assert list(by_hosts.subnets()) == list(by_subnets.subnets())

    def test_hosts_that_do_not_fit(self) -> None:
        with pytest.raises(AddressingError) as caught:
            plan_by_hosts("192.168.1.0/28", 50)
        assert str(caught.value) == "50 hosts per subnet do not fit in 192.168.1.0/28: it has at most 14 usable hosts"
        with pytest.raises(AddressingError, match="do not fit"):
            plan_by_hosts("192.168.1.0/24", 255)

    def test_fewer_than_one_host_is_refused(self) -> None:
        with pytest.raises(AddressingError, match="at least 1"):
            plan_by_hosts("192.168.1.0/24", 0)

    @given(prefixlen=st.integers(0, 32), hosts=st.integers(1, 2**33))
    def test_the_chosen_prefix_is_the_longest_that_fits(self, prefixlen: int, hosts: int) -> None:
        try:
            plan = plan_by_hosts(IPv4Network((0, prefixlen)), hosts)
        except AddressingError:
            assert usable_hosts(prefixlen) < hosts
            return
        assert plan.usable_hosts >= hosts
        assert plan.prefixlen == 32 or usable_hosts(plan.prefixlen + 1) < hosts


class TestRenderPlan:
    def test_four_subnets(self) -> None:
        text = render_plan(plan_by_subnets("192.168.1.0/24", 4))
        assert text.startswith("Subnetting 192.168.1.0/24, subnets wanted: 4;")
        assert "borrowed bits: 2, network part /24 → /26" in text
        assert "new mask  255.255.255.192  11111111.11111111.11111111.11000000" in text
        assert "nnnnnnnn.nnnnnnnn.nnnnnnnn.bbhhhhhh" in text
        assert rows(text) == [
            ["1", "192.168.1.0/26", "192.168.1.1", "192.168.1.62", "192.168.1.63", "62"],
            ["2", "192.168.1.64/26", "192.168.1.65", "192.168.1.126", "192.168.1.127", "62"],
            ["3", "192.168.1.128/26", "192.168.1.129", "192.168.1.190", "192.168.1.191", "62"],
            ["4", "192.168.1.192/26", "192.168.1.193", "192.168.1.254", "192.168.1.255", "62"],
        ]

    def test_point_to_point_subnets_have_no_broadcast(self) -> None:
        text = render_plan(plan_by_hosts("10.0.0.0/30", 2))
        assert "RFC 3021" in text
        assert rows(text) == [
            ["1", "10.0.0.0/31", "10.0.0.0", "10.0.0.1", "—", "2"],
            ["2", "10.0.0.2/31", "10.0.0.2", "10.0.0.3", "—", "2"],
        ]

    def test_a_long_plan_shows_the_first_and_the_last(self) -> None:
        text = render_plan(plan_by_hosts("10.0.0.0/8", 2), limit=4)
        table = rows(text)
        assert [row[0] for row in table] == ["1", "2", "3", "…", "8388608"]
        assert table[3] == ["…", "8388604", "more", "…"]
        assert table[4][1:] == ["10.255.255.254/31", "10.255.255.254", "10.255.255.255", "—", "2"]

    def test_limit_zero_lists_every_subnet(self) -> None:
        assert len(rows(render_plan(plan_by_subnets("10.0.0.0/24", 128), limit=0))) == 128

    def test_chinese_headings(self) -> None:
        text = render_plan(plan_by_subnets("192.168.1.0/24", 4), "zh")
        assert "借 2 个主机位给网络位用" in text
        for term in ("网络地址", "广播地址", "子网掩码"):
            assert term in text


class TestCatalog:
    def test_every_language_has_every_sentence(self) -> None:
        assert set(words("en")) == set(words("zh"))

    def test_catalog_is_read_only(self) -> None:
        with pytest.raises(TypeError):
            words("en")["none"] = "x"  # type: ignore[index]

    def test_tables_align_wide_characters(self) -> None:
        table = text_table([["子网", "1"], ["ab", "2"]], header=["名", "n"])
        assert [display_width(line[: line.rindex(" ") + 1]) for line in table.split("\n")] == [6, 6, 6]
