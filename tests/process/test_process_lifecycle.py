"""Processes on simulated hosts: exit status, tracebacks, stdin, threads, virtual time, determinism,
and the real interpreter left exactly as it was."""

# Programs import what they use inside their bodies: that is how a callable gets its host's modules.
# ruff: noqa: PLC0415

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from wirelab.process import ProcessState, scheduler_of, start
from wirelab.sim.network import Network

PROGRAMS = Path(__file__).resolve().parents[1] / "programs"


def single() -> Network:
    net = Network(seed=2)
    sw = net.switch("sw")
    net.link(net.host("h", "10.0.0.1/24"), sw)
    net.link(net.host("k", "10.0.0.2/24"), sw)
    return net


def test_an_uncaught_exception_prints_pythons_traceback_and_exits_1() -> None:
    net = single()
    process = start(net, "h", PROGRAMS / "crash.py", argv=["-v", "x"], stdin=["Ada"])
    net.run()
    real = subprocess.run(
        [sys.executable, str(PROGRAMS / "crash.py"), "-v", "x"],
        input="Ada\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.exit_code == real.returncode == 1
    assert process.stdout == real.stdout == "args: ['-v', 'x']\nname? hello Ada\nend of input\n"
    assert process.stderr == real.stderr
    assert isinstance(process.exception, KeyError) and process.traceback == process.stderr


def test_exit_codes() -> None:
    def exits(code: Any) -> Any:
        def program() -> None:
            import sys

            sys.exit(code)

        return program

    net = single()
    processes = [start(net, "h", exits(code)) for code in (None, 3, "bye", 256 + 7)]
    finished = start(net, "h", lambda: None)
    net.run()
    assert [p.exit_code for p in processes] == [0, 3, 1, 7]
    assert processes[2].stderr == "bye\n"
    assert finished.exit_code == 0 and finished.state is ProcessState.EXITED


def test_sleep_and_clocks_are_virtual() -> None:
    seen: list[Any] = []

    def program() -> None:
        import time

        began, wall = time.monotonic(), time.time()
        time.sleep(7200)  # two hours, in no time
        seen.append((time.monotonic() - began, time.time() - wall, time.strftime("%Y-%m-%d %H:%M")))

    net = single()
    start(net, "h", program)
    net.run()
    assert seen == [(7200.0, 7200.0, "2024-01-01 02:00")]
    assert net.sim.now == 7200 * 10**9


def test_threads_are_processes_of_the_same_host_and_join_works() -> None:
    seen: list[Any] = []

    def program() -> None:
        import threading
        import time

        def worker(n: int) -> None:
            time.sleep(n)
            seen.append((n, threading.current_thread().name, round(time.monotonic() % 1000, 3)))

        threads = [threading.Thread(target=worker, args=(n,), name=f"w{n}") for n in (2, 1)]
        for thread in threads:
            thread.start()
        daemon = threading.Thread(target=time.sleep, args=(100,), daemon=True)
        daemon.start()
        threads[0].join()
        seen.append(("joined", round(time.monotonic() % 1000, 3)))
        lock, event = threading.Lock(), threading.Event()
        with lock:
            seen.append(event.wait(0.5))

    net = single()
    main = start(net, "h", program)
    net.run(until="200s")
    assert seen == [(1, "w1", 1.0), (2, "w2", 2.0), ("joined", 2.0), False]
    assert main.exit_code == 0 and main.exited_at == int(2.5e9)
    assert len(main.threads) == 3 and all(thread.exited for thread in main.threads)
    assert main.threads[2].killed  # the daemon thread dies with its program


def test_non_daemon_threads_keep_the_program_alive() -> None:
    def program() -> None:
        import threading
        import time

        threading.Thread(target=lambda: (time.sleep(5), print("late"))).start()
        print("main done")

    net = single()
    main = start(net, "h", program)
    net.run()
    assert main.stdout == "main done\nlate\n" and main.exited_at == 5 * 10**9


def test_each_process_has_its_own_modules_and_descriptors() -> None:
    seen: list[Any] = []

    def program(label: str) -> Any:
        def run() -> None:
            import socket

            if label == "first":
                socket.setdefaulttimeout(3)
            s = socket.socket()
            seen.append((label, s.fileno(), socket.getdefaulttimeout(), id(socket)))

        return run

    net = single()
    start(net, "h", program("first"))
    start(net, "h", program("second"))
    net.run()
    (_, fd1, timeout1, module1), (_, fd2, timeout2, module2) = seen
    assert (fd1, fd2) == (3, 3) and (timeout1, timeout2) == (3.0, None) and module1 != module2


def test_the_real_interpreter_is_left_as_it_was() -> None:
    import selectors
    import socket
    import threading
    import time

    before = dict(sys.modules)
    streams = (sys.stdin, sys.stdout, sys.stderr, list(sys.argv), list(sys.path))

    def program() -> None:
        import http.client
        import queue
        import socketserver

        print(socketserver.TCPServer.__name__, http.client.HTTPConnection.__name__, queue.Queue.__name__)

    net = single()
    process = start(net, "h", program)
    net.run()
    assert process.exit_code == 0, process.stderr
    for name in ("socket", "select", "selectors", "time", "threading", "_socket"):
        assert sys.modules[name] is before[name]
    assert (socket.socket.__module__, selectors.DefaultSelector, threading.Thread, time.sleep) == (
        "socket",
        before["selectors"].DefaultSelector,  # type: ignore[attr-defined]
        before["threading"].Thread,  # type: ignore[attr-defined]
        before["time"].sleep,  # type: ignore[attr-defined]
    )
    for name in ("socketserver", "http.client", "queue"):
        if name in before:
            assert sys.modules[name] is before[name]
        else:
            assert name not in sys.modules or sys.modules[name].__dict__.get("socket") in (None, socket)
    assert (sys.stdin, sys.stdout, sys.stderr, sys.argv, sys.path) == streams


def test_same_seed_same_run() -> None:
    def once() -> tuple[str, str]:
        net = Network(seed=9)
        sw = net.switch("sw")
        net.link(net.host("a", "192.168.1.10/24"), sw, delay="1ms")
        net.link(net.host("b", "192.168.1.11/24"), sw, delay="1ms")
        start(net, "b", PROGRAMS / "tcp_loop_server.py", argv=["", "8080"])
        for index in range(3):
            start(
                net,
                "a",
                PROGRAMS / "tcp_interactive_client.py",
                argv=["192.168.1.11", "8080"],
                stdin=[f"message {index}", "q"],
                delay=f"{index}ms",
            )
        net.run(until="10s")
        scheduler = scheduler_of(net.sim)
        table = net["a"].tcp.socket_table()  # type: ignore[union-attr]
        scheduler.shutdown()
        return scheduler.transcript(), table

    first, second = once(), once()
    assert first == second
    assert first[0].count("客户端的数据") == 3
