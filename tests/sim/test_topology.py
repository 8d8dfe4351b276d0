"""Topology files: a TOML file builds a network, runs it and writes its captures; every mistake in
the file is one TopologyFileError line naming the file, the line, the table and what is wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from wirelab.apps.ping import Ping
from wirelab.apps.traceroute import Traceroute
from wirelab.sim.network import TopologyError
from wirelab.sim.topology import TopologyFileError, load_topology, main_run
from wirelab.wire.pcap import read_pcap

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two-lans.toml"

ONE_LAN = """\
seed = 1

[[switch]]
name = "sw1"
ports = 8

[[host]]
name = "a"
address = "192.168.1.10/24"
gateway = "192.168.1.1"

[[host]]
name = "b"
address = "192.168.1.11/24"

[[link]]
a = "a"
b = "sw1"
delay = "10us"

[[link]]
a = "b"
b = "sw1"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lab.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_of(path: Path, fragment: str, occurrence: int = 1) -> int:
    """The 1-based number of the line holding ``fragment`` (its ``occurrence``-th time; -1: the last)."""
    found = [number for number, line in enumerate(path.read_text().splitlines(), 1) if fragment in line]
    return found[occurrence - 1 if occurrence > 0 else occurrence]


def load_error(path: Path) -> TopologyFileError:
    with pytest.raises(TopologyFileError) as caught:
        load_topology(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return caught.value


# -- a valid file -----------------------------------------------------------------------------------


def test_a_file_builds_runs_and_writes_its_capture(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ONE_LAN
        + """
[[capture]]
port = "a:eth0"
file = "captures/a.pcap"

[[ping]]
from = "a"
to = "192.168.1.11"
count = 3

[[ping]]
from = "b"
to = "a"          # a node's name: its address
count = 2
interval = "200ms"
""",
    )
    lab = load_topology(path)
    first, second = (item.app for item in lab.apps)
    assert isinstance(first, Ping)
    assert isinstance(second, Ping)
    assert str(second.target) == "192.168.1.10"

    report = lab.run()

    assert (first.received, second.received) == (3, 2)
    assert first.statistics.transmitted == 3
    assert first.statistics.loss_percent == 0.0
    assert "3 packets transmitted, 3 received, 0% packet loss" in report
    assert "every ping and traceroute has finished" in report
    for section in ("== ping #1: a -> 192.168.1.11 ==", "== counters ==", "== ARP tables ==", "== MAC tables =="):
        assert section in report
    assert "? (192.168.1.11) at 02:00:00:00:00:02 [ether] reachable on eth0" in report

    records = read_pcap(tmp_path / "captures" / "a.pcap")
    assert len(records) == len(lab.captures[0].capture.records) > 0
    ethertypes = {record.frame[12:14] for record in records}
    assert ethertypes == {b"\x08\x06", b"\x08\x00"}  # ARP, then IPv4 (ICMP echo)


def test_same_file_same_report_and_same_pcap_bytes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ONE_LAN.replace('delay = "10us"', 'delay = "10us"\nloss = "30%"')
        + '\n[[capture]]\nlink = 1\n\n[[ping]]\nfrom = "a"\nto = "b"\ncount = 10\ninterval = "100ms"\n',
    )
    runs = []
    for out in ("one", "two"):
        lab = load_topology(path, out_dir=tmp_path / out)
        runs.append((lab.run().replace(str(tmp_path / out), "OUT"), (tmp_path / out / "link-1.pcap").read_bytes()))
    assert runs[0] == runs[1]


def test_reverse_overrides_one_direction(tmp_path: Path) -> None:
    # a -> sw1 keeps the link's 10 us; sw1 -> a takes 1 ms: every round trip crosses each once.
    path = write(
        tmp_path,
        ONE_LAN.replace('delay = "10us"', 'delay = "10us"\nreverse = { delay = "1ms" }')
        + '\n[[ping]]\nfrom = "a"\nto = "b"\ncount = 2\n',
    )
    lab = load_topology(path)
    lab.run()
    ping = lab.apps[0].app
    assert isinstance(ping, Ping)
    assert ping.received == 2
    assert 1_010_000 < ping.rtts[-1] < 1_020_000  # 1 ms + 10 us + serialisation (the first one waited for ARP)


def test_a_duration_ends_the_run_and_says_what_was_still_running(tmp_path: Path) -> None:
    path = write(tmp_path, 'duration = "1500ms"\n' + ONE_LAN + '\n[[ping]]\nfrom = "a"\nto = "b"\ncount = 5\n')
    lab = load_topology(path)
    report = lab.run()
    assert lab.network.sim.now == 1_500_000_000
    assert "2 packets transmitted, 2 received" in report
    assert "still running when the run ended" in report


def test_different_subnets_on_one_lan_and_one_address_on_two_lans_are_allowed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ONE_LAN
        + """
[[switch]]
name = "sw2"

[[host]]
name = "c"
address = "10.0.0.10/24"        # another subnet on sw1's LAN: fine

[[host]]
name = "d"
address = "192.168.1.10/24"     # a's address, but on another LAN (sw2): fine

[[link]]
a = "c"
b = "sw1"

[[link]]
a = "d"
b = "sw2"
""",
    )
    assert len(load_topology(path).network.links) == 4


def test_the_example_loads_and_runs(tmp_path: Path) -> None:
    lab = load_topology(EXAMPLE, out_dir=tmp_path)
    report = lab.run()
    pings = [item.app for item in lab.apps if isinstance(item.app, Ping)]
    traces = [item.app for item in lab.apps if isinstance(item.app, Traceroute)]
    assert [ping.received for ping in pings] == [ping.count for ping in pings] == [3, 3]
    assert len(traces) == 1
    assert traces[0].reached
    assert [str(hop.responders[0]) for hop in traces[0].hops] == ["192.168.1.1", "10.0.0.20"]
    assert "ttl=63" in report  # through the router
    for item in lab.captures:
        assert item.path.parent == tmp_path
        assert len(read_pcap(item.path)) == len(item.capture.records) > 0


def test_main_run_prints_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ONE_LAN + '\n[[ping]]\nfrom = "a"\nto = "b"\ncount = 1\n')
    assert main_run(str(path), str(tmp_path / "out")) == 0
    out, err = capsys.readouterr()
    assert "1 packets transmitted, 1 received" in out
    assert err == ""


def test_main_run_reports_an_error_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ONE_LAN + '\n[[ping]]\nfrom = "x"\nto = "b"\n')
    assert main_run(str(path), None) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"wirelab: error: {path}:{line_of(path, 'from = ')}: ping #1 (x -> b): from: unknown node 'x'\n"


# -- errors -----------------------------------------------------------------------------------------


def test_toml_syntax_error_keeps_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, 'seed = 1\n\n[[host]]\nname = "a\n')
    error = load_error(path)
    assert error.line == 4
    assert error.column is not None
    assert str(error).startswith(f"{path}:4:{error.column}: invalid TOML: ")


def test_unknown_node_in_a_link_names_the_line_of_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_LAN + '\n[[link]]\na = "a"\nb = "sw9"\n')
    error = load_error(path)
    assert error.line == line_of(path, 'b = "sw9"')
    assert str(error) == f"{path}:{error.line}: link #3 (a -> sw9): b: unknown node 'sw9' (did you mean 'sw1'?)"
    assert isinstance(error, TopologyError)


def test_malformed_rate_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_LAN.replace('delay = "10us"', 'delay = "10us"\nbandwidth = "1Gbt"'))
    error = load_error(path)
    assert error.line == line_of(path, "bandwidth")
    assert str(error) == (
        f"{path}:{error.line}: link #1 (a -> sw1): bandwidth: unknown rate unit 'Gbt' in '1Gbt' "
        "(use bit, kbit, Mbit, Gbit)"
    )


def test_a_table_written_inline_has_no_line_but_still_its_name(tmp_path: Path) -> None:
    path = write(tmp_path, 'link = [{ a = "a", b = "nowhere" }]\n[[host]]\nname = "a"\n')
    error = load_error(path)
    assert error.line is None
    assert str(error) == f"{path}: link #1 (a -> nowhere): b: unknown node 'nowhere'"


@pytest.mark.parametrize(
    ("addition", "marker", "expected"),
    [
        # unknown top-level names: a typo is never ignored
        ('[[hots]]\nname = "c"\n', "[[hots]]", "unknown table 'hots' (did you mean 'host'?)"),
        ("sed = 2\n", "sed = 2", "unknown setting 'sed' (did you mean 'seed'?)"),
        (
            '[router]\nname = "r"\n',
            "[router]",
            "router must be written [[router]] (one table per router), not [router]",
        ),
        # unknown keys
        (
            '[[host]]\nname = "c"\nadress = "192.168.1.12/24"\n',
            "adress",
            "host #3 (c): unknown key 'adress' (did you mean 'address'?); expected one of: name, address, gateway, "
            "mac, mtu",
        ),
        (
            '[[link]]\na = "a"\nb = "sw1"\nreverse = { los = "1%" }\n',
            "reverse",
            "link #3 (a -> sw1): unknown key 'reverse.los' (did you mean 'loss'?)",
        ),
        # missing keys
        ('[[link]]\na = "a"\n', "[[link]]", "link #3 (a): missing required key b"),
        ('[[host]]\naddress = "192.168.1.12/24"\n', "[[host]]", "host #3: missing required key name"),
        # unknown nodes
        (
            '[[route]]\nnode = "r9"\nnetwork = "10.0.0.0/8"\ngateway = "192.168.1.1"\n',
            "node = ",
            "route #1 (r9): node: unknown node 'r9'",
        ),
        (
            '[[ping]]\nfrom = "a"\nto = "zz"\n',
            "to = ",
            "ping #1 (a -> zz): to: 'zz' is neither an IPv4 address nor a node",
        ),
        ('[[traceroute]]\nfrom = "sw1"\nto = "b"\n', "from = ", "traceroute #1 (sw1 -> b): from: sw1 is a switch"),
        # names and links
        ('[[switch]]\nname = "a"\n', 'name = "a"', "switch #2 (a): name: 'a' is already the name of host #1 (a)"),
        ('[[link]]\na = "sw1"\nb = "sw1"\n', 'b = "sw1"', "link #3 (sw1 -> sw1): b: a link from sw1 to itself"),
        # the same address twice on one LAN
        (
            '[[host]]\nname = "c"\naddress = "192.168.1.10/16"\n\n[[link]]\na = "c"\nb = "sw1"\n',
            'address = "192.168.1.10/16"',
            "host #3 (c): address: 192.168.1.10 is already on this LAN (a:eth0, host #1 (a)): "
            "two interfaces in one broadcast domain cannot share an IP address",
        ),
        # quantities
        ('[[link]]\na = "a"\nb = "sw1"\ndelay = "10 parsecs"\n', "delay", "delay: unknown time unit 'parsecs'"),
        ('[[link]]\na = "a"\nb = "sw1"\ndelay = 10\n', "delay", 'delay: 10 has no unit: write e.g. "10s"'),
        ('[[link]]\na = "a"\nb = "sw1"\nloss = "150%"\n', "loss", "loss: '150%' is not between 0 and 1"),
        ('[[link]]\na = "a"\nb = "sw1"\nloss = "lots"\n', "loss", "loss: 'lots' is not a number with a unit"),
        ('[[link]]\na = "a"\nb = "sw1"\nmtu = 40\n', "mtu", "mtu: must be between 68 and 65535 octets, not 40"),
        ('[[switch]]\nname = "sw2"\nports = "8"\n', "ports", "switch #2 (sw2): ports: must be an integer, not '8'"),
        ('[[switch]]\nname = "sw2"\nports = true\n', "ports", "ports: must be an integer, not True"),
        ('duration = "0s"\n', "duration", "duration: must be longer than 0s"),
        # addresses
        ('[[host]]\nname = "c"\naddress = "192.168.1.12"\n', "address", "address: '192.168.1.12' needs a prefix"),
        ('[[host]]\nname = "c"\naddress = "192.168.1.0/24"\n', "address", "is the network's own address of"),
        ('[[host]]\nname = "c"\nmtu = 9000\n', "mtu", "mtu: a host's mtu is its interface's: give it an address"),
        (
            '[[host]]\nname = "c"\naddress = "192.168.1.12/24"\ngateway = "10.0.0.1"\n',
            "gateway",
            "gateway: 10.0.0.1 is not another address on c's LAN 192.168.1.0/24",
        ),
        ('[[router]]\nname = "r1"\n\n[[link]]\na = "r1"\nb = "sw1"\n', "[[link]]", "r1 is a router: give the address"),
        (
            '[[link]]\na = "a"\nb = "sw1"\naddress_b = "192.168.1.99/24"\n',
            "address_b",
            "address_b: sw1 is a switch: its ports have no IP address",
        ),
        (
            '[[route]]\nnode = "a"\nnetwork = "172.16.0.0/16"\ngateway = "10.0.0.1"\n',
            "gateway",
            "route #1 (a): gateway: 10.0.0.1 is not on a network a is directly connected to (192.168.1.10/24)",
        ),
        (
            # a already has a default route (its gateway): as ``ip route add`` says EEXIST, the file is wrong
            '[[route]]\nnode = "a"\nnetwork = "default"\ngateway = "192.168.1.11"\n',
            "[[route]]",
            "route #1 (a): a: route 0.0.0.0/0 via 192.168.1.11: a has a route to 0.0.0.0/0 already",
        ),
        (
            '[[route]]\nnode = "a"\nnetwork = "172.16.0.1/16"\ngateway = "192.168.1.1"\n',
            "network",
            "network: '172.16.0.1/16' is not a network (172.16.0.1/16 has host bits set)",
        ),
        # captures
        ('[[capture]]\nport = "a:eth1"\n', "port", "capture #1 (a:eth1): port: unknown port 'a:eth1'"),
        ("[[capture]]\nlink = 9\n", "link", "capture #1 (link #9): link: there is no link #9 (the file has 2)"),
        ('[[capture]]\nport = "a:eth0"\nlink = 1\n', "[[capture]]", "give either port"),
        (
            '[[capture]]\nport = "a:eth0"\nfile = "x.pcap"\n\n[[capture]]\nlink = 1\nfile = "x.pcap"\n',
            'file = "x.pcap"',
            "capture #2 (link #1): file: 'x.pcap' is already written by capture #1 (a:eth0)",
        ),
    ],
)
def test_bad_input_is_one_line_naming_file_line_table_and_mistake(
    tmp_path: Path, addition: str, marker: str, expected: str
) -> None:
    # A top-level setting goes before the tables (after them it would be the last table's key).
    text = addition + ONE_LAN if not addition.startswith("[") else ONE_LAN + "\n" + addition
    path = write(tmp_path, text)
    error = load_error(path)
    assert expected in str(error)
    assert error.line == line_of(path, marker, 1 if not addition.startswith("[") else -1), str(error)


def test_the_same_address_across_two_chained_switches(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ONE_LAN
        + """
[[switch]]
name = "sw2"

[[router]]
name = "r1"

[[link]]
a = "sw1"
b = "sw2"

[[link]]
a = "r1"
b = "sw2"
address = "192.168.1.11/24"    # b's address, one switch further away: still b's LAN
""",
    )
    error = load_error(path)
    assert error.line == line_of(path, 'address = "192.168.1.11/24"', 2)
    assert "link #4 (r1 -> sw2): address: 192.168.1.11 is already on this LAN (b:eth0, host #2 (b))" in str(error)


def test_a_missing_file(tmp_path: Path) -> None:
    error = load_error(tmp_path / "nothing.toml")
    assert "cannot read the file: No such file or directory" in str(error)
