"""Seeing every decision: structured trace events, their rendering from a catalog, and counters.

An event is data — time, node, layer, kind and fields — and its sentence is rendered from a catalog
(``catalog/en.toml``; one file per language), so a trace can be read in the course's own language.
Emitters test :attr:`Trace.enabled` before building an event, so tracing costs nothing when off.
"""

from __future__ import annotations

import enum
import string
import tomllib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from wirelab.sim.units import format_time


class Layer(enum.IntEnum):
    """The course's five layers (TCP/IP 五层)."""

    PHYSICAL = 1
    LINK = 2
    NETWORK = 3
    TRANSPORT = 4
    APPLICATION = 5

    @property
    def label(self) -> str:
        return ("physical", "link", "network", "transport", "application")[self - 1]


class Phrase:
    """A sentence that is itself a field of an event (a TCP transition's cause): a catalog key and
    its own fields, rendered in the event's language — so no narration is English text in code."""

    __slots__ = ("fields", "key")

    def __init__(self, key: str, **fields: Any) -> None:
        self.key = key
        self.fields = fields

    def render(self, language: str = "en") -> str:
        template = catalog(language).get(self.key) or catalog("en").get(self.key)
        if template is None:
            return self.key
        try:
            return _FORMATTER.vformat(template, (), self.fields)
        except (KeyError, IndexError, ValueError):
            return self.key

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Phrase({self.key!r}, {self.fields!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (self.key, self.fields) == (other.key, other.fields)

    def __hash__(self) -> int:
        return hash(self.key)


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One decision: ``kind`` names it (``"switch.flood"``); ``fields`` carry its particulars."""

    time: int
    node: str
    layer: Layer
    kind: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def protocol(self) -> str:
        """The first part of the kind: ``arp``, ``ip``, ``icmp``, ``switch``, ``link``, ``eth``…"""
        return self.kind.split(".", 1)[0]

    def render(self, language: str = "en") -> str:
        """The event's sentence in ``language`` (falls back to English, then to the raw fields)."""
        template = catalog(language).get(self.kind) or catalog("en").get(self.kind)
        if template is None:
            details = ", ".join(f"{key}={value}" for key, value in self.fields.items())
            return f"{self.kind}: {details}"
        fields = self.fields
        if any(isinstance(value, Phrase) for value in fields.values()):
            fields = {
                name: value.render(language) if isinstance(value, Phrase) else value for name, value in fields.items()
            }
        try:
            return _FORMATTER.vformat(template, (), fields)
        except (KeyError, IndexError, ValueError) as error:
            return f"{self.kind}: {dict(self.fields)} (catalog error: {error})"

    def line(self, language: str = "en") -> str:
        return f"{format_time(self.time)} {self.node:>8s} L{int(self.layer)} {self.render(language)}"


_FORMATTER = string.Formatter()


@cache
def catalog(language: str) -> Mapping[str, str]:
    """The sentences for ``language``, from ``catalog/<language>.toml`` (empty if there is none)."""
    return load_catalog(__package__, language)


def load_catalog(package: str, language: str) -> Mapping[str, str]:
    """``<package>/catalog/<language>.toml`` as flat ``{"a.b.c": sentence}`` (empty if there is none).

    Trace events have this package's catalog; other narrators (the demo) keep theirs beside their code.
    """
    path = resources.files(package).joinpath("catalog", f"{language}.toml")
    if not path.is_file():
        return {}
    with path.open("rb") as file:
        data = tomllib.load(file)
    flat: dict[str, str] = {}
    _flatten(data, "", flat)
    return flat


def _flatten(table: Mapping[str, Any], prefix: str, out: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{name}.", out)
        else:
            out[name] = str(value)


class Trace:
    """A bounded record of trace events, with filters and live subscribers.

    ``capacity`` bounds memory (oldest events go first; :attr:`discarded` counts them).
    """

    def __init__(self, *, enabled: bool = True, capacity: int | None = 1_000_000) -> None:
        self.enabled = enabled
        self._events: deque[TraceEvent] = deque(maxlen=capacity)
        self.discarded = 0
        self._subscribers: list[Callable[[TraceEvent], None]] = []

    def emit(self, time: int, node: str, layer: Layer, kind: str, **fields: Any) -> None:
        event = TraceEvent(time, node, layer, kind, fields)
        events = self._events
        if events.maxlen is not None and len(events) == events.maxlen:
            self.discarded += 1
        events.append(event)
        for subscriber in self._subscribers:
            subscriber(event)

    def subscribe(self, callback: Callable[[TraceEvent], None]) -> None:
        self._subscribers.append(callback)

    def __iter__(self) -> Iterator[TraceEvent]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def select(
        self,
        *,
        node: str | Iterable[str] | None = None,
        layer: Layer | int | None = None,
        protocol: str | None = None,
        kind: str | None = None,
    ) -> list[TraceEvent]:
        """Events matching every filter given; ``kind`` matches exactly or as a prefix ending in '.'."""
        nodes = {node} if isinstance(node, str) else set(node) if node is not None else None
        selected = []
        for event in self._events:
            if nodes is not None and event.node not in nodes:
                continue
            if layer is not None and event.layer != layer:
                continue
            if protocol is not None and event.protocol != protocol:
                continue
            if kind is not None and not (event.kind == kind or (kind.endswith(".") and event.kind.startswith(kind))):
                continue
            selected.append(event)
        return selected

    def render(self, events: Iterable[TraceEvent] | None = None, language: str = "en") -> str:
        return "\n".join(event.line(language) for event in (self._events if events is None else events))


class Counters(Counter[str]):
    """Named counters of one node: ``counters["arp.request.sent"] += 1``."""

    # Counter defines __delitem__ in Python, which puts the *assignment* slot through a Python-level
    # wrapper too: every ``+=`` on a counter paid for it. Counters are never deleted one by one, so take
    # dict's C methods back (deleting a missing name raises KeyError, as for a dict).
    __setitem__ = dict.__setitem__
    __delitem__ = dict.__delitem__  # type: ignore[assignment]

    def matching(self, prefix: str) -> dict[str, int]:
        return {name: value for name, value in sorted(self.items()) if name.startswith(prefix)}
