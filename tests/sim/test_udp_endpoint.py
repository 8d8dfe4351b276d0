"""UDP on simulated hosts: ports, demultiplexing, errors to connected senders, broadcast."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from wirelab.sim.network import Network
from wirelab.sim.node import SimNode
from wirelab.stack.node import SendError
from wirelab.stack.ports import EPHEMERAL_HIGH, EPHEMERAL_LOW
from wirelab.stack.udp import UdpEndpoint

ANY = IPv4Address("0.0.0.0")


def lan() -> tuple[Network, dict[str, tuple[SimNode, UdpEndpoint]]]:
    net = Network(seed=5)
    sw = net.switch("sw", ports=4)
    nodes = {}
    for index, name in enumerate("abc"):
        node = net.host(name, f"192.168.1.{10 + index}/24")
        net.link(node, sw)
        nodes[name] = (node, UdpEndpoint(node.stack, rng=net.sim.random(f"{name} udp")))
    return net, nodes


def test_one_owner_per_port_and_address() -> None:
    _net, nodes = lan()
    _node, udp = nodes["a"]
    udp.bind(ANY, 9999)
    with pytest.raises(SendError) as error:
        udp.bind(IPv4Address("192.168.1.10"), 9999)
    assert error.value.errno_name == "EADDRINUSE"
    with pytest.raises(SendError) as error:
        udp.bind(IPv4Address("10.9.9.9"), 1)
    assert error.value.errno_name == "EADDRNOTAVAIL"


def test_ephemeral_ports_come_from_linux_range() -> None:
    _net, nodes = lan()
    _node, udp = nodes["a"]
    ports = {udp.bind(ANY, 0).port for _ in range(50)}
    assert len(ports) == 50 and all(EPHEMERAL_LOW <= port <= EPHEMERAL_HIGH for port in ports)


def test_datagrams_reach_their_port_with_their_source() -> None:
    net, nodes = lan()
    a, udp_a = nodes["a"]
    _b, udp_b = nodes["b"]
    server = udp_b.bind(ANY, 53)
    client = udp_a.bind(ANY, 0)
    a.stack.now = net.sim.now
    udp_a.send(client, b"question", (IPv4Address("192.168.1.11"), 53))
    a.flush()
    net.run(until="1s")
    datagram = server.take()
    assert datagram is not None and datagram.data == b"question"
    assert datagram.source == (IPv4Address("192.168.1.10"), client.port)


def test_port_unreachable_is_reported_to_a_connected_sender() -> None:
    net, nodes = lan()
    a, udp_a = nodes["a"]
    client = udp_a.bind(ANY, 0)
    client.peer = (IPv4Address("192.168.1.11"), 9)
    udp_a.send(client, b"anyone?", client.peer)
    a.flush()
    net.run(until="1s")
    assert client.pending_error == "ECONNREFUSED"
    assert net.counters["b"]["icmp.error.sent.3.3"] == 1


def test_broadcast_needs_permission_and_reaches_everyone() -> None:
    net, nodes = lan()
    a, udp_a = nodes["a"]
    listeners = [nodes[name][1].bind(ANY, 7777) for name in "bc"]
    client = udp_a.bind(ANY, 0)
    with pytest.raises(SendError) as error:
        udp_a.send(client, b"hello all", (IPv4Address("192.168.1.255"), 7777))
    assert error.value.errno_name == "EACCES"
    client.broadcast = True
    udp_a.send(client, b"hello all", (IPv4Address("192.168.1.255"), 7777))
    a.flush()
    net.run(until="1s")
    assert [binding.take().data for binding in listeners] == [b"hello all", b"hello all"]  # type: ignore[union-attr]
    assert net.counters["sw"]["switch.flooded.broadcast"] == 1


def test_a_full_receive_queue_drops_and_counts() -> None:
    net, nodes = lan()
    a, udp_a = nodes["a"]
    _b, udp_b = nodes["b"]
    server = udp_b.bind(ANY, 5000)
    server.limit = 3000
    client = udp_a.bind(ANY, 0)
    for _ in range(5):
        udp_a.send(client, b"x" * 1000, (IPv4Address("192.168.1.11"), 5000))
    a.flush()
    net.run(until="1s")
    assert len(server.queue) == 3 and server.dropped == 2
    assert net.counters["b"]["udp.drop.receive-queue-full"] == 2
