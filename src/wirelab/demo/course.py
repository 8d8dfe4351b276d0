"""The course, end to end, on a simulated network: what ``wirelab demo`` runs and narrates.

The course's own network — two LANs joined by a router::

    client 192.168.1.10 ─┐                                    ┌─ server 192.168.2.10
    pc2    192.168.1.11 ─┴─ sw1 ── 192.168.1.1 r1 192.168.2.1 ── sw2 ─┘

and, on one virtual clock, the course's story in its order (each step is a *topic*):

``subnet``     the AND arithmetic: is the target on my LAN? and subnetting by borrowing host bits;
``arp``        the client pings pc2 (same LAN: ARP for the target, the switch floods the broadcast and
               learns) and the server (another LAN: ARP for the gateway, the router ARPs on its far side);
``dns``        the client is told the server's name, server.lab: a DNS query over UDP 53 to r1, the answer;
``handshake``  the course's communication-loop server and interactive client, unchanged, connect and talk;
``teardown``   the client quits: the four-way teardown, every state with seq/ack, a ladder diagram;
``time-wait``  a second session whose last ACK the wire loses: the server's FIN comes again, TIME-WAIT
               answers it and restarts 2MSL — the course's first "why 2MSL";
``udp``        the course's UDP server and client: no connection, one datagram each way;
``keepalive``  a client vanishes (its cable is pulled); after 2 h idle the server probes every 75 s,
               10 times, then gives up — two hours of virtual time in a blink;
``storm``      a loop of switches without spanning tree turns one ARP broadcast into a storm;
``ports``      the well-known ports.

``--topic`` tells one part; it runs the story up to that part (stages always start at the same virtual
times), so a part told alone is word for word what it is in the whole story. Every sentence comes from the demo's
catalog (``demo/catalog``) or the trace's (``trace/catalog``): ``--lang zh`` tells it in the course's Chinese.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from typing import Final

from wirelab.addressing import ports, subnet
from wirelab.addressing.subnet import Language
from wirelab.demo.narration import say
from wirelab.demo.storm import StormRun, run_storm
from wirelab.process.lab import start
from wirelab.process.scheduler import Process
from wirelab.sim.link import Channel
from wirelab.sim.network import Network
from wirelab.sim.node import SimNode
from wirelab.sim.switch import Switch
from wirelab.trace import TraceEvent
from wirelab.trace.ladder import Endpoint, flag_words, ladder, segments
from wirelab.wire.dissect import dissect, summary
from wirelab.wire.pcap import PcapRecord
from wirelab.wire.tcp import TcpFlags, TcpHeader
from wirelab.wire.udp import UdpHeader

PROGRAMS: Final = Path(__file__).resolve().parent / "programs"

TOPICS: Final = ("subnet", "arp", "dns", "handshake", "teardown", "time-wait", "udp", "keepalive", "storm", "ports")

SECOND: Final = 1_000_000_000  # virtual time is integer nanoseconds
MILLISECOND: Final = SECOND // 1000
MINUTE: Final = 60 * SECOND
HOUR: Final = 60 * MINUTE

# Every stage starts at a fixed virtual time, so a topic reads the same alone or in the whole story.
PING_AT: Final = 0
OTHER_LAN_PING_AT: Final = 2 * SECOND
TRACEROUTE_AT: Final = 3 * SECOND + 500 * (SECOND // 1000)
TCP_AT: Final = 5 * SECOND
SECOND_SESSION_AT: Final = 6 * SECOND
UDP_AT: Final = 80 * SECOND
KEEPALIVE_AT: Final = 90 * SECOND
CABLE_PULLED_AT: Final = KEEPALIVE_AT + SECOND
KEEPALIVE_UNTIL: Final = KEEPALIVE_AT + 2 * HOUR + 15 * MINUTE

SERVER_NAME: Final = "server.lab"  # the client knows the server by name: DNS turns it into an address
SERVER_PORT: Final = 8080
UDP_PORT: Final = 8081
KEEPALIVE_PORT: Final = 9090

# What a learner needs to see of each step, by event kind ("x." matches every kind under x).
ARP_STORY: Final = (
    "ip.route.",
    "arp.request.sent",
    "arp.reply.sent",
    "arp.cache.",
    "switch.flooded",
    "switch.mac.learned",
    "switch.forwarded",
    "ip.forward",
    "icmp.echo.request",
)
TCP_STORY: Final = ("tcp.", "socket.", "link.lost", "link.drop.")
UDP_STORY: Final = ("udp.", "socket.", "ip.route.")
DNS_STORY: Final = ("dns.", "ip.route.", "ip.forward", "udp.")
KEEPALIVE_STORY: Final = ("tcp.", "socket.", "demo.", "arp.failed", "icmp.error.sent")

NETWORK_PICTURE: Final = """\
    client 192.168.1.10 ─┐                                    ┌─ server 192.168.2.10
    pc2    192.168.1.11 ─┴─ sw1 ── 192.168.1.1 r1 192.168.2.1 ── sw2 ─┘"""

# A topic runs the story up to its own stage: the earlier stages leave the caches, the hosts' random
# streams and the clock as the whole story does, so a part told alone is word for word the same.
STAGES_OF: Final[dict[str, tuple[str, ...]]] = {
    "subnet": (),
    "arp": ("ping",),
    "dns": ("ping", "tcp"),
    "handshake": ("ping", "tcp"),
    "teardown": ("ping", "tcp"),
    "time-wait": ("ping", "tcp"),
    "udp": ("ping", "tcp", "udp"),
    "keepalive": ("ping", "tcp", "udp", "keepalive"),
    "storm": (),
    "ports": (),
}


def _matches(kind: str, wanted: Sequence[str]) -> bool:
    return any(kind == name or (name.endswith(".") and kind.startswith(name)) for name in wanted)


def clock(ns: int) -> str:
    """Virtual time as the story prints it: seconds with microseconds."""
    return f"{ns / SECOND:11.6f}s"


@dataclass(slots=True)
class Connection:
    """One TCP connection of the story, as the client saw it."""

    client: Endpoint
    server: Endpoint
    opened: int  # the client's SYN
    closing: int | None = None  # the client's close (FIN-WAIT-1)
    closed: int | None = None  # the client's TIME-WAIT over


@dataclass(slots=True)
class Part:
    topic: str
    lines: list[str] = field(default_factory=list)


class CourseLab:
    """The course's network with its programs; each stage runs at its fixed virtual time."""

    def __init__(self, seed: int = 1) -> None:
        net = self.net = Network(seed=seed)
        sw1, sw2 = net.switch("sw1", ports=8), net.switch("sw2", ports=8)
        r1 = net.router("r1")
        client = net.host("client", "192.168.1.10/24", gateway="192.168.1.1")
        pc2 = net.host("pc2", "192.168.1.11/24", gateway="192.168.1.1")
        server = net.host("server", "192.168.2.10/24", gateway="192.168.2.1")
        self.client_link = net.link(client, sw1, delay="10us")
        self.pc2_link = net.link(pc2, sw1, delay="10us")
        net.link(r1, sw1, address="192.168.1.1/24", delay="10us")
        net.link(r1, sw2, address="192.168.2.1/24", delay="10us")
        self.server_link = net.link(server, sw2, delay="10us")
        # r1 answers for the zone lab. (an A record per machine), and every host asks r1: /etc/resolv.conf.
        net.dns_server("r1", "lab")
        net.nameserver("r1")
        # The client's cable sees its every frame; the server's sees every connection of the story.
        self.lan1 = net.capture(self.client_link)
        self.lan2 = net.capture(self.server_link)
        self.processes: dict[str, Process] = {}
        self.connections: list[Connection] = []
        self.ran: list[str] = []
        self.notes: list[tuple[int, str, str]] = []  # (time, node, demo catalog key): what the lab itself did
        self._lose_client_time_wait_ack = False
        net.trace.subscribe(self._watch)

    # -- the stages -----------------------------------------------------------------------------------
    def run_stages(self, stages: Iterable[str]) -> None:
        for stage in ("ping", "tcp", "udp", "keepalive"):  # in the story's order, each at most once
            if stage in stages and stage not in self.ran:
                self.ran.append(stage)
                getattr(self, f"_stage_{stage}")()

    def _advance_to(self, when: int) -> None:
        if self.net.sim.now < when:
            self.net.run(until=when)

    def _stage_ping(self) -> None:
        self._advance_to(PING_AT)
        self.ping_same = self.net.ping("client", "192.168.1.11", count=1)
        self._advance_to(OTHER_LAN_PING_AT)
        self.ping_other = self.net.ping("client", "192.168.2.10", count=2)
        self._advance_to(TRACEROUTE_AT)
        self.traceroute = self.net.traceroute("client", "192.168.2.10")
        self._advance_to(TCP_AT)
        # The tables as they stand after the pings (entries age: by the story's end they are gone).
        self.arp_tables = {name: self.node(name).stack.arp_table() for name in ("client", "pc2", "r1", "server")}
        self.mac_tables = {name: self.switch(name).mac_table() for name in ("sw1", "sw2")}
        self.arp_requests = self.net.counters["client"]["arp.tx.request"]
        self.broadcasts_flooded = self.net.counters["sw1"]["switch.flooded.broadcast"]

    def _stage_tcp(self) -> None:
        self._advance_to(TCP_AT)
        self._start("server", "server", "tcp_loop_server.py", ["0.0.0.0", str(SERVER_PORT)])
        self._start("client", "client", "tcp_interactive_client.py", [SERVER_NAME, str(SERVER_PORT)],
                    stdin=["hello", "how are you?", "q"], delay=MILLISECOND)  # fmt: skip
        self._advance_to(SECOND_SESSION_AT)
        # The server's connection loop takes the next client: a second session, whose last ACK is lost.
        self._lose_client_time_wait_ack = True
        self._start("client-2", "client", "tcp_interactive_client.py", [SERVER_NAME, str(SERVER_PORT)],
                    stdin=["bye", "q"])  # fmt: skip
        self._advance_to(UDP_AT)

    def _stage_udp(self) -> None:
        self._advance_to(UDP_AT)
        self._start("udp-server", "server", "udp_server.py", ["0.0.0.0", str(UDP_PORT)])
        self._start("udp-client", "client", "udp_client.py", ["192.168.2.10", str(UDP_PORT)],
                    stdin=["hello udp", "q"], delay=MILLISECOND)  # fmt: skip
        self._advance_to(KEEPALIVE_AT)

    def _stage_keepalive(self) -> None:
        self._advance_to(KEEPALIVE_AT)
        self._start("keepalive-server", "server", "tcp_keepalive_server.py", ["0.0.0.0", str(KEEPALIVE_PORT)])
        self._start("keepalive-client", "pc2", "tcp_idle_client.py", ["192.168.2.10", str(KEEPALIVE_PORT)],
                    delay=MILLISECOND)  # fmt: skip
        self._advance_to(CABLE_PULLED_AT)
        self.pc2_link.set_up(False)
        self.notes.append((self.net.sim.now, "pc2", "keepalive.cable-pulled"))
        self._advance_to(KEEPALIVE_UNTIL)

    def _start(self, label: str, host: str, program: str, argv: list[str], *, stdin: Sequence[str] = (),
               delay: int = 0) -> None:  # fmt: skip
        self.processes[label] = start(self.net, host, PROGRAMS / program, argv=argv, stdin=stdin, delay=delay,
                                      echo_stdin=True)  # fmt: skip

    def _watch(self, event: TraceEvent) -> None:
        """Note the client's connections as they open and close; lose one final ACK on purpose."""
        if event.kind != "tcp.state" or event.node != "client":
            return
        new = str(event.fields.get("new"))
        local, remote = _endpoint(str(event.fields.get("local"))), _endpoint(str(event.fields.get("remote")))
        if new == "SYN-SENT":
            self.connections.append(Connection(local, remote, event.time))
            return
        connection = next((c for c in reversed(self.connections) if c.client == local and c.server == remote), None)
        if connection is None:
            return
        if new == "FIN-WAIT-1":
            connection.closing = event.time
        elif new == "TIME-WAIT" and self._lose_client_time_wait_ack and connection.opened >= SECOND_SESSION_AT:
            # The ACK the client is about to send is the last of the four-way teardown: the wire loses it.
            self._lose_client_time_wait_ack = False
            self._lose_next_frame(self.client_link.forward)
        elif new == "CLOSED":
            connection.closed = event.time

    @property
    def lost_at(self) -> frozenset[int]:
        """When the wire lost a frame the client sent (the capture still holds it: taps see it leave)."""
        name = self.client_link.forward.name
        return frozenset(event.time for event in self.net.trace.select(kind="link.lost") if event.node == name)

    def _lose_next_frame(self, channel: Channel) -> None:
        config = channel.config
        channel.configure(config.with_changes(loss=1.0))
        self.net.sim.post(self.net.sim.now + 1, lambda _: channel.configure(config))

    # -- reading the story ----------------------------------------------------------------------------
    def events(self, start: int, end: int, wanted: Sequence[str]) -> list[TraceEvent]:
        return [event for event in self.net.trace if start <= event.time < end and _matches(event.kind, wanted)]

    def node(self, name: str) -> SimNode:
        node = self.net[name]
        assert isinstance(node, SimNode)
        return node

    def switch(self, name: str) -> Switch:
        switch = self.net[name]
        assert isinstance(switch, Switch)
        return switch


def _endpoint(text: str) -> Endpoint:
    host, _, port = text.rpartition(":")
    return IPv4Address(host), int(port)


def _concerns(event: TraceEvent, connection: Connection) -> bool:
    """Whether ``event`` is about ``connection`` (events that name no connection, such as a lost frame, are)."""
    ends = {f"{address}:{port}" for address, port in (connection.client, connection.server)}
    named = [str(event.fields[name]) for name in ("local", "remote") if name in event.fields]
    return not named or set(named) <= ends


def _story(events: Iterable[TraceEvent], language: Language) -> list[tuple[int, int, int, str]]:
    return [
        (event.time, 1, order, f"  {clock(event.time)}  {event.node:<6} {event.render(language)}")
        for order, event in enumerate(events)
    ]


def _lines(rows: Iterable[tuple[int, int, int, str]]) -> list[str]:
    return [row[3] for row in sorted(rows)]


def _relative(number: int, isn: int | None, letter: str) -> str:
    if isn is None:
        return str(number)
    offset = (number - isn) & 0xFFFFFFFF
    return letter if offset == 0 else f"{letter}+{offset}"


Row = tuple[int, int, int, str]  # (time, rank, order, text): at one instant, rank orders a frame
# arriving at the client (0) before the decision it causes (1), and that before a frame the client sends (2).


def _window(rows: Iterable[Row], start: tuple[int, int], end: tuple[int, int]) -> list[Row]:
    return [row for row in rows if start <= (row[0], row[1]) < end]


def segment_rows(records: Iterable[PcapRecord], connection: Connection, language: Language,
                 lost: frozenset[int] = frozenset()) -> list[Row]:  # fmt: skip
    """The connection's segments on the client's cable as the course writes them: the client's ISN is
    x, the server's y. ``lost``: times at which the wire lost what the client sent."""
    rows = []
    ordered = sorted(records, key=lambda record: record.timestamp_ns)
    for order, segment in enumerate(segments(ordered, connection.client, connection.server)):
        tcp, when = segment.tcp, segment.record.timestamp_ns
        letters = ("x", "y") if segment.from_left else ("y", "x")
        ack = f" ack={_relative(tcp.ack, segment.receiver_isn, letters[1])}" if tcp.flags & TcpFlags.ACK else ""
        data = f" len={len(segment.payload)} {segment.payload!r}" if segment.payload else ""
        text = say(
            language,
            "segment",
            sender="client" if segment.from_left else "server",
            receiver="server" if segment.from_left else "client",
            flags=flag_words(tcp.flags, "+"),
            seq=_relative(tcp.seq, segment.sender_isn, letters[0]),
            ack=ack,
            data=data,
        )
        if segment.from_left and when in lost:
            text += say(language, "segment-lost")
        rows.append((when, 2 if segment.from_left else 0, order, f"  {clock(when)}  {'':<6} {text}"))
    return rows



def _ladder(lab: CourseLab, connection: Connection, start: int, end: int) -> list[str]:
    records = [record for record in lab.lan1.records if record.timestamp_ns <= end]
    events = [event for event in lab.net.trace.select(kind="tcp.state") if event.time < end]
    drawing = ladder(records, connection.client, connection.server, events, since=start, until=end,
                     lost=lab.lost_at)  # fmt: skip
    return ["", *(f"    {line}" for line in drawing.splitlines())]


def _connection_story(lab: CourseLab, connection: Connection, language: Language, start: tuple[int, int],
                      end: tuple[int, int]) -> list[str]:  # fmt: skip
    """Both ends' decisions and the segments between them, from ``start`` to ``end`` ((time, rank))."""
    events = [event for event in lab.events(start[0], end[0] + 1, TCP_STORY) if _concerns(event, connection)]
    rows = _story(events, language) + segment_rows(lab.lan1.records, connection, language, lab.lost_at)
    return _lines(_window(rows, start, end))


def _transcript(process: Process, title: str) -> list[str]:
    lines = [f"    $ {title}"]
    lines += [f"    {line}" for line in process.stdout.splitlines()]
    lines += [f"    {line}" for line in process.stderr.splitlines()]
    return lines


# -- the parts ---------------------------------------------------------------------------------------
def part_subnet(lab: CourseLab | None, language: Language) -> list[str]:
    host, gateway = "192.168.1.10/24", "192.168.1.1"
    same = subnet.same_lan(host, "192.168.1.11", gateway)
    other = subnet.same_lan(host, "192.168.2.10", gateway)
    plan = subnet.plan_by_subnets("192.168.1.0/24", 4)
    return [
        say(language, "subnet.intro"),
        "",
        subnet.render_same_lan(same, language),
        "",
        subnet.render_same_lan(other, language),
        "",
        say(language, "subnet.borrow"),
        subnet.render_plan(plan, language),
        say(language, "subnet.effect"),
    ]


def part_arp(lab: CourseLab, language: Language) -> list[str]:
    lines = [say(language, "arp.intro.same"), *_lines(_story(lab.events(PING_AT, PING_AT + SECOND, ARP_STORY),
                                                               language))]  # fmt: skip
    lines += ["", *(f"    {line}" for line in lab.ping_same.report().splitlines())]
    first_reply = OTHER_LAN_PING_AT + SECOND  # the second echo finds every cache warm: nothing new to tell
    lines += ["", say(language, "arp.intro.other"), *_lines(_story(lab.events(OTHER_LAN_PING_AT, first_reply,
                                                                              ARP_STORY), language))]  # fmt: skip
    lines += ["", *(f"    {line}" for line in lab.ping_other.report().splitlines())]
    lines += ["", say(language, "arp.traceroute"), *(f"    {line}" for line in lab.traceroute.report().splitlines())]
    lines += ["", say(language, "arp.tables")]
    for name, table in lab.arp_tables.items():
        lines.append(f"    {name}:")
        lines += [f"      {line}" for line in table.splitlines()]
    lines += ["", say(language, "arp.mac-tables")]
    for name, rows in lab.mac_tables.items():
        lines.append(f"    {name}:  {say(language, 'arp.mac-columns')}")
        lines += [f"      {port:>6}  {mac}" for mac, port, _age in rows]
    routes = lab.node("r1").stack.routes.render().splitlines()
    lines += ["", say(language, "arp.routes"), *(f"    {line}" for line in routes)]
    lines += ["", say(language, "arp.count", n=lab.arp_requests, flooded=lab.broadcasts_flooded)]
    return lines


def part_dns(lab: CourseLab, language: Language) -> list[str]:
    first = _first_session(lab)
    rows = _story(lab.events(TCP_AT, first.opened + 1, DNS_STORY), language)
    frames = [record for record in lab.lan1.records if TCP_AT <= record.timestamp_ns <= first.opened]
    rows += _frame_rows(lab, frames)
    lines = [say(language, "dns.intro"), *_lines(_window(rows, (TCP_AT, 0), (first.opened, 2)))]
    lines += ["", say(language, "dns.after", name=SERVER_NAME)]
    return lines


def _frame_rows(lab: CourseLab, records: Iterable[PcapRecord]) -> list[Row]:
    """Frames on the client's cable, tcpdump-style: arriving ones before what they cause, sent ones after."""
    mine = lab.node("client").interfaces[0].mac.packed
    return [
        (record.timestamp_ns, 2 if record.frame[6:12] == mine else 0, order,
         f"  {clock(record.timestamp_ns)}  {'':<6} {summary(record.frame)}")
        for order, record in enumerate(records)
    ]  # fmt: skip


def _first_session(lab: CourseLab) -> Connection:
    return next(c for c in lab.connections if c.opened < SECOND_SESSION_AT)


def _second_session(lab: CourseLab) -> Connection:
    return next(c for c in lab.connections if c.opened >= SECOND_SESSION_AT)


def part_handshake(lab: CourseLab, language: Language) -> list[str]:
    connection = _first_session(lab)
    end = connection.closing if connection.closing is not None else SECOND_SESSION_AT
    lines = [say(language, "handshake.intro"), *_connection_story(lab, connection, language, (TCP_AT, 0), (end, 1))]
    lines += _ladder(lab, connection, TCP_AT, end)
    lines += ["", say(language, "handshake.terminals")]
    lines += _transcript(lab.processes["server"], f"python tcp_loop_server.py 0.0.0.0 {SERVER_PORT}   # server")
    client = f"python tcp_interactive_client.py {SERVER_NAME} {SERVER_PORT}   # client"
    lines += _transcript(lab.processes["client"], client)
    return lines


def part_teardown(lab: CourseLab, language: Language) -> list[str]:
    connection = _first_session(lab)
    start = connection.closing if connection.closing is not None else TCP_AT
    end = SECOND_SESSION_AT
    lines = [say(language, "teardown.intro"), *_connection_story(lab, connection, language, (start, 1), (end, 0))]
    lines += _ladder(lab, connection, start, end)
    lines += ["", say(language, "teardown.why-four")]
    return lines


def part_time_wait(lab: CourseLab, language: Language) -> list[str]:
    connection = _second_session(lab)
    start = connection.closing if connection.closing is not None else SECOND_SESSION_AT
    lines = [say(language, "time-wait.intro"), *_connection_story(lab, connection, language, (start, 1), (UDP_AT, 0))]
    lines += _ladder(lab, connection, start, UDP_AT)
    if connection.closed is not None:
        lines += ["", say(language, "time-wait.summary", seconds=(connection.closed - start) / SECOND)]
    lines += [say(language, "time-wait.why-1"), say(language, "time-wait.why-2")]
    first = _first_session(lab)
    if first.closed is not None and first.closing is not None:
        lines += [say(language, "time-wait.first", seconds=(first.closed - first.closing) / SECOND)]
    return lines


def part_udp(lab: CourseLab, language: Language) -> list[str]:
    end = UDP_AT + SECOND
    rows = _story(lab.events(UDP_AT, end, UDP_STORY), language)
    frames = [record for record in lab.lan1.records if UDP_AT <= record.timestamp_ns < end]
    rows += _frame_rows(lab, frames)
    lines = [say(language, "udp.intro"), *_lines(rows)]
    lines += ["", say(language, "udp.terminals")]
    lines += _transcript(lab.processes["udp-server"], f"python udp_server.py 0.0.0.0 {UDP_PORT}   # server")
    lines += _transcript(lab.processes["udp-client"], f"python udp_client.py 192.168.2.10 {UDP_PORT}   # client")
    datagrams = sum(1 for record in frames if isinstance(dissect(record.frame).transport, UdpHeader))
    lines += ["", say(language, "udp.compare", udp=datagrams, tcp=_tcp_frames(lab))]
    return lines


def _tcp_frames(lab: CourseLab) -> int:
    if not lab.connections:
        return 0
    return len(segment_rows(lab.lan1.records, _first_session(lab), "en"))


def part_keepalive(lab: CourseLab, language: Language) -> list[str]:
    events = lab.events(KEEPALIVE_AT, KEEPALIVE_UNTIL, KEEPALIVE_STORY)
    events = [event for event in events if event.node in ("server", "pc2", "r1")]
    rows = _story(events, language)
    rows += [(when, 0, 0, f"  {clock(when)}  {node:<6} {say(language, key)}") for when, node, key in lab.notes]
    lines = [say(language, "keepalive.intro"), *_lines(rows)]
    lines += ["", say(language, "keepalive.terminals")]
    lines += _transcript(lab.processes["keepalive-server"], f"python tcp_keepalive_server.py 0.0.0.0 {KEEPALIVE_PORT}")
    probes = [event for event in events if event.kind == "tcp.keepalive.probe"]
    dead = next((event for event in events if event.kind == "tcp.keepalive.dead"), None)
    if probes and dead is not None:
        last = _last_segment(lab, KEEPALIVE_PORT, probes[0].time)
        lines += [
            "",
            say(
                language,
                "keepalive.summary",
                idle=(probes[0].time - last) / SECOND,
                probes=len(probes),
                interval=(probes[1].time - probes[0].time) / SECOND if len(probes) > 1 else 0,
                total=_duration(dead.time - last, language),
            ),
        ]
    return lines


def _last_segment(lab: CourseLab, port: int, before: int) -> int:
    """When the server's cable last carried a segment to or from ``port`` before ``before``."""
    last = 0
    for record in lab.lan2.records:
        tcp = dissect(record.frame).transport
        if record.timestamp_ns < before and isinstance(tcp, TcpHeader) and port in (tcp.src_port, tcp.dst_port):
            last = max(last, record.timestamp_ns)
    return last


def _duration(ns: int, language: Language) -> str:
    if ns < MINUTE:
        return say(language, "duration.seconds", seconds=ns / SECOND)
    seconds = round(ns / SECOND)
    if seconds < 3600:
        return say(language, "duration.minutes", minutes=seconds // 60, seconds=seconds % 60)
    return say(language, "duration.hours", hours=seconds // 3600, minutes=seconds % 3600 // 60, seconds=seconds % 60)


def part_storm(lab: CourseLab | None, language: Language, storm: StormRun) -> list[str]:
    lines = [say(language, "storm.intro")]
    lines += ["", say(language, "storm.tree", floods=storm.tree_floods)]
    lines += ["", say(language, "storm.loop")]
    lines += [f"  {clock(event.time)}  {event.node:<6} {event.render(language)}" for event in storm.first_events]
    lines += ["    ..."]
    lines += [
        "",
        say(
            language,
            "storm.count",
            microseconds=storm.duration // 1000,
            floods=storm.floods,
            moved=storm.moved,
            requests=storm.requests,
            dropped=storm.dropped,
        ),
        say(language, "storm.why"),
    ]
    return lines


def part_ports(lab: CourseLab | None, language: Language) -> list[str]:
    services = {service: None for name in ("ftp", "tftp", "telnet", "smtp", "dns", "http", "ssh", "mysql")
                for service in ports.lookup(name)}  # fmt: skip
    return [
        say(language, "ports.intro"),
        ports.render_services(sorted(services, key=lambda service: service.port), language),
        "",
        ports.render_ranges(language),
    ]


# -- the whole demo ----------------------------------------------------------------------------------
PARTS: Final[dict[str, Callable[..., list[str]]]] = {
    "subnet": part_subnet,
    "arp": part_arp,
    "dns": part_dns,
    "handshake": part_handshake,
    "teardown": part_teardown,
    "time-wait": part_time_wait,
    "udp": part_udp,
    "keepalive": part_keepalive,
    "ports": part_ports,
}


@dataclass(slots=True)
class DemoRun:
    text: str  # everything printed
    parts: dict[str, str]  # each topic's part of it (its body, under its heading)
    lab: CourseLab
    storm: StormRun | None
    pcaps: list[str]


def run_demo(topics: Sequence[str] = TOPICS, language: Language = "en", pcap_dir: str | None = None) -> DemoRun:
    """Run the stages ``topics`` need, and tell each topic's part of the story."""
    began = time.perf_counter()
    unknown = [topic for topic in topics if topic not in TOPICS]
    if unknown:
        raise ValueError(f"unknown topic(s) {unknown}: choose from {', '.join(TOPICS)}")
    lab = CourseLab()
    lab.run_stages({stage for topic in topics for stage in STAGES_OF[topic]})
    storm = run_storm() if "storm" in topics else None
    out = [f"== {say(language, 'demo.title')} ==", "", NETWORK_PICTURE]
    parts = {}
    for number, topic in enumerate((topic for topic in TOPICS if topic in topics), start=1):
        heading = f"{number}. {say(language, f'{topic}.title')}"
        if topic == "storm" and storm is not None:
            body = part_storm(lab, language, storm)
        else:
            body = PARTS[topic](lab, language)
        parts[topic] = "\n".join(body)
        out += ["", heading, "-" * subnet.display_width(heading), *body]
    pcaps = write_pcaps(lab, storm, pcap_dir) if pcap_dir is not None else []
    if pcaps:
        out += ["", say(language, "demo.pcaps", files=", ".join(pcaps))]
    elapsed = time.perf_counter() - began
    virtual = lab.net.sim.now + (storm.duration if storm is not None else 0)
    out += ["", say(language, "demo.clock", virtual=_duration(virtual, language), wall=elapsed)]
    return DemoRun("\n".join(out), parts, lab, storm, pcaps)


def write_pcaps(lab: CourseLab, storm: StormRun | None, directory: str) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    written = []
    targets = [("lan1-client.pcap", lab.lan1), ("lan2-server.pcap", lab.lan2)]
    if storm is not None and storm.network is not None:
        targets.append(("storm-h2.pcap", storm.network.captures[0]))
    for name, capture in targets:
        if not capture.records:
            continue
        path = os.path.join(directory, name)
        capture.write(path)
        written.append(path)
    return written
