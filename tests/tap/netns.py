"""Network namespaces for the TAP interop tests: each test makes its own and removes it.

Safety: everything happens inside a namespace created here (named after the test process's pid and a
counter), on addresses in 10.7.0.0/16; the host's interfaces and routes are never touched. The
namespace, its TAP and every process still running in it are removed in ``finally``.

What the tests need (root, /dev/net/tun, ``ip``, and tools such as ``ping`` or ``curl``) is checked
first: without it the test is skipped with the reason — unless ``WIRELAB_REQUIRE_NETNS=1`` (CI sets
it), which turns the skip into a failure, so that CI can never pass by skipping these tests.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import pytest

PEERS: Final = Path(__file__).resolve().parent / "peers"
KERNEL_IP: Final = "10.7.0.1"
WIRELAB_IP: Final = "10.7.0.2"
PREFIX: Final = 24
REQUIRE_ENV: Final = "WIRELAB_REQUIRE_NETNS"
_counter = itertools.count()


def unavailable(reason: str) -> None:
    """Skip (or, under WIRELAB_REQUIRE_NETNS=1, fail) because the environment lacks something."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: these tests must run)", pytrace=False)
    pytest.skip(reason)


def require(*tools: str) -> None:
    """Root, /dev/net/tun, ``ip``, and each tool named (``ping``, ``curl``…) on PATH."""
    if not sys.platform.startswith("linux"):
        unavailable("TAP interop needs Linux")
    if os.geteuid() != 0:
        unavailable("TAP interop needs root (network namespaces and TAP devices)")
    if not os.path.exists("/dev/net/tun"):
        unavailable("TAP interop needs /dev/net/tun")
    for tool in ("ip", *tools):
        if shutil.which(tool) is None:
            unavailable(f"TAP interop needs the {tool!r} command (see README: the interop tests' tools)")


class Namespace:
    def __init__(self, name: str) -> None:
        self.name = name

    def command(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(
        self, *argv: str, timeout: float = 30, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*argv), capture_output=True, text=True, timeout=timeout, check=False, input=input
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} -> {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def python(self, script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A peer program (tests/tap/peers/SCRIPT) run by the kernel's stack: plain CPython in the namespace."""
        return self.run(sys.executable, str(PEERS / script), *args, timeout=timeout, check=False)

    def start_python(self, script: str, *args: str) -> Running:
        return Running(self.command(sys.executable, str(PEERS / script), *args))

    def wirelab(
        self, *options: str, program: Sequence[str] = (), kernel_ip: bool = True, interactive: bool = False
    ) -> Running:
        """``wirelab tap`` in the namespace on TAP wl0 as 10.7.0.2/24 (and the kernel as 10.7.0.1/24)."""
        argv = [sys.executable, "-m", "wirelab", "tap", "--dev", "wl0", "--ip", f"{WIRELAB_IP}/{PREFIX}"]
        if kernel_ip:
            argv += ["--kernel-ip", f"{KERNEL_IP}/{PREFIX}"]
        argv += list(options)
        if program:
            argv += ["--", sys.executable, *program]
        return Running(self.command(*argv), interactive=interactive)

    def wait_for_listener(self, port: int, timeout: float = 10) -> None:
        """Until a TCP socket listens on ``port`` in the namespace (``ss -tln``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if f":{port} " in self.run("ss", "-tlnH").stdout:
                return
            time.sleep(0.02)
        raise AssertionError(f"nothing listens on port {port}")

    def sysctl(self, key: str, value: str) -> None:
        self.run("sysctl", "-q", "-w", f"{key}={value}")


@contextmanager
def namespace() -> Iterator[Namespace]:
    """A fresh network namespace with its loopback up; removed, with whatever still runs in it, at the end."""
    require()  # root, /dev/net/tun, ip: skip (or fail under WIRELAB_REQUIRE_NETNS=1) without them
    name = f"wltest{os.getpid()}-{next(_counter)}"
    created = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, check=False)
    if created.returncode != 0:
        unavailable(f"cannot create a network namespace: {created.stderr.strip()}")
    try:
        ns = Namespace(name)
        ns.run("ip", "link", "set", "lo", "up")
        # No IPv6 chatter (router solicitations, MLD) on the TAP: the tests count frames.
        ns.sysctl("net.ipv6.conf.all.disable_ipv6", "1")
        ns.sysctl("net.ipv6.conf.default.disable_ipv6", "1")
        yield ns
    finally:
        listed = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False)
        for pid in listed.stdout.split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)  # only processes this test started in its own namespace
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


class Running:
    """A program running in the namespace, its stdout and stderr collected line by line."""

    def __init__(self, argv: list[str], *, interactive: bool = False) -> None:
        self.argv = argv
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._collect, args=(self.process.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._collect, args=(self.process.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _collect(stream: object, lines: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, *, stream: str = "stderr", timeout: float = 20) -> str:
        """The first line of ``stream`` containing ``text``; fails with everything printed if none comes."""
        lines = self.stderr if stream == "stderr" else self.stdout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                if text in line:
                    return line
            if self.process.poll() is not None:
                for reader in self._readers:
                    reader.join(timeout=2)
                if any(text in line for line in lines):
                    continue
                break
            time.sleep(0.01)
        raise AssertionError(f"no {text!r} from {' '.join(self.argv)}:\n{self.text()}")

    def type(self, text: str) -> None:
        """Write to the program's stdin (``interactive=True``) as a person would, and flush."""
        assert self.process.stdin is not None
        self.process.stdin.write(text)
        self.process.stdin.flush()

    def end_input(self) -> None:
        """Ctrl-D: close the program's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.close()

    def ready(self) -> Running:
        self.wait_for("wirelab tap: ready")
        return self

    def finish(self, timeout: float = 60) -> int:
        """Wait for the program to end by itself; its exit status."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{' '.join(self.argv)} did not end in {timeout} s:\n{self.text()}") from None
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM (wirelab stops gracefully on it), then wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.finish(timeout)

    def text(self) -> str:
        return "stdout:\n" + "\n".join(self.stdout) + "\nstderr:\n" + "\n".join(self.stderr)
