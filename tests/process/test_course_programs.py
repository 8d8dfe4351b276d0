"""The course's socket programs, unchanged, on simulated hosts — and on the real loopback, to compare.

Each program is a plain script under tests/programs/. It runs once as a real subprocess on this
machine's loopback and once as a process on a simulated host (one host via 127.0.0.1, or two LANs
joined by a router); what it prints must be the same, ephemeral ports (and, across the router, the
addresses) aside.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wirelab.process import scheduler_of, start
from wirelab.sim.network import Network

PROGRAMS = Path(__file__).resolve().parents[1] / "programs"
EPHEMERAL = re.compile(r"\b(3[2-9]\d{3}|[45]\d{4}|60\d{3})\b")  # Linux's 32768-60999
ADDRESS = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")


def ports_aside(text: str) -> str:
    return EPHEMERAL.sub("EPHEMERAL", text)


def addresses_aside(text: str) -> str:
    return ADDRESS.sub("ADDRESS", ports_aside(text))


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on the real machine, below the ephemeral range (so it never reads as ephemeral)."""
    for port in range(23000 + (time.monotonic_ns() // 1000) % 5000, 30000):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def wait_bound(port: int, kind: int) -> None:
    for _ in range(500):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.01)
    raise RuntimeError(f"nothing bound port {port}")


def real_run(
    server: str, clients: list[tuple[str, list[str]]], port: int, kind: int = socket.SOCK_STREAM
) -> tuple[str, list[str]]:
    """Run the server and then each client (with its stdin lines) on the real loopback."""
    process = subprocess.Popen(
        [sys.executable, "-u", str(PROGRAMS / server), "127.0.0.1", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    outputs = []
    try:
        wait_bound(port, kind)
        for client, lines in clients:
            done = subprocess.run(
                [sys.executable, str(PROGRAMS / client), "127.0.0.1", str(port)],
                input="".join(f"{line}\n" for line in lines),
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            outputs.append(done.stdout)
        try:
            process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            time.sleep(0.1)  # let a looping server print what it received last
            process.terminate()
    finally:
        server_output, _ = process.communicate(timeout=20)
    return server_output, outputs


def one_host() -> tuple[Network, str, str, str]:
    net = Network(seed=3)
    sw = net.switch("sw1")
    net.link(net.host("a", "192.168.1.10/24"), sw)
    return net, "a", "a", "127.0.0.1"


def two_lans() -> tuple[Network, str, str, str]:
    net = Network(seed=3)
    sw1, sw2 = net.switch("sw1"), net.switch("sw2")
    net.link(net.host("a", "192.168.1.10/24", gateway="192.168.1.1"), sw1, delay="50us")
    net.link(net.host("b", "192.168.2.10/24", gateway="192.168.2.1"), sw2, delay="50us")
    router = net.router("r1")
    net.link(router, sw1, address="192.168.1.1/24")
    net.link(router, sw2, address="192.168.2.1/24")
    return net, "b", "a", "192.168.2.10"


def simulated_run(
    layout: str, server: str, clients: list[tuple[str, list[str]]], port: int
) -> tuple[Network, str, list[str], list[int | None]]:
    net, server_host, client_host, address = one_host() if layout == "one host" else two_lans()
    bind = "127.0.0.1" if layout == "one host" else "0.0.0.0"
    server_process = start(net, server_host, PROGRAMS / server, argv=[bind, str(port)])
    client_processes = []
    for index, (client, lines) in enumerate(clients):
        client_processes.append(
            start(net, client_host, PROGRAMS / client, argv=[address, str(port)], stdin=lines, delay=f"{1 + index}s")
        )
    net.run(until=f"{len(clients) + 5}s")
    outputs = [client.stdout for client in client_processes]
    codes = [client.exit_code for client in client_processes]
    assert all(not client.stderr for client in client_processes), [c.stderr for c in client_processes]
    server_output = server_process.stdout
    assert not server_process.stderr, server_process.stderr
    scheduler_of(net.sim).shutdown()
    return net, server_output, outputs, codes


CASES = {
    "accept once": ("tcp_once_server.py", [("tcp_once_client.py", [])], socket.SOCK_STREAM),
    "communication loop": (
        "tcp_loop_server.py",
        [
            ("tcp_interactive_client.py", ["hello", "", "world 你好", "q"]),
            ("tcp_interactive_client.py", ["again", "q"]),
        ],
        socket.SOCK_STREAM,
    ),
    "udp": ("udp_server.py", [("udp_client.py", ["hello", "udp", "q"])], socket.SOCK_DGRAM),
}


@pytest.fixture(scope="module")
def real_outputs() -> dict[str, tuple[int, str, list[str]]]:
    outputs = {}
    for name, (server, clients, kind) in CASES.items():
        port = free_port(kind)
        server_output, client_outputs = real_run(server, clients, port, kind)
        outputs[name] = (port, server_output, client_outputs)
    return outputs


@pytest.mark.parametrize("layout", ["one host", "two LANs and a router"])
@pytest.mark.parametrize("case", list(CASES))
def test_prints_what_it_prints_on_a_real_machine(
    case: str, layout: str, real_outputs: dict[str, tuple[int, str, list[str]]]
) -> None:
    server, clients, _kind = CASES[case]
    port, real_server, real_clients = real_outputs[case]
    _net, sim_server, sim_clients, codes = simulated_run(layout, server, clients, port)
    assert codes == [0] * len(clients)
    aside = ports_aside if layout == "one host" else addresses_aside
    assert aside(sim_server) == aside(real_server)
    assert [aside(text) for text in sim_clients] == [aside(text) for text in real_clients]
    assert real_server  # the comparison compared something


def test_across_the_router_the_server_sees_the_client_address_and_the_client_the_server() -> None:
    _net, server_output, clients, _codes = simulated_run(
        "two LANs", "udp_server.py", [("udp_client.py", ["hi", "q"])], 9999
    )
    assert re.fullmatch(r"b'hi' \('192\.168\.1\.10', \d+\)\n", server_output)
    assert clients == [">>: b'HI' ('192.168.2.10', 9999)\n>>: "]


def test_output_lines_carry_host_pid_and_virtual_time() -> None:
    net, _server, _client, address = two_lans()
    server_process = start(net, "b", PROGRAMS / "tcp_loop_server.py", argv=["", "8080"])
    client_process = start(
        net, "a", PROGRAMS / "tcp_interactive_client.py", argv=[address, "8080"], stdin=["hi", "q"], delay="2s"
    )
    net.run(until="4s")
    lines = scheduler_of(net.sim).output
    assert [(line.host, line.pid, line.text) for line in lines][:2] == [
        ("b", server_process.pid, "starting..."),
        ("b", server_process.pid, f"('192.168.1.10', {lines[1].text.split(', ')[1][:-1]})"),
    ]
    assert lines[0].time == 0 and 2_000_000_000 < lines[1].time < 2_010_000_000
    assert client_process.exit_code == 0 and client_process.stdout == ">>: HI\n>>: "
    scheduler_of(net.sim).shutdown()
