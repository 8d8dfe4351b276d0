"""The well-known ports: which application listens where, over TCP or UDP, and the port ranges.

A port (0–65535) names one application on a host: an application may listen on several ports, but
a port belongs to one application (per transport). Servers listen on fixed, published ports so that
clients know where to knock; a client's own port is an ephemeral one its kernel picks.

The table is a tuple of frozen :class:`Service` values; :func:`lookup` finds entries by number or
by name (case-insensitive, aliases included). Numbers follow the IANA Service Name and Transport
Protocol Port Number Registry (RFC 6335), with each service's defining RFC in its description.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Final

from wirelab.addressing.subnet import Language, text_table
from wirelab.trace import load_catalog

LOWEST_PORT: Final = 0
HIGHEST_PORT: Final = 65535


class PortLookupError(ValueError):
    """No such port or service in the table; the message is one line."""


class Transport(enum.Enum):
    """The transport-layer protocol a service's port is registered for."""

    TCP = "tcp"  # reliable transport (可靠传输)
    UDP = "udp"  # unreliable transport (不可靠传输)


@dataclass(frozen=True, slots=True)
class PortRange:
    """One of the ranges the port space is cut into; the bounds are inclusive."""

    name: str
    first: int
    last: int
    description: str

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.first <= port <= self.last


# RFC 6335 §6: the three IANA ranges.
WELL_KNOWN_RANGE: Final = PortRange(
    "well-known", 0, 1023, "system ports, assigned by IANA; on Unix only a privileged process may listen on them"
)
REGISTERED_RANGE: Final = PortRange(
    "registered", 1024, 49151, "user ports, registered with IANA for an application, usable by anyone"
)
DYNAMIC_RANGE: Final = PortRange(
    "dynamic", 49152, 65535, "dynamic/private ports, never assigned: for ephemeral (client) ports"
)
IANA_RANGES: Final = (WELL_KNOWN_RANGE, REGISTERED_RANGE, DYNAMIC_RANGE)
# Linux picks client ports from net.ipv4.ip_local_port_range, 32768–60999 by default: it overlaps
# the registered range, which is why a listener on a registered port may find it taken.
LINUX_EPHEMERAL_RANGE: Final = PortRange(
    "linux-ephemeral", 32768, 60999, "Linux's default net.ipv4.ip_local_port_range: where a client's port comes from"
)


def port_range(port: int) -> PortRange:
    """The IANA range ``port`` falls in; :class:`PortLookupError` outside 0–65535."""
    for candidate in IANA_RANGES:
        if port in candidate:
            return candidate
    raise PortLookupError(f"port {port} is out of range: ports are {LOWEST_PORT}–{HIGHEST_PORT} (16 bits)")


@dataclass(frozen=True, slots=True)
class Service:
    """One row of the table: a service, its port, the transports it is used over, and why it matters."""

    name: str
    port: int
    transports: tuple[Transport, ...]
    description: str
    aliases: tuple[str, ...] = ()  # other names, lower case: IANA's keyword, common nicknames

    def answers_to(self, name: str) -> bool:
        """Whether ``name`` (any case) is this service's name or one of its aliases."""
        wanted = name.strip().casefold()
        return wanted == self.name.casefold() or wanted in self.aliases

    @property
    def range(self) -> PortRange:
        """The IANA range of this service's port."""
        return port_range(self.port)


_TCP: Final = (Transport.TCP,)
_UDP: Final = (Transport.UDP,)
_BOTH: Final = (Transport.TCP, Transport.UDP)

SERVICES: Final[tuple[Service, ...]] = (
    Service("FTP-data", 20, _TCP, "FTP data connection, active mode (RFC 959)", ("ftp-data", "ftp")),
    Service("FTP", 21, _TCP, "FTP control connection: commands and replies (RFC 959)", ("ftp",)),
    Service("SSH", 22, _TCP, "Secure Shell: encrypted remote login and file copy (RFC 4253)", ("scp", "sftp")),
    Service("Telnet", 23, _TCP, "remote login in clear text (RFC 854)"),
    Service("SMTP", 25, _TCP, "mail transfer between mail servers (RFC 5321)"),
    Service(
        "DNS",
        53,
        _BOTH,
        "domain name to IP address; UDP for queries, TCP for large answers (RFC 1035, RFC 7766)",
        ("domain",),
    ),
    Service("DHCP-server", 67, _UDP, "DHCP/BOOTP server: hands out IP addresses (RFC 2131)", ("bootps", "dhcp")),
    Service("DHCP-client", 68, _UDP, "DHCP/BOOTP client side (RFC 2131)", ("bootpc", "dhcp")),
    Service("TFTP", 69, _UDP, "Trivial FTP: no login, used to boot network devices (RFC 1350)"),
    Service("HTTP", 80, _TCP, "the web; what a browser sends by default (RFC 9110, RFC 9112)", ("www", "www-http")),
    Service("POP3", 110, _TCP, "fetch mail from a mailbox (RFC 1939)", ("pop", "pop-3")),
    Service("NTP", 123, _UDP, "Network Time Protocol: clock synchronisation (RFC 5905)"),
    Service("IMAP", 143, _TCP, "read mail kept on the server (RFC 9051)", ("imap4",)),
    Service("SNMP", 161, _UDP, "monitor and manage network devices (RFC 3411)"),
    Service("LDAP", 389, _TCP, "directory lookups (RFC 4511)"),
    Service("HTTPS", 443, _BOTH, "HTTP over TLS; HTTP/3 runs over QUIC on UDP (RFC 9110, RFC 9114)", ("http-tls",)),
    Service("SMTPS", 465, _TCP, "mail submission over implicit TLS (RFC 8314)", ("submissions", "urd")),
    Service("Submission", 587, _TCP, "mail submission from a mail client, then STARTTLS (RFC 6409)", ("msa",)),
    Service("IMAPS", 993, _TCP, "IMAP over TLS (RFC 8314)"),
    Service("POP3S", 995, _TCP, "POP3 over TLS (RFC 8314)", ("pop3-tls",)),
    Service("MySQL", 3306, _TCP, "MySQL and MariaDB database server", ("mariadb",)),
    Service(
        "RDP", 3389, _BOTH, "Remote Desktop Protocol (Windows remote desktop)", ("ms-wbt-server", "remote-desktop")
    ),
    Service("PostgreSQL", 5432, _TCP, "PostgreSQL database server", ("postgres", "psql")),
    Service("Redis", 6379, _TCP, "Redis key-value store"),
    Service("HTTP-alt", 8080, _TCP, "alternative HTTP port: proxies, development servers", ("http-proxy", "webcache")),
)


def _names() -> list[str]:
    return sorted({name for service in SERVICES for name in (service.name.casefold(), *service.aliases)})


def lookup(query: str | int) -> tuple[Service, ...]:
    """Every service answering to ``query``: a port number, or a name or alias in any case.

    More than one can answer: ``dhcp`` is 67 (server) and 68 (client); ``ftp`` is 21 and 20.
    Raises :class:`PortLookupError` when none does, naming the range of a number or a close name.
    """
    text = str(query).strip()
    if text.removeprefix("-").isdecimal():
        port = int(text)
        found = tuple(service for service in SERVICES if service.port == port)
        if not found:
            area = port_range(port)  # raises for ports above 65535
            raise PortLookupError(
                f"port {port} is not in the well-known ports table; it is a {area.name} port ({area.first}–{area.last})"
            )
        return found
    found = tuple(sorted((service for service in SERVICES if service.answers_to(text)), key=lambda s: s.port))
    if not found:
        close = difflib.get_close_matches(text.casefold(), _names(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise PortLookupError(f"no service named {text!r} in the well-known ports table{hint}")
    return found


# --------------------------------------------------------------------------------------------------
# Rendering


_WORDS: Final[Mapping[Language, Mapping[str, str]]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                "column.port": "port",
                "column.transport": "transport",
                "column.name": "application",
                "column.range": "range",
                "column.description": "description",
                "ranges.title": "Port ranges (ports are 0–65535, 16 bits; RFC 6335):",
                "range.well-known": "well-known",
                "range.registered": "registered",
                "range.dynamic": "dynamic",
                "range.linux-ephemeral": "Linux ephemeral",
            }
        ),
        "zh": MappingProxyType(
            {
                "column.port": "端口",
                "column.transport": "传输层协议",
                "column.name": "应用程序",
                "column.range": "范围",
                "column.description": "说明",
                "ranges.title": "端口的范围 (0--65535, 16位; RFC 6335):",
                "range.well-known": "熟知端口",
                "range.registered": "登记端口",
                "range.dynamic": "动态端口",
                "range.linux-ephemeral": "Linux 临时端口",
                "range.well-known.about": "由IANA分配给服务端; Unix上只有特权进程能监听",
                "range.registered.about": "向IANA登记给某个应用程序, 谁都可以用",
                "range.dynamic.about": "从不分配: 留给客户端的临时端口",
                "range.linux-ephemeral.about": "Linux 默认的 net.ipv4.ip_local_port_range: 客户端的端口从这里取",
            }
        ),
    }
)


def words(language: Language) -> Mapping[str, str]:
    """The catalog of this module's labels in ``language``."""
    return _WORDS[language]


def description(service: Service, language: Language = "en") -> str:
    """The service's description in ``language``: English is the service's own; other languages come
    from ``addressing/catalog/<language>.toml`` (falling back to English)."""
    return _translations(language).get(f"description.{service.name.casefold()}", service.description)


@cache
def _translations(language: str) -> Mapping[str, str]:
    return load_catalog(__package__, language)


def render_services(services: Iterable[Service], language: Language = "en") -> str:
    """The services as a table: port, transports, name, range, description (in ``language``)."""
    say = words(language)
    rows = [
        [
            str(service.port),
            "+".join(transport.name for transport in service.transports),
            service.name,
            say[f"range.{service.range.name}"],
            description(service, language),
        ]
        for service in services
    ]
    header = [
        say["column.port"],
        say["column.transport"],
        say["column.name"],
        say["column.range"],
        say["column.description"],
    ]
    return text_table(rows, header=header, right=frozenset({0}))


def render_ranges(language: Language = "en", ranges: Iterable[PortRange] | None = None) -> str:
    """The IANA ranges and Linux's ephemeral range, one per line."""
    say = words(language)
    chosen = (*IANA_RANGES, LINUX_EPHEMERAL_RANGE) if ranges is None else tuple(ranges)
    rows = [
        [
            f"{span.first}–{span.last}",
            say[f"range.{span.name}"],
            say.get(f"range.{span.name}.about", span.description),
        ]
        for span in chosen
    ]
    return say["ranges.title"] + "\n" + text_table(rows, indent="  ")
