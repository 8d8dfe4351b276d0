"""Hosts and routers on the simulator: an :class:`~wirelab.stack.node.IpNode` with ports.

The simulator is the stack's runtime: it hands each arriving frame to the stack with the virtual
``now``, puts the stack's outgoing frames on the ports, and wakes the stack at its next deadline.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface
from typing import TYPE_CHECKING, Any

from wirelab.sim.link import Port
from wirelab.stack.node import LOOPBACK, Interface, IpNode
from wirelab.trace import Counters, Layer, Trace
from wirelab.wire.mac import MacAddress

if TYPE_CHECKING:
    from wirelab.sim.engine import Simulator, Timer
    from wirelab.stack.tcp.endpoint import TcpEndpoint


class SimNode:
    """A host (``forwarding=False``) or a router (``forwarding=True``) with one port per interface."""

    def __init__(self, sim: Simulator, name: str, stack: IpNode, trace: Trace, counters: Counters) -> None:
        self.sim = sim
        self.name = name
        self.stack = stack
        self.trace = trace
        self.counters = counters
        self.ports: list[Port] = []
        self._wakeup: Timer | None = None
        self.tcp: TcpEndpoint | None = None  # made on first use (wirelab.apps.bulk.tcp_of, the sockets)

    @property
    def is_router(self) -> bool:
        return self.stack.forwarding

    @property
    def interfaces(self) -> list[Interface]:
        return self.stack.interfaces

    def add_interface(self, mac: MacAddress, address: IPv4Interface | str | None, mtu: int = 1500) -> Port:
        interface = self.stack.add_interface(mac, address, mtu=mtu)
        port = Port(self, interface.index, f"{self.name}:{interface.name}")
        self.ports.append(port)
        return port

    def free_port(self) -> Port | None:
        return next((port for port in self.ports if not port.connected), None)

    def send_ip(self, destination: IPv4Address, protocol: int, payload: bytes, **options: Any) -> IPv4Address:
        """An application on this node sends a datagram (see :meth:`IpNode.send_ip`)."""
        self.stack.now = self.sim.now
        try:
            return self.stack.send_ip(destination, protocol, payload, **options)
        finally:
            self.flush()

    # -- the runtime ------------------------------------------------------------------------------
    def receive(self, port: Port, frame: bytes) -> None:
        stack = self.stack
        stack.receive(port.index, frame, self.sim.now)
        if stack.has_output or stack.timers_changed:
            self.flush()

    def flush(self) -> None:
        """Send what the stack produced and wake it at its next deadline."""
        sim = self.sim
        ports = self.ports
        for index, frame in self.stack.take_outbox():
            if index == LOOPBACK:
                sim.post(sim.now, self._loopback, frame)
                continue
            channel = ports[index].channel  # Port.send, without its call
            if channel is None or not channel.transmit(frame):
                self.counters["nic.tx.not-sent"] += 1
                if self.trace.enabled:
                    self.trace.emit(sim.now, self.name, Layer.PHYSICAL, "nic.tx.not-sent", port=self.ports[index].name)
        stack = self.stack
        if not stack.timers_changed:
            return  # no deadline moved: the pending wakeup (if any) still stands
        stack.timers_changed = False
        when = stack.poll_at()
        wakeup = self._wakeup
        if wakeup is not None and wakeup.pending:
            if when is not None and wakeup.when <= when:
                # Keep the earlier wakeup: it polls a little early and reschedules then. A TCP sender moves
                # its retransmission deadline later on every ACK; re-queueing each time would churn the heap.
                return
            wakeup.cancel()
        self._wakeup = sim.call_at(max(when, sim.now), self._on_wakeup) if when is not None else None

    def _on_wakeup(self, _: object) -> None:
        self._wakeup = None
        self.stack.poll(self.sim.now)  # marks the deadlines as moved, so flush() asks for the next one
        self.flush()

    def _loopback(self, packet: bytes) -> None:
        self.stack.receive(LOOPBACK, packet, self.sim.now)
        self.flush()

    def __repr__(self) -> str:
        kind = "Router" if self.is_router else "Host"
        return f"{kind}({self.name})"
