"""Beyond one TAP: several wirelab hosts on one Ethernet segment through the kernel's own bridge, and
across two "machines" (two namespaces joined by a veth pair as the physical network) through the
kernel's VXLAN — no home-made tunnel. Plus ``nc`` as the Linux peer.

    one machine:   wirelab A (wl0) ─┐
                                     br0 (10.7.0.1) ── the kernel
                   wirelab B (wl1) ─┘

    two machines:  wirelab A ─ wl0 ─ br0 ─ vx0 ══ VXLAN 42 over a veth, 10.7.255.1 ↔ 10.7.255.2 ══
                   vx0 ─ br0 ─ wl0 ─ wirelab B
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

from netns import WIRELAB_IP, Namespace, Running, namespace, require

PEERS = Path(__file__).resolve().parent / "peers"
SECOND_IP = "10.7.0.3"
COUNT = 1_000_000


def _wirelab(ns: Namespace, device: str, address: str, *options: str, program: tuple[str, ...] = ()) -> Running:
    argv = [sys.executable, "-m", "wirelab", "tap", "--dev", device, "--ip", f"{address}/24", *options]
    if program:
        argv += ["--", sys.executable, str(PEERS / program[0]), *program[1:]]
    return Running(ns.command(*argv))


def _tap_on_bridge(ns: Namespace, tap: str) -> None:
    ns.run("ip", "tuntap", "add", "dev", tap, "mode", "tap")
    ns.run("ip", "link", "set", tap, "master", "br0", "up")


def _transfer(
    sink_side: tuple[Namespace, str], source_side: tuple[Namespace, str], mtu: int = 1500, *options: str
) -> None:
    """wirelab B sends COUNT octets to wirelab A (tcp_source -> tcp_sink, both run on wirelab): byte-exact."""
    (sink_ns, sink_tap), (source_ns, source_tap) = sink_side, source_side
    sink = _wirelab(sink_ns, sink_tap, WIRELAB_IP, "--mtu", str(mtu), *options, program=("tcp_sink.py", "5001"))
    sink.wait_for("listening", stream="stdout")
    source = _wirelab(
        source_ns, source_tap, SECOND_IP, "--mtu", str(mtu), *options,
        program=("tcp_source.py", WIRELAB_IP, "5001", str(COUNT), "9"),
    )  # fmt: skip
    assert source.finish() == 0, source.text()
    assert sink.finish() == 0, sink.text()
    digest = hashlib.sha256(random.Random(9).randbytes(COUNT)).hexdigest()
    assert source.stdout == [f"sent {COUNT} sha256 {digest} eof True"]
    assert sink.stdout == ["listening", f"received {COUNT} sha256 {digest}"]


def test_two_wirelab_hosts_and_the_kernel_share_one_segment_through_the_kernels_bridge() -> None:
    require("ping")
    with namespace() as ns:
        ns.run("ip", "link", "add", "br0", "type", "bridge")
        ns.run("ip", "addr", "add", "10.7.0.1/24", "dev", "br0")
        ns.run("ip", "link", "set", "br0", "up")
        _tap_on_bridge(ns, "wl0")
        _tap_on_bridge(ns, "wl1")
        # wirelab B pings wirelab A across the bridge while the kernel pings A: one segment, three hosts.
        a = _wirelab(ns, "wl0", WIRELAB_IP, "--stats", "--duration", "30")
        a.wait_for("wirelab tap: ready")
        b = _wirelab(ns, "wl1", SECOND_IP, "--ping", WIRELAB_IP, "-c", "2", "-i", "0.2")
        assert b.finish() == 0, b.text()
        assert "2 packets transmitted, 2 received, 0% packet loss" in "\n".join(b.stdout)
        kernel = ns.run("ping", "-c", "2", "-i", "0.2", WIRELAB_IP)
        assert "2 packets transmitted, 2 received" in kernel.stdout
        assert a.stop() == 0
        arp = [line for line in a.stderr if line.startswith("wirelab tap: arp ")]
        assert any(f"({SECOND_IP}) at " in line for line in arp), a.text()  # A learnt B's MAC from B's request
        assert any("(10.7.0.1) at " in line for line in arp), a.text()
        _transfer((ns, "wl0"), (ns, "wl1"), 1500, "--no-offload")
        # With offloads on both TAPs (the default): B's large frames cross the bridge to A's TAP whole, as GSO.
        _transfer((ns, "wl0"), (ns, "wl1"), 1500)


def test_two_wirelab_hosts_on_two_machines_share_a_segment_through_the_kernels_vxlan() -> None:
    with namespace() as left, namespace() as right:
        # The "physical" network between the two machines: a veth pair, 10.7.255.1 <-> 10.7.255.2.
        left.run("ip", "link", "add", "phys", "type", "veth", "peer", "name", "phys", "netns", right.name)
        for ns, underlay, remote in ((left, "10.7.255.1", "10.7.255.2"), (right, "10.7.255.2", "10.7.255.1")):
            ns.run("ip", "addr", "add", f"{underlay}/24", "dev", "phys")
            ns.run("ip", "link", "set", "phys", "up")
            ns.run(
                "ip", "link", "add", "vx0", "type", "vxlan", "id", "42",
                "local", underlay, "remote", remote, "dstport", "4789", "dev", "phys",
            )  # fmt: skip
            ns.run("ip", "link", "add", "br0", "type", "bridge")
            ns.run("ip", "link", "set", "vx0", "master", "br0", "up")
            ns.run("ip", "link", "set", "br0", "up")
            _tap_on_bridge(ns, "wl0")
        # VXLAN takes 50 octets of the underlay's 1500: the segment's MTU is 1450 (vx0's), so wirelab's too.
        _transfer((left, "wl0"), (right, "wl0"), 1450, "--no-offload")
        # With offloads (the default): the kernel cuts wirelab's large frames to VXLAN's MTU before it
        # encapsulates them.
        _transfer((left, "wl0"), (right, "wl0"), 1450)


def test_nc_talks_to_wirelab_both_ways() -> None:
    require("nc")
    with namespace() as ns:
        wirelab = ns.wirelab("--serve", "echo").ready()
        echoed = ns.run("sh", "-c", f"printf 'hello over nc\\n' | nc -N -w 5 {WIRELAB_IP} 7")
        assert echoed.stdout == "hello over nc\n"
        assert wirelab.stop() == 0
        received = Path(ns.run("mktemp").stdout.strip())
        try:
            listener = Running(ns.command("sh", "-c", f"nc -l -N 5004 < /dev/null > {received}"))
            ns.wait_for_listener(5004)
            sender = ns.wirelab(program=[str(PEERS / "tcp_source.py"), "10.7.0.1", "5004", str(COUNT), "10"])
            assert sender.finish() == 0, sender.text()
            assert listener.finish() == 0, listener.text()
            assert received.read_bytes() == random.Random(10).randbytes(COUNT)
        finally:
            received.unlink()
