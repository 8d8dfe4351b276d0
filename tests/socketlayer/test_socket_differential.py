"""The socket module, call by call, against Linux: each probe runs on this machine and on a simulated host.

A probe (``tests/socketlayer/probes/*.py``) is a plain script — the standard library only — that
exercises one group of the calls issue 5 lists and prints one line per check: the result, or the
error's class, errno name and text. It runs once as a real subprocess on this machine's loopback
(127.0.0.1 only: no other address of the real machine is ever touched) and once as a process on a
simulated host, and the two outputs must be identical. What two runs on one machine cannot agree on
is normalised by the probes themselves and never compared: ephemeral port numbers (printed as
``EPHEMERAL`` when they are in Linux's 32768-60999, so a port outside that range still differs) and
descriptor numbers (only "above the standard streams" is printed); the probe's second host address
(the simulated host's own, 127.0.0.1 again on the real machine) prints as ``HOST``.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

from wirelab.process import scheduler_of, start
from wirelab.sim.network import Network

PROBES = Path(__file__).resolve().parent / "probes"
HOST_A = "192.168.1.10"
HOST_B = "192.168.2.10"


def real_run(probe: str, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-u", str(PROBES / probe), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def two_lans() -> Network:
    net = Network(seed=5)
    sw1, sw2 = net.switch("sw1"), net.switch("sw2")
    net.link(net.host("a", f"{HOST_A}/24", gateway="192.168.1.1"), sw1, delay="50us")
    net.link(net.host("b", f"{HOST_B}/24", gateway="192.168.2.1"), sw2, delay="50us")
    router = net.router("r1")
    net.link(router, sw1, address="192.168.1.1/24")
    net.link(router, sw2, address="192.168.2.1/24")
    return net


def simulated_run(probe: str, *argv: str, until: str = "120s") -> str:
    net = two_lans()
    process = start(net, "a", PROBES / probe, argv=argv)
    net.run(until=until)
    scheduler = scheduler_of(net.sim)
    assert process.exited, f"{probe} still {process.state.value} at {until}: {process.stdout}"
    assert process.exit_code == 0, process.stderr
    scheduler.shutdown()
    return process.stdout


ONE_PROCESS = ["basics.py", "tcp_stream.py", "options.py", "timeouts.py", "udp.py", "names.py", "timewait.py"]


@pytest.mark.parametrize("probe", ONE_PROCESS)
def test_a_probe_prints_what_it_prints_on_linux(probe: str) -> None:
    real = real_run(probe, "127.0.0.1")
    simulated = simulated_run(probe, HOST_A)
    assert simulated == real, "".join(
        difflib.unified_diff(real.splitlines(keepends=True), simulated.splitlines(keepends=True), "linux", "wirelab")
    )
