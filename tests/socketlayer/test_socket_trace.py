"""The socket layer narrates the application's calls: the course's programs (the suite's copies in
tests/programs), call by call, in the trace."""

from __future__ import annotations

import contextlib
from pathlib import Path

from wirelab.process import scheduler_of, start
from wirelab.sim.network import Network
from wirelab.trace import TraceEvent

PROGRAMS = Path(__file__).resolve().parents[1] / "programs"


def two_lans(*, trace: bool = True) -> Network:
    net = Network(seed=1, trace=trace)
    sw1, sw2 = net.switch("sw1"), net.switch("sw2")
    r1 = net.router("r1")
    net.link(net.host("client", "192.168.1.10/24", gateway="192.168.1.1"), sw1)
    net.link(net.host("server", "10.0.0.20/24", gateway="10.0.0.1"), sw2)
    net.link(r1, sw1, address="192.168.1.1/24")
    net.link(r1, sw2, address="10.0.0.1/24")
    return net


def calls(net: Network, node: str) -> list[tuple[str, dict[str, object]]]:
    return [(event.kind, dict(event.fields)) for event in net.trace.select(node=node, protocol="socket")]


def test_the_course_tcp_programs_call_by_call() -> None:
    net = two_lans()
    start(net, "server", PROGRAMS / "tcp_loop_server.py", argv=["0.0.0.0", "8080"])
    client = start(
        net, "client", PROGRAMS / "tcp_interactive_client.py", argv=["10.0.0.20", "8080"], stdin=["hello", "q"],
        delay="1ms",
    )  # fmt: skip
    net.run(until="10s")
    assert client.stdout == ">>: HELLO\n>>: " and client.exit_code == 0
    port = int(str(net.trace.select(node="client", kind="socket.connect.done")[0].fields["local"]).split(":")[1])
    peer = f"192.168.1.10:{port}"
    assert calls(net, "server") == [
        ("socket.created", {"fd": 3, "type": "SOCK_STREAM"}),
        ("socket.bind", {"fd": 3, "address": "0.0.0.0", "port": 8080}),
        ("socket.listen", {"fd": 3, "address": "0.0.0.0", "port": 8080, "backlog": 5}),
        ("socket.accept", {"fd": 3, "new_fd": 4, "peer": peer, "local": "10.0.0.20:8080"}),
        ("socket.recv", {"fd": 4, "size": 5, "asked": 1024}),
        ("socket.send", {"fd": 4, "size": 5}),
        ("socket.recv-eof", {"fd": 4}),
        ("socket.close", {"fd": 4}),
    ]  # and the connection loop's next accept() waits
    assert calls(net, "client") == [
        ("socket.created", {"fd": 3, "type": "SOCK_STREAM"}),
        ("socket.connect.started", {"fd": 3, "peer": "10.0.0.20:8080"}),
        ("socket.connect.done", {"fd": 3, "peer": "10.0.0.20:8080", "local": peer}),
        ("socket.send", {"fd": 3, "size": 5}),
        ("socket.recv", {"fd": 3, "size": 5, "asked": 1024}),
        ("socket.close", {"fd": 3}),
    ]
    eof = net.trace.select(node="server", kind="socket.recv-eof")[0]
    assert eof.render() == "recv() on fd 4 returned b'': the peer closed its side"
    assert eof.render("zh") == "recv(): fd 4 返回 b'': 对方关闭了它那一端"


def test_a_call_is_traced_before_the_segments_it_causes() -> None:
    net = two_lans()
    start(net, "server", PROGRAMS / "tcp_once_server.py", argv=["0.0.0.0", "8080"])
    start(net, "client", PROGRAMS / "tcp_once_client.py", argv=["10.0.0.20", "8080"], delay="1ms")
    net.run(until="10s")
    events = list(net.trace.select(node="client"))

    def first(predicate: str) -> int:
        return next(index for index, event in enumerate(events) if predicate in (event.kind + event.render()))

    assert first("socket.connect.started") < first("SYN-SENT") < first("socket.connect.done")
    assert first("socket.close") < first("FIN-WAIT-1")


def test_the_udp_programs_sendto_and_recvfrom() -> None:
    net = two_lans()
    start(net, "server", PROGRAMS / "udp_server.py", argv=["0.0.0.0", "8081"])
    client = start(
        net, "client", PROGRAMS / "udp_client.py", argv=["10.0.0.20", "8081"], stdin=["hi", "q"], delay="1ms"
    )
    net.run(until="10s")
    scheduler_of(net.sim).shutdown()
    assert client.exit_code == 0
    assert [kind for kind, _ in calls(net, "client")] == [
        "socket.created",
        "socket.sendto",
        "socket.recvfrom",
        "socket.close",
    ]
    [sent] = net.trace.select(node="client", kind="socket.sendto")
    assert sent.fields == {"fd": 3, "size": 2, "peer": "10.0.0.20:8081"}
    [answer] = net.trace.select(node="client", kind="socket.recvfrom")
    assert answer.fields == {"fd": 3, "size": 2, "peer": "10.0.0.20:8081"}
    received = net.trace.select(node="server", kind="socket.recvfrom")[0]
    assert received.render().startswith("recvfrom() on fd 3: a 2-byte datagram from 192.168.1.10:")


def test_errors_name_their_errno_and_a_refused_connect_is_narrated() -> None:
    net = two_lans()

    def refused() -> None:
        import socket  # noqa: PLC0415 - the process's own socket module

        phone = socket.socket()
        with contextlib.suppress(ConnectionRefusedError):
            phone.connect(("10.0.0.20", 9))
        with contextlib.suppress(OSError):
            phone.bind(("10.9.9.9", 0))

    start(net, "client", refused)
    net.run(until="10s")
    failed = net.trace.select(node="client", kind="socket.connect.failed")[0]
    assert failed.fields == {"fd": 3, "peer": "10.0.0.20:9", "errno": "ECONNREFUSED", "message": "Connection refused"}
    error = net.trace.select(node="client", kind="socket.error")
    # connect's own failure is told once, by socket.connect.failed; other calls' errors by socket.error
    assert [event.fields for event in error] == [
        {"fd": 3, "call": "bind", "error": "OSError", "errno": "EADDRNOTAVAIL",
         "message": "Cannot assign requested address"},
    ]  # fmt: skip
    assert error[0].render() == "bind() on fd 3 raises OSError (EADDRNOTAVAIL: Cannot assign requested address)"
    assert failed.render("zh") == "connect(): fd 3 连接 10.0.0.20:9 失败: ECONNREFUSED (Connection refused)"


def test_every_socket_event_renders_in_both_languages() -> None:
    net = two_lans()
    start(net, "server", PROGRAMS / "tcp_once_server.py", argv=["0.0.0.0", "8080"])
    start(net, "client", PROGRAMS / "tcp_once_client.py", argv=["10.0.0.20", "8080"], delay="1ms")
    net.run(until="10s")
    events: list[TraceEvent] = net.trace.select(protocol="socket")
    assert events
    for event in events:
        for language in ("en", "zh"):
            text = event.render(language)
            assert "catalog error" not in text and not text.startswith(event.kind), text


def test_with_the_trace_off_nothing_is_recorded() -> None:
    net = two_lans(trace=False)
    start(net, "server", PROGRAMS / "tcp_once_server.py", argv=["0.0.0.0", "8080"])
    client = start(net, "client", PROGRAMS / "tcp_once_client.py", argv=["10.0.0.20", "8080"], delay="1ms")
    net.run(until="10s")
    assert client.stdout == "b'HELLO'\n" and len(net.trace) == 0
