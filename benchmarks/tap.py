"""wirelab on a TAP against the Linux kernel, and the kernel against itself as the physical reference.

In one run, inside network namespaces made for it (10.7.0.0/24; removed afterwards):
(a) bulk Linux -> wirelab: a Python client in the namespace sends N MiB to ``wirelab tap --serve discard``;
(b) bulk wirelab -> Linux: the same client program, run on wirelab, sends to a Python sink of the kernel's;
(c) 64-byte TCP echo round trip from a Linux client to ``wirelab tap --serve echo``: median and p99;
with ``--no-offload`` (MTU-sized frames only) and with offloads, the default (TCP segments of up to 64 KB
both ways: TSO, IFF_VNET_HDR), and (a)-(c) between two namespaces joined by a veth pair, kernel to
kernel, with the same programs.
Each figure is payload per wall second from the connection's establishment to the last FIN.
Targets (issue 6): >= 100 MB/s each way, echo median <= 0.2 ms. Needs root (skipped otherwise).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROGRAMS = Path(__file__).resolve().parent / "programs"
TARGET_MB_PER_S = 100.0
TARGET_ECHO_MS = 0.2


def _ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)


@contextmanager
def _namespaces(count: int) -> Iterator[list[str]]:
    names = [f"wlbench{os.getpid()}-{index}" for index in range(count)]
    try:
        for name in names:
            _ip("netns", "add", name)
            _ip("-n", name, "link", "set", "lo", "up")
        yield names
    finally:
        for name in names:
            listed = subprocess.run(["ip", "netns", "pids", name], check=False, capture_output=True, text=True)
            for pid in listed.stdout.split():
                os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def _in(ns: str, *argv: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *argv]


def _start(ns: str, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(_in(ns, *argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _await_line(process: subprocess.Popen[str], text: str, stream: str = "stdout") -> None:
    pipe = process.stdout if stream == "stdout" else process.stderr
    assert pipe is not None
    for line in pipe:
        if text in line:
            return
    raise RuntimeError(f"{process.args} ended before saying {text!r}: {process.communicate()}")


def _program(ns: str, name: str, *args: str) -> list[str]:
    result = subprocess.run(
        _in(ns, sys.executable, str(PROGRAMS / name), *args), check=False, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name}: {result.stderr}")
    return result.stdout.split()


def _wirelab(ns: str, *options: str) -> subprocess.Popen[str]:
    process = _start(
        ns, sys.executable, "-m", "wirelab", "tap", "--dev", "wl0", "--ip", "10.7.0.2/24",
        "--kernel-ip", "10.7.0.1/24", *options,
    )  # fmt: skip
    _await_line(process, "wirelab tap: ready", "stderr")
    return process


def _stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    return out


def _mb_per_s(fields: list[str]) -> float:
    octets, seconds = int(fields[0]), float(fields[1])
    return octets / seconds / 1e6


def wirelab_figures(mebibytes: int, echoes: int, options: tuple[str, ...] = ()) -> tuple[float, float, float, float]:
    """(Linux -> wirelab MB/s, wirelab -> Linux MB/s, echo median ms, echo p99 ms)."""
    with _namespaces(1) as (ns,):
        server = _wirelab(ns, "--serve", "discard", *options)
        inbound = _mb_per_s(_program(ns, "timed_source.py", "10.7.0.2", "9", str(mebibytes)))
        _stop(server)
        sink = _start(ns, sys.executable, str(PROGRAMS / "timed_sink.py"), "0.0.0.0", "5001")
        _await_line(sink, "listening")
        client = _wirelab(ns, *options, "--", sys.executable, str(PROGRAMS / "timed_source.py"), "10.7.0.1", "5001",
                          str(mebibytes))  # fmt: skip
        client.communicate(timeout=600)
        outbound = _mb_per_s(sink.communicate(timeout=60)[0].split())
        echo = _wirelab(ns, "--serve", "echo", *options)
        median, p99 = (float(value) / 1000 for value in _program(ns, "echo_rtt.py", "10.7.0.2", "7", str(echoes)))
        _stop(echo)
    return inbound, outbound, median, p99


def kernel_figures(mebibytes: int, echoes: int) -> tuple[float, float, float, float]:
    """The same programs kernel to kernel, over a veth pair between two namespaces."""
    with _namespaces(2) as (left, right):
        _ip("-n", left, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", right)
        for ns, address in ((left, "10.7.0.1/24"), (right, "10.7.0.2/24")):
            _ip("-n", ns, "addr", "add", address, "dev", "veth0")
            _ip("-n", ns, "link", "set", "veth0", "up")
        figures = []
        for sender, receiver, address in ((left, right, "10.7.0.2"), (right, left, "10.7.0.1")):
            sink = _start(receiver, sys.executable, str(PROGRAMS / "timed_sink.py"), "0.0.0.0", "5001")
            _await_line(sink, "listening")
            _program(sender, "timed_source.py", address, "5001", str(mebibytes))
            figures.append(_mb_per_s(sink.communicate(timeout=60)[0].split()))
        server = _start(right, sys.executable, str(PROGRAMS / "echo_server.py"), "0.0.0.0", "5007")
        time.sleep(0.3)  # let it listen (a benchmark, not a test)
        median, p99 = (float(value) / 1000 for value in _program(left, "echo_rtt.py", "10.7.0.2", "5007", str(echoes)))
        server.communicate(timeout=60)
    return figures[0], figures[1], median, p99


def main(quick: bool = False) -> None:
    mebibytes = 20 if quick else 100
    echoes = 2_000 if quick else 10_000
    print(f"\n## tap: wirelab on a TAP vs the Linux kernel ({mebibytes} MiB each way, {echoes} echoes)")
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("skipped: needs root and /dev/net/tun (network namespaces, TAP devices)")
        return
    rows = [("wirelab <-> Linux, TAP --no-offload", wirelab_figures(mebibytes, echoes, ("--no-offload",)))]
    rows.append(("wirelab <-> Linux, TAP (offload)", wirelab_figures(mebibytes, echoes)))
    rows.append(("Linux <-> Linux, veth (reference)", kernel_figures(mebibytes, echoes)))
    print(f"{'':36}{'in MB/s':>10}{'out MB/s':>10}{'echo median ms':>16}{'p99 ms':>9}")
    for label, (inbound, outbound, median, p99) in rows:
        print(f"{label:36}{inbound:10.1f}{outbound:10.1f}{median:16.3f}{p99:9.3f}")
    print(f"targets: >= {TARGET_MB_PER_S:.0f} MB/s each way, echo median <= {TARGET_ECHO_MS} ms (in: Linux -> wirelab)")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
