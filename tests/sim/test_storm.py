"""A loop of switches without spanning tree: one broadcast becomes a storm (广播风暴).

The simulator must survive it — bounded by the links' queues and rates and by the run's event
budget — and show it in the counters and the trace.
"""

from __future__ import annotations

from wirelab.demo.storm import storm_network
from wirelab.sim.network import Network


def storm_lab(seed: int = 1) -> Network:
    return storm_network(loop=True, seed=seed)  # the course's storm: three switches in a triangle


def test_one_arp_broadcast_in_a_loop_storms_and_the_run_still_ends() -> None:
    net = storm_lab()
    net.ping("h1", "10.0.0.2", count=1)
    result = net.run(until="2s", max_events=60_000)

    assert result.reason == "budget"
    floods = sum(net.counters[f"sw{i}"]["switch.flooded.broadcast"] for i in (1, 2, 3))
    assert floods > 5_000  # one request, flooded for ever around the loop
    # Copies keep arriving back at the sender's switch on other ports: the MAC "moves" (table flapping).
    assert sum(net.counters[f"sw{i}"]["switch.mac.moved"] for i in (1, 2, 3)) > 100
    # The target keeps receiving the same request, and answers every copy.
    assert net.counters["h2"]["arp.rx.request"] > 1_000
    assert net.counters["h2"]["arp.tx.reply"] == net.counters["h2"]["arp.rx.request"]
    assert len(net.trace.select(kind="switch.flooded")) > 5_000


def test_a_storm_that_multiplies_is_bounded_by_queues() -> None:
    # Four switches in a full mesh: each flood sends two copies on into the loop, so the storm grows
    # until the transmit queues overflow.
    net = Network(seed=3, trace=False)
    switches = [net.switch(f"sw{i}", ports=5) for i in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            net.link(switches[i], switches[j], bandwidth="10Mbit", queue=16)
    net.link(net.host("h", "10.0.0.1/24"), switches[0])
    net.ping("h", "10.0.0.9", count=1)
    result = net.run(until="1s", max_events=100_000)
    assert result.reason == "budget"
    drops = sum(counters["link.drop.queue-full"] for counters in net.counters.values())
    assert drops > 1_000
