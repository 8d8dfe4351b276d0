"""Errors exactly as CPython's ``socket`` raises them on Linux.

``OSError(errno.X, os.strerror(errno.X))`` builds the stdlib's own subclass (ConnectionRefusedError,
BrokenPipeError, BlockingIOError…), so ``except ConnectionResetError`` in an unchanged script catches
what the simulated kernel reports. Timeouts are ``TimeoutError("timed out")`` without an errno, as
CPython's socket timeout is; name lookups fail with :class:`gaierror` and its negative EAI codes.
"""

from __future__ import annotations

import errno
import os
from typing import Final


def os_error(name: str) -> OSError:
    """The stdlib-shaped error for a Linux errno name (``"ECONNREFUSED"`` → ConnectionRefusedError)."""
    number: int = getattr(errno, name)
    return OSError(number, os.strerror(number))


def errno_of(name: str) -> int:
    number: int = getattr(errno, name)
    return number


def timed_out() -> TimeoutError:
    return TimeoutError("timed out")


class herror(OSError):  # noqa: N801, N818 - the stdlib's name
    """A resolver error (``gethostbyaddr``), as ``socket.herror``."""


class gaierror(OSError):  # noqa: N801, N818 - the stdlib's name
    """An address-information error, as ``socket.gaierror``: negative EAI codes from glibc."""


herror.__module__ = "socket"
gaierror.__module__ = "socket"

EAI_NONAME: Final = -2  # "Name or service not known"
EAI_AGAIN: Final = -3  # "Temporary failure in name resolution"
EAI_NODATA: Final = -5  # "No address associated with hostname"
EAI_SERVICE: Final = -8  # "Servname not supported for ai_socktype"
EAI_FAMILY: Final = -6  # "ai_family not supported"
EAI_SOCKTYPE: Final = -7  # "ai_socktype not supported"
EAI_ADDRFAMILY: Final = -9  # "Address family for hostname not supported"

_EAI_TEXT: Final = {
    EAI_NONAME: "Name or service not known",
    EAI_AGAIN: "Temporary failure in name resolution",
    EAI_NODATA: "No address associated with hostname",
    EAI_SERVICE: "Servname not supported for ai_socktype",
    EAI_FAMILY: "ai_family not supported",
    EAI_SOCKTYPE: "ai_socktype not supported",
    EAI_ADDRFAMILY: "Address family for hostname not supported",
}


def address_error(code: int) -> gaierror:
    return gaierror(code, _EAI_TEXT[code])
