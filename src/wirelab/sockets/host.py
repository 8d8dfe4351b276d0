"""The socket layer's share of one simulated host: its TCP and UDP, its ports, its names.

Binding follows Linux (``inet_csk_bind_conflict``): a TCP port is taken by every socket, listener and
connection on it — TIME-WAIT included — whose address overlaps (equal, or either is 0.0.0.0), unless
both the new socket and the holder set SO_REUSEADDR and the holder is not listening. A connection
keeps the SO_REUSEADDR of the socket it came from after that socket closes, so a server restarted
right after closing a connection gets EADDRINUSE without SO_REUSEADDR and binds with it, as on Linux
(and only when the old server had set it too).

ICMP errors about a SYN we sent end the connect with EHOSTUNREACH / ENETUNREACH / ECONNREFUSED, as
Linux's ``tcp_v4_err`` does in SYN-SENT; later they are only soft errors, and TCP retransmits.
"""

from __future__ import annotations

import weakref
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Final

from wirelab.apps.bulk import tcp_of
from wirelab.sockets.names import ResolvConf
from wirelab.stack.icmp import UNREACHABLE_ERRNO
from wirelab.stack.node import SendError
from wirelab.stack.tcp.connection import TcpConnection
from wirelab.stack.tcp.state import TcpState
from wirelab.stack.udp import UdpEndpoint
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType
from wirelab.wire.ipaddr import UNSPECIFIED
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header

if TYPE_CHECKING:
    from wirelab.sim.node import SimNode
    from wirelab.sockets.resolver import Resolver
    from wirelab.sockets.tcp import TcpSocket

LOCALHOST: Final = IPv4Address("127.0.0.1")


def udp_of(node: SimNode) -> UdpEndpoint:
    """The node's UDP endpoint, created on first use (one per node: it owns the UDP fallback hook)."""
    endpoint = getattr(node, "udp", None)
    if endpoint is None:
        endpoint = UdpEndpoint(node.stack, rng=node.sim.random(f"{node.name} udp"))
        node.udp = endpoint  # type: ignore[attr-defined]
    assert isinstance(endpoint, UdpEndpoint)
    return endpoint


def host_of(node: SimNode) -> HostSockets:
    """The node's socket layer, created on first use."""
    sockets = getattr(node, "sockets", None)
    if sockets is None:
        sockets = HostSockets(node)
        node.sockets = sockets  # type: ignore[attr-defined]
    assert isinstance(sockets, HostSockets)
    return sockets


class HostSockets:
    def __init__(self, node: SimNode) -> None:
        self.node = node
        self.sim = node.sim
        self.tcp = tcp_of(node)
        self.udp = udp_of(node)
        self.hostname = node.name
        self.names: dict[str, IPv4Address] = {"localhost": LOCALHOST}
        first = next((interface.ip for interface in node.interfaces if interface.ip is not None), None)
        self.names[node.name] = first or LOCALHOST
        self._resolv_conf = ResolvConf()
        self._resolver: Resolver | None = None
        self.tcp_sockets: dict[int, TcpSocket] = {}  # id -> every open TCP socket with a local port
        # SO_REUSEADDR of the socket each connection came from, kept after the socket closes.
        self.tcp_reuse: weakref.WeakKeyDictionary[TcpConnection, bool] = weakref.WeakKeyDictionary()
        node.stack.handlers.icmp.append(self._icmp_arrives)

    # -- names: /etc/resolv.conf and the stub resolver --------------------------------------------
    @property
    def resolv_conf(self) -> ResolvConf:
        return self._resolv_conf

    @resolv_conf.setter
    def resolv_conf(self, conf: ResolvConf) -> None:
        self._resolv_conf = conf
        if conf.nameservers:
            _ = self.resolver  # loaded now, in the real interpreter, not by a process's first lookup

    @property
    def resolver(self) -> Resolver:
        if self._resolver is None:
            # dnspython brings the email package along, which every process switch would then hide and
            # restore: only hosts with a nameserver load it.
            from wirelab.sockets.resolver import Resolver  # noqa: PLC0415

            self._resolver = Resolver(self)
        return self._resolver

    # -- calling into the stack -------------------------------------------------------------------
    def begin(self) -> None:
        """Before an application call: the stack reads the virtual clock."""
        self.node.stack.now = self.sim.now

    def flush(self) -> None:
        """After an application call: put what the stack produced on the wire, re-arm its timers."""
        self.node.flush()

    # -- addresses --------------------------------------------------------------------------------
    def is_local(self, address: IPv4Address) -> bool:
        return address == UNSPECIFIED or self.node.stack.is_local(address)

    def source_for(self, destination: IPv4Address) -> IPv4Address | None:
        """The address a datagram to ``destination`` leaves from (the stack's rule), or None: no route."""
        try:
            return self.node.stack.source_for(destination)
        except SendError:
            return None

    # -- TCP ports (Linux's bind rule) ------------------------------------------------------------
    def tcp_port_taken(self, sock: TcpSocket, address: IPv4Address, port: int) -> bool:
        owned: set[int] = set()
        for other in self.tcp_sockets.values():
            if other.connection is not None:
                owned.add(id(other.connection))
            if other.listener is not None:
                owned.add(id(other.listener))
            if other is sock or other.local is None or other.local[1] != port:
                continue
            if _overlap(address, other.local[0]) and not (sock.reuse and other.reuse and other.listener is None):
                return True
        for (listen_address, listen_port), listener in self.tcp.listeners.items():
            if listen_port == port and id(listener) not in owned and _overlap(address, listen_address):
                return True
        for connection in self.tcp.connections.values():
            local_address, local_port = connection.local
            if local_port != port or id(connection) in owned or not _overlap(address, local_address):
                continue
            if not (sock.reuse and self.tcp_reuse.get(connection, False)):
                return True
        return False

    def tcp_ephemeral(self, sock: TcpSocket, address: IPv4Address) -> int:
        for _ in range(64):
            port = self.tcp.ephemeral_port()
            if not self.tcp_port_taken(sock, address, port):
                return port
        port = self.tcp.ephemeral_port()
        return port

    # -- ICMP errors for our connects -------------------------------------------------------------
    def _icmp_arrives(self, header: Ipv4Header, message: IcmpMessage, now: int) -> None:
        if message.type != IcmpType.DEST_UNREACHABLE or len(message.data) < 28:
            return
        quoted = message.data
        offset = (quoted[0] & 0x0F) * 4
        if quoted[9] != IpProtocol.TCP or len(quoted) < offset + 4:
            return
        key = (
            int.from_bytes(quoted[12:16], "big"),
            int.from_bytes(quoted[offset : offset + 2], "big"),
            int.from_bytes(quoted[16:20], "big"),
            int.from_bytes(quoted[offset + 2 : offset + 4], "big"),
        )  # the endpoint's four-tuple: addresses as ints
        connection = self.tcp.connections.get(key)
        if connection is None or connection.state is not TcpState.SYN_SENT:
            return  # in synchronized states an ICMP error is soft: TCP keeps retransmitting (RFC 1122 §4.2.3.9)
        error = UNREACHABLE_ERRNO.get(message.code, "EHOSTUNREACH")
        self.node.counters["tcp.connect.icmp-error"] += 1
        connection.abort(now, error)
        self.tcp.flush(now)
        self.node.stack.timers_changed = True


def _overlap(a: IPv4Address, b: IPv4Address) -> bool:
    return a == b or UNSPECIFIED in (a, b)
