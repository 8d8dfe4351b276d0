"""A process's file descriptor table, and what a system call needs from the process running it.

Descriptors are small integers given lowest-free-first from 0, as Linux does: 0, 1 and 2 are the
process's standard streams, so the first socket a script opens is fd 3 — the number it would print on
a real machine. ``dup`` shares one open file between two descriptors; the file is released when the
last one closes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from wirelab.sockets.channel import Channel
from wirelab.sockets.errors import os_error

# poll(2) bits (Linux values; select.POLLIN and friends are the same numbers).
POLLIN = 0x001
POLLPRI = 0x002
POLLOUT = 0x004
POLLERR = 0x008
POLLHUP = 0x010
POLLNVAL = 0x020
POLLRDNORM = 0x040
POLLWRNORM = 0x100
POLLRDHUP = 0x2000
# What select(2) counts as readable, writable and exceptional (Linux fs/select.c).
SELECT_READ = POLLIN | POLLRDNORM | POLLHUP | POLLERR
SELECT_WRITE = POLLOUT | POLLWRNORM | POLLERR
SELECT_EXCEPT = POLLPRI


@runtime_checkable
class KernelFile(Protocol):
    """An open file: what select/poll/epoll ask, and what close releases."""

    channel: Channel

    def poll_mask(self) -> int: ...

    def release(self) -> None: ...


class StandardStream:
    """fd 0, 1 or 2. Scripted stdin always has something to say (a line, or EOF): readable."""

    def __init__(self, readable: bool) -> None:
        self.channel = Channel()
        self._mask = POLLIN | POLLRDNORM if readable else POLLOUT | POLLWRNORM

    def poll_mask(self) -> int:
        return self._mask

    def release(self) -> None:
        pass


class FileTable:
    def __init__(self) -> None:
        self._files: dict[int, KernelFile] = {
            0: StandardStream(True),
            1: StandardStream(False),
            2: StandardStream(False),
        }
        self._references: dict[int, int] = {}  # id(file) -> descriptors naming it

    def open(self, file: KernelFile) -> int:
        fd = 0
        while fd in self._files:
            fd += 1
        self._files[fd] = file
        self._references[id(file)] = self._references.get(id(file), 0) + 1
        return fd

    def get(self, fd: int) -> KernelFile:
        file = self._files.get(fd)
        if file is None:
            raise os_error("EBADF")
        return file

    def find(self, fd: int) -> KernelFile | None:
        return self._files.get(fd)

    def dup(self, fd: int) -> int:
        return self.open(self.get(fd))

    def close(self, fd: int) -> None:
        file = self._files.pop(fd, None)
        if file is None:
            raise os_error("EBADF")
        left = self._references[id(file)] - 1
        if left:
            self._references[id(file)] = left
        else:
            del self._references[id(file)]
            file.release()

    def descriptors(self) -> list[int]:
        return sorted(self._files)

    def close_all(self) -> None:
        """Process exit: the kernel closes every descriptor (sockets with unread data send RST)."""
        for fd in self.descriptors():
            if fd > 2:
                self.close(fd)


class System(Protocol):
    """What the socket layer needs from whoever makes the call: a clock, a way to block, a table."""

    files: FileTable
    default_timeout: float | None

    def now(self) -> int: ...

    def wait(self, channels: tuple[Channel, ...], deadline: int | None) -> bool:
        """Block the calling process until a channel is notified (True) or ``deadline`` passes (False)."""
        ...

    def idle(self) -> None:
        """The call made no progress (EAGAIN, a clock read): lets the scheduler stop a busy loop."""
        ...
