"""The broadcast storm (广播风暴): three switches with one host each, cabled as a tree and as a loop.

One ARP request from h1: the tree floods it once per switch; the loop (no spanning tree) floods every
copy on for ever — until the run's event budget ends it — and the switches' MAC tables flap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from wirelab.sim.network import Network
from wirelab.trace import TraceEvent

STORM_BUDGET: Final = 20_000  # simulator events: enough to watch it grow, and the run still ends


@dataclass(slots=True)
class StormRun:
    tree_floods: int = 0
    floods: int = 0
    moved: int = 0
    requests: int = 0
    dropped: int = 0
    duration: int = 0
    first_events: list[TraceEvent] = field(default_factory=list)
    network: Network | None = None


def storm_network(*, loop: bool, seed: int = 1) -> Network:
    """Switches sw1-sw3 (h1-h3 on them, 10.0.0.1-3/24), cabled in a line or, with ``loop``, a triangle."""
    net = Network(seed=seed, trace_capacity=50_000)
    switches = [net.switch(f"sw{i}", ports=4) for i in (1, 2, 3)]
    pairs = ((0, 1), (1, 2), (2, 0)) if loop else ((0, 1), (1, 2))
    for left, right in pairs:
        net.link(switches[left], switches[right], bandwidth="100Mbit", queue=64)
    for index, switch in enumerate(switches):
        net.link(net.host(f"h{index + 1}", f"10.0.0.{index + 1}/24"), switch, bandwidth="100Mbit", queue=64)
    return net


def run_storm() -> StormRun:
    result = StormRun()
    tree = storm_network(loop=False)
    tree.ping("h1", "10.0.0.2", count=1)
    tree.run(until="1s")
    result.tree_floods = sum(tree.counters[f"sw{i}"]["switch.flooded.broadcast"] for i in (1, 2, 3))
    net = storm_network(loop=True)
    net.capture("h2:eth0", limit=2_000)
    net.ping("h1", "10.0.0.2", count=1)
    net.run(until="1s", max_events=STORM_BUDGET)
    counters = net.counters
    result.floods = sum(counters[f"sw{i}"]["switch.flooded.broadcast"] for i in (1, 2, 3))
    result.moved = sum(counters[f"sw{i}"]["switch.mac.moved"] for i in (1, 2, 3))
    result.requests = counters["h2"]["arp.rx.request"]
    result.dropped = sum(c["link.drop.queue-full"] for c in counters.values())
    result.duration = net.sim.now
    wanted = [event for event in net.trace if event.kind == "switch.flooded" or event.kind.startswith("switch.mac.")]
    result.first_events = wanted[:10]
    result.network = net
    return result
