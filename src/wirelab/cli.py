"""The ``wirelab`` command: one subcommand per lab topic.

Subcommands are data: :data:`SUBCOMMANDS` lists each one's name, one-line summary, the function that
sets up its argparse sub-parser (and returns the handler that runs it) and the exceptions that mean
"the user's input was wrong". Adding a subcommand (``run``, ``pcap``…) is writing a setup function
and adding one entry; :func:`main` needs no change.

Wrong input never ends in a traceback: argparse's usage errors and the subcommands' own input errors
both print one line, ``wirelab: error: …``, on stderr and exit with status 2, argparse's status for
usage errors, so that scripts see one code for "that request cannot work". Any other exception is a
bug in wirelab and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, NoReturn, cast, get_args

from wirelab import __version__, demo
from wirelab.addressing import ports, subnet
from wirelab.addressing.subnet import Language
from wirelab.sim import topology
from wirelab.tap import command as tap_command
from wirelab.wire.dissect import render_breakdown, summary
from wirelab.wire.errors import MalformedPacket
from wirelab.wire.pcap import PcapReader

USAGE_ERROR: Final = 2
PROG: Final = "wirelab"
MAX_LISTED_SUBNETS: Final = 65536  # a longer listing would build gigabytes of table for nobody
DEMO_PCAP_DIR: Final = "wirelab-demo-pcap"  # a longer listing would build gigabytes of table for nobody

Handler = Callable[[argparse.Namespace], int]
"""Runs a parsed subcommand; returns the exit status."""


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One ``wirelab NAME …`` command, as an entry of :data:`SUBCOMMANDS`."""

    name: str
    summary: str
    setup: Callable[[argparse.ArgumentParser], Handler]
    user_errors: tuple[type[Exception], ...] = ()  # reported as one line with status 2, not a traceback


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _ParserExit(Exception):  # noqa: N818 - not an error: argparse's request to end with a status
    """argparse wants the program to end with ``status``; :func:`main` turns it into a return value."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors, ending through :func:`main`'s return value, not ``sys.exit``.

    argparse prints the usage block before an error; a learner then has to hunt for the one line
    that says what went wrong, so we print only that line, and point at ``--help``. Sub-parsers are
    made from this class too (``add_subparsers`` uses the parent's class).
    """

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{PROG}: error: {_one_line(message)} (see '{self.prog} --help')\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise _ParserExit(status)


def _add_language(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        choices=get_args(Language),
        default="en",
        help="language of the output: en, or zh in the course's Chinese terms (default: en)",
    )


def _language(args: argparse.Namespace) -> Language:
    return cast(Language, args.lang)  # argparse has already held it to the choices


# --------------------------------------------------------------------------------------------------
# wirelab subnet


def _setup_subnet(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument(
        "address",
        metavar="ADDRESS/PREFIX",
        help="with TARGET: this host's address and mask (192.168.1.10/24); "
        "with --subnets/--hosts: the network to cut (192.168.1.0/24)",
    )
    parser.add_argument("target", nargs="?", metavar="TARGET", help="the address to send to: same LAN or not?")
    parser.add_argument("--gateway", metavar="ADDRESS", help="this host's default gateway (with TARGET)")
    wanted = parser.add_mutually_exclusive_group()
    wanted.add_argument("--subnets", type=int, metavar="N", help="borrow host bits to make at least N subnets")
    wanted.add_argument("--hosts", type=int, metavar="N", help="borrow host bits, keeping N usable hosts per subnet")
    parser.add_argument(
        "--limit", type=int, default=64, metavar="ROWS", help="list at most ROWS subnets, 0 for all (default: 64)"
    )
    _add_language(parser)

    def run(args: argparse.Namespace) -> int:
        language = _language(args)
        planning = args.subnets is not None or args.hosts is not None
        if args.target is not None and planning:
            parser.error("give either a TARGET or --subnets/--hosts, not both")
        if args.gateway is not None and args.target is None:
            parser.error("--gateway goes with a TARGET address")
        if args.limit < 0:
            parser.error(f"--limit must be 0 (all) or more, not {args.limit}")
        if args.target is not None:
            check = subnet.same_lan(args.address, args.target, args.gateway)
            print(subnet.render_same_lan(check, language))
            return 0
        if args.subnets is not None:
            plan = subnet.plan_by_subnets(args.address, args.subnets)
        elif args.hosts is not None:
            plan = subnet.plan_by_hosts(args.address, args.hosts)
        else:
            parser.error("give a TARGET address, --subnets N or --hosts N")
        listed = plan.subnet_count if args.limit == 0 else min(args.limit, plan.subnet_count)
        if listed > MAX_LISTED_SUBNETS:
            parser.error(
                f"that would list {listed} subnets; at most {MAX_LISTED_SUBNETS} can be listed (lower --limit)"
            )
        print(subnet.render_plan(plan, language, args.limit))
        return 0

    return run


# --------------------------------------------------------------------------------------------------
# wirelab ports


def _setup_ports(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument(
        "query", nargs="?", metavar="NAME|NUMBER", help="a service (http, www, DNS…) or a port number (443)"
    )
    _add_language(parser)

    def run(args: argparse.Namespace) -> int:
        language = _language(args)
        if args.query is None:
            print(ports.render_services(ports.SERVICES, language))
            print()
            print(ports.render_ranges(language))
            return 0
        found = ports.lookup(args.query)
        ranges = dict.fromkeys(service.range for service in found)  # distinct, in table order
        print(ports.render_services(found, language))
        print()
        print(ports.render_ranges(language, ranges))
        return 0

    return run


# --------------------------------------------------------------------------------------------------
# wirelab demo


def _setup_demo(parser: argparse.ArgumentParser) -> Handler:
    _add_language(parser)
    parser.add_argument(
        "--topic",
        action="append",
        choices=demo.TOPICS,
        metavar="TOPIC",
        help=f"run and tell one part only (repeat for more): {', '.join(demo.TOPICS)}",
    )
    parser.add_argument(
        "--pcap",
        metavar="DIR",
        default=DEMO_PCAP_DIR,
        help=f"write the captures into DIR (default: {DEMO_PCAP_DIR})",
    )
    parser.add_argument("--no-pcap", action="store_true", help="write no capture files")

    def run(args: argparse.Namespace) -> int:
        topics = args.topic or demo.TOPICS
        print(demo.run_demo(topics, _language(args), None if args.no_pcap else args.pcap).text)
        return 0

    return run


def _setup_pcap(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("file", metavar="FILE.pcap", help="a classic pcap file (Ethernet)")
    parser.add_argument("-v", "--layers", action="store_true", help="also show each frame in the five layers")
    parser.add_argument("-c", "--count", type=int, default=0, metavar="N", help="stop after N frames")

    def run(args: argparse.Namespace) -> int:
        try:
            with open(args.file, "rb") as file:
                data = file.read()
        except OSError as error:
            raise PcapInputError(f"{args.file}: {error.strerror}") from None
        try:
            for number, record in enumerate(PcapReader(data), start=1):
                seconds, nanoseconds = divmod(record.timestamp_ns, 1_000_000_000)
                print(f"{number:5d} {seconds}.{nanoseconds:09d} {summary(record.frame)}")
                if args.layers:
                    print("      " + render_breakdown(record.frame).replace("\n", "\n      "))
                if args.count and number >= args.count:
                    break
        except MalformedPacket as error:
            raise PcapInputError(f"{args.file}: {error}") from None
        return 0

    return run


class PcapInputError(ValueError):
    """A pcap file that cannot be read."""


def _setup_run(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("topology", metavar="FILE.toml", help="the network to build and run")
    parser.add_argument("--out", metavar="DIR", help="write captures here (default: next to the file)")

    def run(args: argparse.Namespace) -> int:
        return topology.main_run(args.topology, args.out)

    return run


def _setup_tap(parser: argparse.ArgumentParser) -> Handler:
    return tap_command.setup(parser)  # the options and the run live in wirelab.tap.command


# --------------------------------------------------------------------------------------------------
# The command


SUBCOMMANDS: Final[tuple[Subcommand, ...]] = (
    Subcommand(
        "subnet",
        "same LAN or not (IP AND mask), and subnetting by borrowing host bits",
        _setup_subnet,
        (subnet.AddressingError,),
    ),
    Subcommand("ports", "the well-known ports, or the service on one port", _setup_ports, (ports.PortLookupError,)),
    Subcommand(
        "demo", "the course end to end on a simulated network, narrated (--topic for one part)", _setup_demo, (OSError,)
    ),
    Subcommand("run", "build and run a network described in a TOML file", _setup_run, (topology.TopologyFileError,)),
    Subcommand(
        "pcap",
        "read a pcap file: one tcpdump-style line per frame (-v: the five layers)",
        _setup_pcap,
        (PcapInputError,),
    ),
    Subcommand(
        "tap",
        "the wirelab stack as a host on a Linux TAP interface: run a script on it, or serve echo/discard/http",
        _setup_tap,
        tap_command.user_errors(),
    ),
)


def build_parser(subcommands: Sequence[Subcommand] = SUBCOMMANDS) -> argparse.ArgumentParser:
    """The ``wirelab`` parser with one sub-parser per entry of ``subcommands``."""
    parser = _Parser(prog=PROG, description="wirelab: a pure-Python TCP/IP stack and network lab.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for subcommand in subcommands:
        sub = commands.add_parser(subcommand.name, help=subcommand.summary, description=subcommand.summary)
        sub.set_defaults(handler=subcommand.setup(sub), user_errors=subcommand.user_errors)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``wirelab`` with ``argv`` (default: the process's arguments); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        handler: Handler = args.handler
        user_errors: tuple[type[Exception], ...] = args.user_errors
        try:
            return handler(args)
        except user_errors as error:
            print(f"{PROG}: error: {_one_line(str(error))}", file=sys.stderr)
            return USAGE_ERROR
        except BrokenPipeError:
            # The reader left early (``wirelab ports | head``): nothing went wrong here, so no
            # traceback. As Python's docs advise, stdout now points at devnull so that the flush
            # at exit does not fail a second time.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1
    except _ParserExit as request:
        return request.status
