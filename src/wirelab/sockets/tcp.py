"""A TCP socket in the simulated kernel: Linux's rules for each call, on the stack's TcpEndpoint.

Each call is a non-blocking step that returns a result, raises the stdlib-shaped OSError, or returns
:data:`WOULD_BLOCK`; the system-call layer (:mod:`wirelab.sockets.api`) turns WOULD_BLOCK into a
wait, a timeout or BlockingIOError. The rules are Linux's (``net/ipv4/af_inet.c``, ``tcp.c``):

- ``connect`` goes UNCONNECTED → CONNECTING → CONNECTED (``inet_stream_connect``): asked again while
  the handshake runs it says EALREADY; once it finished, 0 (then EISCONN); a failure is reported once
  (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH) and the socket may connect again.
- an error the connection met (a RST: ECONNRESET) is reported by the next call, once (``sk_err``).
- ``send`` on a socket that is not connected, shut for writing, or reset: EPIPE (BrokenPipeError).
- ``recv`` returns the data that arrived first; then b"" once the peer's FIN came (``SOCK_DONE``, even
  with an error pending: a RST in CLOSE-WAIT reads EPIPE at the next send), else the pending error.
- ``close`` with received data nobody read sends RST instead of FIN (``tcp_close``: data_was_unread),
  and data that arrives after ``close`` answers RST too (FIN-WAIT-1/2 with RCV_SHUTDOWN).
- a socket whose connection was reset or went to TIME-WAIT is in CLOSE: getpeername and shutdown say
  ENOTCONN.
"""

from __future__ import annotations

import struct
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Final

from wirelab.sockets.channel import Channel
from wirelab.sockets.errors import errno_of, os_error
from wirelab.sockets.files import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM
from wirelab.stack.tcp.config import TcpConfig
from wirelab.stack.tcp.connection import TcpConnection, TcpEvent, TcpEventKind
from wirelab.stack.tcp.endpoint import Listener, TcpError
from wirelab.stack.tcp.state import TcpState
from wirelab.wire.ipaddr import UNSPECIFIED

if TYPE_CHECKING:
    from wirelab.sockets.host import HostSockets

SECOND: Final = 1_000_000_000
LOCALHOST: Final = IPv4Address("127.0.0.1")


class _WouldBlock:
    __slots__ = ()

    def __repr__(self) -> str:
        return "WOULD_BLOCK"


WOULD_BLOCK: Final = _WouldBlock()

RCV_SHUTDOWN: Final = 1
SEND_SHUTDOWN: Final = 2
SHUTDOWN_MASK: Final = 3

UNCONNECTED: Final = "unconnected"
CONNECTING: Final = "connecting"
CONNECTED: Final = "connected"

# setsockopt levels and names (Linux values; the api module re-exports the real module's constants).
SOL_SOCKET: Final = 1
IPPROTO_IP: Final = 0
IPPROTO_TCP: Final = 6
SO_REUSEADDR: Final = 2
SO_TYPE: Final = 3
SO_ERROR: Final = 4
SO_BROADCAST: Final = 6
SO_SNDBUF: Final = 7
SO_RCVBUF: Final = 8
SO_KEEPALIVE: Final = 9
SO_LINGER: Final = 13
SO_REUSEPORT: Final = 15
SO_ACCEPTCONN: Final = 30
SO_PROTOCOL: Final = 38
SO_DOMAIN: Final = 39
IP_TOS: Final = 1
IP_TTL: Final = 2
TCP_NODELAY: Final = 1
TCP_MAXSEG: Final = 2
TCP_KEEPIDLE: Final = 4
TCP_KEEPINTVL: Final = 5
TCP_KEEPCNT: Final = 6
MSG_PEEK: Final = 0x2
MSG_DONTWAIT: Final = 0x40
MSG_WAITALL: Final = 0x100
MSG_NOSIGNAL: Final = 0x4000
SOCK_STREAM: Final = 1
AF_INET: Final = 2

# Linux's socket buffer rules: setsockopt doubles the value (room for bookkeeping), within bounds.
SNDBUF_MIN: Final = 4608
RCVBUF_MIN: Final = 2304
BUFFER_MAX: Final = 212_992  # net.core.wmem_max / rmem_max
TCP_SNDBUF_DEFAULT: Final = 16_384  # net.ipv4.tcp_wmem[1]
TCP_RCVBUF_DEFAULT: Final = 131_072  # net.ipv4.tcp_rmem[1]


def option_value(value: int | bytes | bytearray | memoryview | None) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    raw = bytes(value)
    if len(raw) < 4:
        raise os_error("EINVAL")
    number: int = struct.unpack("i", raw[:4])[0]
    return number


def buffer_size(value: int, minimum: int) -> int:
    """sock_setsockopt's SO_SNDBUF/SO_RCVBUF: the value as a u32 (a negative one is huge), capped at
    wmem_max/rmem_max, doubled for the kernel's bookkeeping, not below the minimum."""
    return max(min(value & 0xFFFF_FFFF, BUFFER_MAX) * 2, minimum)


class _Orphan:
    """A connection whose socket was closed while the peer may still send (FIN-WAIT-1/2).

    Nobody will read what arrives now: the first data answers with RST (RFC 1122 §4.2.2.13, "if new
    data is received after CLOSE is called, its TCP SHOULD send a RST"; Linux's tcp_rcv_state_process,
    FIN-WAIT-1/2 with RCV_SHUTDOWN: tcp_reset), and the peer's next call fails (EPIPE in CLOSE-WAIT).
    """

    __slots__ = ("connection", "host")

    def __init__(self, host: HostSockets, connection: TcpConnection) -> None:
        self.host = host
        self.connection = connection

    def tcp_events(self, connection: TcpConnection, events: list[TcpEvent]) -> None:
        if connection is not self.connection:
            return  # an old subscription whose id() was reused
        subscribers = self.host.tcp.subscribers
        if connection.state not in (TcpState.FIN_WAIT_1, TcpState.FIN_WAIT_2):
            if subscribers.get(id(connection)) is self:
                del subscribers[id(connection)]
            return
        if connection.readable:
            del subscribers[id(connection)]
            self.host.node.counters["tcp.close.data-after-close-reset"] += 1
            self.host.tcp.call(connection, "abort")


class TcpSocket:
    """The kernel half of one SOCK_STREAM socket (the part descriptors point to)."""

    family = AF_INET
    type = SOCK_STREAM

    def __init__(self, host: HostSockets, proto: int = 0) -> None:
        self.host = host
        self.proto = proto
        self.channel = Channel()
        self.local: tuple[IPv4Address, int] | None = None
        self.stale_port = 0  # the port getsockname still shows after a failed connect gave it back
        self.bound = False  # bind() was called (the port stays ours after a failed connect)
        self.reuse = False
        self.reuse_port = False
        self.listener: Listener | None = None
        self.connection: TcpConnection | None = None
        self.phase = UNCONNECTED
        self.shutdown_mask = 0
        self.error: str | None = None  # sk_err: reported once by the next call
        self.error_taken = False  # a failed connect's error was read (SO_ERROR): connect says ECONNABORTED
        self.keepalive = False
        self.broadcast = False
        self.nodelay = False
        self.keepalive_idle = 7200
        self.keepalive_interval = 75
        self.keepalive_probes = 9
        self.send_buffer = TCP_SNDBUF_DEFAULT
        self.receive_buffer = TCP_RCVBUF_DEFAULT
        self.buffers_set = False
        self.linger: tuple[int, int] = (0, 0)
        self.ttl = 64
        self.tos = 0
        self.closed = False
        self._peeked = bytearray()

    # -- the stack's callbacks --------------------------------------------------------------------
    def tcp_events(self, connection: TcpConnection, events: list[TcpEvent]) -> None:
        if connection is not self.connection:
            return  # an old subscription whose id() was reused
        for event in events:
            if event.kind is TcpEventKind.ERROR and event.error is not None:
                error = event.error
                if error == "ECONNRESET" and connection.fin_received and not self.shutdown_mask & SEND_SHUTDOWN:
                    error = "EPIPE"  # tcp_reset: a RST that finds the socket in CLOSE-WAIT reads EPIPE
                self.error = error
        self.channel.notify()

    def _listener_ready(self, _listener: Listener) -> None:
        self.channel.notify()

    # -- state ------------------------------------------------------------------------------------
    @property
    def state(self) -> TcpState:
        if self.listener is not None:
            return TcpState.LISTEN
        return self.connection.state if self.connection is not None else TcpState.CLOSED

    def take_error(self) -> str | None:
        error, self.error = self.error, None
        return error

    def _raise_pending(self) -> None:
        error = self.take_error()
        if error is not None:
            raise os_error(error)

    def _config(self) -> TcpConfig:
        config = self.host.tcp.config.with_changes(nagle=not self.nodelay)
        if self.buffers_set:
            config = config.with_changes(send_buffer=self.send_buffer, receive_buffer=self.receive_buffer)
        if self.keepalive:
            config = config.with_changes(
                keepalive=True,
                keepalive_idle=self.keepalive_idle * SECOND,
                keepalive_interval=self.keepalive_interval * SECOND,
                keepalive_probes=self.keepalive_probes,
            )
        return config

    def _register(self) -> None:
        self.host.tcp_sockets[id(self)] = self

    def _adopt(self, connection: TcpConnection) -> None:
        self.connection = connection
        self.host.tcp.subscribers[id(connection)] = self
        self.host.tcp_reuse[connection] = self.reuse

    # -- bind, listen, accept ---------------------------------------------------------------------
    def bind(self, address: IPv4Address, port: int) -> None:
        if self.local is not None or self.closed:
            raise os_error("EINVAL")  # Linux: a socket binds once
        if not self.host.is_local(address):
            raise os_error("EADDRNOTAVAIL")
        if port == 0:
            port = self.host.tcp_ephemeral(self, address)
        elif self.host.tcp_port_taken(self, address, port):
            raise os_error("EADDRINUSE")
        self.local = (address, port)
        self.bound = True
        self._register()

    def listen(self, backlog: int) -> None:
        if self.phase != UNCONNECTED or self.connection is not None:
            raise os_error("EINVAL")
        backlog = min(max(backlog, 0), 4096)  # net.core.somaxconn
        if self.listener is not None:
            self.listener.backlog = backlog
            return
        if self.local is None:
            self.bind(UNSPECIFIED, 0)  # inet_autobind
        assert self.local is not None
        if self.host.tcp_port_taken(self, *self.local):
            raise os_error("EADDRINUSE")  # Linux checks the port again (another socket may listen now)
        self.host.begin()
        try:
            self.listener = self.host.tcp.listen(self.local[0], self.local[1], backlog, config=self._config())
        except TcpError as error:
            raise os_error(error.errno_name) from None
        self.listener.on_ready = self._listener_ready

    def accept(self) -> tuple[TcpSocket, tuple[str, int]] | _WouldBlock:
        listener = self.listener
        if listener is None:
            raise os_error("EINVAL")
        if not listener.accept_queue:
            return WOULD_BLOCK
        connection = listener.accept_queue.popleft()
        child = TcpSocket(self.host, self.proto)
        for name in ("reuse", "keepalive", "nodelay", "keepalive_idle", "keepalive_interval", "keepalive_probes"):
            setattr(child, name, getattr(self, name))  # a child inherits its listener's options
        child.send_buffer, child.receive_buffer, child.buffers_set = (
            self.send_buffer, self.receive_buffer, self.buffers_set
        )  # fmt: skip
        child.local = connection.local
        child.phase = CONNECTED
        child._adopt(connection)
        child._register()
        if connection.error is not None and connection.state is TcpState.CLOSED:
            child.error = connection.error
        remote = connection.remote
        return child, (str(remote[0]), remote[1])

    # -- connect ----------------------------------------------------------------------------------
    def connect(self, address: IPv4Address, port: int) -> str | None:
        """One step of inet_stream_connect: None (connected), or an errno name (EINPROGRESS…)."""
        if self.listener is not None or self.phase == CONNECTED:
            return "EISCONN"
        if self.phase == CONNECTING:
            assert self.connection is not None
            state = self.connection.state
            if state in (TcpState.SYN_SENT, TcpState.SYN_RECEIVED):
                return "EALREADY"
            if state is TcpState.CLOSED:
                return self._connect_failed()
            self.phase = CONNECTED
            return None
        if port == 0:
            return "ECONNREFUSED"  # Linux sends the SYN to port 0 and gets a RST
        if address == UNSPECIFIED:  # ip_route_output: 0.0.0.0 is this host (the bound address, or 127.0.0.1)
            address = self.local[0] if self.local is not None and self.local[0] != UNSPECIFIED else LOCALHOST
        host = self.host
        host.begin()
        local_address = self.local[0] if self.local is not None else UNSPECIFIED
        if local_address == UNSPECIFIED:
            source = host.source_for(address)
            if source is None:
                return "ENETUNREACH"
            local_address = source
        if self.local is None:
            self.local = (UNSPECIFIED, host.tcp_ephemeral(self, UNSPECIFIED))
            self._register()
        try:
            connection = host.tcp.connect(
                address, port, local=local_address, local_port=self.local[1], config=self._config()
            )
        except TcpError as error:
            if not self.bound:
                self._unbind()
            if error.errno_name == "EADDRINUSE":
                return "EADDRNOTAVAIL"  # __inet_hash_connect: the four-tuple is taken (check_established)
            return error.errno_name
        self.local = (local_address, self.local[1])
        self.phase = CONNECTING
        self._adopt(connection)
        if self.keepalive:
            connection.set_keepalive(True, host.sim.now)
        host.flush()
        return "EINPROGRESS"

    def _connect_failed(self) -> str:
        """Linux reports the error once and returns the socket to UNCONNECTED (it may connect again)."""
        error = self.take_error() or (self.connection.error if self.connection and not self.error_taken else None)
        error = error or "ECONNABORTED"  # __inet_stream_connect: sock_error(sk) ? : -ECONNABORTED
        self.error_taken = False
        self._forget_connection()
        self.phase = UNCONNECTED
        if not self.bound:
            self._unbind()
        return error

    def _forget_connection(self) -> None:
        connection = self.connection
        if connection is not None:
            subscribers = self.host.tcp.subscribers
            if subscribers.get(id(connection)) is self:
                del subscribers[id(connection)]
        self.connection = None

    def _unbind(self) -> None:
        """Give the autobound port back (Linux: inet_put_port clears inet_num; inet_sport, which
        getsockname reads, keeps the old number until the next connect binds again)."""
        if self.local is not None:
            self.stale_port = self.local[1]
        self.local = None
        self.host.tcp_sockets.pop(id(self), None)

    @property
    def connecting(self) -> bool:
        return self.phase == CONNECTING and self.state in (TcpState.SYN_SENT, TcpState.SYN_RECEIVED)

    # -- data -------------------------------------------------------------------------------------
    def send(self, data: bytes, flags: int = 0) -> int | _WouldBlock:
        self._raise_pending()
        if self.shutdown_mask & SEND_SHUTDOWN:
            raise os_error("EPIPE")
        connection = self.connection
        if connection is None:
            raise os_error("EPIPE")
        state = connection.state
        if state in (TcpState.SYN_SENT, TcpState.SYN_RECEIVED):
            return WOULD_BLOCK  # sk_stream_wait_connect
        if state not in (TcpState.ESTABLISHED, TcpState.CLOSE_WAIT):
            raise os_error("EPIPE")
        if self.phase == CONNECTING:
            self.phase = CONNECTED
        if not data:
            return 0
        room = connection.send_space
        if room <= 0:
            return WOULD_BLOCK
        host = self.host
        host.begin()
        try:
            taken: int = host.tcp.call(connection, "send", data[:room])
        except ConnectionError as error:
            raise os_error(str(error.args[0]) if error.args else "EPIPE") from None
        host.flush()
        return taken if taken else WOULD_BLOCK

    def recv(self, size: int, flags: int = 0) -> bytes | _WouldBlock:
        connection = self.connection
        if connection is None or self.listener is not None:
            if self.phase == UNCONNECTED and self.error is not None:
                self._raise_pending()
            raise os_error("ENOTCONN")
        if connection.state in (TcpState.SYN_SENT, TcpState.SYN_RECEIVED):
            return WOULD_BLOCK
        if size == 0:
            return b""
        available = len(self._peeked) + connection.readable
        if available:
            host = self.host
            if flags & MSG_PEEK:
                if len(self._peeked) < size and connection.readable:
                    host.begin()
                    self._peeked += host.tcp.call(connection, "receive", size - len(self._peeked))
                    host.flush()
                return bytes(self._peeked[:size])
            data = bytes(self._peeked[:size])
            del self._peeked[: len(data)]
            if len(data) < size and connection.readable:
                host.begin()
                data += host.tcp.call(connection, "receive", size - len(data))
                host.flush()
            return data
        if connection.fin_received:
            return b""  # tcp_recvmsg: after the peer's FIN (SOCK_DONE) end of stream, before any error
        self._raise_pending()
        if self.shutdown_mask & RCV_SHUTDOWN or connection.state is TcpState.CLOSED:
            return b""
        return WOULD_BLOCK

    @property
    def unread(self) -> int:
        return len(self._peeked) + (self.connection.readable if self.connection is not None else 0)

    # -- shutdown and close -----------------------------------------------------------------------
    def shutdown(self, how: int) -> None:
        if how not in (0, 1, 2):
            raise os_error("EINVAL")
        mask = how + 1  # SHUT_RD 0 -> RCV, SHUT_WR 1 -> SEND, SHUT_RDWR 2 -> both
        if self.listener is not None:
            if mask & RCV_SHUTDOWN:
                self._close_listener()  # Linux: disconnect; a later accept() says EINVAL
            return
        connection = self.connection
        if connection is None or connection.state in (TcpState.CLOSED, TcpState.TIME_WAIT):
            self.shutdown_mask |= mask  # inet_shutdown: TCP_CLOSE sets the bits, then says ENOTCONN
            raise os_error("ENOTCONN")
        self.shutdown_mask |= mask
        if mask & SEND_SHUTDOWN and connection.state in (
            TcpState.ESTABLISHED, TcpState.SYN_RECEIVED, TcpState.SYN_SENT, TcpState.CLOSE_WAIT,
        ):  # fmt: skip
            self.host.begin()
            self.host.tcp.call(connection, "close")  # FIN after what is queued (half-close)
            self.host.flush()
        self.channel.notify()

    def _close_listener(self) -> None:
        listener = self.listener
        if listener is not None:
            self.host.begin()
            self.host.tcp.close_listener(listener)
            self.host.flush()
            self.listener = None
            self.channel.notify()

    def release(self) -> None:
        """The last descriptor closed (close(2) of the last reference, or the process exited)."""
        if self.closed:
            return
        self.closed = True
        host = self.host
        self._close_listener()
        connection = self.connection
        if connection is not None and connection.state is not TcpState.CLOSED:
            host.begin()
            host.tcp_reuse[connection] = self.reuse
            if self.unread or self.linger == (1, 0):
                host.node.counters["tcp.close.unread-data-reset"] += 1
                host.tcp.call(connection, "abort")  # tcp_close: data was unread -> RST (RFC 2525 §2.17)
            else:
                host.tcp.call(connection, "close")
            host.flush()
        self._forget_connection()
        if connection is not None and connection.state in (TcpState.FIN_WAIT_1, TcpState.FIN_WAIT_2):
            host.tcp.subscribers[id(connection)] = _Orphan(host, connection)
        host.tcp_sockets.pop(id(self), None)
        self.channel.notify()

    # -- readiness (tcp_poll) ---------------------------------------------------------------------
    def poll_mask(self) -> int:
        if self.listener is not None:
            return POLLIN | POLLRDNORM if self.listener.accept_queue else 0
        state = self.state
        mask = 0
        shut = self.shutdown_mask
        connection = self.connection
        if connection is not None and (connection.fin_received or connection.state is TcpState.CLOSED):
            shut |= RCV_SHUTDOWN  # a FIN (or a reset) ends the receive side
        if connection is not None and connection.state is TcpState.CLOSED:
            shut = SHUTDOWN_MASK
        if shut == SHUTDOWN_MASK or state is TcpState.CLOSED:
            mask |= POLLHUP
        if shut & RCV_SHUTDOWN:
            mask |= POLLIN | POLLRDNORM | POLLRDHUP
        if state not in (TcpState.SYN_SENT, TcpState.SYN_RECEIVED):
            if self.unread:
                mask |= POLLIN | POLLRDNORM
            # tcp_poll: writable when shut for sending, or with room — a socket that never connected
            # has all its send buffer free (select says a new socket is writable)
            if shut & SEND_SHUTDOWN or connection is None or connection.send_space > 0:
                mask |= POLLOUT | POLLWRNORM
        if self.error is not None:
            mask |= POLLERR
        return mask

    # -- options ----------------------------------------------------------------------------------
    def setsockopt(self, level: int, name: int, value: int | bytes | None) -> None:
        now = self.host.sim.now
        connection = self.connection
        number = option_value(value) if not (level == SOL_SOCKET and name == SO_LINGER) else 0
        if level == SOL_SOCKET:
            if name == SO_REUSEADDR:
                self.reuse = bool(number)
            elif name == SO_REUSEPORT:
                self.reuse_port = bool(number)
            elif name == SO_KEEPALIVE:
                self.keepalive = bool(number)
                if connection is not None:
                    connection.set_keepalive(self.keepalive, now, **self._keepalive_settings())
            elif name in (SO_SNDBUF, SO_RCVBUF):
                self.buffers_set = True
                if name == SO_SNDBUF:
                    self.send_buffer = buffer_size(number, SNDBUF_MIN)
                else:
                    self.receive_buffer = buffer_size(number, RCVBUF_MIN)
                if connection is not None:
                    connection.config = connection.config.with_changes(
                        send_buffer=self.send_buffer, receive_buffer=self.receive_buffer
                    )
            elif name == SO_LINGER:
                raw = bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else b""
                if len(raw) < 8:
                    raise os_error("EINVAL")
                onoff, seconds = struct.unpack("ii", raw[:8])
                self.linger = (1 if onoff else 0, seconds)
            elif name == SO_BROADCAST:
                self.broadcast = bool(number)  # kept (SOCK_BROADCAST) though TCP never uses it, as Linux
            else:
                raise os_error("ENOPROTOOPT")
        elif level == IPPROTO_TCP:
            if name == TCP_NODELAY:
                self.nodelay = bool(number)
                if connection is not None:
                    connection.nagle = not self.nodelay
                    if self.nodelay:
                        self.host.begin()
                        self.host.tcp.flush(now)
                        self.host.flush()
            elif name in (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT):
                limit = 127 if name == TCP_KEEPCNT else 32767
                if not 1 <= number <= limit:
                    raise os_error("EINVAL")
                attribute = {TCP_KEEPIDLE: "keepalive_idle", TCP_KEEPINTVL: "keepalive_interval"}.get(
                    name, "keepalive_probes"
                )
                setattr(self, attribute, number)
                if connection is not None and self.keepalive:
                    connection.set_keepalive(True, now, **self._keepalive_settings())
            elif name == TCP_MAXSEG:
                pass
            else:
                raise os_error("ENOPROTOOPT")
        elif level == IPPROTO_IP and name in (IP_TTL, IP_TOS):
            if name == IP_TTL:
                self.ttl = number
            else:
                self.tos = number
        else:
            raise os_error("ENOPROTOOPT")

    def _keepalive_settings(self) -> dict[str, int]:
        return {
            "keepalive_idle": self.keepalive_idle * SECOND,
            "keepalive_interval": self.keepalive_interval * SECOND,
            "keepalive_probes": self.keepalive_probes,
        }

    def getsockopt(self, level: int, name: int) -> int | bytes:
        values: dict[tuple[int, int], Any] = {
            (SOL_SOCKET, SO_REUSEADDR): int(self.reuse),
            (SOL_SOCKET, SO_REUSEPORT): int(self.reuse_port),
            (SOL_SOCKET, SO_KEEPALIVE): int(self.keepalive),
            (SOL_SOCKET, SO_SNDBUF): self.send_buffer,
            (SOL_SOCKET, SO_RCVBUF): self.receive_buffer,
            (SOL_SOCKET, SO_TYPE): SOCK_STREAM,
            (SOL_SOCKET, SO_DOMAIN): AF_INET,
            (SOL_SOCKET, SO_PROTOCOL): IPPROTO_TCP,
            (SOL_SOCKET, SO_ACCEPTCONN): int(self.listener is not None),
            (SOL_SOCKET, SO_BROADCAST): int(self.broadcast),
            (SOL_SOCKET, SO_LINGER): struct.pack("ii", *self.linger),
            (IPPROTO_TCP, TCP_NODELAY): int(self.nodelay),
            (IPPROTO_TCP, TCP_KEEPIDLE): self.keepalive_idle,
            (IPPROTO_TCP, TCP_KEEPINTVL): self.keepalive_interval,
            (IPPROTO_TCP, TCP_KEEPCNT): self.keepalive_probes,
            (IPPROTO_TCP, TCP_MAXSEG): self.connection.send_mss if self.connection is not None else 536,
            (IPPROTO_IP, IP_TTL): self.ttl,
            (IPPROTO_IP, IP_TOS): self.tos,
        }
        if (level, name) == (SOL_SOCKET, SO_ERROR):
            error = self.take_error()
            if error is None and self.phase == CONNECTING and self.state is TcpState.CLOSED and not self.error_taken:
                error = self.connection.error if self.connection is not None else None
            if error is not None and self.phase == CONNECTING:
                self.error_taken = True  # sock_error() clears sk_err: read once
            return 0 if error is None else errno_of(error)
        if (level, name) not in values:
            raise os_error("ENOPROTOOPT")
        value: int | bytes = values[(level, name)]
        return value

    # -- names ------------------------------------------------------------------------------------
    def sockname(self) -> tuple[str, int]:
        if self.connection is not None:
            return str(self.connection.local[0]), self.connection.local[1]
        if self.local is None:
            return "0.0.0.0", self.stale_port
        return str(self.local[0]), self.local[1]

    def peername(self) -> tuple[str, int]:
        # inet_getname: ENOTCONN in SYN-SENT and CLOSE — and a socket whose connection was reset or
        # went to TIME-WAIT is in CLOSE (the TIME-WAIT is a separate mini-socket, tcp_time_wait).
        connection = self.connection
        if connection is None or connection.state in (TcpState.SYN_SENT, TcpState.CLOSED, TcpState.TIME_WAIT):
            raise os_error("ENOTCONN")
        return str(connection.remote[0]), connection.remote[1]
