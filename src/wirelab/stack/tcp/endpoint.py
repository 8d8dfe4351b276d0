"""A node's TCP: its connections, its listening sockets, and its ports.

Demultiplexing (RFC 9293 §3.10.7): an arriving segment goes to the connection with its exact 4-tuple;
failing that, a SYN goes to a listener on (address, port) or (0.0.0.0, port); anything else is
answered as the CLOSED state answers: a RST (never to a RST).

Listening (the course's 半连接池 and the accept queue): a listener keeps half-open connections in a
bounded SYN queue and completed ones in an accept queue bounded by ``listen(backlog)``; when the
accept queue is full, new SYNs are dropped, as Linux does, so the client retries.

Ports: ephemeral ports come from 32768-60999 (Linux's ``ip_local_port_range``). A port stays in use
while any connection on it exists — TIME-WAIT included — so ``bind`` to it fails with EADDRINUSE
unless SO_REUSEADDR is set and no listener holds it (Linux's rule).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from wirelab.stack.node import SendError
from wirelab.stack.ports import EphemeralPorts
from wirelab.stack.tcp.config import TcpConfig
from wirelab.stack.tcp.connection import MASK, TcpConnection, TcpEvent, TcpEventKind, unwrap
from wirelab.stack.tcp.isn import IsnGenerator
from wirelab.stack.tcp.output import TcpOutput
from wirelab.stack.tcp.state import TcpState
from wirelab.trace import Layer
from wirelab.wire.ipaddr import UNSPECIFIED, address_value
from wirelab.wire.ipv4 import Ipv4Header
from wirelab.wire.tcp import TcpFlags, TcpHeader

if TYPE_CHECKING:
    from wirelab.stack.node import IpNode

# (local address, local port, remote address, remote port), addresses as ints: IPv4Address hashes
# through a Python-level __hash__, and every arriving segment looks its connection up.
FourTuple = tuple[int, int, int, int]


def four_tuple(local: tuple[IPv4Address, int], remote: tuple[IPv4Address, int]) -> FourTuple:
    return (address_value(local[0]), local[1], address_value(remote[0]), remote[1])


class TcpError(OSError):
    """A local TCP error; ``errno_name`` says which (EADDRINUSE, ECONNREFUSED…)."""

    def __init__(self, errno_name: str, message: str) -> None:
        super().__init__(message)
        self.errno_name = errno_name


@dataclass(eq=False)
class Listener:
    address: IPv4Address
    port: int
    backlog: int
    syn_queue: dict[FourTuple, TcpConnection] = field(default_factory=dict)
    accept_queue: deque[TcpConnection] = field(default_factory=deque)
    config: TcpConfig | None = None
    dropped_syns: int = 0
    closed: bool = False
    on_ready: Callable[[Listener], None] | None = None  # called when a connection joins the accept queue

    @property
    def syn_queue_limit(self) -> int:
        return max(self.backlog, 8) * 2  # Linux bounds half-open connections separately (tcp_max_syn_backlog)

    @property
    def accept_queue_full(self) -> bool:
        return len(self.accept_queue) > self.backlog  # Linux admits backlog + 1


class TcpEndpoint:
    """TCP for one :class:`~wirelab.stack.node.IpNode`; registered as its TCP handler."""

    def __init__(self, node: IpNode, *, config: TcpConfig | None = None, rng: random.Random | None = None) -> None:
        self.node = node
        self.config = config or TcpConfig()
        self.rng = rng or random.Random(0)
        self.isn = IsnGenerator(self.rng.randbytes(32))
        self.connections: dict[FourTuple, TcpConnection] = {}
        self.listeners: dict[tuple[IPv4Address, int], Listener] = {}
        self.ports_in_use: dict[int, int] = {}  # port -> how many connections/listeners use it
        self._ephemeral = EphemeralPorts(self.rng)
        self.subscribers: dict[int, Any] = {}  # id(connection) -> the socket object that owns it
        self._outputs: dict[int, TcpOutput] = {}  # id(connection) -> its way out (which keeps it alive)
        node.handlers.tcp = self.segment_arrives
        node.handlers.tcp_flow = self.flow_segment_arrives
        node.timer_clients.append(self)

    # -- ports ------------------------------------------------------------------------------------
    def _use_port(self, port: int) -> None:
        self.ports_in_use[port] = self.ports_in_use.get(port, 0) + 1

    def _release_port(self, port: int) -> None:
        left = self.ports_in_use.get(port, 0) - 1
        if left > 0:
            self.ports_in_use[port] = left
        else:
            self.ports_in_use.pop(port, None)

    def ephemeral_port(self) -> int:
        port = self._ephemeral.take(self.ports_in_use.__contains__)
        if port is None:
            raise TcpError("EADDRNOTAVAIL", "Cannot assign requested address")
        return port

    def port_available(self, address: IPv4Address, port: int, *, reuse_address: bool) -> bool:
        """Linux's bind rule: a port held by a listener is taken; one held only by connections is
        taken unless SO_REUSEADDR (then TIME-WAIT and other connections do not block it)."""
        for (listen_address, listen_port), _listener in self.listeners.items():
            if listen_port == port and (listen_address == address or UNSPECIFIED in (listen_address, address)):
                return False
        if reuse_address:
            return True
        wanted = address_value(address)
        return not any(key[1] == port and (key[0] == wanted or wanted == 0) for key in self.connections)

    # -- opening ----------------------------------------------------------------------------------
    def listen(self, address: IPv4Address, port: int, backlog: int, *, config: TcpConfig | None = None) -> Listener:
        key = (address, port)
        if key in self.listeners:
            raise TcpError("EADDRINUSE", "Address already in use")
        listener = Listener(address, port, max(backlog, 0), config=config)
        self.listeners[key] = listener
        self._use_port(port)
        self._trace("tcp.listening", address=address, port=port, backlog=backlog)
        return listener

    def close_listener(self, listener: Listener) -> None:
        if listener.closed:
            return
        listener.closed = True
        self.listeners.pop((listener.address, listener.port), None)
        self._release_port(listener.port)
        now = self.node.now
        for connection in [*listener.syn_queue.values(), *listener.accept_queue]:
            connection.abort(now)  # Linux resets connections nobody accepted
        listener.syn_queue.clear()
        listener.accept_queue.clear()
        self.flush(now)

    def connect(
        self,
        remote: IPv4Address,
        remote_port: int,
        *,
        local: IPv4Address | None = None,
        local_port: int = 0,
        config: TcpConfig | None = None,
    ) -> TcpConnection:
        now = self.node.now
        if local is None or local == UNSPECIFIED:
            try:
                local = self.node.source_for(remote)
            except SendError as error:
                raise TcpError(error.errno_name, str(error)) from None
        port = local_port or self.ephemeral_port()
        key = four_tuple((local, port), (remote, remote_port))
        if key in self.connections:
            raise TcpError("EADDRINUSE", "Address already in use")
        connection = TcpConnection.connect(
            (local, port),
            (remote, remote_port),
            iss=self.isn(now, (local, port), (remote, remote_port)),
            now=now,
            config=self._config_for(config, remote),
            ts_offset=self.rng.getrandbits(32),
            tracer=self._tracer_for(key),
        )
        self._add(key, connection)
        self.flush(now)
        return connection

    def _config_for(self, config: TcpConfig | None, remote: IPv4Address) -> TcpConfig:
        """The MSS we advertise follows the outgoing interface's MTU (RFC 9293 §3.7.1)."""
        config = config or self.config
        found = self.node.route_for(remote)
        mtu = found[0].mtu if found is not None else 65535 if self.node.is_local(remote) else 1500
        if self.node.is_local(remote):
            mtu = 65535
        return config.with_changes(mss=min(mtu - 40, 65495))

    def _add(self, key: FourTuple, connection: TcpConnection) -> None:
        self.connections[key] = connection
        self._use_port(key[1])

    def _tracer_for(self, key: FourTuple) -> Any:
        node = self.node
        local = f"{IPv4Address(key[0])}:{key[1]}"
        remote = f"{IPv4Address(key[2])}:{key[3]}"

        def tracer(now: int, kind: str, fields: dict[str, Any]) -> None:
            if node.trace.enabled:
                node.trace.emit(now, node.name, Layer.TRANSPORT, kind, local=local, remote=remote, **fields)

        return tracer

    # -- segments from IP -------------------------------------------------------------------------
    def segment_arrives(self, ip: Ipv4Header, segment: TcpHeader, payload: bytes, now: int) -> bool:
        key = (address_value(ip.dst), segment.dst_port, address_value(ip.src), segment.src_port)
        connection = self.connections.get(key)
        counters = self.node.counters
        if connection is not None:
            if (
                connection.state is TcpState.TIME_WAIT
                and segment.flags & TcpFlags.SYN
                and not segment.flags & TcpFlags.ACK
                and self._time_wait_allows_new_syn(connection, segment)
            ):
                # RFC 9293 §3.6.1 / RFC 6191: a new SYN above the old sequence space may reopen the pair.
                counters["tcp.time-wait.recycled"] += 1
                self._remove(key, connection)
            else:
                counters["tcp.rx"] += 1
                connection.segment_arrives(segment, payload, now)
                self._after(key, connection, now)
                return True
        listener = self.listeners.get((ip.dst, segment.dst_port)) or self.listeners.get((UNSPECIFIED, segment.dst_port))
        if listener is None:
            return False  # the node answers as CLOSED does: RST
        return self._listener_arrives(listener, key, ip, segment, payload, now)

    def flow_segment_arrives(self, src: int, dst: int, segment: TcpHeader, payload: bytes, now: int) -> bool:
        """A segment for a connection that is not in TIME-WAIT (addresses as ints): what
        :meth:`segment_arrives` does with it; False, having done nothing, for anything else."""
        key = (dst, segment.dst_port, src, segment.src_port)
        connection = self.connections.get(key)
        if connection is None or connection.state is TcpState.TIME_WAIT:
            return False
        self.node.counters["tcp.rx"] += 1
        connection.segment_arrives(segment, payload, now)
        self._after(key, connection, now)
        return True

    @staticmethod
    def _time_wait_allows_new_syn(connection: TcpConnection, segment: TcpHeader) -> bool:
        return unwrap(segment.seq, connection.rcv_nxt) > connection.rcv_nxt

    def _listener_arrives(
        self, listener: Listener, key: FourTuple, ip: Ipv4Header, segment: TcpHeader, payload: bytes, now: int
    ) -> bool:
        counters = self.node.counters
        flags = segment.flags
        if flags & TcpFlags.RST:
            return True  # RFC 9293 §3.10.7.2: in LISTEN, ignore a RST
        if flags & TcpFlags.ACK:
            return False  # "any acknowledgment is bad if it arrives on a connection still in LISTEN": RST
        if not flags & TcpFlags.SYN:
            counters["tcp.listen.drop.no-syn"] += 1
            return True
        if listener.accept_queue_full or len(listener.syn_queue) >= listener.syn_queue_limit:
            listener.dropped_syns += 1
            counters["tcp.listen.overflow"] += 1  # Linux's ListenOverflows: the client will retry
            self._trace("tcp.listen.overflow", port=listener.port, backlog=listener.backlog)
            return True
        connection = TcpConnection.accept_syn(
            (ip.dst, segment.dst_port),
            (ip.src, segment.src_port),
            segment,
            iss=self.isn(now, (ip.dst, segment.dst_port), (ip.src, segment.src_port)),
            now=now,
            config=self._config_for(listener.config, ip.src),
            ts_offset=self.rng.getrandbits(32),
            tracer=self._tracer_for(key),
        )
        connection.listener = listener
        listener.syn_queue[key] = connection
        self._add(key, connection)
        counters["tcp.listen.syn"] += 1
        self._after(key, connection, now)
        return True

    def _after(self, key: FourTuple, connection: TcpConnection, now: int) -> None:
        """Route the connection's output and events; retire it when CLOSED."""
        # Anything a connection did may have moved its deadlines. (The one place this is said for segments
        # that arrive: the node does not repeat it after a handler that, say, flushed from a callback.)
        self.node.timers_changed = True
        listener: Listener | None = connection.listener
        if listener is not None and key in listener.syn_queue and connection.state.synchronized:
            del listener.syn_queue[key]
            if listener.closed:
                connection.abort(now)
            else:
                listener.accept_queue.append(connection)
                self._trace("tcp.accept-queue", port=listener.port, queued=len(listener.accept_queue))
                if listener.on_ready is not None:
                    listener.on_ready(listener)
        self._send(connection)
        if connection.state is TcpState.CLOSED:
            if listener is not None:
                listener.syn_queue.pop(key, None)
            self._remove(key, connection)
        events = connection.events
        if events:
            connection.events = []  # take_events(), inlined
            owner = self.subscribers.get(id(connection))
            if owner is not None:
                owner.tcp_events(connection, events)

    def _remove(self, key: FourTuple, connection: TcpConnection) -> None:
        if self.connections.get(key) is connection:
            del self.connections[key]
            self._release_port(key[1])
        self._outputs.pop(id(connection), None)

    def _send(self, connection: TcpConnection) -> None:
        if not connection.outbox:
            return
        node = self.node
        output = self._outputs.get(id(connection))
        if output is None or output.connection is not connection:
            output = self._outputs[id(connection)] = TcpOutput(node, connection)
        output.send_all(connection.take_outbox(), self._unroutable)

    def _unroutable(self, error: SendError) -> None:
        """A segment could not leave (the route vanished): TCP's timers retransmit later."""
        self.node.counters["tcp.tx.unroutable"] += 1
        self._trace("tcp.tx.unroutable", error=str(error))

    def flush(self, now: int) -> None:
        """Send every connection's pending output (after application calls)."""
        for key, connection in list(self.connections.items()):
            if connection.outbox or connection.state is TcpState.CLOSED or connection.events:
                self._after(key, connection, now)

    # -- application calls that need the node's clock -----------------------------------------------
    def call(self, connection: TcpConnection, method: str, *args: Any) -> Any:
        """Run ``connection.<method>(*args, now)`` and send what it produced."""
        now = self.node.now
        result = getattr(connection, method)(*args, now)
        self._after(four_tuple(connection.local, connection.remote), connection, now)
        return result

    def read(self, connection: TcpConnection, limit: int) -> bytes:
        """``call(connection, "receive", limit)``: the same, except that a read that left the connection
        nothing to send or report (no window update due: most reads) skips the routing of its output."""
        now = self.node.now
        data = connection.receive(limit, now)
        if connection.outbox or connection.events or connection.state is TcpState.CLOSED:
            self._after(four_tuple(connection.local, connection.remote), connection, now)
        return data

    # -- timers -----------------------------------------------------------------------------------
    def poll_at(self) -> int | None:
        best: int | None = None
        for connection in self.connections.values():
            when = connection.poll_at()
            if when is not None and (best is None or when < best):
                best = when
        return best

    def poll(self, now: int) -> None:
        for key, connection in list(self.connections.items()):
            when = connection.poll_at()
            if when is not None and when <= now:
                connection.poll(now)
                self._after(key, connection, now)

    # -- inspection -------------------------------------------------------------------------------
    def socket_table(self) -> str:
        """Like ``ss -tan``: State, Recv-Q, Send-Q, local and peer address."""
        lines = [f"{'State':<13}{'Recv-Q':>7}{'Send-Q':>7}  {'Local Address:Port':<22}{'Peer Address:Port'}"]
        for listener in self.listeners.values():
            local = f"{'*' if listener.address == UNSPECIFIED else listener.address}:{listener.port}"
            lines.append(f"{'LISTEN':<13}{len(listener.accept_queue):>7}{listener.backlog:>7}  {local:<22}*:*")
        for _key, connection in sorted(self.connections.items()):
            (local_ip, local_port), (remote_ip, remote_port) = connection.local, connection.remote
            state = str(connection.state).replace("SYN-RECEIVED", "SYN-RECV")
            lines.append(
                f"{state:<13}{connection.readable:>7}{connection.send_queue:>7}  "
                f"{f'{local_ip}:{local_port}':<22}{remote_ip}:{remote_port}"
            )
        return "\n".join(lines)

    def _trace(self, kind: str, **fields: Any) -> None:
        node = self.node
        if node.trace.enabled:
            node.trace.emit(node.now, node.name, Layer.TRANSPORT, kind, **fields)


__all__ = ["MASK", "Listener", "TcpEndpoint", "TcpError", "TcpEvent", "TcpEventKind"]
