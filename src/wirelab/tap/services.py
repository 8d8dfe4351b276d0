"""The built-in services of ``wirelab tap --serve``: ordinary stdlib socket programs.

Each one runs as a process on the TAP-attached stack, so each ``import`` inside it reaches the
process's own ``socket``, ``socketserver``, ``threading`` — the simulated kernel — exactly as a script
given after ``--`` would. Echo (RFC 862) and discard (RFC 863) listen on TCP and UDP; http is the
stdlib's ``http.server`` serving a directory.
"""

# ruff: noqa: PLC0415 - the imports are inside the functions on purpose: run as a process, they reach
# the process's own (simulated) socket, socketserver and threading, not this interpreter's.

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

DEFAULT_PORTS: Final = {"echo": 7, "discard": 9, "http": 80}
CHUNK: Final = 65536


def echo(port: int) -> None:
    """RFC 862: send back every octet received, on TCP and on UDP."""
    import socket
    import socketserver
    import threading

    class Echo(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            connection: socket.socket = self.request
            while data := connection.recv(CHUNK):
                connection.sendall(data)

    def udp() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("", port))
            while True:
                data, peer = sock.recvfrom(CHUNK)
                sock.sendto(data, peer)

    threading.Thread(target=udp, daemon=True).start()
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("", port), Echo) as server:
        server.serve_forever()


def discard(port: int) -> None:
    """RFC 863: read and throw away, on TCP and on UDP."""
    import socket
    import socketserver
    import threading

    class Discard(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            connection: socket.socket = self.request
            while connection.recv(CHUNK):
                pass

    def udp() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("", port))
            while True:
                sock.recvfrom(CHUNK)

    threading.Thread(target=udp, daemon=True).start()
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("", port), Discard) as server:
        server.serve_forever()


def http(port: int, directory: str) -> None:
    """The stdlib's ``http.server`` (as ``python -m http.server``), serving ``directory``."""
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    with http.server.ThreadingHTTPServer(("", port), handler) as server:
        server.serve_forever()


def service(name: str, port: int, directory: str) -> tuple[Callable[..., Any], tuple[object, ...]]:
    """The function to run as a process for ``--serve name``, and its arguments."""
    if name == "echo":
        return echo, (port,)
    if name == "discard":
        return discard, (port,)
    if name == "http":
        return http, (port, directory)
    raise ValueError(f"unknown service {name!r} (known: {', '.join(DEFAULT_PORTS)})")
