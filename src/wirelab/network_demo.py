"""The course's layer 1-3 story on a simulated network, narrated: what ``wirelab demo`` shows.

Two LANs joined by a router::

    a 192.168.1.10 ─┐                 ┌─ c 10.0.0.20
    b 192.168.1.11 ─┴ sw1 ── r1 ── sw2 ┘
                      .1 (eth0) .1 (eth1)

1. a pings b on its own LAN, from cold caches: the AND arithmetic says "same LAN", a broadcasts one
   ARP request, the switch floods it, b answers, the switch has learned both MACs, the echoes flow.
2. a pings c on the other LAN: the AND says "another network", a ARPs for the gateway — never for c —
   and the router ARPs for c on its other side.
3. traceroute from a to c names the router.
Then the ARP tables, the switches' MAC tables and the router's routing table, and a pcap per LAN.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from wirelab.sim.network import Network
from wirelab.sim.node import SimNode
from wirelab.sim.switch import Switch
from wirelab.sim.units import format_time
from wirelab.trace import TraceEvent

# What a learner needs to see of each step, by event kind (the rest stays in the full trace).
STORY_KINDS = (
    "ip.route.",
    "arp.request.sent",
    "arp.reply.sent",
    "arp.cache.",
    "switch.flooded",
    "switch.mac.learned",
    "switch.forwarded",
    "ip.forward",
    "icmp.echo.request",
    "ip.ttl-expired",
    "icmp.error.sent",
    "udp.port-unreachable",
)


# The demo's own sentences, by message id and language (the trace's sentences live in the catalog).
HEADINGS: dict[str, dict[str, str]] = {
    "en": {
        "same-lan": "== 1. a pings b on the same LAN (cold caches) ==",
        "router": "== 2. a pings c on another LAN, through the router r1 ==",
        "traceroute": "== 3. traceroute from a to c ==",
        "arp": "== ARP tables (arp -a) ==",
        "mac": "== MAC address tables (the switches learned them) ==",
        "routes": "== r1's routing table (ip route) ==",
        "counters": "== What the counters say ==",
        "count.arp": "  a sent {n} ARP requests (one for b, one for the gateway — never for c)",
        "count.switch": "  sw1 flooded {flooded} broadcasts, forwarded {forwarded} frames to one port",
        "count.router": "  r1 forwarded {forwarded} packets and sent {expired} 'time exceeded' (to traceroute)",
        "pcaps": "pcap files (open them in Wireshark): {files}",
    },
    "zh": {
        "same-lan": "== 1. a ping b: 在同一个局域网内 (arp表和mac地址表都是空的) ==",
        "router": "== 2. a ping c: 不在同一个局域网内, 经过路由器 r1 ==",
        "traceroute": "== 3. 从 a 到 c 的 traceroute ==",
        "arp": "== ip和mac的对照表 (arp -a) ==",
        "mac": "== 交换机的mac地址表 (交换机自己学习到的) ==",
        "routes": "== r1 的路由表 (ip route) ==",
        "counters": "== 计数器 ==",
        "count.arp": "  a 发了 {n} 个arp请求 (一个问 b, 一个问网关 — 从不问 c)",
        "count.switch": "  sw1 泛洪了 {flooded} 个广播, 把 {forwarded} 个帧只转发到一个端口",
        "count.router": "  r1 转发了 {forwarded} 个数据包, 发出 {expired} 个 '超时' (给 traceroute)",
        "pcaps": "pcap 文件 (用 Wireshark 打开): {files}",
    },
}


def build() -> Network:
    net = Network(seed=1)
    sw1 = net.switch("sw1", ports=8)
    sw2 = net.switch("sw2", ports=8)
    r1 = net.router("r1")
    a = net.host("a", "192.168.1.10/24", gateway="192.168.1.1")
    b = net.host("b", "192.168.1.11/24", gateway="192.168.1.1")
    c = net.host("c", "10.0.0.20/24", gateway="10.0.0.1")
    net.link(a, sw1, delay="10us")
    net.link(b, sw1, delay="10us")
    net.link(r1, sw1, address="192.168.1.1/24", delay="10us")
    net.link(r1, sw2, address="10.0.0.1/24", delay="1ms", bandwidth="100Mbit")
    net.link(c, sw2, delay="10us")
    return net


def _story(events: Iterable[TraceEvent], language: str) -> list[str]:
    lines = []
    for event in events:
        if any(event.kind == kind or (kind.endswith(".") and event.kind.startswith(kind)) for kind in STORY_KINDS):
            lines.append(f"  {format_time(event.time)}  {event.node:>4}  {event.render(language)}")
    return lines


def run(out_dir: str | None = None, language: str = "en") -> str:
    net = build()
    lan1 = net.capture(net.links[0])
    lan2 = net.capture(net.links[4])
    sections: list[str] = []

    start = len(net.trace)
    ping_b = net.ping("a", "192.168.1.11", count=2)
    net.run(until="5s")
    events = list(net.trace)[start:]
    first_echo = [e for e in events if e.time < 1_000_000_000]
    say = HEADINGS.get(language, HEADINGS["en"])
    sections.append(say["same-lan"])
    sections += _story(first_echo, language)
    sections += ["", *ping_b.report().splitlines()]

    start = len(net.trace)
    ping_c = net.ping("a", "10.0.0.20", count=2)
    net.run(until="15s")
    events = [e for e in list(net.trace)[start:] if e.time < 6_000_000_000]
    sections += ["", say["router"]]
    sections += _story(events, language)
    sections += ["", *ping_c.report().splitlines()]

    trace = net.traceroute("a", "10.0.0.20")
    net.run(until="40s")
    sections += ["", say["traceroute"], *trace.report().splitlines()]

    sections += ["", say["arp"]]
    for name in ("a", "b", "r1", "c"):
        node = net[name]
        assert isinstance(node, SimNode)
        sections.append(f"{name}:")
        sections += [f"  {line}" for line in node.stack.arp_table().splitlines()]
    sections += ["", say["mac"]]
    for name in ("sw1", "sw2"):
        switch = net[name]
        assert isinstance(switch, Switch)
        sections.append(f"{name}:  port  MAC")
        sections += [f"        {port:>4}  {mac}" for mac, port, _age in switch.mac_table()]
    router = net["r1"]
    assert isinstance(router, SimNode)
    sections += ["", say["routes"], *router.stack.routes.render().splitlines()]
    counters = net.counters
    sections += [
        "",
        say["counters"],
        say["count.arp"].format(n=counters["a"]["arp.tx.request"]),
        say["count.switch"].format(
            flooded=counters["sw1"]["switch.flooded.broadcast"], forwarded=counters["sw1"]["switch.forwarded"]
        ),
        say["count.router"].format(
            forwarded=counters["r1"]["ip.forwarded"], expired=counters["r1"]["icmp.error.sent.11.0"]
        ),
    ]
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        lan1.write(os.path.join(out_dir, "lan1-a.pcap"))
        lan2.write(os.path.join(out_dir, "lan2-c.pcap"))
        sections += ["", say["pcaps"].format(files=f"{out_dir}/lan1-a.pcap, {out_dir}/lan2-c.pcap")]
    return "\n".join(sections)
