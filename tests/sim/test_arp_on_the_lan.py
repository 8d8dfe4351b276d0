"""ARP as hosts on one LAN live it: static entries, gratuitous ARP, `arp -a`, ageing."""

from __future__ import annotations

from ipaddress import IPv4Address

from wirelab.sim.network import Network
from wirelab.sim.node import SimNode
from wirelab.stack.arp import ArpState
from wirelab.wire.mac import MacAddress


def lan() -> tuple[Network, SimNode, SimNode, SimNode]:
    net = Network(seed=2)
    sw = net.switch("sw", ports=4)
    hosts = [net.host(name, f"192.168.1.{10 + i}/24") for i, name in enumerate("abc")]
    for host in hosts:
        net.link(host, sw)
    return net, hosts[0], hosts[1], hosts[2]


def test_a_static_entry_means_no_arp_request() -> None:
    net, a, b, _c = lan()
    a.stack.add_static_arp("192.168.1.11", b.interfaces[0].mac)
    ping = net.ping(a, "192.168.1.11", count=1)
    net.run(until="5s")
    assert ping.received == 1
    assert net.counters["a"]["arp.tx.request"] == 0
    assert "? (192.168.1.11) at 02:00:00:00:00:02 [ether] permanent on eth0" in a.stack.arp_table()


def test_gratuitous_arp_updates_only_those_who_know_the_sender() -> None:
    net, a, b, c = lan()
    net.ping(a, "192.168.1.11", count=1)  # b learns a (it is the target); c learns nothing
    net.run(until="2s")
    assert b.stack.interfaces[0].arp.lookup(IPv4Address("192.168.1.10")) == a.interfaces[0].mac
    a.stack.announce()
    a.flush()
    net.run(until="3s")
    assert net.counters["a"]["arp.tx.gratuitous"] == 1
    # RFC 826 merge: b already had a, so b refreshed it; c had not, so c did not add it.
    updates = net.trace.select(node="b", kind="arp.cache.updated")
    assert updates and updates[-1].time > 2_000_000_000
    assert c.stack.interfaces[0].arp.entries == {}


def test_entries_go_stale_then_away_and_history_remembers() -> None:
    net, a, _b, _c = lan()
    net.ping(a, "192.168.1.11", count=1)
    net.run(until="1s")
    cache = a.stack.interfaces[0].arp
    assert [entry.state for entry in cache] == [ArpState.REACHABLE]
    net.run(until="40s")  # reachable for 30 s, then stale
    assert [entry.state for entry in cache] == [ArpState.STALE]
    net.run(until="100s")  # stale for 60 s, then gone
    assert list(cache) == []
    states = [change.new for change in cache.history]
    assert states == [ArpState.INCOMPLETE, ArpState.REACHABLE, ArpState.STALE, None]


def test_settable_mac_and_duplicate_address_is_detected() -> None:
    net = Network(seed=4)
    sw = net.switch("sw", ports=3)
    one = net.host("one", "192.168.1.5/24", mac="AA-BB-CC-00-00-01")
    two = net.host("two", "192.168.1.5/24")
    net.link(one, sw)
    net.link(two, sw)
    assert one.interfaces[0].mac == MacAddress("aa:bb:cc:00:00:01")
    two.stack.announce()
    two.flush()
    net.run(until="1s")
    assert net.counters["one"]["arp.conflict"] == 1
