"""The learning switch (交换机): learn, forward, flood, age.

For every frame that comes in on a port, a transparent bridge (IEEE 802.1D §7/§8):

1. **learns** "the source MAC lives behind this port" (a multicast source is invalid and not learned);
2. **forwards** a known unicast destination out of its one port — or filters it if that port is the
   one it came in on;
3. **floods** broadcast (``ff:ff:ff:ff:ff:ff``), multicast and unknown unicast out of every port but
   the one it came in on;
4. **ages** entries not refreshed for ``aging_time`` (default 300 s, 802.1D's default).

A frame shorter than Ethernet's minimum (60 octets before the FCS; hosts pad to it) is a runt:
counted (``switch.drop.runt``) and dropped, neither learned from nor forwarded.

The table is bounded: when it is full, new sources are not learned and frames to them are flooded —
what a real switch does under a MAC-flooding attack. There is no spanning tree: wire switches in a
loop and a broadcast circulates for ever, multiplying at every flood (a broadcast storm, 广播风暴),
bounded only by the links' queues and rates and by the run's event budget.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from wirelab.sim.link import Port
from wirelab.trace import Counters, Layer, Phrase, Trace
from wirelab.wire.mac import MacAddress, mac_from_packed

if TYPE_CHECKING:
    from wirelab.sim.engine import Simulator

DEFAULT_AGING_TIME: Final = 300_000_000_000  # 300 s
DEFAULT_TABLE_SIZE: Final = 8192
# A MAC table entry is one int: (last seen, in ns) << PORT_BITS | port. An object per entry cost ~80
# octets more, and in a 5,000-host tree of 111 switches every switch learns every MAC.
PORT_BITS: Final = 16
PORT_MASK: Final = (1 << PORT_BITS) - 1


@dataclass(frozen=True, slots=True)
class MacTableChange:
    time: int
    change: str  # "learned", "moved", "aged", "refused-full"
    mac: MacAddress
    port: int


class Switch:
    """An N-port learning switch."""

    def __init__(
        self,
        sim: Simulator,
        name: str,
        ports: int,
        trace: Trace,
        counters: Counters,
        *,
        aging_time: int = DEFAULT_AGING_TIME,
        table_size: int = DEFAULT_TABLE_SIZE,
        history: int = 1_000,  # the latest changes kept (counters keep the totals)
    ) -> None:
        if not 2 <= ports <= PORT_MASK:
            raise ValueError(f"switch {name}: needs at least 2 ports and at most {PORT_MASK}, not {ports}")
        self.sim = sim
        self.name = name
        self.trace = trace
        self.counters = counters
        self.aging_time = aging_time
        self.table_size = table_size
        self.ports = [Port(self, index) for index in range(ports)]
        self.table: dict[bytes, int] = {}  # MAC -> last_seen << PORT_BITS | port
        self.history: deque[MacTableChange] = deque(maxlen=history)

    def free_port(self) -> Port:
        for port in self.ports:
            if not port.connected:
                return port
        raise ValueError(f"switch {self.name}: all {len(self.ports)} ports are in use")

    def receive(self, port: Port, frame: bytes) -> None:
        counters = self.counters
        now = self.sim.now
        if len(frame) < 60:  # MIN_FRAME_LEN, as a literal: this is the hot path
            # A runt (IEEE 802.3 §4.2.4.2.2: shorter than 64 octets with its FCS, 60 without): a collision
            # fragment or a broken sender, never a frame. Every sender pads to 60 (as a NIC does), so
            # nothing shorter is forwarded; real switches count and drop these too.
            counters["switch.drop.runt"] += 1
            if self.trace.enabled:
                self.trace.emit(now, self.name, Layer.LINK, "switch.drop.runt", port=port.index, size=len(frame))
            return
        counters["switch.rx"] += 1
        ingress = port.index
        source = frame[6:12]
        destination = frame[0:6]
        table = self.table

        # 1. learn (IEEE 802.1D §8.7): the source lives behind the ingress port.
        entry = table.get(source)
        if source[0] & 1:
            counters["switch.drop.multicast-source"] += 1
            return  # a multicast source address is invalid in any frame
        if entry is None:
            self._learn(source, ingress, now)
        else:
            if entry & PORT_MASK != ingress:
                self._record("moved", source, ingress, now, old_port=entry & PORT_MASK)
            table[source] = now << PORT_BITS | ingress

        # 2. forward a known unicast destination; 3. flood everything else.
        if not destination[0] & 1:
            known = table.get(destination)
            if known is not None and now - (known >> PORT_BITS) > self.aging_time:
                del table[destination]
                self._record("aged", destination, known & PORT_MASK, now)
                known = None
            if known is not None:
                out_port = known & PORT_MASK
                if out_port == ingress:
                    counters["switch.filtered"] += 1
                    if self.trace.enabled:
                        self.trace.emit(
                            now, self.name, Layer.LINK, "switch.filtered", mac=MacAddress(destination), port=ingress
                        )
                    return
                counters["switch.forwarded"] += 1
                if self.trace.enabled:
                    self.trace.emit(
                        now,
                        self.name,
                        Layer.LINK,
                        "switch.forwarded",
                        mac=MacAddress(destination),
                        in_port=ingress,
                        out_port=out_port,
                    )
                channel = self.ports[out_port].channel
                if channel is not None:  # Port.send, without its call
                    channel.transmit(frame)
                return
            reason = "unknown-unicast"
        else:
            reason = "broadcast" if destination == b"\xff\xff\xff\xff\xff\xff" else "multicast"
        self._flood(frame, ingress, reason, now)

    def _flood(self, frame: bytes, ingress: int, reason: str, now: int) -> None:
        out = [port for port in self.ports if port.index != ingress and port.channel is not None]
        self.counters[f"switch.flooded.{reason}"] += 1
        self.counters["switch.flooded.copies"] += len(out)
        if self.trace.enabled:
            self.trace.emit(
                now,
                self.name,
                Layer.LINK,
                "switch.flooded",
                reason=Phrase(f"flood-reason.{reason}"),  # rendered in the event's language
                mac=MacAddress(frame[0:6]),
                in_port=ingress,
                out_ports=[port.index for port in out],
                count=len(out),
            )
        for port in out:
            port.channel.transmit(frame)  # type: ignore[union-attr]  # connected: Port.send without its check

    def _learn(self, mac: bytes, port: int, now: int) -> None:
        table = self.table
        if len(table) >= self.table_size:
            self._expire(now)
            if len(table) >= self.table_size:
                self.counters["switch.table-full"] += 1
                self._record("refused-full", mac, port, now)
                return
        # Keyed by the interned address's octets: every switch that learns this MAC shares one key.
        table[mac_from_packed(mac).packed] = now << PORT_BITS | port
        self._record("learned", mac, port, now)

    def _expire(self, now: int) -> None:
        for mac, entry in list(self.table.items()):
            if now - (entry >> PORT_BITS) > self.aging_time:
                del self.table[mac]
                self._record("aged", mac, entry & PORT_MASK, now)

    def _record(self, change: str, mac: bytes, port: int, now: int, **extra: object) -> None:
        self.counters[f"switch.mac.{change}"] += 1
        address = mac_from_packed(mac)  # interned: the history of every switch shares one value per MAC
        self.history.append(MacTableChange(now, change, address, port))
        if self.trace.enabled:
            self.trace.emit(now, self.name, Layer.LINK, f"switch.mac.{change}", mac=address, port=port, **extra)

    def mac_table(self) -> list[tuple[MacAddress, int, int]]:
        """``(mac, port, age in ns)`` for every live entry, like ``show mac address-table``."""
        now = self.sim.now
        self._expire(now)
        return sorted(
            ((MacAddress(mac), entry & PORT_MASK, now - (entry >> PORT_BITS)) for mac, entry in self.table.items()),
            key=lambda row: (row[1], row[0].packed),
        )
