"""A process's standard streams: scripted stdin, and stdout/stderr captured line by line.

Every line a process writes is kept with the virtual time it began, the host and the pid, so a lab can
show who printed what and when. ``input()`` reads the scripted lines and raises EOFError after the
last, as it does when a real script's stdin is a file. ``fileno()`` is refused on purpose: it makes
``input()`` take its portable path (write the prompt, read a line) and keeps the real terminal out.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OutputLine:
    time: int  # virtual ns when the line began
    host: str
    pid: int
    stream: str  # "stdout" or "stderr"
    text: str  # without its newline

    def render(self) -> str:
        return f"[{self.time / 1e9:10.6f}s] {self.host}[{self.pid}] {self.text}"


class ProcessStream(io.TextIOBase):
    """What a process's standard streams share: UTF-8 text, no terminal, and no descriptor."""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")


class CapturedStream(ProcessStream):
    def __init__(self, name: str, clock: Callable[[], int], host: str, pid: int, sink: list[OutputLine]) -> None:
        super().__init__()
        self.name = name
        self._clock = clock
        self._host = host
        self._pid = pid
        self._sinks = [sink]
        self.lines: list[OutputLine] = []
        self._chunks: list[str] = []
        self._partial: list[str] = []
        self._partial_since = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return 0
        self._chunks.append(text)
        pieces = text.split("\n")
        for index, piece in enumerate(pieces):
            if piece and not self._partial:
                self._partial_since = self._clock()
            if piece:
                self._partial.append(piece)
            if index < len(pieces) - 1:
                self._end_line()
        return len(text)

    def _end_line(self) -> None:
        since = self._partial_since if self._partial else self._clock()
        line = OutputLine(since, self._host, self._pid, self.name, "".join(self._partial))
        self._partial = []
        self.lines.append(line)
        for sink in self._sinks:
            sink.append(line)

    def flush(self) -> None:
        pass

    @property
    def text(self) -> str:
        """Everything written, exactly."""
        return "".join(self._chunks)


class ScriptedStdin(ProcessStream):
    """The scripted lines; with ``echo``, each line read is also written there, as a terminal shows
    what a person types after the prompt (a file or pipe on stdin echoes nothing: the default)."""

    def __init__(self, lines: Iterable[str], echo: Callable[[str], object] | None = None) -> None:
        super().__init__()
        self._text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        self._position = 0
        self._echo = echo

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        end = self._text.find("\n", self._position)
        end = len(self._text) if end < 0 else end + 1
        if size is not None and size >= 0:
            end = min(end, self._position + size)
        line = self._text[self._position : end]
        self._position = end
        if self._echo is not None and line:
            self._echo(line)
        return line

    def read(self, size: int | None = -1) -> str:
        end = len(self._text) if size is None or size < 0 else min(len(self._text), self._position + size)
        data = self._text[self._position : end]
        self._position = end
        if self._echo is not None and data:
            self._echo(data)
        return data

    @property
    def remaining(self) -> int:
        return len(self._text) - self._position
