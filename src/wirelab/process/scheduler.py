"""Processes on simulated hosts, run cooperatively on the simulator's virtual time (greenlets).

A :class:`Process` runs in its own greenlet until it blocks — ``sleep``, ``accept``, ``recv``,
``select``, a lock — and then switches back to the simulator, which carries on with its events. What
can end a wait is an event too: a socket's wait channel notified by the stack, or a timer at the
deadline; the wake-up is scheduled as an event at the current instant, so processes resume in the
order their reasons happened and a run stays a pure function of the seed. Processes are infinitely
fast: only waiting lets virtual time pass. (A process that spins — a thousand calls in a row that
find nothing to do, such as non-blocking ``recv`` in a loop or reading the clock — is preempted for
one millisecond, as a time-sharing kernel would let the others run.)

Every switch into a process goes through :meth:`Scheduler._resume`, the one place that swaps the
process's world in and out: its ``sys.modules`` view (see :mod:`wirelab.process.modules`),
``sys.stdin``/``stdout``/``stderr``, ``sys.argv`` and ``sys.path[0]``. Nothing is patched globally,
and the real interpreter sees its own modules again as soon as the process blocks.

A :class:`ProcessImage` is what the threads of one program share: descriptors, modules, streams.
Threads (``threading.Thread``, ``socketserver.ThreadingMixIn``) are processes of the same host with
the same image. When the main thread ends, the program waits for its non-daemon threads (CPython's
own ``threading._shutdown``), then its daemon threads are killed and its descriptors closed, and
``exit_code`` says how it ended (0, ``sys.exit``'s code, 1 after an uncaught exception, whose
traceback the process printed to its stderr as Python would).
"""

from __future__ import annotations

import builtins
import enum
import importlib
import io
import sys
import traceback
import types
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from greenlet import GreenletExit, greenlet  # type: ignore[import-untyped]

from wirelab.process.clock import make_time_module
from wirelab.process.modules import Overlay, Views
from wirelab.process.stdio import CapturedStream, OutputLine, ScriptedStdin
from wirelab.process.threads import SimLock, make_thread_module
from wirelab.sockets.api import make_select_module, make_socket_module
from wirelab.sockets.channel import Channel
from wirelab.sockets.files import FileTable
from wirelab.sockets.host import HostSockets, host_of

if TYPE_CHECKING:
    from wirelab.sim.engine import Simulator
    from wirelab.sim.node import SimNode

MILLISECOND: Final = 1_000_000
EPOCH: Final = 1_704_067_200 * 1_000_000_000  # virtual time 0 is 2024-01-01 00:00:00 UTC
SPIN_LIMIT: Final = 1000  # calls that found nothing to do, in a row, before a process is preempted
SPIN_SLICE: Final = 1 * MILLISECOND
_PACKAGE: Final = str(Path(__file__).resolve().parents[1])  # .../wirelab: frames hidden from tracebacks


class ProcessState(enum.Enum):
    READY = "ready"
    RUNNING = "running"
    BLOCKED = "blocked"
    EXITED = "exited"


def scheduler_of(sim: Simulator) -> Scheduler:
    """The simulator's process scheduler, created on first use."""
    scheduler = getattr(sim, "scheduler", None)
    if scheduler is None:
        scheduler = Scheduler(sim)
        sim.scheduler = scheduler  # type: ignore[attr-defined]
    assert isinstance(scheduler, Scheduler)
    return scheduler


class Process:
    """One thread of execution on a host: a program's main thread, or a thread it started."""

    def __init__(self, image: ProcessImage, name: str, run: Callable[[], object], *, thread: bool) -> None:
        self.image = image
        self.scheduler = image.scheduler
        self.host = image.host
        self.pid = image.sockets_pid()
        self.name = name
        self.is_thread = thread
        self._run_target = run
        self.state = ProcessState.READY
        self.exit_code: int | None = None
        self.exception: BaseException | None = None
        self.traceback: str | None = None
        self.started_at = self.scheduler.sim.now
        self.exited_at: int | None = None
        self.killed = False
        self.blocked_in: str | None = None
        self.sentinels: list[SimLock] = []
        self.greenlet = greenlet(self._main)
        self._token: object | None = None
        self._killing = False
        self.idle_calls = 0

    # -- what tests and labs read -----------------------------------------------------------------
    @property
    def exited(self) -> bool:
        return self.state is ProcessState.EXITED

    @property
    def stdout(self) -> str:
        return self.image.stdout.text

    @property
    def stderr(self) -> str:
        return self.image.stderr.text

    @property
    def output(self) -> list[OutputLine]:
        return sorted(self.image.stdout.lines + self.image.stderr.lines, key=lambda line: line.time)

    @property
    def threads(self) -> list[Process]:
        return [thread for thread in self.image.threads if thread is not self]

    def __repr__(self) -> str:
        status = f"exit {self.exit_code}" if self.exited else self.state.value
        return f"Process({self.host.name}[{self.pid}] {self.name}: {status})"

    # -- the greenlet -----------------------------------------------------------------------------
    def _main(self, *_: object) -> None:
        image = self.image
        code = 0
        try:
            try:
                if not self.is_thread:
                    image.prepare()
                self._run_target()
            except SystemExit as exit_request:
                code = self._exit_code(exit_request)
            except GreenletExit:
                code, self.killed = -9, True
            except BaseException as error:
                code = 1
                self.exception = error
                self.traceback = format_exception(error)
                if self.is_thread:
                    image.stderr.write(f"Exception ignored in thread started by: {self.name}\n")
                image.stderr.write(self.traceback)
            if not self.is_thread and not self.killed:
                try:
                    image.wait_for_threads()
                except GreenletExit:
                    self.killed = True
        finally:
            self.exit_code = code if not self.is_thread else (code if code in (0, 1) else 0)
            self._finish()

    def _exit_code(self, exit_request: SystemExit) -> int:
        value = exit_request.code
        if value is None:
            return 0
        if isinstance(value, int):
            return value & 0xFF
        if not self.is_thread:
            self.image.stderr.write(f"{value}\n")
        return 1

    def _finish(self) -> None:
        if self._killing:  # whatever the program caught on its way out (threading catches everything)
            self.killed, self.exit_code = True, -9
        self.state = ProcessState.EXITED
        self.exited_at = self.scheduler.sim.now
        for lock in self.sentinels:  # join() on this thread returns (the thread state is gone)
            if lock.locked():
                lock.release()
        if not self.is_thread:
            self.image.exit()


class ProcessImage:
    """What a program's threads share: its host, descriptors, modules and standard streams."""

    def __init__(
        self,
        scheduler: Scheduler,
        node: SimNode,
        name: str,
        argv: Sequence[str],
        stdin: Iterable[str],
        *,
        script_dir: str | None = None,
        echo_stdin: bool = False,
    ) -> None:
        self.scheduler = scheduler
        self.host = node
        self.sockets: HostSockets = host_of(node)
        self.files = FileTable()
        self.default_timeout: float | None = None
        self.argv = list(argv)
        self.script_dir = script_dir
        self.threads: list[Process] = []
        self._pid = getattr(node, "next_pid", 100)
        self.main = Process(self, name, lambda: None, thread=False)
        clock = lambda: scheduler.sim.now  # noqa: E731
        self.stdout = CapturedStream("stdout", clock, node.name, self.main.pid, scheduler.output)
        self.stderr = CapturedStream("stderr", clock, node.name, self.main.pid, scheduler.output)
        self.stdin = ScriptedStdin(stdin, self.stdout.write if echo_stdin else None)
        self.threads.append(self.main)
        self.modules: Overlay = {
            "_socket": make_socket_module(self, self.sockets),
            "select": make_select_module(self),
            "_thread": make_thread_module(self),
            "time": scheduler.time_module,
            "_ssl": None,
        }
        self.exited = False

    def sockets_pid(self) -> int:
        pid: int = getattr(self.host, "next_pid", 100)
        self.host.next_pid = pid + 1  # type: ignore[attr-defined]
        return pid

    # -- the System interface the socket layer calls ----------------------------------------------
    def now(self) -> int:
        return self.scheduler.sim.now

    def wait(self, channels: tuple[Channel, ...], deadline: int | None) -> bool:
        return self.scheduler.wait(channels, deadline)

    def idle(self) -> None:
        self.scheduler.idle()

    # -- life -------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Import the stdlib's socket.py over this process's _socket (in the process's own view)."""
        socket_module = importlib.import_module("socket")
        give_up = socket_module._GiveupOnSendfile

        def no_sendfile(self: Any, file: Any, offset: int = 0, count: int | None = None) -> int:
            raise give_up("os.sendfile() cannot reach a simulated socket")

        socket_module.socket._sendfile_use_sendfile = no_sendfile

    def start_thread(self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Process:
        if self.exited:
            raise RuntimeError("can't start new thread")
        name = getattr(function, "__qualname__", repr(function))
        label = repr(function) if name == "<lambda>" else f"<{name}>"
        thread = Process(self, label, lambda: function(*args, **kwargs), thread=True)
        self.threads.append(thread)
        self.scheduler.spawn(thread)
        return thread

    def wait_for_threads(self) -> None:
        threading = self.modules.get("threading")
        if isinstance(threading, types.ModuleType):
            threading._shutdown()

    def exit(self) -> None:
        self.exited = True
        for thread in self.threads:
            if not thread.exited and thread is not self.main:
                self.scheduler.kill(thread)
        self.files.close_all()


class Scheduler:
    def __init__(self, sim: Simulator, *, epoch: int = EPOCH) -> None:
        self.sim = sim
        self.epoch = epoch
        self.processes: list[Process] = []
        self.output: list[OutputLine] = []
        self.current: Process | None = None
        self.views = Views()
        self.time_module = make_time_module(self)

    # -- starting ---------------------------------------------------------------------------------
    def start(
        self,
        node: SimNode,
        target: str | Path | Callable[..., object],
        *,
        argv: Sequence[str] = (),
        stdin: Iterable[str] = (),
        args: Sequence[object] = (),
        name: str | None = None,
        delay: int = 0,
        echo_stdin: bool = False,
    ) -> Process:
        """Start a program on ``node``: a script file (run as ``__main__`` with ``argv``) or a callable.
        ``echo_stdin`` shows each scripted line in stdout as it is read, as a terminal would."""
        if callable(target):
            label = name or str(getattr(target, "__name__", "process"))
            image = ProcessImage(self, node, label, [label, *argv], stdin, echo_stdin=echo_stdin)
            function = target
            image.main._run_target = lambda: function(*args)
        else:
            path = Path(target)
            label, script_dir = name or path.name, str(path.parent)
            image = ProcessImage(
                self, node, label, [str(path), *argv], stdin, script_dir=script_dir, echo_stdin=echo_stdin
            )
            image.main._run_target = lambda: run_script(path)
        self.spawn(image.main, delay)
        return image.main

    def spawn(self, process: Process, delay: int = 0) -> None:
        self.processes.append(process)
        self.sim.call_later(delay, self._resume, (process, True, False))

    def kill(self, process: Process) -> None:
        """End a process: it unwinds (finally blocks run) at the current instant."""
        if process.exited or process._killing:
            return
        process._killing = True
        process._token = None
        if not process.greenlet:  # never started
            process.killed = True
            process.exit_code = -9
            process._finish()
            return
        self.sim.call_later(0, self._resume, (process, None, True))

    def shutdown(self) -> None:
        """Kill every process still running (servers that never return), and let them unwind."""
        for process in list(self.processes):
            self.kill(process)
        self.sim.run(self.sim.now)

    # -- the switch -------------------------------------------------------------------------------
    def _resume(self, argument: tuple[Process, object, bool]) -> None:
        process, value, throw = argument
        if process.exited:
            return
        if self.current is not None:
            raise RuntimeError("the simulator cannot be run from inside a simulated process")
        hub = greenlet.getcurrent()
        process.greenlet.parent = hub
        image = process.image
        installed = self.views.install(image.modules)
        saved = (sys.stdin, sys.stdout, sys.stderr, sys.argv)
        if throw:  # a killed process unwinds silently (a daemon thread at exit prints nothing)
            sys.stdin, sys.stdout, sys.stderr, sys.argv = image.stdin, io.StringIO(), io.StringIO(), image.argv
        else:
            sys.stdin, sys.stdout, sys.stderr, sys.argv = image.stdin, image.stdout, image.stderr, image.argv
        if image.script_dir is not None:
            sys.path.insert(0, image.script_dir)
        self.current = process
        process.state = ProcessState.RUNNING
        process.idle_calls = 0
        try:
            if throw:
                process.greenlet.throw(GreenletExit)
            else:
                process.greenlet.switch(value)
        finally:
            self.current = None
            if image.script_dir is not None and sys.path and sys.path[0] == image.script_dir:
                del sys.path[0]
            sys.stdin, sys.stdout, sys.stderr, sys.argv = saved
            self.views.uninstall(image.modules, installed)
        if not process.exited and process.greenlet.dead:
            process._finish()

    # -- blocking (the System interface, for whichever process is running) ------------------------
    def wait(self, channels: tuple[Channel, ...], deadline: int | None, what: str = "wait") -> bool:
        """Block the running process until a channel is notified (True) or ``deadline`` (False)."""
        process = self.current
        if process is None:
            raise RuntimeError("a blocking call outside a simulated process")
        if process._killing:
            raise GreenletExit
        token = object()
        process._token = token

        def wake() -> None:
            self._wake(process, token, True)

        for channel in channels:
            channel.add_waiter(token, wake)
        timer = (
            self.sim.call_at(max(deadline, self.sim.now), self._timeout, (process, token))
            if deadline is not None
            else None
        )
        process.state = ProcessState.BLOCKED
        process.idle_calls = 0
        parent = process.greenlet.parent
        assert parent is not None
        try:
            woken = parent.switch()
        finally:
            for channel in channels:
                channel.remove_waiter(token)
            if timer is not None:
                timer.cancel()
            process._token = None
        return bool(woken)

    def _wake(self, process: Process, token: object, value: bool) -> None:
        if process._token is token:
            process._token = None
            self.sim.call_later(0, self._resume, (process, value, False))

    def _timeout(self, argument: tuple[Process, object]) -> None:
        process, token = argument
        if process._token is token:
            process._token = None
            self._resume((process, False, False))

    def sleep(self, duration: int) -> None:
        process = self.current
        if process is None:
            raise RuntimeError("time.sleep() outside a simulated process")
        self.wait((), self.sim.now + duration)

    def idle(self) -> None:
        """A call that found nothing to do: after SPIN_LIMIT in a row, let virtual time pass."""
        process = self.current
        if process is None:
            return
        process.idle_calls += 1
        if process.idle_calls >= SPIN_LIMIT:
            process.idle_calls = 0
            self.wait((), self.sim.now + SPIN_SLICE)

    # -- reading ----------------------------------------------------------------------------------
    def transcript(self) -> str:
        return "\n".join(line.render() for line in self.output)


def run_script(path: Path) -> None:
    """Run a script file as ``python path`` would: as ``__main__``, with its own globals."""
    source = path.read_bytes()
    code = compile(source, str(path), "exec", dont_inherit=True)
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__file__": str(path),
        "__builtins__": builtins,
        "__doc__": None,
        "__package__": None,
        "__spec__": None,
        "__loader__": None,
        "__cached__": None,
    }
    exec(code, namespace)


def format_exception(error: BaseException) -> str:
    """Python's traceback text, without wirelab's own frames (a real kernel does not show up either)."""
    summary = traceback.TracebackException.from_exception(error)
    seen: set[int] = set()

    def strip(node: traceback.TracebackException | None) -> None:
        while node is not None and id(node) not in seen:
            seen.add(id(node))
            node.stack = traceback.StackSummary.from_list(
                [frame for frame in node.stack if not frame.filename.startswith(_PACKAGE)]
            )
            strip(node.__cause__)
            node = node.__context__

    strip(summary)
    return "".join(summary.format())
