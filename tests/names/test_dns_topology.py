"""``[dns]`` in topology files: the example runs, and every mistake names its file, line and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wirelab.sim.node import SimNode
from wirelab.sim.topology import TopologyFileError, load_topology
from wirelab.sockets.host import host_of

ROOT = Path(__file__).resolve().parents[2]
LAN = """
[[router]]
name = "r1"

[[host]]
name = "a"
address = "192.168.1.10/24"
gateway = "192.168.1.1"

[[host]]
name = "b"
address = "10.0.0.20/24"
gateway = "10.0.0.1"

[[switch]]
name = "sw1"

[[link]]
a = "a"
b = "sw1"

[[link]]
a = "r1"
b = "sw1"
address = "192.168.1.1/24"

[[link]]
a = "r1"
b = "b"
address = "10.0.0.1/24"
address_b = "10.0.0.20/24"
"""


def write(tmp_path: Path, dns: str) -> Path:
    path = tmp_path / "lab.toml"
    path.write_text(LAN + dns)
    return path


def error_of(tmp_path: Path, dns: str) -> str:
    with pytest.raises(TopologyFileError) as caught:
        load_topology(write(tmp_path, dns))
    return str(caught.value)


def test_the_example_resolves_by_name_and_reports_the_zone(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "tests" / "names" / "programs", tmp_path / "tests" / "names" / "programs")
    report = load_topology(tmp_path / "examples" / "names.toml").run()
    assert "$ python resolve_and_connect.py server.lab 80 ==\n10.0.0.20\nb'HELLO'\n(exit status 0)" in report
    assert "www 10.0.0.20 (0.0s)\nnosuch.lab gaierror -2 Name or service not known (0.0s)" in report
    assert "== DNS: r1 answers for lab. ==\n  client.lab.  192.168.1.10\n" in report
    assert "  r1.lab.      192.168.1.1, 10.0.0.1\n  www.lab.     10.0.0.20" in report
    assert "dns.server.noerror" in report and (tmp_path / "examples" / "names-client.pcap").is_file()


def test_settings_reach_every_hosts_resolv_conf(tmp_path: Path) -> None:
    lab = load_topology(
        write(tmp_path, '[dns]\nserver = "r1"\nhosts = ["a"]\nsearch = ["lab"]\ntimeout = 2\nattempts = 3\n')
    )
    a, b = lab.network["a"], lab.network["b"]
    assert isinstance(a, SimNode) and isinstance(b, SimNode)
    assert (
        host_of(a).resolv_conf.render() == "nameserver 192.168.1.1\nsearch lab\noptions timeout:2 attempts:3 ndots:1\n"
    )
    assert host_of(b).resolv_conf.nameservers == ()
    assert lab.network.dns_services["r1"].zones[0].names()["b.lab."] == ["10.0.0.20"]


@pytest.mark.parametrize(
    ("dns", "expected"),
    [
        ('[dns]\nserver = "r9"\n', "lab.toml:34: dns: server: unknown node 'r9'"),
        ('[dns]\nserver = "sw1"\n', "lab.toml:34: dns: server: sw1 is a switch: it cannot run a DNS server"),
        ('[dns]\nserver = "r1"\nzones = "lab"\n', "lab.toml:35: dns: unknown key 'zones' (did you mean 'zone'?)"),
        ('[[dns]]\nserver = "r1"\n', "lab.toml:33: dns must be written [dns] (one per network), not [[dns]]"),
        (
            '[dns]\nserver = "r1"\nrecords = { www = "10.0.0.300" }\n',
            "lab.toml:35: dns: records: www: '10.0.0.300' is not an IPv4 address",
        ),
        (
            '[dns]\nserver = "r1"\nrecords = { "www.example.com." = "10.0.0.3" }\n',
            "lab.toml:35: dns: records: r1: DNS zone lab: www.example.com. is not in the zone lab.",
        ),
        ('[dns]\nserver = "r1"\nzone = "a..b"\n', "lab.toml:35: dns: zone: r1: DNS zone a..b: 'a..b' is not a domain"),
        ('[dns]\nserver = "r1"\nhosts = ["c"]\n', "lab.toml:35: dns: hosts: unknown node 'c'"),
        ('[dns]\nserver = "r1"\ntimeout = 60\n', "lab.toml:35: dns: timeout: must be between 1 and 30, not 60"),
    ],
)
def test_mistakes_name_the_line_and_the_key(tmp_path: Path, dns: str, expected: str) -> None:
    assert error_of(tmp_path, "\n" + dns).startswith(str(tmp_path / expected))
