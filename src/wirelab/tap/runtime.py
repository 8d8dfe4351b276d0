"""The real-time runtime: the simulator's engine on the wall clock, and a host whose wire is a TAP.

:class:`RealTimeEngine` *is* a :class:`~wirelab.sim.engine.Simulator` — same ``now``, ``call_at``,
``call_later``, ``post``, ``random`` and ``run`` — so everything written for the simulator (a
:class:`~wirelab.sim.node.SimNode`, TCP, the socket layer, greenlet processes, ``ping``) runs on it
unchanged. The one difference is where time comes from: :meth:`RealTimeEngine.run_until` reads the
monotonic clock, runs every event that is due (each sees ``now`` = its own deadline, as in the
simulator, so time never goes backwards inside a step), and when nothing is due sleeps in ``epoll``
on the readers' descriptors — the TAP — until a frame arrives or the next timer is due.

:class:`TapHost` is a ``SimNode`` with one interface whose port writes to the TAP; the engine hands it
every frame read from the TAP, stamped with the wall ``now``. The stack itself is the same sans-IO
:class:`~wirelab.stack.node.IpNode`.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Interface
from types import FrameType
from typing import IO, Final

from wirelab.process.scheduler import Scheduler
from wirelab.process.stdio import OutputLine
from wirelab.sim.engine import Simulator, Timer
from wirelab.sim.link import Port
from wirelab.sim.node import SimNode
from wirelab.stack.node import LOOPBACK, IpNode
from wirelab.stack.tcp.config import MILLISECOND, TcpConfig
from wirelab.stack.tcp.endpoint import TcpEndpoint
from wirelab.tap.coalesce import coalesce
from wirelab.tap.device import TapDevice
from wirelab.trace import Counters, Trace
from wirelab.wire.arp import ArpPacket
from wirelab.wire.errors import MalformedPacket
from wirelab.wire.ethernet import untagged_frame
from wirelab.wire.mac import BROADCAST, MacAddress
from wirelab.wire.pcap import PcapWriter

SECOND: Final = 1_000_000_000
MAX_GSO_PACKET: Final = 65535  # the largest IPv4 packet: what a TSO frame may carry
READ_BATCH: Final = 64  # frames taken from one descriptor before the timers get a turn
MAX_SLEEP: Final = 1.0  # seconds: the loop looks at its stop conditions at least this often
# TCP on a real segment with Linux as the peer: Linux's 200 ms floor on the retransmission timeout
# (TCP_RTO_MIN) rather than RFC 6298's conservative 1 s, which would stall every recovery that times
# out five times longer than the kernel at the other end does.
REAL_NETWORK_TCP: Final = TcpConfig(rto_min=200 * MILLISECOND)


class RealTimeEngine(Simulator):
    """The simulator's event queue, driven by the monotonic clock and by readable descriptors.

    ``now`` counts nanoseconds from the engine's creation. The seed of :meth:`random` comes from the
    operating system unless given: on a real network, ISNs and ports must not be predictable.
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed if seed is not None else int.from_bytes(os.urandom(8), "big"))
        self._origin = time.monotonic_ns()
        # The wall time (ns since the Unix epoch) at now == 0: pcap timestamps and processes' time.time().
        self.epoch = time.time_ns() - (time.monotonic_ns() - self._origin)
        self._poller = select.epoll()
        self._readers: dict[int, Callable[[], None]] = {}
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._poller.register(self._wake_read, select.EPOLLIN)
        self.stop_requested = False
        self.iterations = 0
        self._soon: deque[Callable[[], None]] = deque()  # from signal handlers or threads: run in the loop

    def clock(self) -> int:
        """The wall clock, on the engine's scale."""
        return time.monotonic_ns() - self._origin

    # -- descriptors ------------------------------------------------------------------------------
    def add_reader(self, fd: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever ``fd`` is readable (level-triggered: it should read until EAGAIN)."""
        self._poller.register(fd, select.EPOLLIN)  # first: epoll refuses some (regular files)
        self._readers[fd] = callback

    def remove_reader(self, fd: int) -> None:
        if self._readers.pop(fd, None) is not None:
            self._poller.unregister(fd)

    def request_stop(self) -> None:
        """Make :meth:`run_until` return soon; safe from a signal handler."""
        self.stop_requested = True
        with contextlib.suppress(BlockingIOError):  # already full: a wake-up is pending anyway
            os.write(self._wake_write, b"\0")

    def call_soon_threadsafe(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` in the loop, between events; safe from a signal handler or another thread."""
        self._soon.append(callback)
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_write, b"\0")

    def close(self) -> None:
        self._poller.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    # -- running ----------------------------------------------------------------------------------
    def run_until(
        self, done: Callable[[], bool] | None = None, *, timeout: float | None = None, stoppable: bool = True
    ) -> bool:
        """Run in real time until ``done()`` is true (True), ``timeout`` seconds pass or (if ``stoppable``)
        a stop has been requested (False). A stop request stays: every later stoppable run ends at once
        (a SIGTERM during start-up is not forgotten); a graceful ending runs with ``stoppable=False``."""
        deadline = None if timeout is None else self.clock() + int(timeout * SECOND)
        poll = self._poller.poll
        readers = self._readers
        last_look = False
        while True:
            self.iterations += 1
            self._run_due()
            if done is not None and done():
                return True
            if stoppable and self.stop_requested:
                return False
            wall = self.clock()
            if deadline is not None and wall >= deadline:
                if last_look:
                    return False
                # One look at the descriptors after the deadline, without waiting: what arrived in time
                # (an answer to an ARP probe, on a loaded machine) is taken before the run ends.
                last_look = True
            wait = MAX_SLEEP
            upcoming = self.next_event_time()
            if upcoming is not None:
                wait = min(wait, max(0.0, (upcoming - wall) / SECOND))
            if deadline is not None:
                wait = max(0.0, min(wait, (deadline - wall) / SECOND))
            ready = poll(wait)
            if not ready:
                continue
            # The timers that fell due while we slept run first, so the frames' ``now`` is later than
            # every event before them: time never goes backwards for the stack.
            self._run_due()
            for fd, _mask in ready:
                if fd == self._wake_read:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_read, 64)
                    while self._soon:
                        self._soon.popleft()()
                    continue
                callback = readers.get(fd)
                if callback is not None:
                    callback()

    def _run_due(self) -> None:
        """Run every event due by the wall clock; ``now`` ends at the wall time."""
        self.run(until=max(self.clock(), self.now))


class TapPort(Port):
    """The port of a :class:`TapHost`: what the stack sends goes to the kernel through the TAP.

    With offloads, frames wait in :attr:`pending` until the host's flush, which writes them with
    :meth:`drain` — consecutive segments of a TCP flow joined into one (:mod:`wirelab.tap.coalesce`).
    """

    __slots__ = ("device", "joined", "pcap", "pending", "written")

    def __init__(self, node: SimNode, index: int, device: TapDevice) -> None:
        super().__init__(node, index, f"{node.name}:{device.name}")
        self.device = device
        self.pcap: Callable[[bytes], None] | None = None
        self.pending: list[bytes] = []
        self.written = 0  # offload: writes to the TAP
        self.joined = 0  # offload: of those, large frames made of several segments

    @property
    def connected(self) -> bool:
        return True

    def send(self, frame: bytes) -> bool:
        if self.pcap is not None:
            self.pcap(frame)
        if self.device.offload:
            self.pending.append(frame)
            return True
        return self.device.write(frame)

    def drain(self) -> None:
        frames, self.pending = self.pending, []
        write = self.device.write_with_header
        for data in coalesce(frames):
            write(data)
            self.written += 1
            if data[1]:  # the virtio-net header's gso_type: a large frame (joined, or made so by TCP)
                self.joined += 1


class TapHost(SimNode):
    """A wirelab host on a real Ethernet segment: its one interface is a TAP device.

    ``address`` is the host's own (``10.7.0.2/24``), ``gateway`` its default route; ``mac`` defaults
    to a random locally administered address; ``mtu`` is the interface's (and, set by the caller,
    the kernel side's) largest IP packet.
    """

    def __init__(
        self,
        engine: RealTimeEngine,
        device: TapDevice,
        address: IPv4Interface | str,
        *,
        gateway: IPv4Address | str | None = None,
        mac: MacAddress | str | None = None,
        mtu: int = 1500,
        name: str = "wirelab",
        trace: Trace | None = None,
        tcp_config: TcpConfig = REAL_NETWORK_TCP,
    ) -> None:
        trace = trace if trace is not None else Trace(enabled=False)
        counters = Counters()
        stack = IpNode(name, trace=trace, counters=counters, rng=engine.random(f"{name} ip"))
        super().__init__(engine, name, stack, trace, counters)
        self.engine = engine
        self.device = device
        hardware = MacAddress(mac) if mac is not None else random_local_mac()
        interface = stack.add_interface(hardware, address, mtu=mtu, name=device.name)
        if device.offload:
            # The kernel takes TCP/IPv4 packets of up to 64 KB whole (TSO through IFF_VNET_HDR): wirelab's
            # TCP may send several MSS at once, as one frame made once.
            interface.gso_max = MAX_GSO_PACKET
        if gateway is not None:
            stack.set_gateway(gateway)
        self.tcp = TcpEndpoint(stack, config=tcp_config, rng=engine.random(f"{name} tcp"))  # what tcp_of() finds
        self.port = TapPort(self, interface.index, device)
        self.ports.append(self.port)
        self._tap_wakeup: Timer | None = None
        self.observers: list[Callable[[bytes], None]] = []  # shown every frame in, before the stack
        self.frames_in = 0
        engine.add_reader(device.fd, self._readable)

    @property
    def mac(self) -> MacAddress:
        return self.stack.interfaces[0].mac

    def capture(self, path: str) -> Callable[[], None]:
        """Write every frame in and out to a pcap file (wall-clock timestamps); returns the closer."""
        file = open(path, "wb")  # noqa: SIM115 - closed by the returned function
        writer = PcapWriter(file, nanosecond=True)
        engine = self.engine

        def record(frame: bytes) -> None:
            writer.write(engine.epoch + engine.clock(), frame)

        self.port.pcap = record
        self.observers.append(record)

        def close() -> None:
            self.port.pcap = None
            self.observers.remove(record)
            writer.flush()
            file.close()

        return close

    # -- the runtime ------------------------------------------------------------------------------
    # The same contract as SimNode's (frames in with ``now``, the outbox out, a wakeup at the stack's next
    # deadline), written out here rather than inherited: the simulator's hot path is free to shortcut
    # its links (call a Channel directly), and a TAP has none.

    def _readable(self) -> None:
        device = self.device
        stack = self.stack
        index = self.port.index
        engine = self.engine
        observers = self.observers
        for _ in range(READ_BATCH):
            frame = device.read()
            if frame is None:
                return
            self.frames_in += 1
            for observer in observers:
                observer(frame)
            stack.receive(index, frame, engine.now)
            if stack.has_output or stack.timers_changed:
                self.flush()

    def receive(self, port: Port, frame: bytes) -> None:
        self.stack.receive(port.index, frame, self.engine.now)
        self.flush()

    def flush(self) -> None:
        """Write what the stack produced to the TAP and wake the stack at its next deadline."""
        engine = self.engine
        port = self.port
        for index, frame in self.stack.take_outbox():
            if index == LOOPBACK:
                engine.post(engine.now, self._loop_back, frame)
            elif not port.send(frame):
                self.counters["nic.tx.not-sent"] += 1
        if port.pending:
            port.drain()
        stack = self.stack
        if not stack.timers_changed:
            return  # no deadline moved: the pending wakeup (if any) still stands
        stack.timers_changed = False
        when = stack.poll_at()
        wakeup = self._tap_wakeup
        if wakeup is not None and wakeup.pending:
            if when is not None and wakeup.when <= when:
                return  # an earlier wakeup polls a little early and re-arms then
            wakeup.cancel()
        self._tap_wakeup = engine.call_at(max(when, engine.now), self._wake) if when is not None else None

    def _wake(self, _: object) -> None:
        self._tap_wakeup = None
        self.stack.poll(self.engine.now)
        self.flush()

    def _loop_back(self, packet: object) -> None:
        assert isinstance(packet, bytes)
        self.stack.receive(LOOPBACK, packet, self.engine.now)
        self.flush()

    def _send_frame(self, frame: bytes) -> None:
        self.port.send(frame)
        if self.port.pending:
            self.port.drain()

    def probe(self, wait: float, *, probes: int = 2) -> MacAddress | None:
        """RFC 5227 address conflict detection, shortened: ``probes`` ARP probes for our address (sender
        0.0.0.0, so no cache learns from them) spread over ``wait`` seconds; the MAC of whoever answers
        as the owner of the address, or None if no one does. (RFC 5227 waits 1 to 2 s between three
        probes and 2 s after them: a conflict on a LAN is answered in microseconds to milliseconds.)"""
        interface = self.stack.interfaces[0]
        if interface.address is None or probes < 1:
            return None
        mine = interface.address.ip
        owners: list[MacAddress] = []

        def watch(frame: bytes) -> None:
            if frame[12:14] != b"\x08\x06" or len(frame) < 42:
                return
            try:
                arp = ArpPacket.parse(frame[14:])
            except MalformedPacket:
                return
            if arp.sender_ip == mine and arp.sender_mac != interface.mac:
                owners.append(arp.sender_mac)

        request = ArpPacket.probe(interface.mac, mine).emit()
        probe = untagged_frame(BROADCAST.packed, interface.mac_packed, b"\x08\x06", request)
        self.observers.append(watch)
        try:
            gap = round(wait * SECOND / probes)
            for index in range(probes):
                self.engine.call_later(index * gap, self._send_frame, probe)
            self.engine.run_until(lambda: bool(owners), timeout=wait)
        finally:
            self.observers.remove(watch)
        return owners[0] if owners else None

    def close(self) -> None:
        self.engine.remove_reader(self.device.fd)


def random_local_mac() -> MacAddress:
    """A random unicast, locally administered MAC (02:…, as ``ip link add`` makes them)."""
    octets = bytearray(os.urandom(6))
    octets[0] = (octets[0] & 0xFC) | 0x02
    return MacAddress(bytes(octets))


class LiveOutput(list[OutputLine]):
    """The scheduler's output list, printing each line of a process as it is completed."""

    def __init__(self, stdout: IO[str], stderr: IO[str]) -> None:
        super().__init__()
        self._streams = {"stdout": stdout, "stderr": stderr}

    def append(self, line: OutputLine) -> None:
        super().append(line)
        stream = self._streams.get(line.stream, self._streams["stdout"])
        stream.write(line.text + "\n")
        stream.flush()


def real_time_scheduler(engine: RealTimeEngine, *, live: bool = True) -> Scheduler:
    """The engine's process scheduler: processes read the real time (``time.time()`` is the wall clock);
    with ``live``, every line they print goes to this program's stdout or stderr at once."""
    scheduler = Scheduler(engine, epoch=engine.epoch)
    if live:
        scheduler.output = LiveOutput(sys.stdout, sys.stderr)
    engine.scheduler = scheduler  # type: ignore[attr-defined]  # what scheduler_of(engine) finds
    return scheduler


def stop_on_signals(engine: RealTimeEngine, on_usr1: Callable[[], None] | None = None) -> Callable[[], None]:
    """SIGINT and SIGTERM ask the engine to stop (gracefully); SIGUSR1 runs ``on_usr1`` in the loop.
    Returns the function that restores the previous handlers."""
    previous: dict[int, object] = {}

    def handler(_signum: int, _frame: FrameType | None) -> None:
        engine.request_stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handler)
    if on_usr1 is not None:
        report = on_usr1
        previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, lambda *_: engine.call_soon_threadsafe(report))

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)  # type: ignore[arg-type]

    return restore
