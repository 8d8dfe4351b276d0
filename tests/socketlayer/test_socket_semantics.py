"""The socket module on simulated hosts behaves as CPython's on Linux: errors, timeouts, modes, readiness.

Each test runs small programs as processes (callables that ``import socket`` inside, so they get the
simulated host's module) and records what they observed.
"""

# The programs import socket/select/time inside their bodies: that is how a callable gets its host's modules.
# ruff: noqa: PLC0415

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

import pytest

from wirelab.process import Process, scheduler_of, start
from wirelab.sim.network import Network

A = "192.168.1.10"
B = "192.168.2.10"


def lab() -> Network:
    net = Network(seed=11)
    sw1, sw2 = net.switch("sw1"), net.switch("sw2")
    net.link(net.host("a", f"{A}/24", gateway="192.168.1.1"), sw1, delay="100us")
    net.link(net.host("b", f"{B}/24", gateway="192.168.2.1"), sw2, delay="100us")
    router = net.router("r1")
    net.link(router, sw1, address="192.168.1.1/24")
    net.link(router, sw2, address="192.168.2.1/24")
    return net


def run(*programs: tuple[str, Callable[[], object], str | int], until: str = "30s") -> list[Process]:
    """Run (host, program, delay) processes to ``until``; every one must finish cleanly."""
    net = lab()
    processes = [start(net, host, program, delay=delay) for host, program, delay in programs]
    net.run(until=until)
    for process in processes:
        assert process.exited and process.exit_code == 0, (process, process.stderr)
    scheduler_of(net.sim).shutdown()
    return processes


def echo_server(port: int, seen: list[Any], *, reuse: bool = False, once: bool = True) -> Callable[[], None]:
    def server() -> None:
        import socket

        listener = socket.socket()
        if reuse:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        conn, address = listener.accept()
        seen.append(address[0])
        while data := conn.recv(1024):
            conn.sendall(data.upper())
        conn.close()
        listener.close()

    return server


# -- errors ----------------------------------------------------------------------------------------
def test_connection_refused_when_nobody_listens() -> None:
    seen: list[Any] = []

    def client() -> None:
        import socket

        try:
            socket.create_connection((B, 9))
        except ConnectionRefusedError as error:
            seen.append((type(error), error.errno, error.strerror))
        with socket.socket() as s:
            seen.append(s.connect_ex((B, 9)))

    run(("a", client, 0))
    assert seen == [(ConnectionRefusedError, errno.ECONNREFUSED, "Connection refused"), errno.ECONNREFUSED]


def test_network_and_host_unreachable() -> None:
    seen: list[Any] = []

    def client() -> None:
        import socket

        for target in (("10.9.9.9", 80), ("192.168.1.99", 80)):
            s = socket.socket()
            try:
                s.connect(target)
            except OSError as error:
                seen.append(errno.errorcode[error.errno])
            s.close()

    net = Network(seed=1)
    sw = net.switch("sw")
    net.link(net.host("a", f"{A}/24"), sw)  # no gateway: 10.9.9.9 has no route
    process = start(net, "a", client)
    net.run(until="60s")
    assert process.exit_code == 0, process.stderr
    assert seen == ["ENETUNREACH", "EHOSTUNREACH"]  # the second after ARP gives up


def test_wrong_state_calls_say_what_linux_says() -> None:
    seen: list[Any] = []

    def program() -> None:
        import socket

        def attempt(call: Callable[[], object]) -> None:
            try:
                call()
                seen.append("ok")
            except OSError as error:
                seen.append((type(error).__name__, errno.errorcode.get(error.errno or 0)))

        s = socket.socket()
        attempt(lambda: s.send(b"x"))  # not connected: EPIPE
        attempt(lambda: s.recv(1))  # ENOTCONN
        attempt(s.accept)  # not listening: EINVAL
        attempt(lambda: s.shutdown(socket.SHUT_WR))  # ENOTCONN
        attempt(s.getpeername)
        s.bind(("", 0))
        attempt(lambda: s.bind(("", 0)))  # binds once: EINVAL
        s.listen()
        attempt(lambda: s.connect((B, 80)))  # a listener is "connected": EISCONN
        attempt(lambda: socket.socket().bind(("10.1.2.3", 0)))  # not my address
        s.close()
        attempt(s.fileno)
        attempt(lambda: s.recv(1))  # EBADF

    run(("a", program, 0))
    assert seen == [
        ("BrokenPipeError", "EPIPE"),
        ("OSError", "ENOTCONN"),
        ("OSError", "EINVAL"),
        ("OSError", "ENOTCONN"),
        ("OSError", "ENOTCONN"),
        ("OSError", "EINVAL"),
        ("OSError", "EISCONN"),
        ("OSError", "EADDRNOTAVAIL"),
        "ok",
        ("OSError", "EBADF"),
    ]


def test_close_with_unread_data_resets_the_peer() -> None:
    seen: list[Any] = []

    def server() -> None:
        import socket
        import time

        listener = socket.create_server(("", 7000))
        conn, _ = listener.accept()
        time.sleep(0.1)  # the client's data arrives and is never read
        conn.close()

    def client() -> None:
        import socket
        import time

        s = socket.create_connection((B, 7000))
        s.sendall(b"unread")
        time.sleep(0.5)
        for _ in range(2):
            try:
                seen.append(s.recv(10))
            except ConnectionResetError as error:
                seen.append(error.errno)
        try:
            s.send(b"more")
        except BrokenPipeError as error:
            seen.append(error.errno)

    processes = run(("b", server, 0), ("a", client, "1ms"))
    assert seen == [errno.ECONNRESET, b"", errno.EPIPE]
    assert processes[1].host.stack.counters["tcp.rx"] > 0


def test_restart_right_after_closing_a_connection_needs_so_reuseaddr_as_on_linux() -> None:
    outcomes: dict[str, Any] = {}

    def server(reuse: bool, label: str) -> Callable[[], None]:
        def program() -> None:
            import socket

            first = socket.socket()
            first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(reuse))
            first.bind(("", 8000))
            first.listen()
            conn, _ = first.accept()
            conn.recv(100)
            conn.close()  # the server closes first: its side goes to TIME-WAIT
            first.close()
            again = socket.socket()
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(reuse))
            try:
                again.bind(("", 8000))
                again.listen()
                outcomes[label] = "bound"
            except OSError as error:
                outcomes[label] = errno.errorcode[error.errno or 0]

        return program

    def client() -> None:
        import socket
        import time

        with socket.create_connection((B, 8000)) as s:
            s.sendall(b"bye")
            time.sleep(1)

    for reuse, label in ((False, "without"), (True, "with")):
        net = lab()
        start(net, "b", server(reuse, label))
        start(net, "a", client, delay="1ms")
        net.run(until="5s")
        assert "TIME-WAIT" in net["b"].tcp.socket_table()  # type: ignore[union-attr]
    assert outcomes == {"without": "EADDRINUSE", "with": "bound"}


# -- timeouts and modes ----------------------------------------------------------------------------
def test_timeouts_are_virtual_and_raise_timeouterror() -> None:
    seen: list[Any] = []

    def program() -> None:
        import socket
        import time

        s = socket.socket(type=socket.SOCK_DGRAM)
        s.bind(("", 5000))
        s.settimeout(2.5)
        began = time.monotonic()
        try:
            s.recvfrom(100)
        except TimeoutError as error:  # socket.timeout is TimeoutError
            seen.append((type(error), str(error), round(time.monotonic() - began, 6)))
        seen.append(socket.timeout is TimeoutError)
        s.close()

    run(("a", program, 0))
    assert seen == [(TimeoutError, "timed out", 2.5), True]


def test_non_blocking_sockets_raise_blockingioerror() -> None:
    seen: list[Any] = []

    def program() -> None:
        import socket

        listener = socket.socket()
        listener.bind(("127.0.0.1", 6000))
        listener.listen()
        listener.setblocking(False)
        try:
            listener.accept()
        except BlockingIOError as error:
            seen.append(errno.errorcode[error.errno])
        client = socket.socket(type=socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        seen.append((client.type == socket.SOCK_STREAM, client.gettimeout(), client.getblocking()))
        seen.append(errno.errorcode[client.connect_ex(("127.0.0.1", 6000))])  # EINPROGRESS

    run(("a", program, 0))
    assert seen == ["EAGAIN", (True, 0.0, False), "EINPROGRESS"]


def test_select_reports_readiness_and_waits_for_it() -> None:
    seen: list[Any] = []

    def server() -> None:
        import select
        import socket
        import time

        listener = socket.create_server(("", 7100))
        readable, _, _ = select.select([listener], [], [], 5)
        seen.append(("listener readable", readable == [listener], round(time.monotonic() % 1000, 3)))
        conn, _ = listener.accept()
        readable, writable, _ = select.select([conn], [conn], [], 0)
        seen.append(("fresh conn", readable, writable == [conn]))
        readable, _, _ = select.select([conn], [], [], 5)
        seen.append(("data", conn.recv(100)))
        readable, _, _ = select.select([conn], [], [], 5)
        seen.append(("eof", conn.recv(100)))
        seen.append(("timeout", select.select([listener], [], [], 0.25), round(time.monotonic() % 1000, 3)))

    def client() -> None:
        import socket
        import time

        time.sleep(1)
        with socket.create_connection((B, 7100)) as s:
            time.sleep(1)
            s.sendall(b"ping")

    run(("b", server, 0), ("a", client, 0))
    assert seen[0][:2] == ("listener readable", True) and 1.0 < seen[0][2] < 1.01
    assert seen[1:4] == [("fresh conn", [], True), ("data", b"ping"), ("eof", b"")]
    assert seen[4][1] == ([], [], [])


def test_selectors_and_makefile() -> None:
    seen: list[Any] = []

    def server() -> None:
        import selectors
        import socket

        seen.append(selectors.DefaultSelector.__name__)
        listener = socket.create_server(("", 7200))
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            for key, _events in selector.select(timeout=10):
                conn, _ = key.fileobj.accept()  # type: ignore[union-attr]
                with conn, conn.makefile("rwb") as stream:
                    line = stream.readline()
                    stream.write(line.upper())
                    stream.flush()

    def client() -> None:
        import socket

        with socket.create_connection((B, 7200), timeout=5) as s, s.makefile("rwb") as stream:
            stream.write(b"a line\n")
            stream.flush()
            seen.append(stream.readline())

    run(("b", server, 0), ("a", client, "1ms"))
    assert seen == ["EpollSelector", b"A LINE\n"]


def test_names_and_addresses() -> None:
    seen: list[Any] = []

    def program() -> None:
        import socket

        seen.append(socket.gethostname())
        seen.append(socket.gethostbyname("b"))
        seen.append(socket.gethostbyname("localhost"))
        seen.append(socket.getaddrinfo("b", "http", type=socket.SOCK_STREAM))
        try:
            socket.gethostbyname("nowhere.invalid")
        except socket.gaierror as error:
            seen.append((error.errno, error.strerror))
        s = socket.socket()
        s.connect(("b", 7300))
        seen.append((s.getsockname()[0], s.getpeername()))
        s.close()

    def listener() -> None:
        import socket

        server = socket.create_server(("", 7300))
        server.accept()[0].close()

    run(("b", listener, 0), ("a", program, "1ms"))
    assert seen[:3] == ["a", B, "127.0.0.1"]
    assert seen[3] == [(2, 1, 6, "", (B, 80))]
    assert seen[4] == (-2, "Name or service not known")
    assert seen[5] == (A, (B, 7300))


def test_socket_options() -> None:
    seen: list[Any] = []

    def program() -> None:
        import socket

        s = socket.socket()
        seen.append(
            (s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF), s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
        )
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1000)
        seen.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))  # Linux doubles it, at least 2304
        seen.append([s.getsockopt(socket.IPPROTO_TCP, option) for option in (4, 5, 6)])
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        seen.append(
            (s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))
        )
        seen.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
        u = socket.socket(type=socket.SOCK_DGRAM)
        seen.append(u.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))

    run(("a", program, 0))
    assert seen == [(16384, 131072), 2304, [7200, 75, 9], (1, 1), 0, 212992]


def test_udp_connected_socket_hears_port_unreachable_as_refused() -> None:
    seen: list[Any] = []

    def program() -> None:
        import socket

        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(1)
        u.connect((B, 9999))
        u.send(b"anyone?")
        try:
            u.recv(100)
        except ConnectionRefusedError as error:
            seen.append(error.errno)

    run(("a", program, 0))
    assert seen == [errno.ECONNREFUSED]


@pytest.mark.parametrize("module", ["TCPServer", "ThreadingTCPServer"])
def test_socketserver_unchanged(module: str) -> None:
    seen: list[Any] = []

    def server() -> None:
        import socketserver

        class Upper(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    self.wfile.write(line.upper())

        server_class = getattr(socketserver, module)
        server_class.allow_reuse_address = True
        with server_class(("", 9000), Upper) as srv:
            srv.serve_forever()

    def client(name: str) -> Callable[[], None]:
        def program() -> None:
            import socket

            with socket.create_connection((B, 9000)) as s:
                s.sendall(f"hello from {name}\n".encode())
                s.shutdown(socket.SHUT_WR)
                answer = b""
                while chunk := s.recv(100):
                    answer += chunk
                seen.append(answer)

        return program

    net = lab()
    server_process = start(net, "b", server)
    clients = [start(net, "a", client(name), delay="100ms") for name in ("one", "two")]
    net.run(until="5s")
    assert [c.exit_code for c in clients] == [0, 0], [c.stderr for c in clients]
    assert sorted(seen) == [b"HELLO FROM ONE\n", b"HELLO FROM TWO\n"]
    assert not server_process.exited and not server_process.stderr
    if module == "ThreadingTCPServer":
        assert len(server_process.threads) == 2  # one thread per request, as ThreadingMixIn does
    scheduler_of(net.sim).shutdown()
    assert server_process.exited
