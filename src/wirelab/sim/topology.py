"""Topology files: a network, its traffic and its captures, described in TOML and run in one go.

``wirelab run lab.toml`` builds the :class:`~wirelab.sim.network.Network` a file describes, starts
its pings and traceroutes, runs virtual time, writes the captures and prints what happened::

    seed = 1                  # the random streams (loss, corruption...): same seed, same run
    duration = "10s"          # virtual time to run; without it, until every ping/traceroute is done
    # max_events = 2000000    # a budget for runaway networks (a broadcast storm)

    [[switch]]                # name; ports = 48; aging_time = "300s"; table_size = 8192
    name = "sw1"
    ports = 8

    [[router]]                # name; its interfaces are made by the links that give an address
    name = "r1"

    [[host]]                  # name; address = "a.b.c.d/len"; gateway; mac; mtu = 1500
    name = "a"
    address = "192.168.1.10/24"
    gateway = "192.168.1.1"

    [[link]]                  # a, b: node names; address / address_b: a new interface's address on
    a = "a"                   # a / on b (on a switch-to-router link, address goes to the router);
    b = "sw1"                 # delay, bandwidth, mtu, queue, loss, duplicate, reorder,
    delay = "10us"            # reorder_delay, corrupt, corrupt_past_fcs; reverse = { ... } overrides
    bandwidth = "1Gbit"       # some of them for the direction b -> a.
    loss = "1%"

    [[link]]
    a = "r1"
    b = "sw1"
    address = "192.168.1.1/24"

    [[route]]                 # node, network ("default" = 0.0.0.0/0), gateway
    node = "r1"
    network = "172.16.0.0/16"
    gateway = "192.168.1.254"

    [[capture]]               # port = "a:eth0" (or "sw1:3"), or link = 2 (the 2nd [[link]]);
    port = "a:eth0"           # file: relative to the TOML file's folder (or the --out folder);
    file = "a.pcap"           # limit = 1000000 frames

    [[ping]]                  # from (a node), to (an address or a node's name); count = 4,
    from = "a"                # interval = "1s", size = 56, ttl, wait = "2s", start = "0s"
    to = "192.168.1.11"

    [[traceroute]]            # from, to; max_hops = 30, probes = 3, wait = "5s", start = "0s"

    [[process]]               # a program run unchanged on a host (its socket, input, print are the host's)
    host = "b"
    script = "server.py"      # relative to this file
    argv = ["0.0.0.0", "8080"]
    stdin = ["hello", "q"]    # what input() returns, line by line; then EOFError
    start = "1ms"

    [dns]                     # one DNS server (UDP 53) and every host's /etc/resolv.conf:
    server = "r1"             # the node that answers, authoritative for the zone,
    zone = "lab"              # with name.lab for every host and router (each address);
    records = { www = "10.0.0.20" }   # more A records (a list for several addresses);
    # hosts = ["a"]           # who uses it (default: every host; a router's LAN address if it has one
    # search = ["lab"]        # on theirs); search domains for short names; timeout = 5 (seconds),
    # attempts = 2            # attempts = 2: glibc's resolv.conf options
    from = "a"
    to = "172.16.0.20"

Times need a unit (``"10us"``, ``"2s"``; 0 may be bare); rates are ``"100Mbit"`` or bits per
second; probabilities ``"1%"`` or ``0.01``; sizes ``"1500B"`` or octets.

Every mistake in a file — its TOML syntax, a table or key that does not exist (a typo is never
ignored), a missing or mistyped value, a node that does not exist, two interfaces with the same
address on one LAN — raises :class:`TopologyFileError` with one line that names the file, the line
when it can be found, the table and its number, and what is wrong::

    lab.toml:14: link #2 (a -> sw9): b: unknown node 'sw9' (did you mean 'sw1'?)
"""

from __future__ import annotations

import difflib
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Final, TypeVar

from wirelab.apps.ping import Ping
from wirelab.apps.traceroute import Traceroute
from wirelab.process.lab import start
from wirelab.process.scheduler import Process, scheduler_of
from wirelab.sim.capture import Capture
from wirelab.sim.engine import RunResult
from wirelab.sim.link import Link, Port
from wirelab.sim.network import Device, Network, TopologyError
from wirelab.sim.node import SimNode
from wirelab.sim.switch import DEFAULT_TABLE_SIZE, Switch
from wirelab.sim.units import UnitError, format_time, parse_probability, parse_rate, parse_size, parse_time
from wirelab.wire.mac import MacAddress

# -- the schema -------------------------------------------------------------------------------------

SETTINGS: Final = ("seed", "duration", "max_events")
"""The top-level keys that are not tables."""

SINGLE_TABLES: Final[Mapping[str, tuple[str, ...]]] = {
    "dns": ("server", "zone", "records", "hosts", "search", "timeout", "attempts"),
}
"""The tables written once, ``[dns]``, and their keys."""

_CHANNEL_KEYS: Final = (
    "delay", "bandwidth", "mtu", "queue", "loss", "duplicate", "reorder", "reorder_delay", "corrupt",
    "corrupt_past_fcs",
)  # fmt: skip

TABLES: Final[Mapping[str, tuple[str, ...]]] = {
    "switch": ("name", "ports", "aging_time", "table_size"),
    "router": ("name",),
    "host": ("name", "address", "gateway", "mac", "mtu"),
    "link": ("a", "b", "address", "address_b", *_CHANNEL_KEYS, "reverse"),
    "route": ("node", "network", "gateway"),
    "capture": ("port", "link", "file", "limit"),
    "ping": ("from", "to", "count", "interval", "size", "ttl", "wait", "start"),
    "traceroute": ("from", "to", "max_hops", "probes", "wait", "start"),
    "process": ("host", "script", "argv", "stdin", "start"),
}
"""Each kind of ``[[table]]`` and the keys it may have, in the order the tables are built."""

DEFAULT_MAX_EVENTS: Final = 2_000_000
RUN_STEP: Final = 10_000_000  # without a duration, check every 10 ms whether the apps are done
_MAX_PING_SIZE: Final = 65_507  # 65,535 - 20 (IP header) - 8 (ICMP header)

T = TypeVar("T")


class TopologyFileError(TopologyError):
    """A topology file that cannot be loaded: one line naming the file, line, table and the mistake.

    ``file``, ``line`` (or None), ``table`` (``"link #2 (a -> sw9)"`` or None) and ``reason`` are
    also kept apart, for tools that want to point at the spot themselves.
    """

    def __init__(
        self, file: str, reason: str, *, line: int | None = None, column: int | None = None, table: str | None = None
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.table = table
        self.reason = " ".join(reason.split())  # one line, whatever a wrapped error said
        where = file
        if line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {table}: {self.reason}" if table else f"{where}: {self.reason}")


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- finding lines in the raw text ------------------------------------------------------------------


class _Source:
    """The file's text, to find the line of the Nth ``[[kind]]`` table and of a key inside it.

    tomllib does not say where a value came from, so this searches the raw lines. It finds tables
    written as ``[[kind]]`` headers; a table written inline (``link = [{...}]``) has no line.
    """

    def __init__(self, label: str, text: str) -> None:
        self.label = label
        self.lines = text.splitlines()

    @staticmethod
    def _quoted(name: str) -> str:
        escaped = re.escape(name)
        return rf"(?:{escaped}|\"{escaped}\"|'{escaped}')"

    def _is_header(self, number: int) -> bool:
        return self.lines[number].lstrip().startswith("[")

    def table_span(self, kind: str, index: int) -> tuple[int, int] | None:
        """0-based [start, end) lines of the ``index``-th (1-based) ``[[kind]]`` table."""
        header = re.compile(rf"^\s*\[\[?\s*{self._quoted(kind)}\s*\]\]?")  # [[link]], or [dns] once
        subtable = re.compile(rf"^\s*\[\s*{self._quoted(kind)}\s*\.")
        seen = 0
        for number, text in enumerate(self.lines):
            if header.match(text):
                seen += 1
                if seen == index:
                    end = number + 1
                    while end < len(self.lines) and not (self._is_header(end) and not subtable.match(self.lines[end])):
                        end += 1
                    return number, end
        return None

    def _first_header(self) -> int:
        return next((number for number in range(len(self.lines)) if self._is_header(number)), len(self.lines))

    def key_line(self, kind: str | None, index: int, key: str | None) -> int | None:
        """1-based line of ``key`` in the table (or at the top level when ``kind`` is None); failing
        that, of the table's header."""
        if kind is None:
            span: tuple[int, int] | None = (0, self._first_header())
        else:
            span = self.table_span(kind, index)
        if span is None:
            return None
        start, end = span
        if key is not None:
            assignment = re.compile(rf"^\s*{self._quoted(key)}\s*[=.]")
            subtable = re.compile(rf"^\s*\[\s*{self._quoted(kind or '')}\s*\.\s*{self._quoted(key)}\s*\]")
            for number in range(start, end):
                if assignment.match(self.lines[number]) or subtable.match(self.lines[number]):
                    return number + 1
        return start + 1 if kind is not None else None

    def top_line(self, name: str) -> int | None:
        """1-based line where the top-level ``name`` is defined (as a key or any header)."""
        pattern = re.compile(rf"^\s*(?:\[\[?\s*{self._quoted(name)}\s*[\].]|{self._quoted(name)}\s*[=.])")
        first_header = self._first_header()
        for number, text in enumerate(self.lines):
            if pattern.match(text) and (number < first_header or text.lstrip().startswith("[")):
                return number + 1
        return None


# -- reading one table ------------------------------------------------------------------------------


class _Table:
    """One ``[[kind]]`` table (or the top level, ``kind`` None): typed access, errors with context."""

    def __init__(
        self,
        source: _Source,
        kind: str | None,
        index: int,
        data: Mapping[str, object],
        *,
        prefix: str = "",
        parent: _Table | None = None,
    ) -> None:
        self.source = source
        self.kind = kind
        self.index = index
        self.data = data
        self.prefix = prefix  # "reverse." inside a link's reverse table
        self.parent = parent  # the link, for a reverse table

    @property
    def title(self) -> str | None:
        if self.parent is not None:
            return self.parent.title
        if self.kind is None:
            return None
        if self.kind in SINGLE_TABLES:
            return self.kind
        number = f"{self.kind} #{self.index}"
        data = self.data

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        match self.kind:
            case "link" | "ping" | "traceroute":
                ends = ("a", "b") if self.kind == "link" else ("from", "to")
                first, second = text(ends[0]), text(ends[1])
                detail = f"{first} -> {second}" if first and second else first or second
            case "route":
                detail = text("node")
            case "capture":
                link = data.get("link")
                detail = text("port") or (f"link #{link}" if isinstance(link, int) else None)
            case _:
                detail = text("name")
        return f"{number} ({detail})" if detail else number

    def error(self, reason: str, key: str | None = None) -> TopologyFileError:
        """An error about this table; ``key`` (a key of this table) both prefixes the reason and finds the line."""
        line_key = (self.prefix.split(".", 1)[0] or key) if key is not None or self.prefix else None
        line = self.source.key_line(self.kind, self.index, line_key)
        if key is not None and not reason.startswith(f"{self.prefix}{key}:"):
            reason = f"{self.prefix}{key}: {reason}"
        return TopologyFileError(self.source.label, reason, line=line, table=self.title)

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in self.data:
            if key not in allowed:
                line = self.source.key_line(self.kind, self.index, self.prefix.split(".", 1)[0] or key)
                suggestion = _suggest(key, allowed)
                reason = f"unknown key {self.prefix + key!r}{suggestion}; expected one of: {', '.join(allowed)}"
                raise TopologyFileError(self.source.label, reason, line=line, table=self.title)

    def sub(self, key: str) -> _Table | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(f'must be a table, e.g. {key} = {{ loss = "0%" }}', key)
        return _Table(self.source, self.kind, self.index, value, prefix=f"{self.prefix}{key}.", parent=self)

    # -- typed values -----------------------------------------------------------------------------
    def _get(self, key: str, kind: type[T], description: str, required: bool) -> T | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(f"missing required key {self.prefix}{key}")
            return None
        # TOML's true is a Python int too: an integer key must not take it, nor a boolean key a 1.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.error(f"must be {description}, not {value!r}", key)
        return value

    def required_text(self, key: str) -> str:
        value = self._get(key, str, "a string", required=True)
        assert value is not None
        if not value.strip():
            raise self.error("must not be empty", key)
        return value

    def text(self, key: str) -> str | None:
        return self._get(key, str, "a string", required=False)

    def integer(self, key: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.optional_integer(key, minimum, maximum)
        return default if value is None else value

    def optional_integer(self, key: str, minimum: int = 0, maximum: int | None = None) -> int | None:
        value = self._get(key, int, "an integer", required=False)
        if value is not None and (value < minimum or (maximum is not None and value > maximum)):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise self.error(f"must be {bounds}, not {value}", key)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, bool, "true or false", required=False)
        return default if value is None else value

    def _quantity(self, key: str, parse: Callable[[str | int | float, str], T]) -> T | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.error(f'must be a string such as "10us" or a number, not {value!r}', key)
        try:
            return parse(value, f"{self.prefix}{key}")
        except UnitError as error:
            raise self.error(str(error), key) from None

    def time(self, key: str, default: int) -> int:
        value = self.optional_time(key)
        return default if value is None else value

    def optional_time(self, key: str) -> int | None:
        """Nanoseconds. A bare number would be ambiguous ("delay = 10": seconds? µs?), so only 0 may be bare."""
        raw = self.data.get(key)
        nanoseconds = self._quantity(key, parse_time)
        unitless = isinstance(raw, int | float) or (isinstance(raw, str) and not re.search(r"[^\d.\s+\-e]", raw))
        if nanoseconds and unitless:
            raise self.error(f'{raw!r} has no unit: write e.g. "{raw}s", "{raw}ms" or "{raw}us"', key)
        return nanoseconds

    def rate(self, key: str, default: int) -> int:
        value = self._quantity(key, parse_rate)
        return default if value is None else value

    def size(self, key: str, default: int, minimum: int, maximum: int | None = None) -> int:
        value = self._quantity(key, parse_size)
        if value is None:
            return default
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise self.error(f"must be {bounds} octets, not {value}", key)
        return value

    def probability(self, key: str, default: float) -> float:
        value = self._quantity(key, parse_probability)
        return default if value is None else value


# -- the lab ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabApp:
    """A ping, traceroute or process of the file, with its label in the report (``ping #1: a -> 10.0.0.2``)."""

    label: str
    app: Ping | Traceroute | ProcessApp


class ProcessApp:
    """A program of the file (``[[process]]``) running unchanged on a host; reports what it printed."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.running_at_end = False  # a server still waiting when the run ended (then stopped)

    @property
    def done(self) -> bool:
        return self.process.exited

    def report(self) -> str:
        process = self.process
        text = process.stdout.rstrip("\n")
        if process.stderr:
            text += ("\n" if text else "") + process.stderr.rstrip("\n")
        if self.running_at_end:
            status = "still running when the run ended: stopped"
        else:
            status = f"exit status {process.exit_code}" if process.exited else "still running"
        return f"{text}\n({status})" if text else f"({status})"


@dataclass(frozen=True, slots=True)
class LabCapture:
    """A capture of the file and the pcap file it is written to after the run."""

    label: str
    capture: Capture
    path: Path


@dataclass
class Lab:
    """A loaded topology file: the network built, its apps started, its captures attached."""

    source: str
    network: Network
    seed: int
    duration: int | None  # ns; None: until every app is done
    max_events: int
    apps: list[LabApp] = field(default_factory=list)
    captures: list[LabCapture] = field(default_factory=list)
    result: RunResult | None = None
    stop_reason: str = ""

    def run(self) -> str:
        """Run the lab, write its captures, and return the report. A lab runs once."""
        if self.result is not None:
            raise RuntimeError(f"{self.source} has already run: load it again to run it again")
        self.result, self.stop_reason = self._advance()
        processes = [item.app for item in self.apps if isinstance(item.app, ProcessApp)]
        if processes:
            for app in processes:
                app.running_at_end = not app.process.exited
            scheduler_of(self.network.sim).shutdown()  # end servers still waiting, inside their own world
        for item in self.captures:
            item.path.parent.mkdir(parents=True, exist_ok=True)
            item.capture.write(item.path)
        return self.report()

    def _advance(self) -> tuple[RunResult, str]:
        network = self.network
        if self.duration is not None:
            result = network.run(self.duration, max_events=self.max_events)
            if result.reason == "budget":
                return result, self._budget_reason()
            return result, f"reached the duration, {format_time(self.duration)}"
        sim = network.sim
        events = 0
        while True:
            if all(item.app.done for item in self.apps):
                kinds = (
                    "ping, traceroute and process"
                    if any(isinstance(i.app, ProcessApp) for i in self.apps)
                    else ("ping and traceroute")
                )
                reason = f"every {kinds} has finished" if self.apps else "nothing to run"
                break
            if sim.next_event_time() is None:
                reason = "nothing left to do"
                break
            # Whole steps of virtual time, so that the run ends at the same instant on every machine.
            step = sim.run((sim.now // RUN_STEP + 1) * RUN_STEP, max_events=self.max_events - events)
            events += step.events
            if step.reason == "budget":
                return RunResult("budget", events, sim.now), self._budget_reason()
        return RunResult("until", events, sim.now), reason

    def _budget_reason(self) -> str:
        return f"stopped after max_events = {self.max_events} events (a broadcast storm? raise max_events)"

    # -- the report -------------------------------------------------------------------------------
    def report(self) -> str:
        network = self.network
        parts = [f"wirelab run {self.source} (seed {self.seed})"]
        if self.result is not None:
            parts[0] += (
                f"\nran to {format_time(self.result.now)} of virtual time, "
                f"{network.sim.events_run} events: {self.stop_reason}"
            )
        for item in self.apps:
            text = item.app.report()
            if not item.app.done:
                text += "\n(still running when the run ended: give a longer duration)"
            parts.append(f"== {item.label} ==\n{text}")
        for written in self.captures:
            missed = f" ({written.capture.missed} more not kept: limit)" if written.capture.missed else ""
            parts.append(f"== {written.label} ==\n{len(written.capture.records)} frames{missed} -> {written.path}")
        for name, service in network.dns_services.items():
            for zone in service.zones:
                rows = zone.names()
                width = max((len(owner) for owner in rows), default=0)
                lines = [f"  {owner:<{width}}  {', '.join(addresses)}" for owner, addresses in rows.items()]
                parts.append(f"== DNS: {name} answers for {zone.origin} ==\n" + "\n".join(lines))
        parts.append("== counters ==\n" + _counters(network))
        hosts = list(self._nodes(SimNode))
        parts.append(
            "== ARP tables ==\n"
            + "\n".join(f"{node.name}\n{_indent(node.stack.arp_table() or '(empty)')}" for node in hosts)
        )
        switches = list(self._nodes(Switch))
        if switches:
            parts.append("== MAC tables ==\n" + "\n".join(_mac_table(switch) for switch in switches))
        return "\n\n".join(parts)

    def _nodes(self, kind: type[T]) -> Iterator[T]:
        for node in self.network.nodes.values():
            if isinstance(node, kind):
                yield node


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _counter_rows(counts: Mapping[str, int]) -> str:
    if not counts:
        return "  (nothing)"
    width = max(len(name) for name in counts)
    return "\n".join(f"  {name:<{width}}  {value}" for name, value in sorted(counts.items()))


def _counters(network: Network) -> str:
    blocks = [f"{name}\n{_counter_rows(network.counters.get(name, {}))}" for name in network.nodes]
    blocks += [f"{link.name}\n{_counter_rows(network.counters.get(link.name, {}))}" for link in network.links]
    return "\n".join(blocks)


def _mac_table(switch: Switch) -> str:
    rows = switch.mac_table()
    if not rows:
        return f"{switch.name}\n  (empty)"
    peers = [switch.ports[index].channel for _, index, _ in rows]
    linked = [channel.destination.name if channel is not None else "-" for channel in peers]
    width = max(len("linked to"), *(len(name) for name in linked))
    lines = [f"{switch.name}", f"  {'MAC':<17}  port  {'linked to':<{width}}  age"]
    for (mac, index, age), peer in zip(rows, linked, strict=True):
        lines.append(f"  {mac!s:<17}  {index:>4}  {peer:<{width}}  {format_time(age)}")
    return "\n".join(lines)


# -- loading ----------------------------------------------------------------------------------------


def load_topology(path: str | Path, *, out_dir: str | Path | None = None) -> Lab:
    """Read and build the topology file at ``path``; captures are written under ``out_dir`` if given,
    else next to the file. Raises :class:`TopologyFileError` for anything wrong in the file."""
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise TopologyFileError(label, f"cannot read the file: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TopologyFileError(label, f"not UTF-8 text (byte {error.start}): TOML files are UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if found is None:
            raise TopologyFileError(label, f"invalid TOML: {message}") from None
        raise TopologyFileError(
            label, f"invalid TOML: {message[: found.start()]}", line=int(found[1]), column=int(found[2])
        ) from None
    here = Path(path).parent  # scripts are named relative to the file; captures go to out_dir if given
    return _Loader(_Source(label, text), data, Path(out_dir) if out_dir is not None else here, here).load()


@dataclass(frozen=True, slots=True)
class _ChannelSettings:
    delay: int
    bandwidth: int
    mtu: int
    queue: int
    loss: float
    duplicate: float
    reorder: float
    reorder_delay: int
    corrupt: float
    corrupt_past_fcs: bool

    def given(self, table: _Table) -> dict[str, object]:
        """Only the settings ``table`` gives: a link's ``reverse`` overrides those, keeping the rest."""
        return {key: getattr(self, key) for key in _CHANNEL_KEYS if key in table.data}


class _Loader:
    def __init__(self, source: _Source, data: dict[str, object], base: Path, here: Path) -> None:
        self.source = source
        self.data = data
        self.base = base  # where captures are written
        self.here = here  # the topology file's folder: scripts are relative to it
        self.tables: dict[str, list[_Table]] = {kind: [] for kind in TABLES}
        self.single: dict[str, _Table] = {}
        self.declared: dict[str, _Table] = {}  # node name -> the table that made it
        # Where each interface's address was written: (node, interface index) -> (table, key).
        self.origins: dict[tuple[str, int], tuple[_Table, str]] = {}

    def _top_error(self, name: str, reason: str) -> TopologyFileError:
        return TopologyFileError(self.source.label, reason, line=self.source.top_line(name))

    def load(self) -> Lab:
        top = _Table(self.source, None, 0, self.data)
        self._read_structure()
        seed = top.integer("seed", 0)
        duration = top.optional_time("duration")
        if duration is not None and duration <= 0:
            raise top.error("must be longer than 0s", "duration")
        max_events = top.integer("max_events", DEFAULT_MAX_EVENTS, minimum=1)
        network = Network(seed)
        lab = Lab(self.source.label, network, seed, duration, max_events)
        for table in self.tables["host"]:
            self._host(network, table)
        for table in self.tables["router"]:
            network.router(self._name(table))
        for table in self.tables["switch"]:
            self._switch(network, table)
        for table in self.tables["link"]:
            self._link(network, table)
        self._check_lan_addresses(network)
        for table in self.tables["route"]:
            self._route(network, table)
        if "dns" in self.single:
            self._dns(network, self.single["dns"])
        written: dict[Path, _Table] = {}
        for table in self.tables["capture"]:
            lab.captures.append(self._capture(network, table, written))
        for table in self.tables["ping"]:
            lab.apps.append(self._ping(network, table))
        for table in self.tables["traceroute"]:
            lab.apps.append(self._traceroute(network, table))
        for table in self.tables["process"]:
            lab.apps.append(self._process(network, table))
        return lab

    def _read_structure(self) -> None:
        """Every top-level name known, every table an array of tables with only known keys."""
        for name, value in self.data.items():
            if name in SETTINGS:
                continue
            if name in SINGLE_TABLES:
                if not isinstance(value, dict):
                    raise self._top_error(name, f"{name} must be written [{name}] (one per network), not [[{name}]]")
                single = _Table(self.source, name, 1, value)
                single.check_keys(SINGLE_TABLES[name])
                self.single[name] = single
                continue
            if name not in TABLES:
                what = "table" if isinstance(value, dict | list) else "setting"
                known = (*TABLES, *SINGLE_TABLES, *SETTINGS)
                raise self._top_error(
                    name, f"unknown {what} {name!r}{_suggest(name, known)}; expected one of: {', '.join(known)}"
                )
            if not isinstance(value, list):
                raise self._top_error(name, f"{name} must be written [[{name}]] (one table per {name}), not [{name}]")
            for index, item in enumerate(value, start=1):
                if not isinstance(item, dict):
                    raise self._top_error(name, f"{name} #{index} must be a table, not {item!r}")
                table = _Table(self.source, name, index, item)
                table.check_keys(TABLES[name])
                reverse = table.sub("reverse") if name == "link" else None
                if reverse is not None:
                    reverse.check_keys(_CHANNEL_KEYS)
                self.tables[name].append(table)

    # -- nodes ------------------------------------------------------------------------------------
    def _name(self, table: _Table) -> str:
        name = table.required_text("name")
        if re.search(r"[\s:]", name):
            raise table.error(f"{name!r}: a node name has no spaces or ':' (ports are named 'node:eth0')", "name")
        earlier = self.declared.get(name)
        if earlier is not None:
            raise table.error(f"{name!r} is already the name of {earlier.title}", "name")
        self.declared[name] = table
        return name

    def _switch(self, network: Network, table: _Table) -> None:
        name = self._name(table)
        ports = table.integer("ports", 48, minimum=2, maximum=4096)
        aging = table.time("aging_time", 300_000_000_000)
        size = table.integer("table_size", DEFAULT_TABLE_SIZE, minimum=1)
        network.switch(name, ports, aging_time=aging, table_size=size)

    def _host(self, network: Network, table: _Table) -> None:
        name = self._name(table)
        address = self._address(table, "address")
        gateway = self._ip(table, "gateway")
        if gateway is not None:
            if address is None:
                raise table.error("a host needs an address to reach its gateway", "gateway")
            if gateway not in address.network or gateway == address.ip:
                raise table.error(
                    f"{gateway} is not another address on {name}'s LAN {address.network}"
                    f" (a gateway must be on a directly connected network)",
                    "gateway",
                )
        mac_text = table.text("mac")
        mac = None
        if mac_text is not None:
            try:
                mac = MacAddress(mac_text)
            except ValueError as error:
                raise table.error(str(error), "mac") from None
        mtu = table.size("mtu", 1500, minimum=68, maximum=65_535)
        if "mtu" in table.data and address is None and mac is None:
            # Network.host makes the interface now only with an address or a MAC; otherwise the link
            # makes it, with the link's MTU, and this one would be silently ignored.
            raise table.error("a host's mtu is its interface's: give it an address (or a mac) too", "mtu")
        try:
            network.host(
                name,
                str(address) if address is not None else None,
                gateway=str(gateway) if gateway is not None else None,
                mac=mac,
                mtu=mtu,
            )
        except TopologyError as error:
            raise table.error(str(error)) from None
        if address is not None:
            self.origins[(name, 0)] = (table, "address")

    def _ip(self, table: _Table, key: str) -> IPv4Address | None:
        text = table.text(key)
        if text is None:
            return None
        try:
            return IPv4Address(text)
        except ValueError:
            raise table.error(f"{text!r} is not an IPv4 address", key) from None

    def _address(self, table: _Table, key: str) -> IPv4Interface | None:
        """An interface address with its prefix length, that is not its network's own or broadcast."""
        text = table.text(key)
        if text is None:
            return None
        if "/" not in text:
            raise table.error(f'{text!r} needs a prefix length, e.g. "{text}/24"', key)
        try:
            interface = IPv4Interface(text)
        except ValueError as error:
            raise table.error(f"{text!r} is not an address/prefix ({error})", key) from None
        network = interface.network
        if network.prefixlen < 31 and interface.ip in (network.network_address, network.broadcast_address):
            which = "network's own address" if interface.ip == network.network_address else "broadcast address"
            raise table.error(f"{interface.ip} is the {which} of {network}: an interface needs another one", key)
        return interface

    def _node(self, network: Network, table: _Table, key: str, *, ip_only: str | None = None) -> Device:
        name = table.required_text(key)
        node = network.nodes.get(name)
        if node is None:
            raise table.error(f"unknown node {name!r}{_suggest(name, network.nodes)}", key)
        if ip_only is not None and isinstance(node, Switch):
            raise table.error(f"{name} is a switch: {ip_only}", key)
        return node

    # -- links ------------------------------------------------------------------------------------
    @staticmethod
    def _channel(table: _Table) -> _ChannelSettings:
        """A link's settings for one direction, parsed (Network.link's defaults where not given)."""
        return _ChannelSettings(
            delay=table.time("delay", 0),
            bandwidth=table.rate("bandwidth", 1_000_000_000),
            mtu=table.size("mtu", 1500, minimum=68, maximum=65_535),
            queue=table.integer("queue", 1000, minimum=1),
            loss=table.probability("loss", 0.0),
            duplicate=table.probability("duplicate", 0.0),
            reorder=table.probability("reorder", 0.0),
            reorder_delay=table.time("reorder_delay", 1_000_000),
            corrupt=table.probability("corrupt", 0.0),
            corrupt_past_fcs=table.boolean("corrupt_past_fcs", False),
        )

    def _link(self, network: Network, table: _Table) -> None:
        a = self._node(network, table, "a")
        b = self._node(network, table, "b")
        if a is b:
            raise table.error(f"a link from {a.name} to itself", "b")
        address = self._address(table, "address")
        address_b = self._address(table, "address_b")
        a_switch, b_switch = isinstance(a, Switch), isinstance(b, Switch)
        # As Network.link: on a switch-to-node link, ``address`` is the node's, whichever end it is.
        a_address, b_address = (address, address_b)
        if a_switch and not b_switch and address is not None and address_b is None:
            a_address, b_address = None, address
        for end, given, key in ((a, a_address, "address"), (b, b_address, "address_b")):
            if given is not None and isinstance(end, Switch):
                raise table.error(f"{end.name} is a switch: its ports have no IP address", key)
            if given is None and isinstance(end, SimNode) and end.is_router:
                raise table.error(
                    f'{end.name} is a router: give the address of its interface on this link ({key} = "x.x.x.x/len")'
                )
        channel = self._channel(table)
        reverse_table = table.sub("reverse")
        reverse = self._channel(reverse_table).given(reverse_table) if reverse_table is not None else None
        try:
            link = network.link(
                a,
                b,
                address=str(a_address) if a_address is not None else None,
                address_b=str(b_address) if b_address is not None else None,
                delay=channel.delay,
                bandwidth=channel.bandwidth,
                mtu=channel.mtu,
                queue=channel.queue,
                loss=channel.loss,
                duplicate=channel.duplicate,
                reorder=channel.reorder,
                reorder_delay=channel.reorder_delay,
                corrupt=channel.corrupt,
                corrupt_past_fcs=channel.corrupt_past_fcs,
                reverse=reverse,
            )
        except TopologyError as error:
            raise table.error(str(error)) from None
        b_key = "address_b" if address_b is not None else "address"  # ``address`` went to b when a is a switch
        for port, given, key in ((link.a, a_address, "address"), (link.b, b_address, b_key)):
            if given is not None and isinstance(port.node, SimNode):
                self.origins.setdefault((port.node.name, port.index), (table, key))

    def _check_lan_addresses(self, network: Network) -> None:
        """Two interfaces with one IP address in one broadcast domain: ARP could not tell them apart.

        A broadcast domain is what frames can reach without crossing a router: every port of a switch
        and both ends of a link are in the same one. Different subnets on one LAN are fine.
        """
        parent: dict[int, int] = {}

        def root(port: Port) -> int:
            key = id(port)
            while parent.get(key, key) != key:
                key = parent[key]
            return key

        def join(first: Port, second: Port) -> None:
            parent[root(first)] = root(second)

        for link in network.links:
            join(link.a, link.b)
        for device in network.nodes.values():
            if isinstance(device, Switch):
                for port in device.ports[1:]:
                    join(port, device.ports[0])
        seen: dict[tuple[int, IPv4Address], tuple[str, tuple[_Table, str]]] = {}
        for (name, index), origin in self.origins.items():  # in the order they were written
            node = network.nodes[name]
            assert isinstance(node, SimNode)
            port = node.ports[index]
            address = node.interfaces[index].ip
            if address is None or not port.connected:
                continue
            earlier = seen.setdefault((root(port), address), (port.name, origin))
            if earlier[1] is not origin:
                table, key = origin
                raise table.error(
                    f"{address} is already on this LAN ({earlier[0]}, {earlier[1][0].title}): "
                    f"two interfaces in one broadcast domain cannot share an IP address",
                    key,
                )

    # -- routes, captures, apps -------------------------------------------------------------------
    def _route(self, network: Network, table: _Table) -> None:
        node = self._node(network, table, "node", ip_only="a switch has no routing table")
        assert isinstance(node, SimNode)
        text = table.required_text("network")
        try:
            destination = IPv4Network("0.0.0.0/0" if text == "default" else text)
        except ValueError as error:
            raise table.error(f"{text!r} is not a network ({error})", "network") from None
        table.required_text("gateway")
        gateway = self._ip(table, "gateway")
        assert gateway is not None
        connected = node.stack.routes.lookup(gateway)
        if connected is None or connected.gateway is not None:
            mine = ", ".join(str(i.address) for i in node.interfaces if i.address is not None) or "no address"
            raise table.error(f"{gateway} is not on a network {node.name} is directly connected to ({mine})", "gateway")
        try:
            network.route(node, str(destination), str(gateway))
        except TopologyError as error:
            raise table.error(str(error)) from None

    def _capture(self, network: Network, table: _Table, written: dict[Path, _Table]) -> LabCapture:
        port_name = table.text("port")
        link_number = table.optional_integer("link", minimum=1)
        if (port_name is None) == (link_number is None):
            raise table.error('give either port = "node:eth0" or link = N (the Nth [[link]]), one of the two')
        target: Port | Link
        if link_number is not None:
            if link_number > len(network.links):
                raise table.error(f"there is no link #{link_number} (the file has {len(network.links)})", "link")
            target = network.links[link_number - 1]
            default_file = f"link-{link_number}.pcap"
        else:
            assert port_name is not None
            target = self._port(network, table, port_name)
            default_file = port_name.replace(":", "-") + ".pcap"
        file_name = table.text("file") or default_file
        path = self.base / file_name
        if path in written:
            raise table.error(f"{file_name!r} is already written by {written[path].title}", "file")
        written[path] = table
        limit = table.integer("limit", 1_000_000, minimum=1)
        capture = network.capture(target, limit=limit)
        label = table.title or "capture"
        return LabCapture(label, capture, path)

    def _port(self, network: Network, table: _Table, name: str) -> Port:
        node_name = name.split(":", 1)[0]
        node = network.nodes.get(node_name)
        if node is None:
            raise table.error(f"unknown node {node_name!r}{_suggest(node_name, network.nodes)}", "port")
        names = [port.name for port in node.ports]
        for port in node.ports:
            if port.name == name:
                if not port.connected:
                    raise table.error(f"{name} is not linked to anything: it would capture nothing", "port")
                return port
        known = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "") or "none"
        raise table.error(f"unknown port {name!r}{_suggest(name, names)}; {node_name} has: {known}", "port")

    def _app_ends(self, network: Network, table: _Table, what: str) -> tuple[SimNode, IPv4Address, str]:
        node = self._node(network, table, "from", ip_only=f"it cannot run {what}")
        assert isinstance(node, SimNode)
        to = table.required_text("to")
        try:
            return node, IPv4Address(to), to
        except ValueError:
            pass
        target = network.nodes.get(to)
        if target is None:
            raise table.error(f"{to!r} is neither an IPv4 address nor a node{_suggest(to, network.nodes)}", "to")
        if isinstance(target, Switch):
            raise table.error(f"{to} is a switch: it has no IP address", "to")
        address = next((i.ip for i in target.interfaces if i.ip is not None), None)
        if address is None:
            raise table.error(f"{to} has no IP address", "to")
        return node, address, f"{to} ({address})"

    def _ping(self, network: Network, table: _Table) -> LabApp:
        node, target, shown = self._app_ends(network, table, "ping")
        count = table.integer("count", 4, minimum=1, maximum=100_000)
        interval = table.time("interval", 1_000_000_000)
        size = table.integer("size", 56, minimum=16, maximum=_MAX_PING_SIZE)
        ttl = table.optional_integer("ttl", minimum=1, maximum=255)
        wait = table.time("wait", 2_000_000_000)
        start = table.time("start", 0)
        ping = Ping(node, target, count=count, interval=interval, size=size, ttl=ttl, wait=wait, start=start)
        return LabApp(f"ping #{table.index}: {node.name} -> {shown}", ping)

    def _traceroute(self, network: Network, table: _Table) -> LabApp:
        node, target, shown = self._app_ends(network, table, "traceroute")
        max_hops = table.integer("max_hops", 30, minimum=1, maximum=255)
        probes = table.integer("probes", 3, minimum=1, maximum=10)
        wait = table.time("wait", 5_000_000_000)
        start = table.time("start", 0)
        trace = Traceroute(node, target, max_hops=max_hops, probes=probes, wait=wait, start=start)
        return LabApp(f"traceroute #{table.index}: {node.name} -> {shown}", trace)

    def _process(self, network: Network, table: _Table) -> LabApp:
        node = self._node(network, table, "host", ip_only="it runs no programs")
        assert isinstance(node, SimNode)
        script = self.here / table.required_text("script")
        if not script.is_file():
            raise table.error(f"no such script: {script}", "script")
        argv = self._strings(table, "argv")
        stdin = self._strings(table, "stdin")
        start_at = table.time("start", 0)
        process = start(network, node, script, argv=argv, stdin=stdin, delay=start_at)
        return LabApp(
            f"process #{table.index}: {node.name} $ python {script.name} {' '.join(argv)}".rstrip(), ProcessApp(process)
        )

    def _dns(self, network: Network, table: _Table) -> None:
        server = self._node(network, table, "server", ip_only="it cannot run a DNS server")
        assert isinstance(server, SimNode)
        if not any(interface.ip is not None for interface in server.interfaces):
            raise table.error(f"{server.name} has no IP address: it cannot answer queries", "server")
        zone = table.text("zone") or "lab"
        records = table.data.get("records", {})
        if not isinstance(records, dict) or not all(
            isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value))
            for value in records.values()
        ):
            raise table.error('must be a table of names and addresses, e.g. { www = "10.0.0.20" }', "records")
        for name, value in records.items():
            for text in [value] if isinstance(value, str) else value:
                try:
                    IPv4Address(text)
                except ValueError:
                    raise table.error(f"{name}: {text!r} is not an IPv4 address", "records") from None
        hosts = None
        if "hosts" in table.data:
            hosts = self._strings(table, "hosts")
            for name in hosts:
                node = network.nodes.get(name)
                if node is None:
                    raise table.error(f"unknown node {name!r}{_suggest(name, network.nodes)}", "hosts")
                if isinstance(node, Switch):
                    raise table.error(f"{name} is a switch: it resolves no names", "hosts")
        search = self._strings(table, "search")
        timeout = table.integer("timeout", 5, minimum=1, maximum=30)
        attempts = table.integer("attempts", 2, minimum=1, maximum=5)
        try:
            network.dns_server(server.name, zone, records=records)
        except TopologyError as error:
            raise table.error(str(error), "records" if records else "zone") from None
        try:
            network.nameserver(server.name, hosts=hosts, search=search, timeout=timeout, attempts=attempts)
        except TopologyError as error:
            raise table.error(str(error)) from None

    @staticmethod
    def _strings(table: _Table, key: str) -> list[str]:
        value = table.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise table.error("must be a list of strings", key)
        return list(value)


# -- the command ------------------------------------------------------------------------------------


def main_run(argv_path: str, out_dir: str | None = None) -> int:
    """``wirelab run FILE [--out DIR]``: load, run, print the report; 0, or 2 with one error line."""
    try:
        lab = load_topology(argv_path, out_dir=out_dir)
        report = lab.run()
    except TopologyFileError as error:
        print(f"wirelab: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # writing a capture
        print(f"wirelab: error: {argv_path}: cannot write a capture: {error}", file=sys.stderr)
        return 2
    print(report)
    return 0
