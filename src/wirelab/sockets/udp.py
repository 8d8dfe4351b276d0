"""A UDP socket in the simulated kernel, on the stack's UdpEndpoint (Linux's rules).

A socket binds on first use (``sendto`` or ``connect`` without ``bind``: 0.0.0.0 and an ephemeral
port, ``inet_autobind``). ``connect`` only records the peer: then ``send`` needs no address, only the
peer's datagrams arrive, and ICMP port unreachable comes back as ECONNREFUSED on the next call —
pending errors are reported before queued datagrams (``__skb_try_recv_datagram``). A datagram larger
than the buffer given to ``recv`` is cut, and the rest is lost.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Final

from wirelab.sockets.channel import Channel
from wirelab.sockets.errors import errno_of, os_error
from wirelab.sockets.files import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM
from wirelab.sockets.tcp import (
    IP_TOS,
    IP_TTL,
    IPPROTO_IP,
    IPPROTO_TCP,
    MSG_PEEK,
    RCV_SHUTDOWN,
    RCVBUF_MIN,
    SHUTDOWN_MASK,
    SNDBUF_MIN,
    SO_ACCEPTCONN,
    SO_BROADCAST,
    SO_DOMAIN,
    SO_ERROR,
    SO_KEEPALIVE,
    SO_PROTOCOL,
    SO_RCVBUF,
    SO_REUSEADDR,
    SO_REUSEPORT,
    SO_SNDBUF,
    SO_TYPE,
    SOL_SOCKET,
    WOULD_BLOCK,
    _WouldBlock,
    buffer_size,
    option_value,
)
from wirelab.stack.node import SendError
from wirelab.stack.udp import UdpBinding
from wirelab.wire.ipaddr import UNSPECIFIED

LOCALHOST: Final = IPv4Address("127.0.0.1")
LIMITED_BROADCAST: Final = IPv4Address("255.255.255.255")

if TYPE_CHECKING:
    from wirelab.sockets.host import HostSockets

SOCK_DGRAM: Final = 2
AF_INET: Final = 2
IPPROTO_UDP: Final = 17
UDP_BUFFER_DEFAULT: Final = 212_992  # net.core.rmem_default / wmem_default


class UdpSocket:
    family = AF_INET
    type = SOCK_DGRAM

    def __init__(self, host: HostSockets, proto: int = 0) -> None:
        self.host = host
        self.proto = proto
        self.channel = Channel()
        self.binding: UdpBinding | None = None
        self.peer: tuple[IPv4Address, int] | None = None
        self.source: IPv4Address | None = None  # the address a connected socket sends from
        self.broadcast = False
        self.keepalive = False
        self.reuse = False
        self.reuse_port = False
        self.send_buffer = UDP_BUFFER_DEFAULT
        self.receive_buffer = UDP_BUFFER_DEFAULT
        self.shutdown_mask = 0
        self.error: str | None = None
        self.ttl = 64
        self.tos = 0
        self.closed = False

    # -- binding ----------------------------------------------------------------------------------
    def _ready(self, _binding: UdpBinding) -> None:
        self.channel.notify()

    def bind(self, address: IPv4Address, port: int) -> None:
        if self.binding is not None or self.closed:
            raise os_error("EINVAL")
        try:
            binding = self.host.udp.bind(address, port)
        except SendError as error:
            raise os_error(error.errno_name) from None
        binding.on_ready = self._ready
        binding.broadcast = self.broadcast
        binding.limit = self.receive_buffer
        self.binding = binding

    def _autobind(self) -> UdpBinding:
        if self.binding is None:
            self.bind(UNSPECIFIED, 0)
        assert self.binding is not None
        return self.binding

    def _destination(self, address: IPv4Address) -> IPv4Address:
        """ip_route_output: 0.0.0.0 as a destination is this host — the bound address, else 127.0.0.1."""
        if address != UNSPECIFIED:
            return address
        bound = self.binding.address if self.binding is not None else UNSPECIFIED
        return bound if bound != UNSPECIFIED else LOCALHOST

    def connect(self, address: IPv4Address, port: int) -> None:
        binding = self._autobind()
        address = self._destination(address)
        source = self.host.source_for(address)
        if source is None and address != LIMITED_BROADCAST:
            raise os_error("ENETUNREACH")
        interfaces = self.host.node.interfaces
        if not self.broadcast and (
            address == LIMITED_BROADCAST
            or any(interface.broadcast == address for interface in interfaces if interface.address is not None)
        ):
            raise os_error("EACCES")  # ip4_datagram_connect: a broadcast route needs SO_BROADCAST
        self.peer = (address, port)
        self.source = source if binding.address == UNSPECIFIED else binding.address
        binding.peer = self.peer
        binding.pending_error = None

    # -- errors -----------------------------------------------------------------------------------
    def take_error(self) -> str | None:
        error = self.error
        if error is None and self.binding is not None:
            error = self.binding.pending_error
        self.error = None
        if self.binding is not None:
            self.binding.pending_error = None
        return error

    def _raise_pending(self) -> None:
        error = self.take_error()
        if error is not None:
            raise os_error(error)

    # -- data -------------------------------------------------------------------------------------
    def send(self, data: bytes, flags: int = 0) -> int:
        if self.peer is None:
            raise os_error("EDESTADDRREQ")
        return self.sendto(data, self.peer, flags)

    def sendto(self, data: bytes, destination: tuple[IPv4Address, int], flags: int = 0) -> int:
        self._raise_pending()
        if self.shutdown_mask & 2:
            raise os_error("EPIPE")
        binding = self._autobind()
        destination = (self._destination(destination[0]), destination[1])
        host = self.host
        host.begin()
        try:
            sent = host.udp.send(binding, data, destination)
        except SendError as error:
            raise os_error(error.errno_name) from None
        finally:
            host.flush()
        return sent

    def recvfrom(self, size: int, flags: int = 0) -> tuple[bytes, tuple[str, int] | None] | _WouldBlock:
        self._raise_pending()
        binding = self.binding
        if binding is None or not binding.queue:
            if self.shutdown_mask & RCV_SHUTDOWN:
                return b"", None  # no datagram, no address (addrlen 0: CPython says None)
            return WOULD_BLOCK
        datagram = binding.queue[0] if flags & MSG_PEEK else binding.take()
        assert datagram is not None
        source = datagram.source
        return datagram.data[:size], (str(source[0]), source[1])

    def shutdown(self, how: int) -> None:
        if how not in (0, 1, 2):
            raise os_error("EINVAL")
        self.shutdown_mask |= how + 1
        self.channel.notify()
        if self.peer is None:
            raise os_error("ENOTCONN")  # Linux sets the bits, then says the socket is not connected

    def release(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.binding is not None:
            self.host.udp.unbind(self.binding)
            self.binding.on_ready = None
        self.channel.notify()

    def poll_mask(self) -> int:
        mask = POLLOUT | POLLWRNORM  # datagram sockets are always writable (sock_writeable)
        binding = self.binding
        if self.error is not None or (binding is not None and binding.pending_error is not None):
            mask |= POLLERR
        if self.shutdown_mask & RCV_SHUTDOWN:
            mask |= POLLIN | POLLRDNORM | POLLRDHUP
        if self.shutdown_mask == SHUTDOWN_MASK:
            mask |= POLLHUP
        if binding is not None and binding.queue:
            mask |= POLLIN | POLLRDNORM
        return mask

    # -- options ----------------------------------------------------------------------------------
    def setsockopt(self, level: int, name: int, value: int | bytes | None) -> None:
        number = option_value(value)
        if level == SOL_SOCKET and name == SO_BROADCAST:
            self.broadcast = bool(number)
            if self.binding is not None:
                self.binding.broadcast = self.broadcast
        elif level == SOL_SOCKET and name == SO_REUSEADDR:
            self.reuse = bool(number)
        elif level == SOL_SOCKET and name == SO_REUSEPORT:
            self.reuse_port = bool(number)
        elif level == SOL_SOCKET and name == SO_SNDBUF:
            self.send_buffer = buffer_size(number, SNDBUF_MIN)
        elif level == SOL_SOCKET and name == SO_RCVBUF:
            self.receive_buffer = buffer_size(number, RCVBUF_MIN)
            if self.binding is not None:
                self.binding.limit = self.receive_buffer
        elif level == IPPROTO_IP and name == IP_TTL:
            self.ttl = number
        elif level == IPPROTO_IP and name == IP_TOS:
            self.tos = number
        elif level == SOL_SOCKET and name == SO_KEEPALIVE:
            self.keepalive = bool(number)  # kept (SOCK_KEEPOPEN), meaningless for UDP, as Linux
        else:
            raise os_error("ENOPROTOOPT")

    def getsockopt(self, level: int, name: int) -> int | bytes:
        if (level, name) == (SOL_SOCKET, SO_ERROR):
            error = self.take_error()
            return 0 if error is None else errno_of(error)
        if level == IPPROTO_TCP:
            raise os_error("EOPNOTSUPP")  # udp_getsockopt hands other levels to ip_getsockopt: not TCP's
        values = {
            (SOL_SOCKET, SO_BROADCAST): int(self.broadcast),
            (SOL_SOCKET, SO_REUSEADDR): int(self.reuse),
            (SOL_SOCKET, SO_REUSEPORT): int(self.reuse_port),
            (SOL_SOCKET, SO_KEEPALIVE): int(self.keepalive),
            (SOL_SOCKET, SO_ACCEPTCONN): 0,
            (SOL_SOCKET, SO_SNDBUF): self.send_buffer,
            (SOL_SOCKET, SO_RCVBUF): self.receive_buffer,
            (SOL_SOCKET, SO_TYPE): SOCK_DGRAM,
            (SOL_SOCKET, SO_DOMAIN): AF_INET,
            (SOL_SOCKET, SO_PROTOCOL): IPPROTO_UDP,
            (IPPROTO_IP, IP_TTL): self.ttl,
            (IPPROTO_IP, IP_TOS): self.tos,
        }
        if (level, name) not in values:
            raise os_error("ENOPROTOOPT")
        return values[(level, name)]

    # -- names ------------------------------------------------------------------------------------
    def sockname(self) -> tuple[str, int]:
        if self.binding is None:
            return "0.0.0.0", 0
        address = self.source if self.peer is not None and self.source is not None else self.binding.address
        return str(address), self.binding.port

    def peername(self) -> tuple[str, int]:
        if self.peer is None or self.peer[1] == 0:
            raise os_error("ENOTCONN")  # inet_getname: no peer port, not connected
        return str(self.peer[0]), self.peer[1]


__all__ = ["RCVBUF_MIN", "SNDBUF_MIN", "UdpSocket"]
