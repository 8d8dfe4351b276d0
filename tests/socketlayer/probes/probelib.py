"""What every probe shares: one printed line per check, the same on Linux and on a simulated host.

A probe is a plain script (the standard library only, no wirelab import). ``check(label, call)``
runs ``call`` and prints ``label: <result>`` or ``label: <ErrorClass> <ERRNO> <strerror>``; the
numbers that differ between two runs on one machine — ephemeral ports, descriptor numbers — are
printed as words (``EPHEMERAL``, ``FD``), the probe's own host address as ``HOST``.
"""

from __future__ import annotations

import errno
import re
import select
import sys
from collections.abc import Callable
from typing import Any

EPHEMERAL = re.compile(r"\b(3[2-9]\d{3}|[45]\d{4}|60\d{3})\b")  # Linux's ip_local_port_range 32768-60999
HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"


def shown(value: Any) -> str:
    text = repr(value)
    if HOST != "127.0.0.1":
        text = text.replace(repr(HOST), "'HOST'")
    return EPHEMERAL.sub("EPHEMERAL", text)


def failure(error: BaseException) -> str:
    if isinstance(error, OSError) and error.errno is not None:
        name = errno.errorcode.get(error.errno, str(error.errno))
        return f"{type(error).__name__} {name} {shown(error.strerror)}"
    return f"{type(error).__name__} {shown(str(error))}"


def check(label: str, call: Callable[[], Any], *, error_class_only: bool = False) -> Any:
    """Print what ``call`` returns, or the error it raises (and return it, or None). With
    ``error_class_only`` an error prints as its class alone (its text would name a descriptor)."""
    try:
        result = call()
    except Exception as error:
        print(f"{label}: {type(error).__name__ if error_class_only else failure(error)}", flush=True)
        return None
    print(f"{label}: {shown(result)}", flush=True)
    return result


def say(label: str, value: Any) -> None:
    print(f"{label}: {shown(value)}", flush=True)


POLL_BITS = ("POLLIN", "POLLPRI", "POLLOUT", "POLLERR", "POLLHUP", "POLLNVAL", "POLLRDNORM", "POLLWRNORM", "POLLRDHUP")


def poll_names(sock: Any) -> str:
    """The socket's poll(2) mask right now, by name (tcp_poll / udp_poll)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLPRI | select.POLLOUT | select.POLLRDHUP)
    events = poller.poll(0)
    mask = events[0][1] if events else 0
    return "|".join(name for name in POLL_BITS if mask & getattr(select, name)) or "0"


def wait_for(sock: Any, bits: int, timeout: float = 5.0) -> bool:
    """Block until the socket's poll mask has one of ``bits`` (on Linux the loopback is quick; on a
    simulated host virtual time passes)."""
    poller = select.poll()
    poller.register(sock, bits)
    return bool(poller.poll(timeout * 1000))


def readable(sock: Any, timeout: float = 5.0) -> bool:
    return bool(select.select([sock], [], [], timeout)[0])
