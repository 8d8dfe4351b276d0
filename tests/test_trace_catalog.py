"""Every trace event kind the code emits has a sentence in the English catalog, and the catalog loads."""

from __future__ import annotations

import re
from pathlib import Path

from wirelab.trace import Layer, Phrase, TraceEvent, catalog

SOURCE = Path(__file__).resolve().parents[1] / "src" / "wirelab"
# Literal kinds passed to _event(...), _trace(...), tracer(...) or trace.emit(...).
KIND = re.compile(
    r"""(?:_event|_trace|\.emit)\(\s*(?:[^,()]+,\s*){0,4}?(?:Layer\.\w+,\s*)?f?"([a-z0-9-]+(?:\.[a-z0-9-]+)+)\""""
)


def emitted_kinds() -> set[str]:
    kinds: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        kinds.update(match for match in KIND.findall(path.read_text()) if "{" not in match)
    return kinds


def test_the_english_catalog_loads_and_is_not_empty() -> None:
    assert len(catalog("en")) > 40


def test_every_emitted_kind_has_a_sentence() -> None:
    kinds = emitted_kinds()
    assert len(kinds) > 30  # the pattern really finds them
    missing = sorted(kind for kind in kinds if kind not in catalog("en"))
    assert missing == []


def test_a_sentence_renders_from_its_fields_and_unknown_kinds_still_say_something() -> None:
    event = TraceEvent(0, "a", Layer.LINK, "arp.request.sent", {"ip": "192.168.1.11", "mine": "192.168.1.10"})
    assert event.render() == "ARP request (broadcast): who has 192.168.1.11? tell 192.168.1.10"
    odd = TraceEvent(0, "a", Layer.LINK, "no.such.kind", {"x": 1})
    assert odd.render() == "no.such.kind: x=1"


def test_the_chinese_catalog_has_the_same_kinds_and_fields() -> None:
    english, chinese = catalog("en"), catalog("zh")
    assert set(chinese) == set(english)
    fields = re.compile(r"{(\w+)")
    for kind, sentence in english.items():
        assert set(fields.findall(chinese[kind])) == set(fields.findall(sentence)), kind


def test_the_course_decision_reads_in_chinese() -> None:
    event = TraceEvent(
        0,
        "a",
        Layer.NETWORK,
        "ip.route.via-gateway",
        {
            "dst": "10.0.0.20",
            "mask": "255.255.255.0",
            "dst_network": "10.0.0.0",
            "mine": "192.168.1.10",
            "my_network": "192.168.1.0",
            "gateway": "192.168.1.1",
        },
    )
    assert "不在同一个局域网内, 发给网关 192.168.1.1" in event.render("zh")


def test_every_phrase_in_the_code_has_a_sentence() -> None:
    phrase = re.compile(r'Phrase\(\s*"([a-z0-9.-]+)"')
    keys = {key for path in SOURCE.rglob("*.py") for key in phrase.findall(path.read_text())}
    assert len(keys) > 15
    assert sorted(key for key in keys if key not in catalog("en")) == []


def test_a_transition_reads_in_the_event_language() -> None:
    event = TraceEvent(
        0, "a", Layer.TRANSPORT, "tcp.state",
        {"local": "1.1.1.1:1", "remote": "2.2.2.2:2", "old": "SYN-SENT", "new": "ESTABLISHED",
         "cause": Phrase("tcp-cause.syn-ack-received")},
    )  # fmt: skip
    assert event.render().endswith("SYN-ACK received: send ACK (the SYN-ACK consumed one sequence number)")
    assert "三次握手的第三次" in event.render("zh")
