"""``wirelab tap``: the wirelab stack as a host on a real Linux TAP interface.

    wirelab tap --dev wl0 --ip 10.7.0.2/24 --gateway 10.7.0.1 -- python server.py 8000
    wirelab tap --dev wl0 --ip 10.7.0.2/24 --kernel-ip 10.7.0.1/24 --serve echo --serve http
    wirelab tap --dev wl0 --ip 10.7.0.2/24 --ping 10.7.0.1 -c 3

The program after ``--`` (``python SCRIPT ARGS…``, ``python -m MODULE ARGS…``, or ``SCRIPT ARGS…``)
runs unchanged as a wirelab process: its ``socket`` is wirelab's, on the TAP. Its standard output and
error are printed as it writes whole lines; its standard input is ``wirelab tap``'s own (a terminal,
a pipe), read as it comes. ``wirelab tap`` ends with the
program's exit status, once its TCP connections have finished closing; with only ``--serve``, it
runs until interrupted (SIGINT/SIGTERM) or ``--duration`` seconds. Status lines go to stderr, and
``ready`` is printed there once the services have started. SIGUSR1 prints the ARP table, the TCP
table (as ``ss -tan``) and the counters there; ``--stats`` prints them at the end.
"""

from __future__ import annotations

import argparse
import errno
import gc
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from ipaddress import AddressValueError, IPv4Address, IPv4Interface, NetmaskValueError
from pathlib import Path
from typing import Final

from wirelab.apps.ping import Ping
from wirelab.process.scheduler import Process, Scheduler
from wirelab.stack.tcp.state import TcpState
from wirelab.tap.device import TapDevice, TapError
from wirelab.tap.runtime import RealTimeEngine, TapHost, real_time_scheduler, stop_on_signals
from wirelab.tap.services import DEFAULT_PORTS, service
from wirelab.tap.stdin import LiveStdin
from wirelab.trace import Trace
from wirelab.wire.mac import MacAddress

LINGER_SECONDS: Final = 5.0  # after the program ends: time for its connections to finish closing
PYTHON_NAMES: Final = ("python", "python3", f"python3.{sys.version_info.minor}")


class TapUsageError(ValueError):
    """Arguments that cannot work (a bad address, an unknown program form)."""


Handler = Callable[[argparse.Namespace], int]


def setup(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("--dev", default="wl0", metavar="NAME", help="the TAP to open, or create (default: wl0)")
    parser.add_argument("--ip", required=True, metavar="ADDRESS/PREFIX", help="wirelab's address, e.g. 10.7.0.2/24")
    parser.add_argument("--gateway", metavar="ADDRESS", help="wirelab's default route")
    parser.add_argument("--mac", metavar="MAC", help="wirelab's MAC (default: a random local one, 02:…)")
    parser.add_argument("--mtu", type=int, default=1500, help="the interface's MTU, both sides (default: 1500)")
    parser.add_argument(
        "--kernel-ip",
        metavar="ADDRESS/PREFIX",
        help="also give the kernel's side of the TAP this address (as ip addr add … dev NAME)",
    )
    parser.add_argument(
        "--serve",
        action="append",
        choices=sorted(DEFAULT_PORTS),
        default=[],
        help="run a built-in service: echo (port 7), discard (9), http (80); may be repeated",
    )
    parser.add_argument("--port", type=int, help="the port of the (single) --serve service")
    parser.add_argument("--directory", default=".", help="what --serve http serves (default: .)")
    parser.add_argument("--ping", metavar="ADDRESS", help="ping this address from wirelab, print as iputils does")
    parser.add_argument("-c", "--count", type=int, default=3, help="--ping's count (default: 3)")
    parser.add_argument(
        "-i", "--interval", type=float, default=1.0, metavar="SECONDS", help="--ping's interval (default: 1)"
    )
    parser.add_argument(
        "--trace",
        nargs="?",
        const="en",
        choices=("en", "zh"),
        metavar="LANG",
        help="narrate every decision of the stack on stderr, in English (en) or the course's Chinese (zh)",
    )
    parser.add_argument("--stats", action="store_true", help="at the end, print the ARP table and the counters")
    parser.add_argument(
        "--offload",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="TCP segments of up to 64 KB both ways and partial checksums between wirelab and the kernel "
        "(IFF_VNET_HDR, TSO, as virtio and QEMU): on by default when the kernel grants it; --no-offload "
        "for MTU-sized frames only (what tcpdump on the TAP and --pcap show: one frame per segment)",
    )
    parser.add_argument("--pcap", metavar="FILE", help="write every frame in and out of the TAP to FILE")
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long")
    parser.add_argument(
        "--probe",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="first check by ARP that no one has the address (RFC 5227), waiting this long (default: 0.2; 0: no)",
    )
    parser.add_argument("program", nargs=argparse.REMAINDER, help="-- python SCRIPT [ARGS…]: run it on wirelab")

    def run(args: argparse.Namespace) -> int:
        return main(args)

    return run


def _interface(text: str, option: str) -> IPv4Interface:
    try:
        address = IPv4Interface(text)
    except (AddressValueError, NetmaskValueError, ValueError):
        raise TapUsageError(f"{option} {text!r} is not an IPv4 address with a prefix (10.7.0.2/24)") from None
    if "/" not in text:
        raise TapUsageError(f"{option} {text!r} needs its prefix length (10.7.0.2/24)")
    return address


def _address(text: str, option: str) -> IPv4Address:
    try:
        return IPv4Address(text)
    except ValueError:
        raise TapUsageError(f"{option} {text!r} is not an IPv4 address") from None


def program_target(words: Sequence[str]) -> tuple[Path, list[str]]:
    """``python SCRIPT ARGS`` / ``python -m MODULE ARGS`` / ``SCRIPT ARGS`` -> (script path, argv after it)."""
    words = list(words)
    if words and words[0] == "--":
        words = words[1:]
    if not words:
        raise TapUsageError("no program after --")
    if Path(words[0]).name in PYTHON_NAMES or words[0] == sys.executable:
        words = words[1:]
        if not words:
            raise TapUsageError("python needs a script to run (an interactive interpreter cannot run on wirelab)")
        if words[0] == "-m":
            if len(words) < 2:
                raise TapUsageError("python -m needs a module name")
            spec = importlib.util.find_spec(words[1])
            if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
                raise TapUsageError(f"no Python module named {words[1]!r}")
            if spec.submodule_search_locations is not None:
                main = Path(spec.origin).with_name("__main__.py")
                if not main.exists():
                    raise TapUsageError(f"{words[1]} is a package and cannot be directly executed")
                return main, words[2:]
            return Path(spec.origin), words[2:]
        if words[0].startswith("-"):
            raise TapUsageError(f"python option {words[0]} is not supported here (only -m)")
    script = Path(words[0])
    if not script.is_file():
        raise TapUsageError(f"{words[0]}: no such script")
    return script, words[1:]


def _status(message: str) -> None:
    print(f"wirelab tap: {message}", file=sys.stderr, flush=True)


def main(args: argparse.Namespace) -> int:
    address = _interface(args.ip, "--ip")
    kernel = _interface(args.kernel_ip, "--kernel-ip") if args.kernel_ip else None
    gateway = _address(args.gateway, "--gateway") if args.gateway else None
    target = _address(args.ping, "--ping") if args.ping else None
    try:
        mac = MacAddress(args.mac) if args.mac else None
    except ValueError as error:
        raise TapUsageError(f"--mac: {error}") from None
    if not 68 <= args.mtu <= 65521:
        raise TapUsageError(f"--mtu {args.mtu} is not in 68..65521")
    if args.port is not None and len(args.serve) != 1:
        raise TapUsageError("--port needs exactly one --serve")
    program = program_target(args.program) if args.program else None

    device = TapDevice.open(args.dev, offload=args.offload)
    engine = RealTimeEngine()
    host: TapHost | None = None

    def report() -> None:
        if host is not None:
            _print_stats(host)

    restore = stop_on_signals(engine, report)
    close_pcap: Callable[[], None] | None = None
    try:
        device.configure(args.mtu)
        if kernel is not None:
            device.set_kernel_address(kernel)
        try:
            host = TapHost(engine, device, address, gateway=gateway, mac=mac, mtu=args.mtu, trace=_trace(args.trace))
        except ValueError as error:
            raise TapUsageError(str(error)) from None
        if args.pcap:
            close_pcap = host.capture(args.pcap)
        if args.probe > 0:
            owner = host.probe(args.probe)
            if owner is not None:
                raise TapError(
                    errno.EADDRINUSE,
                    f"address {address.ip} is already in use on {device.name} ({owner} answered an ARP probe for it)",
                )
        scheduler = real_time_scheduler(engine)
        for name in args.serve:
            function, arguments = service(name, args.port or DEFAULT_PORTS[name], os.path.abspath(args.directory))
            scheduler.start(host, function, args=arguments, name=name)
        main_process: Process | None = None
        if program is not None:
            script, argv = program
            main_process = scheduler.start(host, script, argv=argv)
            # Its stdin is ours (a terminal, a pipe, a file), read as it comes; it has not run yet.
            if _stdin_is_ours():
                main_process.image.stdin = LiveStdin(engine, scheduler)  # type: ignore[assignment]
        ping = (
            Ping(host, target, count=args.count, interval=round(args.interval * 1e9), wait="1s")
            if target is not None
            else None
        )
        how = "created" if device.created else "opened"
        _status(f"{device.name} ({how}) {address} mac {host.mac} mtu {args.mtu}")
        engine.run_until(timeout=0)  # the services and the program start: their sockets are bound
        for process in scheduler.processes:
            if process.exited and process.exit_code:
                _status(f"{process.name} exited with status {process.exit_code}")
        # What exists by now (modules, the stack, the processes' images) lives as long as we do: taking it
        # out of the collector's generations spares every full collection the walk over it (echo p99
        # ~0.3 -> ~0.18 ms).
        gc.collect()
        gc.freeze()
        _status("ready")
        status = _run(engine, host, scheduler, main_process, ping, args.duration)
        if args.stats:
            _print_stats(host)
        return status
    finally:
        restore()
        if close_pcap is not None:
            close_pcap()
        device.close()
        engine.close()


def _run(
    engine: RealTimeEngine,
    host: TapHost,
    scheduler: Scheduler,
    main_process: Process | None,
    ping: Ping | None,
    duration: float | None,
) -> int:
    def done() -> bool:
        if main_process is not None and not main_process.exited:
            return False
        if ping is not None and not ping.done:
            return False
        return main_process is not None or ping is not None

    finished = engine.run_until(done, timeout=duration)
    status = 0
    if ping is not None:
        print(ping.report(), flush=True)
        status = 0 if ping.statistics.received else 1
    if main_process is not None:
        status = main_process.exit_code if main_process.exit_code is not None else 1
        if main_process.exit_code is None:
            _status("stopped before the program ended")
            status = 130
    elif not finished and ping is None:
        status = 0  # a service run ends by a signal or --duration: a normal end
    scheduler.shutdown()
    _linger(engine, host)
    return status


def _linger(engine: RealTimeEngine, host: TapHost) -> None:
    """Give the connections the program left time to finish: its last data acknowledged, FINs exchanged."""
    tcp = host.tcp
    if tcp is None:
        return

    def settled() -> bool:
        return all(connection.state in (TcpState.TIME_WAIT, TcpState.CLOSED) for connection in tcp.connections.values())

    engine.run_until(settled, timeout=LINGER_SECONDS, stoppable=False)


def _stdin_is_ours() -> bool:
    """Whether to read our stdin: not closed, and not a terminal we are in the background of (reading
    it would stop us with SIGTTIN: ``wirelab tap … -- python server.py &``)."""
    try:
        os.fstat(0)
        return not os.isatty(0) or os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def _trace(language: str | None) -> Trace | None:
    """Off by default (nothing is built on the fast path); with --trace, each event's sentence at once."""
    if language is None:
        return None
    trace = Trace(enabled=True, capacity=10_000)
    trace.subscribe(lambda event: _status(event.line(language)))
    return trace


def _print_stats(host: TapHost) -> None:
    """The ARP table, the TCP table (as ``ss -tan``) and the counters, on stderr: at the end with
    ``--stats``, and whenever the process gets SIGUSR1."""
    for line in host.stack.arp_table().splitlines():
        _status(f"arp {line}")
    if host.tcp is not None:
        for line in host.tcp.socket_table().splitlines():
            _status(f"ss {line}")
    device = host.device
    counts = {**host.counters, "tap.rx.frames": host.frames_in}
    if device.offload:
        counts["tap.rx.large-segments"] = device.large_segments
        counts["tap.rx.checksum-completed"] = device.checksums_completed
        counts["tap.tx.writes"] = host.port.written
        counts["tap.tx.large-segments"] = host.port.joined
    for name, value in sorted(counts.items()):
        _status(f"counter {name} {value}")


def user_errors() -> tuple[type[Exception], ...]:
    return (TapError, TapUsageError)


__all__ = ["TapUsageError", "program_target", "setup", "user_errors"]
