"""Same topology and seed: byte-identical pcaps and traces. Another seed with loss: different, still valid."""

from __future__ import annotations

from scapy.utils import rdpcap

from wirelab.sim.network import Network
from wirelab.wire.dissect import dissect
from wirelab.wire.pcap import PcapReader


def impaired_run(seed: int) -> tuple[bytes, str, dict[str, int]]:
    net = Network(seed=seed)
    sw = net.switch("sw", ports=4)
    r = net.router("r")
    net.link(net.host("a", "192.168.1.10/24", gateway="192.168.1.1"), sw, delay="50us", loss="20%", reorder="10%")
    net.link(r, sw, address="192.168.1.1/24", duplicate="10%")
    net.link(r, net.host("c", "10.0.0.2/24", gateway="10.0.0.1"), address="10.0.0.1/24", corrupt="5%")
    capture = net.capture(net.links[0])
    net.ping("a", "10.0.0.2", count=40, interval="10ms")
    net.run(until="20s")
    return capture.to_bytes(), net.trace.render(), dict(net.counters["a"])


def test_same_seed_same_bytes_and_same_trace() -> None:
    first = impaired_run(7)
    second = impaired_run(7)
    assert first[0] == second[0]
    assert first[1] == second[1]
    assert first[2] == second[2]


def test_another_seed_differs_and_is_still_valid(tmp_path: object) -> None:
    pcap_7, _, _ = impaired_run(7)
    pcap_8, _, _ = impaired_run(8)
    assert pcap_7 != pcap_8
    for pcap in (pcap_7, pcap_8):
        frames = [record.frame for record in PcapReader(pcap)]
        assert frames and all(dissect(frame).ok for frame in frames)
        path = f"{tmp_path}/run.pcap"
        with open(path, "wb") as file:
            file.write(pcap)
        assert [bytes(p) for p in rdpcap(path)] == frames
