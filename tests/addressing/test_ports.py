"""The well-known ports table: its contents, lookups by name and number, the ranges, the renderers."""

from __future__ import annotations

import re

import pytest

from wirelab.addressing.ports import (
    DYNAMIC_RANGE,
    IANA_RANGES,
    LINUX_EPHEMERAL_RANGE,
    REGISTERED_RANGE,
    SERVICES,
    WELL_KNOWN_RANGE,
    PortLookupError,
    Transport,
    description,
    lookup,
    port_range,
    render_ranges,
    render_services,
    words,
)

TCP, UDP = Transport.TCP, Transport.UDP


class TestTable:
    @pytest.mark.parametrize(
        ("name", "port", "transports"),
        [
            ("FTP-data", 20, (TCP,)),
            ("FTP", 21, (TCP,)),
            ("SSH", 22, (TCP,)),
            ("Telnet", 23, (TCP,)),
            ("SMTP", 25, (TCP,)),
            ("DNS", 53, (TCP, UDP)),
            ("DHCP-server", 67, (UDP,)),
            ("DHCP-client", 68, (UDP,)),
            ("TFTP", 69, (UDP,)),
            ("HTTP", 80, (TCP,)),
            ("POP3", 110, (TCP,)),
            ("NTP", 123, (UDP,)),
            ("IMAP", 143, (TCP,)),
            ("SNMP", 161, (UDP,)),
            ("LDAP", 389, (TCP,)),
            ("HTTPS", 443, (TCP, UDP)),
            ("SMTPS", 465, (TCP,)),
            ("Submission", 587, (TCP,)),
            ("IMAPS", 993, (TCP,)),
            ("POP3S", 995, (TCP,)),
            ("MySQL", 3306, (TCP,)),
            ("RDP", 3389, (TCP, UDP)),
            ("PostgreSQL", 5432, (TCP,)),
            ("Redis", 6379, (TCP,)),
            ("HTTP-alt", 8080, (TCP,)),
        ],
    )
    def test_service_is_listed(self, name: str, port: int, transports: tuple[Transport, ...]) -> None:
        (service,) = (service for service in SERVICES if service.name == name)
        assert service.port == port
        assert service.transports == transports
        assert service.description

    def test_sorted_by_port_with_unique_names_and_ports(self) -> None:
        ports = [service.port for service in SERVICES]
        assert ports == sorted(ports)
        assert len(set(ports)) == len(ports)
        assert len({service.name.casefold() for service in SERVICES}) == len(SERVICES)

    def test_aliases_are_lower_case(self) -> None:
        for service in SERVICES:
            assert all(alias == alias.casefold() for alias in service.aliases)

    def test_services_are_immutable(self) -> None:
        with pytest.raises(AttributeError):
            SERVICES[0].port = 2121  # type: ignore[misc]


class TestLookup:
    @pytest.mark.parametrize("query", ["http", "HTTP", "Http", " www ", "WWW"])
    def test_by_name_in_any_case_and_by_alias(self, query: str) -> None:
        assert [service.port for service in lookup(query)] == [80]

    @pytest.mark.parametrize(
        ("query", "ports"),
        [
            ("dns", [53]),
            ("domain", [53]),
            ("dhcp", [67, 68]),  # server and client
            ("bootpc", [68]),
            ("ftp", [20, 21]),  # the course's "FTP 21,20"
            ("ftp-data", [20]),
            ("postgres", [5432]),
            ("https", [443]),
        ],
    )
    def test_names_that_answer(self, query: str, ports: list[int]) -> None:
        assert [service.port for service in lookup(query)] == ports

    @pytest.mark.parametrize(("query", "name"), [(53, "DNS"), ("53", "DNS"), (3306, "MySQL"), ("8080", "HTTP-alt")])
    def test_by_number(self, query: int | str, name: str) -> None:
        assert [service.name for service in lookup(query)] == [name]

    def test_unknown_name_suggests_a_close_one(self) -> None:
        with pytest.raises(PortLookupError) as caught:
            lookup("htps")
        assert str(caught.value) == "no service named 'htps' in the well-known ports table (did you mean 'https'?)"

    def test_unknown_name_without_a_close_one(self) -> None:
        with pytest.raises(PortLookupError, match=r"^no service named 'gopherx' in the well-known ports table$"):
            lookup("gopherx")

    def test_unlisted_number_names_its_range(self) -> None:
        with pytest.raises(PortLookupError) as caught:
            lookup(5000)
        assert (
            str(caught.value) == "port 5000 is not in the well-known ports table; it is a registered port (1024–49151)"
        )

    @pytest.mark.parametrize("query", [65536, "70000", -1, "-1"])
    def test_numbers_outside_16_bits(self, query: int | str) -> None:
        with pytest.raises(PortLookupError, match="out of range: ports are 0–65535"):
            lookup(query)

    def test_lookup_error_is_a_value_error(self) -> None:
        assert issubclass(PortLookupError, ValueError)


class TestRanges:
    def test_iana_ranges_cover_16_bits_without_gaps(self) -> None:
        assert [(r.first, r.last) for r in IANA_RANGES] == [(0, 1023), (1024, 49151), (49152, 65535)]

    @pytest.mark.parametrize(
        ("port", "expected"),
        [
            (0, WELL_KNOWN_RANGE),
            (1023, WELL_KNOWN_RANGE),
            (1024, REGISTERED_RANGE),
            (49151, REGISTERED_RANGE),
            (49152, DYNAMIC_RANGE),
            (65535, DYNAMIC_RANGE),
        ],
    )
    def test_port_range_at_the_edges(self, port: int, expected: object) -> None:
        assert port_range(port) is expected

    def test_linux_ephemeral_range(self) -> None:
        assert (LINUX_EPHEMERAL_RANGE.first, LINUX_EPHEMERAL_RANGE.last) == (32768, 60999)
        assert 32768 in LINUX_EPHEMERAL_RANGE
        assert 61000 not in LINUX_EPHEMERAL_RANGE

    def test_each_service_knows_its_range(self) -> None:
        (http,) = lookup("http")
        (mysql,) = lookup("mysql")
        assert http.range is WELL_KNOWN_RANGE
        assert mysql.range is REGISTERED_RANGE


class TestRender:
    def test_table_has_a_header_and_a_row_per_service(self) -> None:
        lines = render_services(SERVICES).split("\n")
        assert lines[0].split() == ["port", "transport", "application", "range", "description"]
        assert len(lines) == 1 + len(SERVICES)
        dns = next(line for line in lines if " DNS " in line)
        assert dns.split()[:4] == ["53", "TCP+UDP", "DNS", "well-known"]

    def test_port_numbers_align_right(self) -> None:
        lines = render_services(lookup("ssh") + lookup("mysql")).split("\n")
        assert lines[1].startswith("  22  ")
        assert lines[2].startswith("3306  ")

    def test_ranges(self) -> None:
        text = render_ranges()
        assert "0–1023" in text
        assert "1024–49151" in text
        assert "49152–65535" in text
        assert "32768–60999" in text

    def test_chinese_uses_the_course_terms(self) -> None:
        text = render_services(lookup("dns"), "zh")
        assert "熟知端口" in text
        assert "传输层协议" in text
        assert "熟知端口" in render_ranges("zh")

    def test_every_service_is_described_in_chinese(self) -> None:
        for service in SERVICES:
            chinese = description(service, "zh")
            assert chinese != service.description, service.name
            assert set(re.findall(r"RFC \d+", chinese)) == set(re.findall(r"RFC \d+", service.description))
        assert "把网址转换成ip地址" in render_services(lookup("dns"), "zh")  # the course's words
        assert description(SERVICES[0], "en") == SERVICES[0].description

    def test_every_language_has_every_label(self) -> None:
        # zh also carries translated range descriptions, which English reads from the data.
        assert set(words("en")) <= set(words("zh"))
