"""The real-time engine and ``wirelab tap``'s argument handling: no root, no TAP, no namespace needed.

The engine is driven with tiny timeouts and a pipe standing in for the TAP; the tests assert order
and monotonic time, never durations (speed lives in the benchmarks).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wirelab.cli import main
from wirelab.process.scheduler import ProcessState
from wirelab.sim.node import SimNode
from wirelab.stack.node import IpNode
from wirelab.tap.command import TapUsageError, program_target
from wirelab.tap.runtime import RealTimeEngine, real_time_scheduler
from wirelab.trace import Counters, Trace
from wirelab.wire.mac import MacAddress


@pytest.fixture
def engine() -> Iterator[RealTimeEngine]:
    engine = RealTimeEngine(seed=1)
    yield engine
    engine.close()


def test_timers_run_in_deadline_order_and_time_never_goes_back(engine: RealTimeEngine) -> None:
    seen: list[tuple[str, int]] = []
    engine.call_later(2_000_000, lambda _: seen.append(("second", engine.now)))
    engine.call_later(1_000_000, lambda _: seen.append(("first", engine.now)))
    assert engine.run_until(lambda: len(seen) == 2, timeout=5)
    assert [name for name, _ in seen] == ["first", "second"]
    assert seen[0][1] == 1_000_000  # an event sees its own deadline as now, as in the simulator
    assert seen[1][1] == 2_000_000
    assert engine.now >= 2_000_000


def test_a_readable_descriptor_wakes_the_loop_after_the_timers_due_before_it(engine: RealTimeEngine) -> None:
    read_end, write_end = os.pipe2(os.O_NONBLOCK)
    times: list[tuple[str, int]] = []

    def readable() -> None:
        times.append(("frame", engine.now))
        os.read(read_end, 100)

    engine.add_reader(read_end, readable)
    engine.call_later(0, lambda _: times.append(("timer", engine.now)))
    os.write(write_end, b"frame")
    try:
        assert engine.run_until(lambda: len(times) == 2, timeout=5)
    finally:
        engine.remove_reader(read_end)
        os.close(read_end)
        os.close(write_end)
    assert [kind for kind, _ in times] == ["timer", "frame"]
    assert times[0][1] <= times[1][1]


def test_a_stop_request_from_another_thread_ends_the_run(engine: RealTimeEngine) -> None:
    stopper = threading.Timer(0.01, engine.request_stop)
    stopper.start()
    assert engine.run_until(timeout=30) is False
    stopper.join()


def test_a_timeout_ends_the_run(engine: RealTimeEngine) -> None:
    assert engine.run_until(lambda: False, timeout=0.01) is False


def test_processes_run_on_the_engine_and_read_the_real_time(engine: RealTimeEngine) -> None:
    scheduler = real_time_scheduler(engine, live=False)
    host = _host_without_wire(engine)

    def program() -> None:
        import time as process_time  # noqa: PLC0415 - inside the process: its own time module

        process_time.sleep(0.001)
        print(repr(process_time.time()))

    process = scheduler.start(host, program)
    assert engine.run_until(lambda: process.exited, timeout=5)
    assert process.state is ProcessState.EXITED and process.exit_code == 0
    # The process reads the wall clock as of the event it runs in (its deadline, as in the simulator).
    assert engine.epoch / 1e9 <= float(process.stdout) <= time.time()


def _host_without_wire(engine: RealTimeEngine) -> SimNode:
    trace, counters = Trace(enabled=False), Counters()
    node = SimNode(engine, "h", IpNode("h", trace=trace, counters=counters), trace, counters)
    node.stack.add_interface(MacAddress("02:00:00:00:00:01"), "10.7.0.2/24")
    return node


# -- what to run after -- -------------------------------------------------------------------------


def test_the_program_after_the_double_dash(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text("print('hi')\n")
    assert program_target(["--", "python", str(script), "8000"]) == (script, ["8000"])
    assert program_target(["python3", str(script)]) == (script, [])
    assert program_target([sys.executable, str(script), "-v"]) == (script, ["-v"])
    assert program_target([str(script), "x"]) == (script, ["x"])
    path, argv = program_target(["python", "-m", "http.server", "8000"])
    assert (path.name, path.parent.name, argv) == ("server.py", "http", ["8000"])
    path, argv = program_target(["python", "-m", "json.tool", "x.json"])
    assert path.name == "tool.py"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--"], "no program after --"),
        (["python"], "python needs a script"),
        (["python", "-c", "print(1)"], "python option -c is not supported here (only -m)"),
        (["python", "-m", "no_such_module_here"], "no Python module named 'no_such_module_here'"),
        (["python", "/no/such/script.py"], "/no/such/script.py: no such script"),
    ],
)
def test_a_program_that_cannot_run_is_a_usage_error(words: list[str], message: str) -> None:
    with pytest.raises(TapUsageError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        program_target(words)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--ip", "10.7.0.2"], "--ip '10.7.0.2' needs its prefix length (10.7.0.2/24)"),
        (["--ip", "10.7.0.300/24"], "--ip '10.7.0.300/24' is not an IPv4 address with a prefix (10.7.0.2/24)"),
        (["--ip", "10.7.0.2/24", "--mtu", "20"], "--mtu 20 is not in 68..65521"),
        (["--ip", "10.7.0.2/24", "--gateway", "nope"], "--gateway 'nope' is not an IPv4 address"),
        (["--ip", "10.7.0.2/24", "--port", "8", "--serve", "echo", "--serve", "http"], "--port needs exactly one"),
        (["--ip", "10.7.0.2/24", "--mac", "02:00"], "--mac: not a MAC address: '02:00'"),
        (["--ip", "10.7.0.2/24", "--dev", "a/b"], "'a/b' is not a valid interface name (1 to 15 characters)"),
    ],
)
def test_arguments_that_cannot_work_are_one_line_errors_before_any_device_is_touched(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tap", *arguments]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wirelab: error: {message}")
    assert err.count("\n") == 1
