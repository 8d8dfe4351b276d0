"""The ladder diagram of one TCP connection, drawn from the capture and the trace."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

from wirelab.process.lab import start
from wirelab.sim.network import Network
from wirelab.trace.ladder import ladder

PROGRAMS = Path(__file__).resolve().parent / "programs"


def test_the_handshake_reads_as_the_course_draws_it() -> None:
    net = Network(seed=1)
    sw = net.switch("sw", ports=4)
    net.link(net.host("a", "192.168.1.10/24"), sw)
    net.link(net.host("b", "192.168.1.20/24"), sw)
    capture = net.capture("a:eth0")
    start(net, "b", PROGRAMS / "tcp_once_server.py", argv=["0.0.0.0", "8080"])
    client = start(net, "a", PROGRAMS / "tcp_once_client.py", argv=["192.168.1.20", "8080"], delay="1ms")
    net.run(until="100s")
    assert client.exit_code == 0
    first = net.trace.select(kind="tcp.state")[0]
    host, port = str(first.fields["local"]).rsplit(":", 1)
    left = (IPv4Address(host), int(port))
    drawing = ladder(capture.records, left, (IPv4Address("192.168.1.20"), 8080), net.trace.select(kind="tcp.state"))
    lines = drawing.splitlines()
    arrows = [line.strip() for line in lines if "seq=" in line]
    # The three-way handshake: SYN seq=0 over, SYN,ACK seq=0 ack=1 back (the SYN took one number), ACK.
    assert arrows[0].startswith("|---- SYN seq=0 ") and arrows[0].endswith(">|")
    assert arrows[1].startswith("|<---- SYN,ACK seq=0 ack=1 ")
    assert arrows[2].startswith("|---- ACK seq=1 ack=1 ")
    # Both ends' states, on their own side, and every row the same width.
    assert lines[1].startswith("SYN-SENT") and any(line.rstrip().endswith("| SYN-RECEIVED") for line in lines)
    assert lines[-1].startswith("CLOSED")
    assert len({line.index("|", 13) for line in lines[1:]}) == 1
