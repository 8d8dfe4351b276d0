"""Captures: Wireshark on a port or a link, written as pcap with the codecs' writer.

A capture on a *port* sees what that port sends (stamped when it starts on the wire) and what it
receives (stamped on arrival), like ``tcpdump -i`` on that interface. A capture on a *link* sees
both directions, as a passive tap on the cable would. Records are kept in memory up to ``limit``
(then counted as missed, never silently) and written with :meth:`Capture.write`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field

from wirelab.wire.pcap import PcapRecord, PcapWriter


@dataclass
class Capture:
    name: str
    limit: int = 1_000_000
    records: list[PcapRecord] = field(default_factory=list)
    missed: int = 0

    def __call__(self, time: int, frame: bytes) -> None:
        if len(self.records) >= self.limit:
            self.missed += 1
            return
        self.records.append(PcapRecord(time, frame, len(frame)))

    def frames(self) -> list[bytes]:
        return [record.frame for record in self.records]

    def write(self, path: str | os.PathLike[str], *, nanosecond: bool = True) -> None:
        """Write a pcap file (nanosecond timestamps by default: virtual time is in ns)."""
        with open(path, "wb") as file:
            file.write(self.to_bytes(nanosecond=nanosecond))

    def to_bytes(self, *, nanosecond: bool = True) -> bytes:
        """The pcap file's bytes, records in time order (a port's sends and receipts interleave)."""
        buffer = io.BytesIO()
        with PcapWriter(buffer, nanosecond=nanosecond) as writer:
            for record in sorted(self.records, key=lambda record: record.timestamp_ns):
                writer.write(record.timestamp_ns, record.frame)
            writer.flush()
            return buffer.getvalue()
