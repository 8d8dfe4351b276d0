"""The one-step TCP paths decide nothing: every frame gets what the layered path gives it.

IpNode hands a frame of a synchronized connection straight to its TCP endpoint, and TcpOutput packs
segments into frames in one step; anything unusual must fall through to the layered code, untouched.
Here a host with an established connection takes, one by one, frames of every unusual kind — and the
same frames again with the one-step paths switched off — and must answer with the same frames and
end with the same counters, connection state and data.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address
from typing import Any

import pytest

from wirelab.stack.node import IpNode
from wirelab.stack.tcp.endpoint import TcpEndpoint
from wirelab.stack.tcp.output import TcpOutput, cut_at_mss
from wirelab.wire.ethernet import EthernetHeader, EtherType
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.mac import BROADCAST, MacAddress
from wirelab.wire.tcp import TcpFlags, TcpHeader
from wirelab.wire.tcp_frame import GsoFrame

MY_MAC = MacAddress("02:00:00:00:00:0a")
MY_IP = IPv4Address("192.168.1.10")
PEER_MAC = MacAddress("02:00:00:00:00:0b")
PEER_IP = IPv4Address("192.168.1.11")
PEER_PORT = 40000
PORT = 80
ACK = int(TcpFlags.ACK)
PSH_ACK = int(TcpFlags.PSH | TcpFlags.ACK)


def frame(
    tcp: TcpHeader,
    payload: bytes = b"",
    *,
    src: IPv4Address = PEER_IP,
    dst: IPv4Address = MY_IP,
    mac: MacAddress = MY_MAC,
    **ip: Any,
) -> bytes:
    packet = Ipv4Header(src, dst, IpProtocol.TCP, **ip).emit(tcp.emit(payload, src, dst))
    return EthernetHeader(mac, PEER_MAC, EtherType.IPV4).emit(packet)


def established(one_step: bool) -> tuple[IpNode, TcpEndpoint, Any]:
    """A host with a static ARP entry for the peer and an accepted connection from it (no options)."""
    node = IpNode("h1")
    node.add_interface(MY_MAC, "192.168.1.10/24")
    node.add_static_arp(PEER_IP, PEER_MAC)
    endpoint = TcpEndpoint(node)
    if not one_step:
        node.handlers.tcp_flow = None
    endpoint.listen(IPv4Address("0.0.0.0"), PORT, 4)
    node.receive(0, frame(TcpHeader(PEER_PORT, PORT, 1000, 0, TcpFlags.SYN, 65535)), 0)
    ip, segment = Ipv4Header.parse(node.take_outbox()[0][1][14:])  # (the frame is padded to 60 octets)
    syn_ack, _ = TcpHeader.parse(segment, ip.src, ip.dst)
    node.receive(0, frame(TcpHeader(PEER_PORT, PORT, 1001, syn_ack.seq + 1, ACK, 65535)), 1_000)
    node.take_outbox()
    return node, endpoint, syn_ack.seq + 1


def checksum_broken(data: bytes, at: int) -> bytes:
    mutable = bytearray(data)
    mutable[at] ^= 0x01
    return bytes(mutable)


# Frames after the handshake, each a case the one-step receive path must leave to the layered one
# (or take with the same outcome): (name, builder of the frame from our ISS + 1).
CASES: list[tuple[str, Callable[[int], bytes]]] = [
    ("in-order data", lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1001, ack, PSH_ACK, 65535), b"hello")),
    ("data beyond a hole", lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1101, ack, ACK, 65535), b"later")),
    (
        "bad TCP checksum",
        lambda ack: checksum_broken(frame(TcpHeader(PEER_PORT, PORT, 1001, ack, ACK, 65535), b"x"), 50),
    ),
    ("bad IP checksum", lambda ack: checksum_broken(frame(TcpHeader(PEER_PORT, PORT, 1001, ack, ACK, 65535)), 24)),
    (
        "IP options",
        lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1001, ack, ACK, 65535), b"o", options=b"\x01\x01\x01\x00"),
    ),
    ("a fragment", lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1001, ack, ACK, 65535), b"f", more_fragments=True)),
    ("to a closed port", lambda ack: frame(TcpHeader(PEER_PORT, 81, 1, 0, TcpFlags.SYN, 65535))),
    ("another peer's ACK", lambda ack: frame(TcpHeader(40001, PORT, 5, 9, ACK, 65535))),
    (
        "from a broadcast source",
        lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1001, ack, ACK, 65535), src=IPv4Address("192.168.1.255")),
    ),
    (
        "not my address",
        lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1001, ack, ACK, 65535), dst=IPv4Address("192.168.1.99")),
    ),
    ("a link broadcast", lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1001, ack, ACK, 65535), mac=BROADCAST)),
    ("truncated", lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1001, ack, ACK, 65535), b"t")[:50]),
    ("a SYN in the connection", lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1001, 0, TcpFlags.SYN, 65535))),
    ("RST", lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1001, 0, TcpFlags.RST, 0))),
    ("FIN", lambda ack: frame(TcpHeader(PEER_PORT, PORT, 1001, ack, int(TcpFlags.FIN | TcpFlags.ACK), 65535))),
]


@pytest.mark.parametrize(("name", "build"), CASES, ids=[name for name, _ in CASES])
def test_each_frame_gets_the_layered_paths_answer(name: str, build: Callable[[int], bytes]) -> None:
    outcomes = []
    for one_step in (True, False):
        node, endpoint, ack = established(one_step)
        connection = next(iter(endpoint.connections.values()))
        node.receive(0, build(ack), 2_000)
        outcomes.append(
            (node.take_outbox(), dict(node.counters), str(connection.state), connection.readable, connection.counters)
        )
    assert outcomes[0] == outcomes[1]


def test_data_sent_on_an_established_connection_leaves_as_the_layered_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    outboxes = []
    for one_step in (True, False):
        if not one_step:
            monkeypatch.setattr(TcpOutput, "_ready", lambda self: None)
        node, endpoint, _ack = established(one_step)
        connection = next(iter(endpoint.connections.values()))
        node.now = 3_000
        endpoint.call(connection, "send", bytes(range(256)) * 20)  # several segments, the last short
        endpoint.call(connection, "close")
        outboxes.append((node.take_outbox(), dict(node.counters)))
    assert outboxes[0] == outboxes[1]
    assert len(outboxes[0][0]) >= 3


def _segments_of(outbox: list[tuple[int, bytes]]) -> list[tuple[TcpHeader, bytes]]:
    """The TCP segments of the frames in ``outbox`` (both checksums verified)."""
    segments = []
    for _index, data in outbox:
        ip, segment = Ipv4Header.parse(data[14:])
        segments.append(TcpHeader.parse(segment, ip.src, ip.dst))
    return segments


def test_with_segmentation_offload_data_leaves_as_large_frames_whose_cuts_are_the_segments() -> None:
    """An interface with ``gso_max`` (a TAP with virtio-net headers): the initial window leaves as one
    GsoFrame, a valid IPv4 packet larger than the MTU whose TCP segment, cut at the MSS, is the segments
    sent without offload; ``tcp.tx`` counts those segments, ``ip.tx`` the one packet."""
    runs = []
    for offload in (False, True):
        node, endpoint, _ack = established(True)
        if offload:
            node.interfaces[0].gso_max = 65535
        connection = next(iter(endpoint.connections.values()))
        output = endpoint._outputs[id(connection)]
        output._prepare(output._route)  # what a route made with the capability does
        node.now = 3_000
        endpoint.call(connection, "send", bytes(range(256)) * 100)  # more than the initial window
        outbox = node.take_outbox()
        runs.append((outbox, dict(node.counters), connection.send_mss))
    (plain, plain_counters, mss), (large, large_counters, _) = runs
    assert len(plain) == 10 and len(large) == 1  # the initial window: ten segments, one frame
    (frame_,) = (data for _index, data in large)
    assert type(frame_) is GsoFrame and frame_.segment_size == mss and len(frame_) == 14 + 40 + 10 * mss
    ((header, payload),) = _segments_of(large)  # both checksums are right for the large packet
    assert cut_at_mss(header, payload, mss) == _segments_of(plain)
    assert large_counters["tcp.tx"] == plain_counters["tcp.tx"]
    assert large_counters["ip.tx"] == plain_counters["ip.tx"] - 9


def test_a_large_segment_that_cannot_take_the_one_step_path_is_cut_never_fragmented(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With offload on, a large segment meeting a reason for the layered path (tracing, an ARP entry to
    refresh) is cut at the MSS first: the frames are those sent without offload, no IPv4 fragment."""
    outboxes = []
    for offload in (False, True):
        node, endpoint, _ack = established(True)
        connection = next(iter(endpoint.connections.values()))
        if offload:
            connection.gso_max_size = 65535  # the route's device had it when the connection started
        monkeypatch.setattr(TcpOutput, "_ready", lambda self: None)
        node.now = 3_000
        endpoint.call(connection, "send", bytes(range(256)) * 100)
        outboxes.append((node.take_outbox(), dict(node.counters)))
        monkeypatch.undo()
    assert outboxes[0] == outboxes[1]
    assert len(outboxes[0][0]) == 10
