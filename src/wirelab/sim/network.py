"""Building and running a network, in a few readable lines::

    net = Network(seed=1)
    sw = net.switch("sw1")
    a = net.host("a", "192.168.1.10/24", gateway="192.168.1.1")
    b = net.host("b", "192.168.1.11/24", gateway="192.168.1.1")
    net.link(a, sw, delay="10us", bandwidth="1Gbit")
    net.link(b, sw)
    ping = net.ping(a, "192.168.1.11", count=3)
    net.run(until="5s")
    print(ping.report())

Every component gets its own counters and random stream (named after it), and shares the
network's trace. MAC addresses are deterministic: ``02:00:00:00:00:01`` for the first interface
created, and so on (locally administered, bit 0x02).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from ipaddress import IPv4Address, IPv4Interface
from typing import TYPE_CHECKING, Any

from wirelab.apps.ping import Ping
from wirelab.apps.traceroute import Traceroute
from wirelab.sim.capture import Capture
from wirelab.sim.engine import RunResult, Simulator
from wirelab.sim.link import ChannelConfig, Link, Port
from wirelab.sim.node import SimNode
from wirelab.sim.switch import DEFAULT_AGING_TIME, DEFAULT_TABLE_SIZE, Switch
from wirelab.sim.units import parse_probability, parse_rate, parse_size, parse_time
from wirelab.sockets.host import host_of
from wirelab.sockets.names import ResolvConf
from wirelab.stack.node import IpNode
from wirelab.trace import Counters, Trace
from wirelab.wire.mac import MacAddress

if TYPE_CHECKING:
    from wirelab.apps.dns_server import DnsService

Device = SimNode | Switch


class TopologyError(ValueError):
    """A network that cannot be built as described; the message names the node, link or field."""


class Network:
    def __init__(self, seed: int = 0, *, trace: bool = True, trace_capacity: int | None = 1_000_000) -> None:
        self.sim = Simulator(seed)
        self.trace = Trace(enabled=trace, capacity=trace_capacity)
        self.nodes: dict[str, Device] = {}
        self.links: list[Link] = []
        self.counters: dict[str, Counters] = {}
        self.captures: list[Capture] = []
        self.dns_services: dict[str, DnsService] = {}
        self._next_mac = 1
        self._corrupted: dict[bytes, None] = {}  # shared by all links: a frame is corrupted at most once

    # -- building ---------------------------------------------------------------------------------
    def _new_name(self, name: str) -> None:
        if not name or name in self.nodes:
            raise TopologyError(f"node name {name!r} is {'empty' if not name else 'already used'}")

    def _allocate_mac(self) -> MacAddress:
        mac = MacAddress(0x02_00_00_00_00_00 | self._next_mac)
        self._next_mac += 1
        return mac

    def switch(
        self,
        name: str,
        ports: int = 48,
        *,
        aging_time: str | int = DEFAULT_AGING_TIME,
        table_size: int = DEFAULT_TABLE_SIZE,
    ) -> Switch:
        self._new_name(name)
        counters = self.counters.setdefault(name, Counters())
        switch = Switch(
            self.sim,
            name,
            ports,
            self.trace,
            counters,
            aging_time=parse_time(aging_time, f"switch {name}: aging_time")
            if isinstance(aging_time, str)
            else aging_time,
            table_size=table_size,
        )
        self.nodes[name] = switch
        return switch

    def host(
        self,
        name: str,
        address: str | None = None,
        *,
        gateway: str | None = None,
        mac: str | MacAddress | None = None,
        mtu: int = 1500,
    ) -> SimNode:
        """A host with one interface (addressed now, cabled by :meth:`link`)."""
        node = self._ip_node(name, forwarding=False)
        if address is not None or mac is not None:
            self._add_interface(node, address, mac, mtu)
        if gateway is not None:
            self._set_gateway(node, gateway)
        return node

    def router(self, name: str) -> SimNode:
        """A router: interfaces are added as it is linked (``net.link(r, sw, address=...)``)."""
        return self._ip_node(name, forwarding=True)

    def _ip_node(self, name: str, *, forwarding: bool) -> SimNode:
        self._new_name(name)
        counters = self.counters.setdefault(name, Counters())
        stack = IpNode(name, forwarding=forwarding, trace=self.trace, counters=counters, rng=self.sim.random(name))
        node = SimNode(self.sim, name, stack, self.trace, counters)
        self.nodes[name] = node
        return node

    def _add_interface(self, node: SimNode, address: str | None, mac: str | MacAddress | None, mtu: int) -> Port:
        try:
            interface = IPv4Interface(address) if address is not None else None
            if interface is not None and "/" not in str(address):
                raise TopologyError(f"{node.name}: address {address!r} needs a prefix length, e.g. {address}/24")
            chosen = MacAddress(mac) if mac is not None else self._allocate_mac()
            return node.add_interface(chosen, interface, mtu)
        except TopologyError:
            raise
        except ValueError as error:
            raise TopologyError(f"{node.name}: {error}") from None

    def _set_gateway(self, node: SimNode, gateway: str) -> None:
        try:
            node.stack.set_gateway(IPv4Address(gateway))
        except FileExistsError:
            # As ``ip route add default via ...`` on Linux: RTNETLINK answers: File exists.
            raise TopologyError(f"{node.name}: gateway {gateway!r}: {node.name} has a default route already") from None
        except ValueError as error:
            raise TopologyError(f"{node.name}: gateway {gateway!r}: {error}") from None

    def route(self, node: SimNode, network: str, gateway: str) -> None:
        try:
            node.stack.add_route(network, gateway)
        except FileExistsError:
            # As ``ip route add`` on Linux: a prefix holds one route per metric (RTNETLINK answers: File exists).
            raise TopologyError(
                f"{node.name}: route {network} via {gateway}: {node.name} has a route to {network} already"
            ) from None
        except ValueError as error:
            raise TopologyError(f"{node.name}: route {network} via {gateway}: {error}") from None

    def _port_of(self, device: Device, address: str | None, mtu: int) -> Port:
        if isinstance(device, Switch):
            try:
                return device.free_port()
            except ValueError as error:
                raise TopologyError(str(error)) from None
        port = device.free_port() if address is None else None
        if port is None:
            if address is None and not device.is_router and device.ports:
                raise TopologyError(f"{device.name}: every interface is already linked; give an address for a new one")
            port = self._add_interface(device, address, None, mtu)
        return port

    def link(
        self,
        a: Device | str,
        b: Device | str,
        *,
        address: str | None = None,
        address_b: str | None = None,
        delay: str | int = 0,
        bandwidth: str | int = "1Gbit",
        mtu: int | str = 1500,
        queue: int = 1000,
        loss: str | float = 0.0,
        duplicate: str | float = 0.0,
        reorder: str | float = 0.0,
        reorder_delay: str | int = "1ms",
        corrupt: str | float = 0.0,
        corrupt_past_fcs: bool = False,
        reverse: dict[str, Any] | None = None,
    ) -> Link:
        """Cable ``a`` to ``b``. ``address`` addresses a new interface on ``a`` (or on whichever end is
        a router or host when the other is a switch); ``address_b`` one on ``b``. Impairments apply to
        both directions unless ``reverse`` overrides some for b → a."""
        a_node = self._lookup(a)
        b_node = self._lookup(b)
        if a_node is b_node:
            raise TopologyError(f"link from {a_node.name} to itself")
        if isinstance(a_node, Switch) and not isinstance(b_node, Switch) and address is not None and address_b is None:
            address, address_b = None, address
        mtu_value = parse_size(mtu, f"link {a_node.name}-{b_node.name}: mtu")
        config = self._channel_config(
            f"link {a_node.name}-{b_node.name}",
            delay=delay,
            bandwidth=bandwidth,
            mtu=mtu_value,
            queue=queue,
            loss=loss,
            duplicate=duplicate,
            reorder=reorder,
            reorder_delay=reorder_delay,
            corrupt=corrupt,
            corrupt_past_fcs=corrupt_past_fcs,
        )
        config_back = config
        if reverse:
            merged: dict[str, Any] = {
                "delay": delay, "bandwidth": bandwidth, "mtu": mtu_value, "queue": queue, "loss": loss,
                "duplicate": duplicate, "reorder": reorder, "reorder_delay": reorder_delay, "corrupt": corrupt,
                "corrupt_past_fcs": corrupt_past_fcs,
            }  # fmt: skip
            unknown = set(reverse) - set(merged)
            if unknown:
                raise TopologyError(f"link {a_node.name}-{b_node.name}: unknown reverse setting(s) {sorted(unknown)}")
            merged.update(reverse)
            config_back = self._channel_config(f"link {b_node.name}-{a_node.name}", **merged)
        port_a = self._port_of(a_node, address, mtu_value)
        port_b = self._port_of(b_node, address_b, mtu_value)
        name = f"{port_a.name}<->{port_b.name}"
        counters = self.counters.setdefault(name, Counters())
        try:
            link = Link(self.sim, port_a, port_b, self.trace, counters, config, config_back, self._corrupted)
        except ValueError as error:
            raise TopologyError(str(error)) from None
        self.links.append(link)
        return link

    def _channel_config(
        self,
        where: str,
        *,
        delay: str | int,
        bandwidth: str | int,
        mtu: int,
        queue: int,
        loss: str | float,
        duplicate: str | float,
        reorder: str | float,
        reorder_delay: str | int,
        corrupt: str | float,
        corrupt_past_fcs: bool,
    ) -> ChannelConfig:
        try:
            config = ChannelConfig(
                rate=parse_rate(bandwidth, f"{where}: bandwidth"),
                delay=parse_time(delay, f"{where}: delay") if isinstance(delay, str) else int(delay),
                mtu=mtu,
                queue_frames=int(queue),
                loss=parse_probability(loss, f"{where}: loss"),
                duplicate=parse_probability(duplicate, f"{where}: duplicate"),
                reorder=parse_probability(reorder, f"{where}: reorder"),
                reorder_delay=parse_time(reorder_delay, f"{where}: reorder_delay")
                if isinstance(reorder_delay, str)
                else int(reorder_delay),
                corrupt=parse_probability(corrupt, f"{where}: corrupt"),
                corrupt_past_fcs=bool(corrupt_past_fcs),
            )
        except ValueError as error:
            raise TopologyError(str(error)) from None
        if config.mtu < 68 or config.queue_frames < 1:
            raise TopologyError(f"{where}: mtu must be >= 68 and queue >= 1 (got {config.mtu}, {config.queue_frames})")
        return config

    def _lookup(self, device: Device | str) -> Device:
        if isinstance(device, str):
            found = self.nodes.get(device)
            if found is None:
                raise TopologyError(f"unknown node {device!r}")
            return found
        return device

    def __getitem__(self, name: str) -> Device:
        return self._lookup(name)

    # -- seeing -----------------------------------------------------------------------------------
    def capture(self, target: Port | Link | str, *, limit: int = 1_000_000) -> Capture:
        """Start a capture on a port or a link (by object, or ``"node:ethN"`` / ``"sw1:3"``)."""
        if isinstance(target, str):
            target = self._find_port(target)
        capture = Capture(target.name, limit)
        # On a link, one end's taps see both directions: its sends, and the other end's on arrival.
        (target.a if isinstance(target, Link) else target).taps.append(capture)
        self.captures.append(capture)
        return capture

    def _find_port(self, name: str) -> Port:
        for device in self.nodes.values():
            for port in device.ports:
                if port.name == name:
                    return port
        raise TopologyError(f"unknown port {name!r}")

    def run(self, until: str | int | None = None, *, max_events: int | None = None) -> RunResult:
        """Run until virtual time ``until`` (``"5s"`` or ns), or until nothing is left to do."""
        limit = parse_time(until, "until") if isinstance(until, str) else until
        return self.sim.run(limit, max_events=max_events)

    def run_for(self, duration: str | int, *, max_events: int | None = None) -> RunResult:
        length = parse_time(duration, "duration") if isinstance(duration, str) else duration
        return self.sim.run(self.sim.now + length, max_events=max_events)

    # -- names (DNS) ------------------------------------------------------------------------------
    def dns_server(
        self,
        node: SimNode | str,
        zone: str = "lab",
        *,
        records: Mapping[str, str | Sequence[str]] | None = None,
        every_node: bool = True,
        ttl: int = 300,
    ) -> DnsService:
        """``node`` runs a DNS server (UDP 53) authoritative for ``zone``: with ``every_node``, an A
        record ``name.zone`` for each address of every host and router built so far (so call it once
        the network is linked), plus ``records`` (``{"www": "10.0.0.20"}``: names relative to the zone,
        or absolute inside it; a list for several addresses)."""
        # dnspython (and the email package it brings) only for labs that use DNS: see sockets.resolver.
        from wirelab.apps.dns_server import DnsService, Zone, host_records  # noqa: PLC0415

        server = self._ip_device(node, "run a DNS server")
        if server.name in self.dns_services:
            raise TopologyError(f"{server.name} already runs a DNS server")
        try:
            authority = Zone(zone, ttl=ttl)
            if every_node:
                nodes = {name: device for name, device in self.nodes.items() if isinstance(device, SimNode)}
                for name, addresses in host_records(nodes).items():
                    for address in addresses:
                        authority.add(name, address)
            for name, given in (records or {}).items():
                for text in [given] if isinstance(given, str) else given:
                    authority.add(name, text)
        except ValueError as error:
            raise TopologyError(f"{server.name}: DNS zone {zone}: {error}") from None
        service = DnsService(server, [authority])
        self.dns_services[server.name] = service
        return service

    def nameserver(
        self,
        server: SimNode | str,
        *,
        hosts: Iterable[SimNode | str] | None = None,
        search: Sequence[str] = (),
        timeout: int = 5,
        attempts: int = 2,
    ) -> None:
        """Every host built so far (routers aside), or just ``hosts``, uses ``server`` as its nameserver:
        its /etc/resolv.conf (:attr:`HostSockets.resolv_conf`) says so. ``server`` is a node — its
        address on the host's own LAN if it has one there, else its first — or an address. ``search``:
        the domains a short name is tried in (``["lab"]``); ``timeout`` (seconds) and ``attempts`` as
        resolv.conf(5)'s options."""
        if isinstance(server, str) and server not in self.nodes:
            try:
                fixed: IPv4Address | None = IPv4Address(server)
            except ValueError:
                raise TopologyError(f"nameserver {server!r}: neither a node nor an IPv4 address") from None
            addresses: list[IPv4Address] = []
        else:
            fixed = None
            device = self._ip_device(server, "be a nameserver")
            addresses = [interface.ip for interface in device.interfaces if interface.ip is not None]
            if not addresses:
                raise TopologyError(f"{device.name} has no IP address: it cannot be a nameserver")
        if hosts is None:
            clients = [device for device in self.nodes.values() if isinstance(device, SimNode) and not device.is_router]
        else:
            clients = [self._ip_device(host, "use a nameserver") for host in hosts]
        for client in clients:
            address = fixed or _nearest(client, addresses)
            try:
                conf = ResolvConf((address,), tuple(search), timeout, attempts)
            except ValueError as error:
                raise TopologyError(f"{client.name}: {error}") from None
            host_of(client).resolv_conf = conf

    def _ip_device(self, node: SimNode | str, what: str) -> SimNode:
        device = self._lookup(node)
        if not isinstance(device, SimNode):
            raise TopologyError(f"{device.name} is a switch: it cannot {what}")
        return device

    # -- apps -------------------------------------------------------------------------------------
    def ping(self, host: SimNode | str, target: str, **options: Any) -> Ping:
        node = self._lookup(host)
        if not isinstance(node, SimNode):
            raise TopologyError(f"{node.name} is a switch: it cannot ping")
        return Ping(node, IPv4Address(target), **options)

    def traceroute(self, host: SimNode | str, target: str, **options: Any) -> Traceroute:
        node = self._lookup(host)
        if not isinstance(node, SimNode):
            raise TopologyError(f"{node.name} is a switch: it cannot run traceroute")
        return Traceroute(node, IPv4Address(target), **options)


def _nearest(client: SimNode, addresses: list[IPv4Address]) -> IPv4Address:
    """The first of ``addresses`` on one of ``client``'s LANs, else the first (reached via the gateway)."""
    for address in addresses:
        if any(
            interface.address is not None and address in interface.address.network for interface in client.interfaces
        ):
            return address
    return addresses[0]
