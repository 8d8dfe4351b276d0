"""The wire layer: byte-exact codecs, with no state and no I/O.

Each protocol module has, as smoltcp does, a *view* over raw bytes with named field offsets under the
RFC's header diagram, and a validated immutable *value* with ``parse`` and ``emit``:

    ethernet  EthernetHeader, EthernetFrame (view), EtherType, VlanTag
    arp       ArpPacket, ArpOperation
    ipv4      Ipv4Header, Ipv4Packet (view), IpProtocol, fragment()
    icmpv4    IcmpMessage, IcmpType, UnreachableCode, TimeExceededCode
    udp       UdpHeader
    tcp       TcpHeader, TcpFlags, the option types
    pcap      PcapWriter, PcapReader
    checksum  RFC 1071 / RFC 1624
    seqnum    SeqNum: sequence numbers modulo 2**32

Values are ``typing.NamedTuple`` classes rather than frozen dataclasses: equally immutable and typed,
but about ten times cheaper to build (a parser builds three per frame, and the budget is ~3 µs).
Every ``parse`` raises only :class:`MalformedPacket`.
"""

from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.mac import BROADCAST, MacAddress

__all__ = ["BROADCAST", "MacAddress", "Malformation", "MalformedPacket"]
