"""The system-call layer: a ``_socket`` module (and ``select``) for one simulated process.

CPython's ``socket.py`` is a Python layer over the C module ``_socket``; that layer is where
``create_connection``, ``create_server``, ``makefile``, ``accept`` returning a new ``socket``, the
enums and the context manager live. A simulated process therefore runs the **stdlib's own**
``socket.py`` over this ``_socket`` (see :mod:`wirelab.process`), so everything above the system
calls is CPython's code, unchanged, and only the kernel is simulated.

Each method is one system call: it asks the kernel socket (:mod:`~wirelab.sockets.tcp`,
:mod:`~wirelab.sockets.udp`) for a non-blocking step and, when that step would block, applies the
socket's timeout exactly as CPython does — ``None`` waits (virtual time passes), ``0.0`` raises
BlockingIOError(EAGAIN), a number waits at most that long and raises ``TimeoutError("timed out")``.
"""

from __future__ import annotations

import _socket as _real_socket
import contextlib
import errno as _errno
import functools
import math
import operator
import os
import select as _real_select
import types
from collections.abc import Callable
from ipaddress import IPv4Address
from typing import Any, ClassVar, Final, TypeVar

from wirelab.sockets.channel import Channel
from wirelab.sockets.errors import errno_of, gaierror, herror, os_error, timed_out
from wirelab.sockets.files import (
    POLLERR,
    POLLHUP,
    POLLIN,
    POLLNVAL,
    POLLOUT,
    POLLPRI,
    SELECT_EXCEPT,
    SELECT_READ,
    SELECT_WRITE,
    KernelFile,
    System,
)
from wirelab.sockets.host import HostSockets
from wirelab.sockets.names import address_info, numeric, resolve, resolve_all, reverse, service_port
from wirelab.sockets.tcp import MSG_DONTWAIT, MSG_WAITALL, UNCONNECTED, WOULD_BLOCK, TcpSocket, _WouldBlock
from wirelab.sockets.udp import UdpSocket
from wirelab.trace import Layer, Trace

AF_INET: Final = 2
SOCK_STREAM: Final = 1
SOCK_DGRAM: Final = 2
SOCK_NONBLOCK: Final = 0o4000
SOCK_CLOEXEC: Final = 0o2000000
NANOSECONDS: Final = 1_000_000_000
SHUT_NAMES: Final = ("SHUT_RD", "SHUT_WR", "SHUT_RDWR")
T = TypeVar("T")
Kernel = TcpSocket | UdpSocket


def parse_timeout(value: Any) -> float | None:
    """CPython's ``socket_parse_timeout``: None, or a float or an integer of seconds, not negative."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError("Invalid value NaN (not a number)")
        seconds = value
    else:
        seconds = float(operator.index(value))  # "'str' object cannot be interpreted as an integer"
    if seconds < 0:
        raise ValueError("Timeout value out of range")
    return seconds


def deadline_after(system: System, timeout: float | None) -> int | None:
    return None if timeout is None else system.now() + math.ceil(timeout * NANOSECONDS)


def _endpoint(address: tuple[str, int] | tuple[IPv4Address, int]) -> str:
    return f"{address[0]}:{address[1]}"


def _as_bytes(data: Any) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str) or (not hasattr(data, "__buffer__") and not isinstance(data, (bytearray, memoryview))):
        raise TypeError(f"a bytes-like object is required, not '{type(data).__name__}'")
    return bytes(data)


class SimSocketBase:
    """``_socket.socket`` on a simulated host; a per-process subclass binds ``_system`` and ``_host``.

    The calls that matter to a learner are traced (``socket.bind``, ``socket.accept``, ``socket.recv``…,
    and ``socket.error`` for an error raised, EAGAIN aside: a non-blocking loop would flood the trace).
    Each is emitted before the call's effects when it causes some (``close`` before its FIN), after
    them when it reports something (``accept``'s peer). Off, a trace costs one test per call.
    """

    __slots__ = ("_family", "_fd", "_proto", "_timeout", "_type")
    _system: ClassVar[System]
    _host: ClassVar[HostSockets]
    _trace: ClassVar[Trace]

    def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None:
        system = self._system
        self._fd = -1
        if fileno is not None:
            if not isinstance(fileno, int):
                raise TypeError("an integer is required (got a non-integer fileno)")
            kernel = system.files.get(fileno)
            if not isinstance(kernel, (TcpSocket, UdpSocket)):
                raise os_error("ENOTSOCK")
            self._family = kernel.family if family == -1 else family
            self._type = kernel.type if type == -1 else type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)
            self._proto = kernel.proto if proto == -1 else proto
            self._timeout = system.default_timeout
            self._fd = fileno
            return
        family = AF_INET if family == -1 else family
        type = SOCK_STREAM if type == -1 else type
        proto = 0 if proto == -1 else proto
        if family != AF_INET:
            raise os_error("EAFNOSUPPORT")  # the simulated hosts speak IPv4
        base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)
        new: Kernel
        if base == SOCK_STREAM:
            if proto not in (0, 6):
                raise os_error("EPROTONOSUPPORT")
            new = TcpSocket(self._host, proto)
        elif base == SOCK_DGRAM:
            if proto not in (0, 17):
                raise os_error("EPROTONOSUPPORT")
            new = UdpSocket(self._host, proto)
        else:
            raise os_error("ESOCKTNOSUPPORT")
        self._family, self._type, self._proto = family, base, proto
        self._timeout = 0.0 if type & SOCK_NONBLOCK else system.default_timeout
        self._fd = system.files.open(new)
        if self._trace.enabled:
            self._event("socket.created", type="SOCK_STREAM" if base == SOCK_STREAM else "SOCK_DGRAM")

    # -- tracing ----------------------------------------------------------------------------------
    def _event(self, kind: str, **fields: object) -> None:
        host = self._host
        self._trace.emit(host.sim.now, host.node.name, Layer.APPLICATION, kind, fd=self._fd, **fields)

    def _failed(self, call: str, error: OSError) -> None:
        """An error the call raises (before it reaches the program)."""
        if self._trace.enabled and not isinstance(error, BlockingIOError):
            number = error.errno
            name = _errno.errorcode.get(number, "") if isinstance(number, int) and number > 0 else ""
            self._event(
                "socket.error", call=call, error=type(error).__name__, errno=name or number or "-",
                message=error.strerror or str(error),
            )  # fmt: skip

    # -- attributes -------------------------------------------------------------------------------
    @property
    def family(self) -> int:
        return self._family

    @property
    def type(self) -> int:
        return self._type

    @property
    def proto(self) -> int:
        return self._proto

    @property
    def timeout(self) -> float | None:
        return self._timeout

    def fileno(self) -> int:
        return self._fd

    def _kernel(self) -> Kernel:
        if self._fd == -1:
            raise os_error("EBADF")
        kernel = self._system.files.get(self._fd)
        if not isinstance(kernel, (TcpSocket, UdpSocket)):
            raise os_error("ENOTSOCK")
        return kernel

    def _address(self, address: Any, call: str) -> tuple[IPv4Address, int]:
        if not isinstance(address, tuple):
            raise TypeError(f"{call}(): AF_INET address must be tuple, not {type(address).__name__}")
        if len(address) != 2:
            raise TypeError("AF_INET address must be a pair (host, port)")
        host, port = address
        if isinstance(host, (bytes, bytearray)):
            host = bytes(host).decode("idna")
        if not isinstance(host, str):
            raise TypeError(f"str, bytes or bytearray expected, not {type(host).__name__}")
        if not isinstance(port, int) or (isinstance(port, bool) and False):
            raise TypeError(f"'{type(port).__name__}' object cannot be interpreted as an integer")
        if not 0 <= port <= 0xFFFF:
            raise OverflowError(f"{call}(): port must be 0-65535.")
        return resolve(self._host, host, self._system), port

    # -- blocking ---------------------------------------------------------------------------------
    def _block(self, kernel: Kernel, step: Callable[[], T | _WouldBlock], flags: int = 0) -> T:
        """Run ``step`` until it does not say WOULD_BLOCK, as the socket's timeout says."""
        system = self._system
        timeout = self._timeout
        deadline: int | None = None
        first = True
        while True:
            result = step()
            if not isinstance(result, _WouldBlock):
                return result
            if timeout == 0.0 or flags & MSG_DONTWAIT:
                system.idle()
                raise os_error("EAGAIN")
            if first:
                deadline = deadline_after(system, timeout)
                first = False
            if not system.wait((kernel.channel,), deadline):
                raise timed_out()

    # -- opening ----------------------------------------------------------------------------------
    def bind(self, address: Any) -> None:
        kernel = self._kernel()
        try:
            ip, port = self._address(address, "bind")
            kernel.bind(ip, port)
        except OSError as error:
            self._failed("bind", error)
            raise
        if self._trace.enabled:
            bound_address, bound_port = kernel.sockname()
            self._event("socket.bind", address=bound_address, port=bound_port)

    def listen(self, backlog: int = 128) -> None:
        kernel = self._kernel()
        try:
            if not isinstance(kernel, TcpSocket):
                raise os_error("EOPNOTSUPP")
            kernel.listen(backlog)
        except OSError as error:
            self._failed("listen", error)
            raise
        if self._trace.enabled:
            address, port = kernel.sockname()
            self._event("socket.listen", address=address, port=port, backlog=backlog)

    def _accept(self) -> tuple[int, tuple[str, int]]:
        kernel = self._kernel()
        try:
            if not isinstance(kernel, TcpSocket):
                raise os_error("EOPNOTSUPP")
            child, address = self._block(kernel, kernel.accept)
        except OSError as error:
            self._failed("accept", error)
            raise
        fd = self._system.files.open(child)
        if self._trace.enabled:
            self._event("socket.accept", new_fd=fd, peer=_endpoint(address), local=_endpoint(child.sockname()))
        return fd, address

    def connect(self, address: Any) -> None:
        try:
            error = self._connect(*self._address(address, "connect"))
        except OSError as raised:
            self._failed("connect", raised)
            raise
        if error is not None:
            raise os_error(error)

    def connect_ex(self, address: Any) -> int:
        """CPython's ``internal_connect(raise=0)``: what connect(2) says comes back as its errno (EBADF
        on a closed socket too), a timeout as EAGAIN; only a bad address (or name) raises."""
        ip, port = self._address(address, "connect")  # getsockaddrarg: a bad address raises
        try:
            error = self._connect(ip, port)
        except TimeoutError as raised:
            self._failed("connect", raised)
            return errno_of("EAGAIN")
        except OSError as raised:
            self._failed("connect", raised)
            if isinstance(raised.errno, int) and raised.errno > 0:
                return raised.errno
            raise
        return 0 if error is None else errno_of(error)

    def _connect(self, ip: IPv4Address, port: int) -> str | None:
        kernel = self._kernel()
        if isinstance(kernel, UdpSocket):
            kernel.connect(ip, port)
            if self._trace.enabled:
                self._event("socket.connect.udp", peer=_endpoint((ip, port)), local=_endpoint(kernel.sockname()))
            return None
        if self._trace.enabled and kernel.phase == UNCONNECTED:
            self._event("socket.connect.started", peer=_endpoint((ip, port)))
        result = kernel.connect(ip, port)
        if result not in ("EINPROGRESS", "EALREADY"):
            return self._connect_ended(kernel, ip, port, result)
        if self._timeout == 0.0:
            self._system.idle()
            return result
        deadline = deadline_after(self._system, self._timeout)
        while kernel.connecting:
            if not self._system.wait((kernel.channel,), deadline):
                raise timed_out()
        return self._connect_ended(kernel, ip, port, kernel.connect(ip, port))

    def _connect_ended(self, kernel: TcpSocket, ip: IPv4Address, port: int, result: str | None) -> str | None:
        if self._trace.enabled:
            if result is None:
                self._event("socket.connect.done", peer=_endpoint((ip, port)), local=_endpoint(kernel.sockname()))
            else:
                number = errno_of(result)
                self._event(
                    "socket.connect.failed", peer=_endpoint((ip, port)), errno=result, message=os.strerror(number)
                )
        return result

    # -- sending ----------------------------------------------------------------------------------
    def send(self, data: Any, flags: int = 0) -> int:
        payload = _as_bytes(data)
        kernel = self._kernel()
        if self._trace.enabled:
            self._event("socket.send", size=len(payload))
        try:
            return self._send(kernel, payload, flags)
        except OSError as error:
            self._failed("send", error)
            raise

    def _send(self, kernel: Kernel, payload: bytes, flags: int) -> int:
        if isinstance(kernel, UdpSocket):
            return kernel.send(payload, flags)
        system = self._system
        timeout = self._timeout
        if timeout == 0.0 or flags & MSG_DONTWAIT:
            result = kernel.send(payload, flags)
            if isinstance(result, _WouldBlock):
                system.idle()
                raise os_error("EAGAIN")
            return result
        if timeout is not None:  # CPython: wait until writable, then one non-blocking send
            return self._block(kernel, lambda: kernel.send(payload, flags))
        total = 0  # a blocking send queues everything (Linux tcp_sendmsg waits for room)
        view = memoryview(payload)  # the rest of the buffer without copying it on every pass
        while True:
            result = kernel.send(view[total:], flags)  # type: ignore[arg-type]
            if isinstance(result, _WouldBlock):
                system.wait((kernel.channel,), None)
                continue
            total += result
            if total >= len(payload):
                return total

    def sendall(self, data: Any, flags: int = 0) -> None:
        payload = _as_bytes(data)
        kernel = self._kernel()
        if self._trace.enabled:
            self._event("socket.sendall", size=len(payload))
        try:
            self._sendall(kernel, payload, flags)
        except OSError as error:
            self._failed("sendall", error)
            raise

    def _sendall(self, kernel: Kernel, payload: bytes, flags: int) -> None:
        if isinstance(kernel, UdpSocket):
            kernel.send(payload, flags)
            return
        system = self._system
        deadline = deadline_after(system, self._timeout) if self._timeout else None
        total = 0
        view = memoryview(payload)  # slicing bytes copied the rest every pass: quadratic in the buffer
        while total < len(payload) or not payload:
            result = kernel.send(view[total:], flags)  # type: ignore[arg-type]
            if not payload:
                return
            if isinstance(result, _WouldBlock):
                if self._timeout == 0.0 or flags & MSG_DONTWAIT:
                    system.idle()
                    raise os_error("EAGAIN")
                if not system.wait((kernel.channel,), deadline):
                    raise timed_out()
                continue
            total += result

    def sendto(self, *args: Any) -> int:
        if len(args) == 2:
            data, address = args
            flags = 0
        elif len(args) == 3:
            data, flags, address = args
        else:
            raise TypeError(f"sendto() takes 2 or 3 arguments ({len(args)} given)")
        payload = _as_bytes(data)
        kernel = self._kernel()
        if isinstance(kernel, TcpSocket):
            return self.send(payload, flags)  # Linux ignores the address on a stream socket
        try:
            ip, port = self._address(address, "sendto")
            if self._trace.enabled:
                self._event("socket.sendto", size=len(payload), peer=_endpoint((ip, port)))
            return kernel.sendto(payload, (ip, port), flags)
        except OSError as error:
            self._failed("sendto", error)
            raise

    # -- receiving --------------------------------------------------------------------------------
    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        if bufsize == 0:
            return b""  # CPython's sock_recv answers recv(0) itself: no system call (a datagram stays queued)
        kernel = self._kernel()
        try:
            if isinstance(kernel, UdpSocket):
                data = self._block(kernel, lambda: kernel.recvfrom(bufsize, flags), flags)[0]
            else:
                data = self._block(kernel, lambda: kernel.recv(bufsize, flags), flags)
                if flags & MSG_WAITALL:
                    while data and len(data) < bufsize:
                        more = self._block(kernel, functools.partial(kernel.recv, bufsize - len(data), flags), flags)
                        if not more:
                            break
                        data += more
        except OSError as error:
            self._failed("recv", error)
            raise
        if self._trace.enabled:
            if data or not bufsize or isinstance(kernel, UdpSocket):
                self._event("socket.recv", size=len(data), asked=bufsize)
            else:
                self._event("socket.recv-eof")
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        view = memoryview(buffer).cast("B")
        if nbytes < 0:
            raise ValueError("negative buffersize in recv_into")
        if nbytes > len(view):
            raise ValueError("buffer too small for requested bytes")
        data = self.recv(nbytes or len(view), flags)
        view[: len(data)] = data
        return len(data)

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, tuple[str, int] | None]:
        if bufsize < 0:
            raise ValueError("negative buffersize in recvfrom")
        kernel = self._kernel()
        if not isinstance(kernel, UdpSocket):
            return self.recv(bufsize, flags), None
        try:
            data, peer = self._block(kernel, lambda: kernel.recvfrom(bufsize, flags), flags)
        except OSError as error:
            self._failed("recvfrom", error)
            raise
        if self._trace.enabled:
            self._event("socket.recvfrom", size=len(data), peer=_endpoint(peer) if peer is not None else "-")
        return data, peer

    def recvfrom_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> tuple[int, tuple[str, int] | None]:
        view = memoryview(buffer).cast("B")
        if nbytes > len(view):
            raise ValueError("nbytes is greater than the length of the buffer")
        data, address = self.recvfrom(nbytes or len(view), flags)
        view[: len(data)] = data
        return len(data), address

    # -- closing ----------------------------------------------------------------------------------
    def shutdown(self, how: int) -> None:
        kernel = self._kernel()
        if self._trace.enabled:
            self._event("socket.shutdown", how=SHUT_NAMES[how] if how in (0, 1, 2) else how)
        try:
            kernel.shutdown(how)
        except OSError as error:
            self._failed("shutdown", error)
            raise

    def close(self) -> None:
        if self._fd != -1 and self._trace.enabled:
            self._event("socket.close")
        fd, self._fd = self._fd, -1
        if fd != -1:
            with contextlib.suppress(OSError):  # CPython ignores ECONNRESET on close; our table only says EBADF
                self._system.files.close(fd)

    def detach(self) -> int:
        fd, self._fd = self._fd, -1
        return fd

    def __del__(self) -> None:
        # CPython closes a socket nobody references any more (a course server that rebinds ``conn``
        # in its accept loop relies on this to send its FIN).
        try:
            if self._fd != -1:
                self.close()
        except Exception:
            pass

    # -- options and modes ------------------------------------------------------------------------
    def setsockopt(self, *args: Any) -> None:
        """CPython's three readings in turn — (level, name, int), (level, name, None, optlen), (level,
        name, buffer) — and the last one's TypeError when none fits."""
        if len(args) == 3 and all(isinstance(arg, int) for arg in args):
            level, optname, value = args
        elif len(args) == 4 and args[2] is None and all(isinstance(arg, int) for arg in (args[0], args[1], args[3])):
            self._kernel()
            # setsockopt(2) with a NULL optval: every option here reads an int from it
            raise os_error("EINVAL" if args[3] < 4 else "EFAULT")
        else:
            if len(args) != 3:
                raise TypeError(f"setsockopt() takes exactly 3 arguments ({len(args)} given)")
            level, optname, value = args
            for arg in (level, optname):
                if not isinstance(arg, int):
                    raise TypeError(f"'{type(arg).__name__}' object cannot be interpreted as an integer")
            if isinstance(value, str) or not isinstance(value, (bytes, bytearray, memoryview)):
                raise TypeError(f"a bytes-like object is required, not '{type(value).__name__}'")
            value = bytes(value)
        self._kernel().setsockopt(level, optname, value)

    def getsockopt(self, level: int, optname: int, buflen: int = 0) -> int | bytes:
        value = self._kernel().getsockopt(level, optname)
        if buflen:
            raw = value if isinstance(value, bytes) else int(value).to_bytes(4, "little", signed=True)
            return raw[:buflen]
        if isinstance(value, bytes):
            return int.from_bytes(value[:4], "little", signed=True)
        return value

    def settimeout(self, value: float | None) -> None:
        self._timeout = parse_timeout(value)
        self._kernel()  # CPython sets O_NONBLOCK with ioctl(FIONBIO): EBADF on a closed socket

    def gettimeout(self) -> float | None:
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0
        self._kernel()  # as settimeout: EBADF on a closed socket

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    def getsockname(self) -> tuple[str, int]:
        return self._kernel().sockname()

    def getpeername(self) -> tuple[str, int]:
        return self._kernel().peername()


# --------------------------------------------------------------------------------------------------
# the _socket module


def make_socket_module(system: System, host: HostSockets) -> types.ModuleType:
    """A ``_socket`` for one process: the socket type and the module functions, bound to its host."""
    module = types.ModuleType("_socket", "Simulated implementation module for socket operations (wirelab).")
    for name in dir(_real_socket):
        value = getattr(_real_socket, name)
        if name.isupper() and isinstance(value, int):
            setattr(module, name, value)
    cls = type(
        "socket", (SimSocketBase,), {"__slots__": (), "_system": system, "_host": host, "_trace": host.node.trace}
    )
    cls.__module__ = "_socket"
    cls.__qualname__ = "socket"

    def gethostname() -> str:
        return host.hostname

    def sethostname(name: str | bytes) -> None:
        host.hostname = name.decode() if isinstance(name, bytes) else name

    def gethostbyname(name: str) -> str:
        return str(resolve(host, name, system))

    def gethostbyname_ex(name: str) -> tuple[str, list[str], list[str]]:
        addresses = resolve_all(host, name, system)
        shown = (reverse(host, addresses[0]) or name) if numeric(name) else name.rstrip(".")
        return shown, [], [str(address) for address in addresses]

    def gethostbyaddr(name: str) -> tuple[str, list[str], list[str]]:
        address = resolve(host, name, system)
        found = reverse(host, address, system)
        if found is None:
            raise herror(1, "Unknown host")
        return found, [], [str(address)]

    def getaddrinfo(
        name: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[int, int, int, str, tuple[str, int]]]:
        return address_info(host, name, port, family, type, proto, flags, system)

    def getnameinfo(sockaddr: tuple[str, int], flags: int) -> tuple[str, str]:
        address = resolve(host, sockaddr[0], system)
        numeric_host = flags & _real_socket.NI_NUMERICHOST
        name = str(address) if numeric_host else reverse(host, address, system) or str(address)
        port = sockaddr[1]
        service = str(port)
        if not flags & _real_socket.NI_NUMERICSERV:  # glibc names the port from the services file
            with contextlib.suppress(OSError):
                service = _real_socket.getservbyport(port, "udp" if flags & _real_socket.NI_DGRAM else "tcp")
        return name, service

    def getservbyname(name: str, protocol: str | None = None) -> int:
        try:
            return service_port(name, protocol or "")
        except gaierror:
            raise OSError("service/proto not found") from None

    def getdefaulttimeout() -> float | None:
        return system.default_timeout

    def setdefaulttimeout(value: float | None) -> None:
        system.default_timeout = parse_timeout(value)

    def dup(fd: int) -> int:
        return system.files.dup(fd)

    def close(fd: int) -> None:
        system.files.close(fd)

    def if_nameindex() -> list[tuple[int, str]]:
        return [(1, "lo")] + [(interface.index + 2, interface.name) for interface in host.node.interfaces]

    functions: dict[str, Any] = {
        "socket": cls,
        "SocketType": cls,
        "error": OSError,
        "herror": herror,
        "gaierror": gaierror,
        "timeout": TimeoutError,
        "has_ipv6": False,
        "gethostname": gethostname,
        "sethostname": sethostname,
        "gethostbyname": gethostbyname,
        "gethostbyname_ex": gethostbyname_ex,
        "gethostbyaddr": gethostbyaddr,
        "getaddrinfo": getaddrinfo,
        "getnameinfo": getnameinfo,
        "getservbyname": getservbyname,
        "getservbyport": _real_socket.getservbyport,
        "getprotobyname": _real_socket.getprotobyname,
        "getdefaulttimeout": getdefaulttimeout,
        "setdefaulttimeout": setdefaulttimeout,
        "dup": dup,
        "close": close,
        "if_nameindex": if_nameindex,
    }
    for name in ("htons", "htonl", "ntohs", "ntohl", "inet_aton", "inet_ntoa", "inet_pton", "inet_ntop"):
        functions[name] = getattr(_real_socket, name)
    for name, value in functions.items():
        if callable(value) and getattr(value, "__module__", "").startswith("wirelab"):
            value.__module__ = "_socket"
        setattr(module, name, value)
    return module


# --------------------------------------------------------------------------------------------------
# the select module


def _fd_of(item: Any) -> int:
    if isinstance(item, int):
        fd = item
    elif hasattr(item, "fileno"):
        fd = item.fileno()
        if not isinstance(fd, int):
            raise TypeError("fileno() returned a non-integer")
    else:
        raise TypeError("argument must be an int, or have a fileno() method.")
    if fd < 0:
        raise ValueError(f"file descriptor cannot be a negative integer ({fd})")
    return fd


def make_select_module(system: System) -> types.ModuleType:
    """``select`` for one process: select(), poll() and epoll() over its descriptors."""
    module = types.ModuleType("select", "Simulated select module (wirelab).")
    for name in dir(_real_select):
        value = getattr(_real_select, name)
        if name.isupper() and isinstance(value, int):
            setattr(module, name, value)
    files = system.files

    def kernel_of(fd: int) -> KernelFile:
        return files.get(fd)

    def select(rlist: Any, wlist: Any, xlist: Any, timeout: float | None = None) -> tuple[list[Any], ...]:
        if timeout is not None:
            timeout = float(timeout)
            if timeout < 0:
                raise ValueError("timeout must be non-negative")
        groups = [[(item, _fd_of(item)) for item in items] for items in (rlist, wlist, xlist)]
        wanted = (SELECT_READ, SELECT_WRITE, SELECT_EXCEPT)
        deadline = deadline_after(system, timeout)
        while True:
            ready: list[list[Any]] = [[], [], []]
            channels: dict[int, Channel] = {}
            for index, group in enumerate(groups):
                for item, fd in group:
                    kernel = kernel_of(fd)
                    channels[id(kernel.channel)] = kernel.channel
                    if kernel.poll_mask() & wanted[index]:
                        ready[index].append(item)
            if ready[0] or ready[1] or ready[2]:
                return ready[0], ready[1], ready[2]
            if timeout == 0.0:
                system.idle()
                return [], [], []
            if not system.wait(tuple(channels.values()), deadline):
                return [], [], []

    class poll:  # noqa: N801 - the stdlib's name
        def __init__(self) -> None:
            self._registered: dict[int, int] = {}

        def register(self, fd: Any, eventmask: int = POLLIN | POLLPRI | POLLOUT) -> None:
            self._registered[_fd_of(fd)] = eventmask

        def modify(self, fd: Any, eventmask: int) -> None:
            number = _fd_of(fd)
            if number not in self._registered:
                raise os_error("ENOENT")
            self._registered[number] = eventmask

        def unregister(self, fd: Any) -> None:
            del self._registered[_fd_of(fd)]

        def poll(self, timeout: float | None = None) -> list[tuple[int, int]]:
            milliseconds = None if timeout is None or timeout < 0 else float(timeout)
            deadline = deadline_after(system, None if milliseconds is None else milliseconds / 1000)
            while True:
                results = []
                channels: list[Channel] = []
                for fd, events in self._registered.items():
                    kernel = files.find(fd)
                    if kernel is None:
                        results.append((fd, POLLNVAL))
                        continue
                    channels.append(kernel.channel)
                    mask = kernel.poll_mask() & (events | POLLERR | POLLHUP)
                    if mask:
                        results.append((fd, mask))
                if results:
                    return results
                if milliseconds == 0:
                    system.idle()
                    return []
                if not system.wait(tuple(channels), deadline):
                    return []

    class epoll:  # noqa: N801 - the stdlib's name
        """Level-triggered epoll (EPOLLET is accepted and reported level-triggered; EPOLLONESHOT works)."""

        def __init__(self, sizehint: int = -1, flags: int = 0) -> None:
            self._registered: dict[int, tuple[KernelFile, int]] = {}
            self.channel = Channel()
            self._fd = files.open(self)

        # the epoll instance is itself a file: select/poll on it says "readable" when events wait
        def poll_mask(self) -> int:
            return POLLIN if self._ready(1) else 0

        def release(self) -> None:
            self._registered.clear()

        @property
        def closed(self) -> bool:
            return self._fd == -1

        def fileno(self) -> int:
            if self._fd == -1:
                raise ValueError("I/O operation on closed epoll object")
            return self._fd

        def close(self) -> None:
            fd, self._fd = self._fd, -1
            if fd != -1:
                files.close(fd)

        def __enter__(self) -> epoll:
            return self

        def __exit__(self, *_: object) -> None:
            self.close()

        def register(self, fd: Any, eventmask: int = POLLIN | POLLPRI | POLLOUT) -> None:
            number = _fd_of(fd)
            if number in self._registered:
                raise os_error("EEXIST")
            self._registered[number] = (kernel_of(number), eventmask)

        def modify(self, fd: Any, eventmask: int) -> None:
            number = _fd_of(fd)
            if number not in self._registered:
                raise os_error("ENOENT")
            self._registered[number] = (self._registered[number][0], eventmask)

        def unregister(self, fd: Any) -> None:
            number = _fd_of(fd)
            if number not in self._registered:
                raise os_error("ENOENT")
            del self._registered[number]

        def _ready(self, limit: int) -> list[tuple[int, int]]:
            results = []
            for fd, (kernel, events) in list(self._registered.items()):
                if files.find(fd) is not kernel:
                    del self._registered[fd]  # the file was closed: epoll forgets it
                    continue
                mask = kernel.poll_mask() & (events | POLLERR | POLLHUP)
                if mask:
                    results.append((fd, mask))
                    if events & _real_select.EPOLLONESHOT:
                        self._registered[fd] = (kernel, 0)
                    if len(results) == limit:
                        break
            return results

        def poll(self, timeout: float | None = None, maxevents: int = -1) -> list[tuple[int, int]]:
            if self._fd == -1:
                raise ValueError("I/O operation on closed epoll object")
            seconds = None if timeout is None or timeout < 0 else float(timeout)
            deadline = deadline_after(system, seconds)
            limit = maxevents if maxevents > 0 else 1 << 30
            while True:
                results = self._ready(limit)
                if results:
                    return results
                if seconds == 0:
                    system.idle()
                    return []
                channels = tuple(kernel.channel for kernel, _ in self._registered.values())
                if not system.wait(channels, deadline):
                    return []

    for name, value in {"select": select, "poll": poll, "epoll": epoll, "error": OSError}.items():
        if name != "error":
            value.__module__ = "select"
        setattr(module, name, value)
    return module


__all__ = ["WOULD_BLOCK", "SimSocketBase", "make_select_module", "make_socket_module"]
