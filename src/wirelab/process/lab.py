"""Starting programs on a :class:`~wirelab.sim.network.Network`'s hosts in one line::

    server = start(net, "b", "src/wirelab/demo/programs/tcp_loop_server.py", argv=["0.0.0.0", "8000"])
    client = start(net, "a", "src/wirelab/demo/programs/tcp_interactive_client.py", argv=["192.168.2.10", "8000"],
                   stdin=["hello", "q"], delay="1ms")
    net.run(until="10s")
    print(client.stdout, client.exit_code)

Every host's name table (its /etc/hosts) lists every host of the network by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wirelab.process.scheduler import Process, scheduler_of
from wirelab.sim.node import SimNode
from wirelab.sim.units import parse_time
from wirelab.sockets.host import host_of

if TYPE_CHECKING:
    from wirelab.sim.network import Network


def hosts_table(net: Network) -> None:
    """Give every host an /etc/hosts line for every host (its first address)."""
    entries = {}
    for name, device in net.nodes.items():
        if isinstance(device, SimNode):
            address = next((interface.ip for interface in device.interfaces if interface.ip is not None), None)
            if address is not None:
                entries[name] = address
    for device in net.nodes.values():
        if isinstance(device, SimNode):
            names = host_of(device).names
            for name, address in entries.items():
                names.setdefault(name, address)


def start(
    net: Network,
    host: SimNode | str,
    target: str | Path | Callable[..., object],
    *,
    argv: Sequence[str] = (),
    stdin: Iterable[str] = (),
    args: Sequence[object] = (),
    name: str | None = None,
    delay: str | int = 0,
    echo_stdin: bool = False,
) -> Process:
    """Start a script (path) or a callable as a process on ``host``, now or after ``delay``
    (``echo_stdin``: show the scripted input in stdout as a terminal would)."""
    node = net[host] if isinstance(host, str) else host
    if not isinstance(node, SimNode):
        raise TypeError(f"{node.name} is a switch: it runs no programs")
    hosts_table(net)
    wait = parse_time(delay, "delay") if isinstance(delay, str) else delay
    return scheduler_of(net.sim).start(
        node, target, argv=argv, stdin=stdin, args=args, name=name, delay=wait, echo_stdin=echo_stdin
    )
