"""wirelab on a real TAP against the Linux kernel, each test in a network namespace of its own.

Topology in every test: namespace ``wltest<pid>-<n>`` with a TAP ``wl0``; the kernel's side of the
TAP is 10.7.0.1/24, wirelab (``python -m wirelab tap``, a subprocess in the namespace) is 10.7.0.2/24.
The Linux peers are plain Python socket programs (tests/tap/peers/), ``ping`` and ``curl``; the same
peer programs run unchanged on wirelab after ``--``.
"""

from __future__ import annotations

import hashlib
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from netns import KERNEL_IP, WIRELAB_IP, Namespace, Running, namespace, require

TEN_MB = 10 * 1024 * 1024


def _digest(count: int, seed: int) -> str:
    return hashlib.sha256(random.Random(seed).randbytes(count)).hexdigest()


# -- link and network layers ----------------------------------------------------------------------


def test_linux_pings_wirelab_and_resolves_its_mac_by_arp() -> None:
    require("ping")
    with namespace() as ns:
        wirelab = ns.wirelab("--mac", "02:00:00:07:00:02", "--stats", "--trace").ready()
        ns.run("ip", "neigh", "flush", "dev", "wl0")
        ping = ns.run("ping", "-c", "3", "-i", "0.2", "-W", "2", WIRELAB_IP)
        assert "3 packets transmitted, 3 received, 0% packet loss" in ping.stdout
        # The kernel's cache was empty before the ping: it learnt wirelab's MAC by asking (ARP).
        neighbour = ns.run("ip", "neigh", "show", WIRELAB_IP, "dev", "wl0").stdout
        assert "lladdr 02:00:00:07:00:02" in neighbour
        assert wirelab.stop() == 0
        counters = _counters(wirelab.stderr)
        assert counters["icmp.echo.answered"] == 3
        assert counters["arp.rx.request"] >= 1
        # --trace narrated the course's decision for each reply: the AND, same LAN.
        assert any(f"{KERNEL_IP} AND 255.255.255.0 = 10.7.0.0" in line for line in wirelab.stderr), wirelab.text()


def test_wirelab_pings_linux_and_resolves_its_mac_by_arp() -> None:
    with namespace() as ns:
        ns.run("ip", "tuntap", "add", "dev", "wl0", "mode", "tap")  # persistent: its MAC outlives wirelab
        kernel_mac = ns.run("cat", "/sys/class/net/wl0/address").stdout.strip()
        wirelab = ns.wirelab("--ping", KERNEL_IP, "-c", "3", "-i", "0.2", "--stats")
        assert wirelab.finish() == 0, wirelab.text()
        out = "\n".join(wirelab.stdout)
        assert f"PING {KERNEL_IP} ({KERNEL_IP}) 56(84) bytes of data." in out
        assert re.search(rf"64 bytes from {KERNEL_IP}: icmp_seq=1 ttl=64 time=[0-9.]+ ms", out)
        assert "3 packets transmitted, 3 received, 0% packet loss" in out
        # wirelab asked for the kernel's MAC and holds it in its ARP table.
        assert f"wirelab tap: arp ? ({KERNEL_IP}) at {kernel_mac} [ether] reachable on wl0" in wirelab.stderr, (
            wirelab.text()
        )
        assert _counters(wirelab.stderr)["arp.tx.request"] >= 1


def _counters(stderr: list[str]) -> dict[str, int]:
    """What ``wirelab tap --stats`` printed: ``wirelab tap: counter NAME VALUE`` lines."""
    found: dict[str, int] = {}
    for line in stderr:
        if line.startswith("wirelab tap: counter "):
            name, value = line.removeprefix("wirelab tap: counter ").split()
            found[name] = int(value)
    return _Zero(found)


class _Zero(dict[str, int]):
    def __missing__(self, key: str) -> int:
        return 0


# -- TCP ------------------------------------------------------------------------------------------

PORT = 5001


@pytest.mark.parametrize(
    ("wirelab_program", "linux_program", "direction"),
    [
        (("tcp_sink.py", str(PORT)), ("tcp_source.py", WIRELAB_IP, str(PORT), str(TEN_MB), "1"), "to wirelab"),
        (("tcp_give.py", str(PORT), str(TEN_MB), "2"), ("tcp_take.py", WIRELAB_IP, str(PORT)), "from wirelab"),
    ],
    ids=["linux-client-sends", "linux-client-receives"],
)
def test_tcp_10mb_byte_exact_with_wirelab_as_server(
    wirelab_program: tuple[str, ...], linux_program: tuple[str, ...], direction: str
) -> None:
    with namespace() as ns:
        wirelab = ns.wirelab(program=[str(_peer(wirelab_program[0])), *wirelab_program[1:]]).ready()
        wirelab.wait_for("listening", stream="stdout")
        linux = ns.python(*linux_program)
        assert linux.returncode == 0, linux.stderr
        assert wirelab.finish() == 0, wirelab.text()
        _assert_same_bytes(direction, wirelab.stdout, linux.stdout.splitlines())


@pytest.mark.parametrize(
    ("linux_program", "wirelab_program", "direction"),
    [
        (("tcp_sink.py", str(PORT)), ("tcp_source.py", KERNEL_IP, str(PORT), str(TEN_MB), "3"), "from wirelab"),
        (("tcp_give.py", str(PORT), str(TEN_MB), "4"), ("tcp_take.py", KERNEL_IP, str(PORT)), "to wirelab"),
    ],
    ids=["wirelab-client-sends", "wirelab-client-receives"],
)
def test_tcp_10mb_byte_exact_with_wirelab_as_client(
    linux_program: tuple[str, ...], wirelab_program: tuple[str, ...], direction: str
) -> None:
    with namespace() as ns:
        linux = ns.start_python(*linux_program)
        linux.wait_for("listening", stream="stdout")
        wirelab = ns.wirelab(program=[str(_peer(wirelab_program[0])), *wirelab_program[1:]])
        assert wirelab.finish() == 0, wirelab.text()
        assert linux.finish() == 0, linux.text()
        _assert_same_bytes(direction, wirelab.stdout, linux.stdout)


def _peer(name: str) -> Path:
    return Path(__file__).resolve().parent / "peers" / name


def test_with_offloads_tcp_udp_and_icmp_stay_byte_exact(tmp_path: Path) -> None:
    """--offload (the default, said here outright): the kernel hands wirelab TCP segments of up to 64 KB
    and leaves transport checksums to it (IFF_VNET_HDR), and wirelab's TCP sends large segments the
    kernel takes whole; its own capture (the segments as its TCP made them, large ones included, with
    complete checksums) decodes with every checksum good."""
    require("ping", "tshark", "tcpdump")
    capture, on_the_tap, given = tmp_path / "offload.pcap", tmp_path / "tcpdump.pcap", tmp_path / "given.pcap"
    with namespace() as ns:
        sink = ns.wirelab("--offload", "--stats", "--pcap", str(capture), program=[str(_peer("tcp_sink.py")), "5001"])
        sink.ready().wait_for("listening", stream="stdout")
        sender = ns.python("tcp_source.py", WIRELAB_IP, "5001", str(TEN_MB), "11")
        assert sender.returncode == 0, sender.stderr
        assert sink.finish() == 0, sink.text()
        _assert_same_bytes("to wirelab", sink.stdout, sender.stdout.splitlines())
        counters = _counters(sink.stderr)
        assert counters["tap.rx.large-segments"] > 0 and counters["tap.rx.checksum-completed"] > 0, sink.text()
        giver = ns.wirelab(
            "--offload", "--stats", "--pcap", str(given), program=[str(_peer("tcp_give.py")), "5001", str(TEN_MB), "12"]
        )
        giver.ready().wait_for("listening", stream="stdout")
        tcpdump = Running(ns.command("tcpdump", "-i", "wl0", "-n", "-U", "-Z", "root", "-w", str(on_the_tap)))
        tcpdump.wait_for("listening on wl0")
        taker = ns.python("tcp_take.py", WIRELAB_IP, "5001")
        assert giver.finish() == 0, giver.text()
        tcpdump.stop()
        _assert_same_bytes("from wirelab", giver.stdout, taker.stdout.splitlines())
        sent = _counters(giver.stderr)
        # wirelab's TCP made large segments itself (TSO): fewer IP packets, and writes, than TCP segments.
        assert sent["tap.tx.large-segments"] > 0 and sent["ip.tx"] < sent["tcp.tx"] // 10, giver.text()
        assert sent["tap.tx.writes"] < sent["tcp.tx"] // 10, giver.text()
        echo = ns.wirelab("--offload", "--serve", "echo").ready()
        assert ns.python("udp_ask.py", WIRELAB_IP, "7", "offloaded").stdout.strip() == "reply offloaded"
        assert "2 received, 0% packet loss" in ns.run("ping", "-c", "2", "-i", "0.2", "-s", "1400", WIRELAB_IP).stdout
        assert echo.stop() == 0
    for made in (capture, given):  # what wirelab received, and what it sent: large segments, checksums complete
        assert len(_tshark(made).splitlines()) > 100
        assert _tshark(made, "-Y", "frame.len > 10000"), made.name
        assert _tshark(made, "-Y", _BAD) == "", made.name
    # tcpdump on the TAP sees the large frames themselves, checksums partial as from any TSO NIC: they
    # decode, nothing malformed (checksums not judged here).
    large = _tshark(on_the_tap, "-Y", "frame.len > 10000")
    assert large, "no large frame on the TAP"
    assert _tshark(on_the_tap, "-o", "tcp.check_checksum:FALSE", "-Y", "_ws.malformed") == ""


_OPEN_WITH_AND_WITHOUT_OFFLOADS = """
import errno
from wirelab.tap import device

with device.TapDevice.open("wl0", offload=None) as tap:
    print("granted", tap.offload)
real_ioctl = device.fcntl.ioctl

def refusing(fd, request, *args):
    if request == device.TUNSETOFFLOAD:
        raise OSError(errno.EINVAL, "refused")
    return real_ioctl(fd, request, *args)

device.fcntl.ioctl = refusing  # a kernel that will not set the offloads
with device.TapDevice.open("wl1", offload=None) as tap:
    print("refused", tap.offload)
try:
    device.TapDevice.open("wl2", offload=True)
except device.OffloadRefusedError as error:
    print(error)
"""


def test_offloads_are_the_default_when_the_kernel_grants_them_and_plain_frames_when_it_refuses() -> None:
    """``TapDevice.open(offload=None)`` (``wirelab tap`` without --offload/--no-offload): offloads when the
    kernel sets them, plain frames when TUNSETOFFLOAD fails; --offload (True) is then a clear error."""
    with namespace() as ns:
        result = ns.run(sys.executable, "-c", _OPEN_WITH_AND_WITHOUT_OFFLOADS)
    assert result.stdout.splitlines() == [
        "granted True",
        "refused False",
        "wl2: the kernel refused offloads: Invalid argument",
    ], result.stderr


def _assert_same_bytes(direction: str, wirelab: list[str], linux: list[str], expected: int = TEN_MB) -> None:
    """The sender's and the receiver's count and SHA-256 agree; the sender saw the receiver's FIN."""
    sender, receiver = (linux, wirelab) if direction == "to wirelab" else (wirelab, linux)
    sent = next(line for line in sender if line.startswith("sent "))
    received = next(line for line in receiver if line.startswith("received "))
    count, digest = sent.split()[1], sent.split()[3]
    assert received == f"received {count} sha256 {digest}"
    assert int(count) == expected
    assert sent.endswith("eof True")  # graceful close: each side read the other's FIN


_KERNEL_TCP_OPTIONS = ("net.ipv4.tcp_sack", "net.ipv4.tcp_timestamps", "net.ipv4.tcp_window_scaling")
_ONE_PERCENT_DROP = """
table netdev wltest_drop {
  chain in { type filter hook ingress device "wl0" priority 0; policy accept; numgen random mod 100 < 1 counter drop; }
  chain out { type filter hook egress device "wl0" priority 0; policy accept; numgen random mod 100 < 1 counter drop; }
}
"""


@pytest.mark.parametrize(
    ("options", "mtu", "drop", "offload"),
    [
        ("0", 1500, False, False),
        ("1", 576, False, False),
        ("0", 576, True, False),
        ("1", 1500, True, False),
        ("0", 576, True, True),
        ("1", 1500, True, True),
    ],
    ids=[
        "options-off-mtu-1500",
        "options-on-mtu-576",
        "options-off-mtu-576-drop-1pct",
        "options-on-drop-1pct",
        "options-off-mtu-576-drop-1pct-offload",
        "options-on-drop-1pct-offload",
    ],
)
def test_tcp_byte_exact_both_ways_whatever_the_kernel_offers(
    options: str, mtu: int, drop: bool, offload: bool, tmp_path: Path
) -> None:
    """SACK, timestamps and window scaling all off or all on in the kernel (sysctls in the namespace), MTU 576
    or 1500 on both sides, and 1% of the frames each way dropped by nftables on the TAP — with offloads,
    1% of the large frames too: a whole TSO segment of wirelab's lost at once, retransmitted MSS by MSS."""
    mode = () if offload else ("--no-offload",)  # offloads are the default
    if drop:
        require("nft", "tshark")
    else:
        require("tshark")
    count = TEN_MB
    with namespace() as ns:
        for key in _KERNEL_TCP_OPTIONS:
            ns.sysctl(key, options)
        ns.run("ip", "tuntap", "add", "dev", "wl0", "mode", "tap")
        if drop:
            ns.run("nft", "-f", "-", input=_ONE_PERCENT_DROP)
        capture = tmp_path / "sink.pcap"
        sink = ns.wirelab(
            *mode, "--mtu", str(mtu), "--pcap", str(capture), program=[str(_peer("tcp_sink.py")), str(PORT)]
        )
        sink.ready().wait_for("listening", stream="stdout")
        sender = ns.python("tcp_source.py", WIRELAB_IP, str(PORT), str(count), "7")
        assert sender.returncode == 0, sender.stderr
        assert sink.finish() == 0, sink.text()
        _assert_same_bytes("to wirelab", sink.stdout, sender.stdout.splitlines(), count)
        giver = ns.wirelab(
            *mode, "--mtu", str(mtu), "--stats", program=[str(_peer("tcp_give.py")), str(PORT), str(count), "8"]
        )
        giver.ready().wait_for("listening", stream="stdout")
        taker = ns.python("tcp_take.py", WIRELAB_IP, str(PORT))
        assert taker.returncode == 0, taker.stderr
        assert giver.finish() == 0, giver.text()
        _assert_same_bytes("from wirelab", giver.stdout, taker.stdout.splitlines(), count)
        sent = _counters(giver.stderr)
        if offload:
            assert sent["ip.tx"] < sent["tcp.tx"] // 4, giver.text()  # its TCP sent large segments (TSO)
        if drop:
            dropped = ns.run("nft", "list", "table", "netdev", "wltest_drop").stdout
            assert len(re.findall(r"counter packets [1-9]", dropped)) == 2, dropped  # both ways lost frames
    # The handshake as wirelab captured it: the kernel offers what its sysctls say, wirelab answers in kind.
    syn, syn_ack = _tshark(
        capture, "-Y", "tcp.flags.syn == 1", "-T", "fields", "-E", "separator=,",
        "-e", "tcp.flags.ack", "-e", "tcp.options.mss_val", "-e", "tcp.options.sack_perm",
        "-e", "tcp.options.timestamp.tsval", "-e", "tcp.options.wscale.shift",
    ).splitlines()[:2]  # fmt: skip
    mss = str(mtu - 40)
    offered = options == "1"
    for line, ack in ((syn, "0"), (syn_ack, "1")):
        flag, seen_mss, sack, tsval, wscale = line.split(",")
        assert (flag, seen_mss) == (ack, mss), line
        assert bool(sack) is offered and bool(tsval) is offered and bool(wscale) is offered, line


_HOLD_BACK = """
table netdev wltest_hold {
  chain in {
    type filter hook ingress device "wl0" priority 0; policy accept;
    tcp flags & (syn | ack) == syn | ack drop;
  }
}
"""  # wirelab's SYN-ACKs never reach the kernel (frames from wirelab enter the kernel at wl0's ingress)
_DROP_PURE_ACKS = """
table netdev wltest_hold {
  chain in { type filter hook ingress device "wl0" priority 0; policy accept; tcp flags == ack drop; }
}
"""  # wirelab's handshake ACK never reaches the kernel (its FIN, flagged FIN|ACK, does)


def test_ss_shows_the_states_expected_during_the_handshake_and_time_wait() -> None:
    require("ss", "nft")
    with namespace() as ns:
        ns.run("ip", "tuntap", "add", "dev", "wl0", "mode", "tap")
        # Linux connects to wirelab, whose SYN-ACKs are dropped: Linux stays in SYN-SENT, wirelab in SYN-RECV.
        ns.run("nft", "-f", "-", input=_HOLD_BACK)
        wirelab = ns.wirelab("--serve", "discard", "--stats").ready()
        client = ns.start_python("tcp_hold.py", WIRELAB_IP, "9", "0")
        _wait_for_ss(ns, "syn-sent", f"{WIRELAB_IP}:9")
        wirelab.process.send_signal(signal.SIGUSR1)  # wirelab prints its own table (as ss -tan) on SIGUSR1
        table = wirelab.wait_for("wirelab tap: ss SYN-RECV")
        assert re.search(rf" {WIRELAB_IP}:9 +{KERNEL_IP}:\d+$", table), table
        # Let the SYN-ACKs through: the kernel's next SYN gets one, the connection opens; the kernel closes
        # first, so the kernel ends in TIME-WAIT and wirelab in CLOSED.
        ns.run("nft", "delete", "table", "netdev", "wltest_hold")
        assert client.finish() == 0 and client.stdout == ["connected", "closed"], client.text()
        _wait_for_ss(ns, "time-wait", f"{WIRELAB_IP}:9")
        assert wirelab.stop() == 0
        # Now wirelab connects to a Linux listener and its handshake ACK is dropped: Linux in SYN-RECV.
        ns.run("nft", "-f", "-", input=_DROP_PURE_ACKS)
        server = ns.start_python("tcp_sink.py", str(PORT))
        server.wait_for("listening", stream="stdout")
        holder = ns.wirelab("--stats", program=[str(_peer("tcp_hold.py")), KERNEL_IP, str(PORT), "3"])
        holder.wait_for("connected", stream="stdout")
        _wait_for_ss(ns, "syn-recv", f"{KERNEL_IP}:{PORT}")
        # wirelab closes first: its FIN|ACK completes the handshake and the close; wirelab ends in TIME-WAIT.
        assert holder.finish() == 0, holder.text()
        assert server.finish() == 0 and server.stdout[-1].startswith("received 0 "), server.text()
        assert any(line.startswith("wirelab tap: ss TIME-WAIT") for line in holder.stderr), holder.text()


def _wait_for_ss(ns: Namespace, state: str, peer: str, timeout: float = 10) -> str:
    """``ss -tan state STATE`` in the namespace until a line names ``peer`` (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    listing = ""
    while time.monotonic() < deadline:
        listing = ns.run("ss", "-tanH", "state", state).stdout
        if peer in listing:
            return listing
        time.sleep(0.05)
    raise AssertionError(f"ss shows no {state} with {peer}:\n{ns.run('ss', '-tan').stdout}")


def test_connecting_to_a_closed_port_is_refused_by_a_reset() -> None:
    with namespace() as ns:
        wirelab = ns.wirelab("--stats").ready()
        result = ns.python("tcp_connect.py", WIRELAB_IP, "5999")
        assert result.stdout.strip() == "refused errno 111", result.stdout + result.stderr
        assert wirelab.stop() == 0
        assert _counters(wirelab.stderr)["tcp.tx.reset"] == 1, wirelab.text()


# -- UDP ------------------------------------------------------------------------------------------


def test_udp_both_ways_and_port_unreachable_seen_by_a_linux_client() -> None:
    with namespace() as ns:
        # Linux -> wirelab: the echo service's UDP side answers; a closed port answers ICMP port
        # unreachable, which Linux turns into ECONNREFUSED on the connected socket.
        wirelab = ns.wirelab("--serve", "echo", "--stats").ready()
        answered = ns.python("udp_ask.py", WIRELAB_IP, "7", "hello-from-linux")
        assert answered.stdout.strip() == "reply hello-from-linux", answered.stderr
        refused = ns.python("udp_ask.py", WIRELAB_IP, "5003", "anyone?")
        assert refused.stdout.strip() == "refused errno 111", refused.stdout + refused.stderr
        assert wirelab.stop() == 0
        assert _counters(wirelab.stderr)["icmp.error.sent.3.3"] == 1, wirelab.text()
        # wirelab -> Linux: the same client program, run on wirelab, hears the kernel's echo server.
        linux_server = ns.start_python("udp_echo_server.py", "5002")
        linux_server.wait_for("listening", stream="stdout")
        client = ns.wirelab(program=[str(_peer("udp_ask.py")), KERNEL_IP, "5002", "hello-from-wirelab"])
        assert client.finish() == 0, client.text()
        assert client.stdout == ["reply hello-from-wirelab"]
        linux_server.stop()


# -- B/S ------------------------------------------------------------------------------------------


def test_stdlib_http_server_on_wirelab_fetched_by_curl(tmp_path: Path) -> None:
    require("curl")
    page = "<!doctype html><title>wirelab</title><p>served by http.server on wirelab's stack</p>\n"
    (tmp_path / "index.html").write_text(page)
    blob = random.Random(5).randbytes(1_000_000)
    (tmp_path / "blob.bin").write_bytes(blob)
    with namespace() as ns:
        wirelab = ns.wirelab("--serve", "http", "--directory", str(tmp_path)).ready()
        index = ns.run("curl", "-sS", "--max-time", "20", f"http://{WIRELAB_IP}/")
        assert index.stdout == page
        ns.run("curl", "-sS", "--max-time", "20", "-o", str(tmp_path / "fetched.bin"), f"http://{WIRELAB_IP}/blob.bin")
        assert (tmp_path / "fetched.bin").read_bytes() == blob
        head = ns.run("curl", "-sS", "-I", "--max-time", "20", f"http://{WIRELAB_IP}/index.html")
        assert head.stdout.startswith("HTTP/1.0 200 OK")
        assert f"Content-Length: {len(page)}" in head.stdout
        assert wirelab.stop() == 0
        # http.server logs each request to stderr, as it does on Linux.
        assert any('"GET / HTTP/1.1" 200' in line for line in wirelab.stderr), wirelab.text()


_PAGE = """<!doctype html>
<html><head><title>wirelab</title><link rel="stylesheet" href="style.css"></head>
<body><h1 id="t">loading</h1><script src="app.js"></script></body></html>
"""
_SCRIPT = """const t = document.getElementById("t");
t.textContent = "rendered from wirelab";
t.dataset.color = getComputedStyle(t).color;
"""


def test_headless_chromium_renders_a_page_from_http_server_on_wirelab(tmp_path: Path) -> None:
    require("chromium")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(_PAGE)
    (site / "style.css").write_text("h1 { color: rgb(0, 128, 0); }\n")
    (site / "app.js").write_text(_SCRIPT)
    screenshot = tmp_path / "page.png"
    chromium = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    with namespace() as ns:
        wirelab = ns.wirelab("--serve", "http", "--directory", str(site)).ready()
        dom = ns.run(*chromium, "--dump-dom", f"http://{WIRELAB_IP}/", timeout=60).stdout
        ns.run(*chromium, f"--screenshot={screenshot}", "--window-size=400,200", f"http://{WIRELAB_IP}/", timeout=60)
        assert wirelab.stop() == 0
    # The page, its stylesheet and its script all came over wirelab's TCP: the script ran and saw the style.
    assert '<h1 id="t" data-color="rgb(0, 128, 0)">rendered from wirelab</h1>' in dom, dom
    for path in ("/", "/style.css", "/app.js"):
        assert any(f'"GET {path} HTTP/1.1" 200' in line for line in wirelab.stderr), wirelab.text()
    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (400, 200)  # IHDR


# -- the device -----------------------------------------------------------------------------------


def test_a_persistent_tap_is_opened_by_name_and_a_busy_one_is_a_clear_error() -> None:
    with namespace() as ns:
        ns.run("ip", "tuntap", "add", "dev", "wl0", "mode", "tap")
        ns.run("ip", "addr", "add", f"{KERNEL_IP}/24", "dev", "wl0")
        first = ns.wirelab(kernel_ip=False).ready()
        assert any("wl0 (opened)" in line for line in first.stderr), first.text()
        second = ns.wirelab(kernel_ip=False)
        assert second.finish() == 2
        assert second.stderr == ["wirelab: error: device wl0 is busy: another program has this TAP open"]
        assert first.stop() == 0
        not_a_tap = Running(ns.command(sys.executable, "-m", "wirelab", "tap", "--dev", "lo", "--ip", "10.7.0.2/24"))
        assert not_a_tap.finish() == 2
        assert not_a_tap.stderr == ["wirelab: error: interface lo exists and is not a TAP device: choose another name"]


# -- captures -------------------------------------------------------------------------------------

_BAD = (
    "_ws.malformed || _ws.expert.severity == error || ip.checksum.status == 0 || icmp.checksum.status == 0"
    " || udp.checksum.status == 0 || tcp.checksum.status == 0"
)  # status 0: "Bad" (once tshark is asked to verify the checksums)
_VERIFY = [
    "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
    "-d", f"tcp.port=={PORT},data",  # random test payload, not some protocol a heuristic guesses (Thrift)
]  # fmt: skip


def test_tcpdump_and_wirelab_captures_of_the_tap_decode_in_tshark_with_nothing_malformed(tmp_path: Path) -> None:
    """--no-offload, as a learner watching tcpdump would run it: one MTU-sized frame per segment both
    ways, every checksum complete, in tcpdump's capture of the TAP and in wirelab's own. (With offloads,
    the default, see test_with_offloads_…: large frames, partial checksums on the TAP.)"""
    require("tcpdump", "tshark", "ping")
    kernel_capture, wirelab_capture = tmp_path / "tcpdump.pcap", tmp_path / "wirelab.pcap"
    with namespace() as ns:
        wirelab = ns.wirelab(
            "--no-offload", "--serve", "echo", "--serve", "discard", "--pcap", str(wirelab_capture)
        ).ready()
        tcpdump = Running(ns.command("tcpdump", "-i", "wl0", "-n", "-U", "-Z", "root", "-w", str(kernel_capture)))
        tcpdump.wait_for("listening on wl0")
        ns.run("ping", "-c", "2", "-i", "0.2", "-s", "1400", WIRELAB_IP)
        assert ns.python("udp_ask.py", WIRELAB_IP, "7", "echo me").stdout.strip() == "reply echo me"
        assert ns.python("udp_ask.py", WIRELAB_IP, "5003", "nobody").stdout.strip() == "refused errno 111"
        assert ns.python("tcp_connect.py", WIRELAB_IP, "5999").stdout.strip() == "refused errno 111"
        sent = ns.python("tcp_source.py", WIRELAB_IP, "9", str(2_000_000), "6")
        assert sent.returncode == 0 and sent.stdout.endswith("eof True\n"), sent.stderr
        assert wirelab.stop() == 0
        tcpdump.stop()
    for capture in (kernel_capture, wirelab_capture):
        frames = _tshark(capture).splitlines()
        assert len(frames) > 1000, capture  # 2 MB of TCP is at least 1,400 segments
        bad = _tshark(capture, "-Y", _BAD)
        assert bad == "", f"{capture.name}:\n{bad}"


def _tshark(capture: Path, *options: str) -> str:
    """tshark reading a file: no network, so it runs outside any namespace."""
    result = subprocess.run(
        ["tshark", "-n", "-r", str(capture), *_VERIFY, *options], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_address_the_kernel_already_has_is_refused_as_in_use() -> None:
    with namespace() as ns:
        ns.run("ip", "tuntap", "add", "dev", "wl0", "mode", "tap")
        ns.run("ip", "addr", "add", f"{WIRELAB_IP}/24", "dev", "wl0")
        kernel_mac = ns.run("cat", "/sys/class/net/wl0/address").stdout.strip()
        clash = ns.wirelab(kernel_ip=False)
        assert clash.finish() == 2
        assert clash.stderr[-1] == (
            f"wirelab: error: address {WIRELAB_IP} is already in use on wl0 ({kernel_mac} answered an ARP probe for it)"
        ), clash.text()


def test_without_cap_net_admin_the_errors_say_what_to_do_and_a_prepared_tap_still_works() -> None:
    require("setpriv", "ping")
    with namespace() as ns:
        # Root without CAP_NET_ADMIN (dropped from the bounding and inheritable sets): an unprivileged user.
        unprivileged = ["setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin"]
        base = [sys.executable, "-m", "wirelab", "tap", "--ip", f"{WIRELAB_IP}/24"]

        def wirelab(*options: str) -> Running:
            return Running(ns.command(*unprivileged, *base, *options))

        create = wirelab("--dev", "wl0")
        assert create.finish() == 2
        assert create.stderr == [
            "wirelab: error: no permission to create TAP wl0: run as root, with CAP_NET_ADMIN, or as the TAP's owner"
        ]
        ns.run("ip", "tuntap", "add", "dev", "wl1", "mode", "tap", "user", "4242")  # someone else's
        attach = wirelab("--dev", "wl1")
        assert attach.finish() == 2
        assert attach.stderr == [
            "wirelab: error: no permission to attach to TAP wl1: run as root, with CAP_NET_ADMIN, or as the TAP's owner"
        ]
        ns.run("ip", "tuntap", "add", "dev", "wl2", "mode", "tap")  # anyone's, but down
        down = wirelab("--dev", "wl2")
        assert down.finish() == 2
        assert down.stderr == [
            "wirelab: error: no permission to bring wl2 up: run as root or with CAP_NET_ADMIN "
            "(or do it beforehand: ip link set wl2 up)"
        ]
        # Prepared by root beforehand (up, its MTU, the kernel's address): the unprivileged user runs wirelab.
        ns.run("ip", "link", "set", "wl2", "up")
        ns.run("ip", "addr", "add", f"{KERNEL_IP}/24", "dev", "wl2")
        prepared = wirelab("--dev", "wl2", "--ping", KERNEL_IP, "-c", "1")
        assert prepared.finish() == 0, prepared.text()
        assert "1 packets transmitted, 1 received, 0% packet loss" in "\n".join(prepared.stdout)


def test_sigterm_stops_a_program_that_would_run_forever_and_says_so() -> None:
    with namespace() as ns:
        server = ns.wirelab(program=[str(_peer("tcp_sink.py")), str(PORT)]).ready()
        server.wait_for("listening", stream="stdout")
        assert server.stop() == 130
        assert server.stderr[-1] == "wirelab tap: stopped before the program ended", server.text()


def test_the_program_reads_wirelab_taps_stdin_as_it_comes() -> None:
    with namespace() as ns:
        server = ns.start_python("tcp_echo_server.py", str(PORT))
        server.wait_for("listening", stream="stdout")
        client = ns.wirelab(program=[str(_peer("tcp_lines_client.py")), KERNEL_IP, str(PORT)], interactive=True)
        client.ready()
        client.type("first line\n")
        client.wait_for("echo: first line", stream="stdout")  # answered while the program waits for more
        client.type("second line\n")
        client.wait_for("echo: second line", stream="stdout")
        client.end_input()
        assert client.finish() == 0, client.text()
        assert client.stdout == ["> echo: first line", "> echo: second line", "> bye"]
        assert server.finish() == 0


def test_a_tap_deleted_under_wirelab_is_a_one_line_error() -> None:
    with namespace() as ns:
        wirelab = ns.wirelab("--serve", "echo").ready()
        ns.run("ip", "link", "del", "wl0")
        assert wirelab.finish() == 2
        assert wirelab.stderr[-1] == "wirelab: error: wl0 is gone or broken: File descriptor in bad state"
