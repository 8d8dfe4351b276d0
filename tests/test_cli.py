"""The ``wirelab`` command: its subcommands, its one-line errors with status 2, and its registry."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wirelab.cli import SUBCOMMANDS, Handler, Subcommand, build_parser, main

SRC = Path(__file__).resolve().parent.parent / "src"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, out: str, err: str) -> None:
    assert status == 2
    assert out == ""
    assert err.startswith("wirelab: error: ")
    assert err.endswith("\n")
    assert err.count("\n") == 1
    assert "Traceback" not in err


class TestSubnet:
    def test_same_lan(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, err = run(capsys, "subnet", "192.168.1.10/24", "192.168.1.77")
        assert (status, err) == (0, "")
        assert "11000000.10101000.00000001.01001101  192.168.1.77" in out
        assert "3. 192.168.1.0 = 192.168.1.0: on the same LAN" in out

    def test_other_lan_with_gateway(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "subnet", "192.168.1.10/24", "192.168.2.1", "--gateway", "192.168.1.1")
        assert status == 0
        assert "not on the same LAN" in out
        assert "gateway's MAC (192.168.1.1)" in out

    def test_subnets(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "subnet", "192.168.1.0/24", "--subnets", "4")
        assert status == 0
        assert "borrowed bits: 2, network part /24 → /26" in out
        assert "255.255.255.192" in out
        for row in (
            "1  192.168.1.0/26    192.168.1.1    192.168.1.62   192.168.1.63      62",
            "4  192.168.1.192/26  192.168.1.193  192.168.1.254  192.168.1.255     62",
        ):
            assert row in out

    def test_hosts(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "subnet", "192.168.1.0/24", "--hosts", "100")
        assert status == 0
        assert "/24 → /25" in out
        assert "192.168.1.128/25" in out

    def test_limit(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "subnet", "10.0.0.0/8", "--hosts", "500", "--limit", "3")
        assert status == 0
        assert "… 32765 more …" in out
        assert "10.255.254.0/23" in out

    def test_chinese(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "subnet", "192.168.1.10/24", "192.168.2.1", "--lang", "zh")
        assert status == 0
        assert "不在同一个局域网内" in out


class TestPorts:
    def test_whole_table_and_ranges(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "ports")
        assert status == 0
        assert "3306  TCP" in out
        assert "49152–65535" in out

    @pytest.mark.parametrize("query", ["www", "HTTP", "80"])
    def test_one_service(self, capsys: pytest.CaptureFixture[str], query: str) -> None:
        status, out, _ = run(capsys, "ports", query)
        assert status == 0
        lines = out.split("\n")
        assert lines[1].split()[:3] == ["80", "TCP", "HTTP"]
        assert "0–1023" in out
        assert "1024–49151" not in out  # only the range the answer falls in


class TestDemo:
    """The command's options; what the demo tells is tested in tests/demo."""

    def test_the_whole_course_in_english_with_its_pcaps(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        status, out, err = run(capsys, "demo", "--pcap", str(tmp_path))
        assert (status, err) == (0, "")
        for title in ("Same LAN or not?", "three-way handshake", "four-way teardown", "TIME-WAIT", "UDP",
                      "Keepalive", "broadcast storm", "Ports"):  # fmt: skip
            assert title in out
        assert sorted(path.name for path in tmp_path.iterdir()) == ["lan1-client.pcap", "lan2-server.pcap",
                                                                   "storm-h2.pcap"]  # fmt: skip

    def test_one_topic_in_chinese_without_pcaps(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        status, out, _ = run(capsys, "demo", "--lang", "zh", "--topic", "subnet", "--no-pcap")
        assert status == 0
        for term in ("在同一个局域网内", "不在同一个局域网内", "借主机位给网络位用", "缩小了广播域"):
            assert term in out
        assert "三次握手" not in out
        assert list(tmp_path.iterdir()) == []

    def test_an_unknown_topic_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, err = run(capsys, "demo", "--topic", "bgp")
        assert_one_line_error(status, out, err)
        assert "invalid choice: 'bgp'" in err


class TestErrors:
    @pytest.mark.parametrize(
        ("argv", "expected"),
        [
            (["subnet", "300.1.1.1/24", "1.2.3.4"], "Octet 300 (> 255)"),
            (["subnet", "192.168.1.10/24", "300.1.1.1"], "Octet 300 (> 255)"),
            (["subnet", "192.168.1.0/33", "--subnets", "2"], "'33' is not a valid netmask"),
            (["subnet", "192.168.1.0/24", "--subnets", "300"], "cannot be cut into 300 subnets"),
            (["subnet", "192.168.1.0/28", "--hosts", "50"], "do not fit"),
            (["subnet", "192.168.1.10/24", "--subnets", "4"], "did you mean 192.168.1.0/24"),
            (["subnet", "192.168.1.10", "192.168.1.3"], "has no mask"),
            (["ports", "nosuchservice"], "no service named 'nosuchservice'"),
            (["ports", "70000"], "out of range"),
        ],
    )
    def test_bad_input(self, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
        status, out, err = run(capsys, *argv)
        assert_one_line_error(status, out, err)
        assert expected in err

    @pytest.mark.parametrize(
        ("argv", "expected"),
        [
            ([], "required: COMMAND"),
            (["subnet"], "required: ADDRESS/PREFIX"),
            (["subnet", "192.168.1.0/24"], "give a TARGET address, --subnets N or --hosts N"),
            (["subnet", "192.168.1.0/24", "--subnets", "4", "--hosts", "3"], "not allowed with argument"),
            (["subnet", "192.168.1.10/24", "192.168.1.3", "--subnets", "4"], "not both"),
            (["subnet", "192.168.1.0/24", "--subnets", "four"], "invalid int value"),
            (["subnet", "192.168.1.0/24", "--subnets", "4", "--limit", "-1"], "--limit"),
            (["subnet", "192.168.1.0/24", "--subnets", "4", "--gateway", "192.168.1.1"], "--gateway goes with"),
            (["subnet", "10.0.0.0/8", "--hosts", "2", "--limit", "0"], "would list 8388608 subnets; at most 65536"),
            (["subnet", "10.0.0.0/8", "--hosts", "2", "--limit", "70000"], "would list 70000 subnets; at most 65536"),
            (["demo", "--lang", "fr"], "invalid choice: 'fr'"),
            (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
            (["ports", "http", "extra"], "unrecognized arguments: extra"),
        ],
    )
    def test_usage_errors(self, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
        status, out, err = run(capsys, *argv)
        assert_one_line_error(status, out, err)
        assert expected in err
        assert "--help" in err  # where to look next

    def test_help_and_version_exit_zero(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "--help")
        assert status == 0
        assert "subnet" in out
        assert "ports" in out
        status, out, _ = run(capsys, "--version")
        assert (status, out) == (0, "wirelab 0.1.0\n")


class TestRegistry:
    def test_built_in_subcommands(self) -> None:
        assert [command.name for command in SUBCOMMANDS] == ["subnet", "ports", "demo", "run", "pcap", "tap"]

    def test_a_new_subcommand_is_one_entry(self, capsys: pytest.CaptureFixture[str]) -> None:
        class PcapError(ValueError):
            pass

        def setup(parser: argparse.ArgumentParser) -> Handler:
            parser.add_argument("path")

            def handle(args: argparse.Namespace) -> int:
                if args.path == "missing.pcap":
                    raise PcapError(f"{args.path}: no such file")
                print(f"reading {args.path}")
                return 0

            return handle

        commands = (*SUBCOMMANDS, Subcommand("capture", "read a capture", setup, (PcapError,)))
        parser = build_parser(commands)
        args = parser.parse_args(["capture", "lab.pcap"])
        assert args.handler(args) == 0
        assert capsys.readouterr().out == "reading lab.pcap\n"
        args = parser.parse_args(["capture", "missing.pcap"])
        with pytest.raises(PcapError):
            args.handler(args)
        assert args.user_errors == (PcapError,)


def module_env() -> dict[str, str]:
    """The environment for ``python -m wirelab`` from the source tree, installed or not."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


class TestModuleEntryPoint:
    def test_python_dash_m_wirelab(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "wirelab", "subnet", "192.168.1.0/24", "--hosts", "50"],
            capture_output=True,
            text=True,
            env=module_env(),
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "255.255.255.192" in done.stdout
        assert "192.168.1.192/26" in done.stdout

    def test_python_dash_m_wirelab_error(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "wirelab", "subnet", "300.1.1.1/24", "1.1.1.1"],
            capture_output=True,
            text=True,
            env=module_env(),
            check=False,
        )
        assert done.returncode == 2
        assert done.stderr.startswith("wirelab: error: ")
        assert done.stderr.count("\n") == 1

    def test_a_reader_that_leaves_early_gets_no_traceback(self) -> None:
        # 5,000 rows (about 400 kB) are far more than a pipe holds, so the writer meets the closed pipe.
        argv = [sys.executable, "-m", "wirelab", "subnet", "10.0.0.0/8", "--hosts", "2", "--limit", "5000"]
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=module_env()
        ) as process:
            assert process.stdout is not None
            assert process.stderr is not None
            assert process.stdout.readline().startswith("Subnetting 10.0.0.0/8")
            process.stdout.close()
            err = process.stderr.read()
        assert process.returncode == 1
        assert "Traceback" not in err


class TestRunAndNetworkDemo:
    def test_run_builds_the_example_lab_and_reports_its_pings(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        assert main(["run", "examples/two-lans.toml", "--out", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert "3 packets transmitted, 3 received, 0% packet loss" in out
        assert list(tmp_path.glob("*.pcap"))

    def test_run_with_a_bad_file_is_one_line_and_status_2(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        bad = tmp_path / "bad.toml"
        bad.write_text('[[host]]\nname = "a"\naddress = "300.1.1.1/24"\n')
        assert main(["run", str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("wirelab: error: ") and err.count("\n") == 1 and "Traceback" not in err

    def test_the_network_story_narrates_the_course(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        assert main(["demo", "--topic", "arp", "--pcap", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert "same LAN, deliver directly" in out
        assert "send to the gateway 192.168.1.1 (ARP for the gateway)" in out
        assert " 1  192.168.1.1 " in out  # traceroute names the router
        assert sorted(path.name for path in tmp_path.glob("*.pcap")) == ["lan1-client.pcap", "lan2-server.pcap"]


class TestPcap:
    def test_reads_back_what_the_demo_captured(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        assert main(["demo", "--topic", "arp", "--pcap", str(tmp_path)]) == 0
        capsys.readouterr()
        assert main(["pcap", str(tmp_path / "lan1-client.pcap"), "-v", "-c", "3"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert "ARP, Request who-has 192.168.1.11 tell 192.168.1.10, length 28" in out[0]
        assert any("2 data link" in line for line in out)
        assert sum(1 for line in out if line[:5].strip().isdigit()) == 3

    def test_a_file_that_is_not_pcap_is_one_line_and_status_2(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        bad = tmp_path / "bad.pcap"
        bad.write_bytes(b"not a capture at all")
        assert main(["pcap", str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("wirelab: error: ") and err.count("\n") == 1
        assert main(["pcap", str(tmp_path / "missing.pcap")]) == 2
