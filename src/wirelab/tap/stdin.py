"""The standard input of the program ``wirelab tap`` runs: this process's own stdin, as it comes.

A terminal, a pipe or a file: whatever ``wirelab tap`` was given is the program's ``sys.stdin``, so
``input()`` in an unchanged script reads what a person types (or what a pipe brings). The descriptor is
watched by the engine's ``epoll`` like the TAP; a process that reads before a whole line has come waits
on a channel (the other processes and the stack go on), exactly as a socket call waits. ``fileno()`` is
refused, as for the simulator's scripted stdin, so ``input()`` takes its portable path (write the
prompt, read a line) and never touches the real terminal behind wirelab's back.

Regular files (and ``/dev/null``) cannot be watched by ``epoll`` and never block: they are read whole.
"""

from __future__ import annotations

import codecs
import errno
import os

from wirelab.process.scheduler import Scheduler
from wirelab.process.stdio import ProcessStream
from wirelab.sockets.channel import Channel
from wirelab.tap.runtime import RealTimeEngine

CHUNK = 65536


class LiveStdin(ProcessStream):
    def __init__(self, engine: RealTimeEngine, scheduler: Scheduler, fd: int = 0) -> None:
        super().__init__()
        self._engine = engine
        self._scheduler = scheduler
        self._fd = fd
        self._text = ""
        self._eof = False
        self._channel = Channel()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            engine.add_reader(fd, self._readable)
        except PermissionError as error:  # epoll refuses regular files: they are always ready
            if error.errno != errno.EPERM:
                raise
            while not self._eof:
                self._readable()

    def readable(self) -> bool:
        return True

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, CHUNK)
        except BlockingIOError:
            return
        if data:
            self._text += self._decoder.decode(data)
        else:
            self._text += self._decoder.decode(b"", final=True)
            self._eof = True
            self.close_reader()
        self._channel.notify()

    def close_reader(self) -> None:
        """Stop watching the descriptor (at EOF, or when wirelab ends)."""
        self._engine.remove_reader(self._fd)

    def _wait(self) -> None:
        self._scheduler.wait((self._channel,), None, "read")

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        while "\n" not in self._text and not self._eof and (size is None or size < 0 or len(self._text) < size):
            self._wait()
        end = self._text.find("\n")
        end = len(self._text) if end < 0 else end + 1
        if size is not None and size >= 0:
            end = min(end, size)
        line, self._text = self._text[:end], self._text[end:]
        return line

    def read(self, size: int | None = -1) -> str:
        while not self._eof and (size is None or size < 0 or len(self._text) < size):
            self._wait()
        end = len(self._text) if size is None or size < 0 else size
        data, self._text = self._text[:end], self._text[end:]
        return data
