"""The socket layer: the same unchanged programs on simulated hosts and on the real loopback.

(a) 64-byte TCP echo round trips per wall second between two simulated hosts on one switch
    (1 Gbit/s, 10 µs), through wirelab's socket module, against the same two scripts run by this
    interpreter on the real loopback (127.0.0.1, the kernel's TCP) in the same run;
(b) bulk: N MiB through ``sendall``/``recv`` between the simulated hosts, payload MB per wall second.
The programs are in benchmarks/programs/; they import nothing from wirelab.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from wirelab.process.lab import start
from wirelab.sim.network import Network

PROGRAMS = Path(__file__).resolve().parent / "programs"


def _lab() -> Network:
    net = Network(seed=1, trace=False)
    sw = net.switch("sw", ports=4)
    net.link(net.host("a", "10.0.0.1/24"), sw, delay="10us")
    net.link(net.host("b", "10.0.0.2/24"), sw, delay="10us")
    return net


def simulated(server: str, client: str, client_args: list[str]) -> tuple[float, str, str]:
    """(wall seconds, what the client printed, what the server printed)."""
    net = _lab()
    serving = start(net, "b", PROGRAMS / server, argv=["0.0.0.0", "5000"])
    runner = start(net, "a", PROGRAMS / client, argv=["10.0.0.2", "5000", *client_args], delay="1ms")
    started = time.perf_counter()
    net.run()
    wall = time.perf_counter() - started
    if runner.exit_code != 0:
        raise RuntimeError(f"the simulated client failed: {runner.traceback or runner.stderr}")
    return wall, runner.stdout.strip(), serving.stdout.strip()


def real_loopback(server: str, client: str, client_args: list[str]) -> tuple[float, str]:
    with socket.socket() as probe:  # a free port on the loopback
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    server_process = subprocess.Popen([sys.executable, str(PROGRAMS / server), "127.0.0.1", port])
    try:
        time.sleep(0.3)  # let it listen (a benchmark, not a test)
        started = time.perf_counter()
        output = subprocess.run(
            [sys.executable, str(PROGRAMS / client), "127.0.0.1", port, *client_args],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout
        wall = time.perf_counter() - started
    finally:
        server_process.wait(timeout=60)
    return wall, output.strip()


def main(quick: bool = False) -> None:
    count = 2_000 if quick else 10_000
    mebibytes = 4 if quick else 20
    print(f"\n## sockets: the same scripts, simulated hosts vs the real loopback ({count} echoes, {mebibytes} MiB)")
    wall, done, _ = simulated("echo_server.py", "echo_client.py", [str(count)])
    real_wall, real_done = real_loopback("echo_server.py", "echo_client.py", [str(count)])
    print(f"echo, simulated hosts   {count / wall:10,.0f} round trips/s  ({done} of {count} whole)")
    print(
        f"echo, real loopback     {count / real_wall:10,.0f} round trips/s  ({real_done} of {count} whole;"
        " includes starting the client interpreter)"
    )
    print(f"ratio simulated / real  {real_wall / wall:10.2f}x")
    wall, _, received = simulated("sink_server.py", "bulk_client.py", [str(mebibytes)])
    print(f"bulk sendall/recv, simulated hosts: {mebibytes * 1.048576 / wall:.1f} MB/s ({received} octets arrived)")
