"""Bulk transfer over TCP, like ``nc host port < file``: a sink that listens and a source that sends.

The sink reads everything and hashes it (SHA-256), so tests and benchmarks can check that every octet
arrived exactly once and in order. Both sides work on callbacks from the node's TCP endpoint; the
socket layer will offer the same through the stdlib's API.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from wirelab.stack.tcp.config import TcpConfig
from wirelab.stack.tcp.connection import TcpConnection, TcpEvent, TcpEventKind
from wirelab.stack.tcp.endpoint import Listener, TcpEndpoint
from wirelab.stack.tcp.state import TcpState

if TYPE_CHECKING:
    from wirelab.sim.node import SimNode

CHUNK = 1 << 16


def tcp_of(node: SimNode, config: TcpConfig | None = None) -> TcpEndpoint:
    """The node's TCP endpoint, created on first use."""
    if node.tcp is None:
        node.tcp = TcpEndpoint(node.stack, config=config, rng=node.sim.random(f"{node.name} tcp"))
    return node.tcp


class _Stream:
    """What a sink keeps of one connection: its remote end, the octets read, their running hash."""

    __slots__ = ("digest", "octets", "remote")

    def __init__(self, remote: tuple[IPv4Address, int]) -> None:
        self.remote = remote
        self.octets = 0
        self.digest = hashlib.sha256()


class BulkSink:
    """Accept connections on ``port``; read until EOF; close. Hashes what each connection brought."""

    def __init__(self, node: SimNode, port: int, *, backlog: int = 16, config: TcpConfig | None = None) -> None:
        self.node = node
        self.endpoint = tcp_of(node)
        self.listener: Listener = self.endpoint.listen(IPv4Address("0.0.0.0"), port, backlog, config=config)
        self.digests: dict[tuple[IPv4Address, int], str] = {}
        self._streams: dict[int, _Stream] = {}  # by id(connection)
        self.finished: list[tuple[IPv4Address, int]] = []
        self.finished_at: dict[tuple[IPv4Address, int], int] = {}  # virtual time each stream's EOF arrived
        self.listener.on_ready = self._accept

    def _accept(self, _listener: Listener) -> None:
        while self.listener.accept_queue:
            connection = self.listener.accept_queue.popleft()
            self.endpoint.subscribers[id(connection)] = self
            self._streams[id(connection)] = _Stream(connection.remote)
            self._drain(connection)

    @property
    def received(self) -> dict[tuple[IPv4Address, int], int]:
        """Octets read so far from each connection, by its remote end."""
        return {stream.remote: stream.octets for stream in self._streams.values()}

    def tcp_events(self, connection: TcpConnection, events: list[TcpEvent]) -> None:
        self._drain(connection)

    def _drain(self, connection: TcpConnection) -> None:
        stream = self._streams.get(id(connection))
        if stream is None:
            return
        endpoint = self.endpoint
        digest = stream.digest
        octets = stream.octets
        while connection.readable:
            data = endpoint.read(connection, CHUNK)
            digest.update(data)
            octets += len(data)
        stream.octets = octets
        if connection.eof and connection.remote not in self.digests:
            self.digests[connection.remote] = digest.hexdigest()
            self.finished.append(connection.remote)
            self.finished_at[connection.remote] = self.node.sim.now
            self.endpoint.call(connection, "close")
        self.node.flush()


class BulkSource:
    """Connect to ``target:port``, send ``data``, then close (FIN after the last octet)."""

    def __init__(
        self, node: SimNode, target: IPv4Address, port: int, data: bytes, *, config: TcpConfig | None = None
    ) -> None:
        self.node = node
        self.data = data
        self.offset = 0
        self.endpoint = tcp_of(node)
        self.node.stack.now = node.sim.now
        self.connection = self.endpoint.connect(target, port, config=config)
        self.endpoint.subscribers[id(self.connection)] = self
        self.error: str | None = None
        self.closed = False
        self.node.flush()

    @property
    def done(self) -> bool:
        return self.connection.state in (TcpState.CLOSED, TcpState.TIME_WAIT) and self.closed

    def tcp_events(self, connection: TcpConnection, events: list[TcpEvent]) -> None:
        only_space = True
        for event in events:
            if event.kind is TcpEventKind.ERROR:
                self.error = event.error
            if event.kind is not TcpEventKind.SENT:
                only_space = False
        # Like Linux (sk_stream_write_space), a writer blocked on a full buffer is woken once a third
        # of the buffer is free, not for every ACK.
        if not only_space or connection.send_space * 3 >= connection.config.send_buffer:
            self._push()

    def _push(self) -> None:
        connection = self.connection
        if connection.state in (TcpState.SYN_SENT, TcpState.SYN_RECEIVED, TcpState.CLOSED):
            return
        while self.offset < len(self.data) and connection.send_space:
            taken = self.endpoint.call(connection, "send", self.data[self.offset : self.offset + CHUNK])
            if not taken:
                break
            self.offset += taken
        if self.offset >= len(self.data) and not self.closed:
            self.closed = True
            self.endpoint.call(connection, "close")
        self.node.flush()
