"""Names on a simulated host: numeric addresses, the host's own name table (/etc/hosts), DNS, services.

As glibc's nsswitch ``hosts: files dns``: the table first — it holds ``localhost`` and the host's own
name from the start, and a lab adds every host of its network (:func:`wirelab.process.lab.start`) —
then the host's stub resolver (:mod:`wirelab.sockets.resolver`), which asks its nameservers over the
wire. Failures are glibc's: ``gaierror(-2, 'Name or service not known')`` and the resolver's others.
Service names (``"http"``) come from services(5), as glibc reads them (wirelab's table of well-known
ports stands in where the machine has no /etc/services).
"""

from __future__ import annotations

import socket as _real
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING

from wirelab.addressing.ports import PortLookupError, lookup
from wirelab.sockets.errors import (
    EAI_ADDRFAMILY,
    EAI_FAMILY,
    EAI_NONAME,
    EAI_SERVICE,
    EAI_SOCKTYPE,
    address_error,
    gaierror,
)
from wirelab.trace import Layer

if TYPE_CHECKING:
    from wirelab.sockets.files import System
    from wirelab.sockets.host import HostSockets

AF_UNSPEC = 0
AF_INET = 2
AF_INET6 = 10
AI_PASSIVE = 1
AI_CANONNAME = 2
AI_NUMERICHOST = 4
AI_NUMERICSERV = 0x400


@dataclass(frozen=True, slots=True)
class ResolvConf:
    """A host's /etc/resolv.conf: ``nameserver`` lines (up to 3 are used, MAXNS), ``search`` and
    ``options timeout:5 attempts:2 ndots:1`` (glibc's defaults, resolv.conf(5))."""

    nameservers: tuple[IPv4Address, ...] = ()
    search: tuple[str, ...] = ()
    timeout: int = 5
    attempts: int = 2
    ndots: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.timeout <= 30 or not 1 <= self.attempts <= 5 or not 0 <= self.ndots <= 15:
            raise ValueError("resolv.conf: timeout 1-30, attempts 1-5, ndots 0-15 (resolv.conf(5)'s caps)")
        object.__setattr__(self, "nameservers", tuple(IPv4Address(ns) for ns in self.nameservers)[:3])

    def render(self) -> str:
        """The file's text."""
        lines = [f"nameserver {address}" for address in self.nameservers]
        if self.search:
            lines.append("search " + " ".join(self.search))
        lines.append(f"options timeout:{self.timeout} attempts:{self.attempts} ndots:{self.ndots}")
        return "\n".join(lines) + "\n"


def numeric(name: str) -> IPv4Address | None:
    """``inet_aton``'s reading of a numeric address (``127.1`` included), or None."""
    try:
        return IPv4Address(_real.inet_aton(name))
    except (OSError, ValueError):
        return None


def resolve(host: HostSockets, name: str, system: System | None = None) -> IPv4Address:
    """The (first) address of ``name``; DNS is asked only with a ``system`` to block in."""
    return resolve_all(host, name, system)[0]


def resolve_all(host: HostSockets, name: str, system: System | None = None) -> list[IPv4Address]:
    if name == "":
        return [IPv4Address("0.0.0.0")]
    if name == "<broadcast>":
        return [IPv4Address("255.255.255.255")]
    address = numeric(name) if name[:1].isdigit() else None
    if address is not None:
        return [address]
    found = host.names.get(name.lower().rstrip("."))
    if found is not None:
        node = host.node
        if node.trace.enabled:
            node.trace.emit(host.sim.now, node.name, Layer.APPLICATION, "dns.hosts-file", name=name, address=found)
        return [found]
    if not host.resolv_conf.nameservers:
        node = host.node
        if node.trace.enabled:
            node.trace.emit(host.sim.now, node.name, Layer.APPLICATION, "dns.no-nameserver", name=name)
        raise address_error(EAI_NONAME)
    if system is None:
        raise address_error(EAI_NONAME)
    return host.resolver.addresses(system, name)


def reverse(host: HostSockets, address: IPv4Address, system: System | None = None) -> str | None:
    """The name of ``address``: the table's, else a PTR query (with a ``system`` to block in)."""
    for name, known in host.names.items():
        if known == address and name != "localhost":
            return name
    if address.is_loopback:
        return "localhost"
    if system is None or not host.resolv_conf.nameservers:
        return None
    return host.resolver.pointer(system, address)


SERVICES_FILE = Path("/etc/services")


def service_port(service: str | int | bytes | None, protocol: str) -> int:
    """A service's port, as getservbyname(3) reads services(5): names are exact (``http``, ``domain``;
    not ``HTTP`` or ``dns``) and belong to a protocol (``http`` is TCP's only). A simulated host reads
    the services file of the machine it runs on, as the host's own getservbyport does; on a machine
    without one (no netbase) wirelab's table of well-known ports stands in."""
    if service is None:
        return 0
    if isinstance(service, bytes):
        service = service.decode()
    if isinstance(service, int):
        return service
    if service.isdigit():
        return int(service)
    if SERVICES_FILE.exists():
        try:
            port: int = _real.getservbyname(service, protocol) if protocol else _real.getservbyname(service)
        except OSError:
            raise address_error(EAI_SERVICE) from None
        return port
    try:
        for found in lookup(service):
            if protocol == "" or any(transport.value == protocol for transport in found.transports):
                return found.port
    except PortLookupError:
        pass
    raise address_error(EAI_SERVICE)


def _service_text(service: str | int | bytes | None) -> str | None:
    """What CPython hands getaddrinfo(3) as the service: an int printed, a str or bytes as it is."""
    if service is None:
        return None
    if isinstance(service, int):
        return str(service)
    if isinstance(service, bytes):
        return service.decode()
    if isinstance(service, str):
        return service
    raise OSError("Int or String expected")


# glibc's table of socket types and protocols (gaih_inet_typeproto), IPv4's part: a raw socket takes
# any protocol and has no services.
_TYPES = ((1, 6, "tcp"), (2, 17, "udp"), (3, 0, ""))


def address_info(
    host: HostSockets,
    name: str | bytes | None,
    service: str | int | bytes | None,
    family: int = 0,
    kind: int = 0,
    proto: int = 0,
    flags: int = 0,
    system: System | None = None,
) -> list[tuple[int, int, int, str, tuple[str, int]]]:
    """``getaddrinfo``: the (family, type, proto, canonname, sockaddr) list glibc gives for IPv4, and
    its errors in its order: the family, the service (per socket type), then the name."""
    if family == AF_INET6:
        raise address_error(EAI_ADDRFAMILY)  # an IPv4-only host has no IPv6 address for any name
    if family not in (AF_UNSPEC, AF_INET):
        raise address_error(EAI_FAMILY)
    if isinstance(name, bytes):
        name = name.decode("idna")
    text = _service_text(service)
    if name is None and text is None:
        raise address_error(EAI_NONAME)
    # which socket types, each with its protocol (gaih_inet: a type and a protocol given must agree)
    if kind and proto:
        kinds = [(k, proto if k == 3 else p, n) for k, p, n in _TYPES if k == kind and (p == proto or k == 3)]
    elif kind:
        kinds = [entry for entry in _TYPES if entry[0] == kind]
    elif proto:
        kinds = [entry for entry in _TYPES if entry[1] == proto]
    else:
        kinds = list(_TYPES)
    if not kinds:  # no such type, or a type and a protocol that do not go together; a protocol alone
        raise address_error(EAI_SOCKTYPE if kind else EAI_SERVICE)  # finds no service for it
    # the port, per socket type: digits are a number (taken modulo 2**16, as htons does), anything else a
    # name looked up for each type's protocol; the types the service does not exist for are left out
    ports: list[tuple[int, int, int]] = []
    if text is None:
        ports = [(k, p, 0) for k, p, _ in kinds]
    elif text.isdigit():
        ports = [(k, p, int(text) & 0xFFFF) for k, p, _ in kinds]
    elif flags & AI_NUMERICSERV:
        raise address_error(EAI_NONAME)
    else:
        for sock_type, sock_proto, protocol in kinds:
            if sock_type == 3:
                continue  # raw sockets have no services
            try:
                ports.append((sock_type, sock_proto, service_port(text, protocol)))
            except gaierror:
                continue
        if not ports:
            raise address_error(EAI_SERVICE)
    if name is None:
        address = IPv4Address("0.0.0.0") if flags & AI_PASSIVE else IPv4Address("127.0.0.1")
    elif flags & AI_NUMERICHOST or name == "":
        found = numeric(name)
        if found is None:
            raise address_error(EAI_NONAME)
        address = found
    else:
        address = resolve(host, name, system)
    canonical = "" if name is None or not flags & AI_CANONNAME else name  # numeric: the text; a name: its own
    return [
        (AF_INET, sock_type, sock_proto, canonical if index == 0 else "", (str(address), port))
        for index, (sock_type, sock_proto, port) in enumerate(ports)
    ]
