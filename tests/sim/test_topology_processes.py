"""Topology files may start programs on hosts (``[[process]]``): scripts run unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from wirelab.sim.topology import TopologyFileError, load_topology

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "course-programs.toml"


def test_the_course_programs_talk_across_a_router() -> None:
    report = load_topology(EXAMPLE).run()
    assert "客户端的数据 b'hello'" in report
    assert ">>: HELLO" in report and ">>: WORLD" in report
    assert "(exit status 0)" in report  # the client quit with q
    assert "still running when the run ended: stopped" in report  # the server's connection loop


def test_scripts_are_found_next_to_the_file_when_captures_go_elsewhere(tmp_path: Path) -> None:
    report = load_topology(EXAMPLE, out_dir=tmp_path / "captures").run()
    assert "客户端的数据 b'hello'" in report


def test_a_missing_script_is_a_one_line_error(tmp_path: Path) -> None:
    lab = tmp_path / "lab.toml"
    lab.write_text('[[host]]\nname = "a"\naddress = "10.0.0.1/24"\n\n[[process]]\nhost = "a"\nscript = "nope.py"\n')
    with pytest.raises(TopologyFileError, match="no such script") as error:
        load_topology(lab)
    assert "\n" not in str(error.value)


def test_argv_must_be_a_list_of_strings(tmp_path: Path) -> None:
    (tmp_path / "p.py").write_text("print('hi')\n")
    lab = tmp_path / "lab.toml"
    lab.write_text(
        '[[host]]\nname = "a"\naddress = "10.0.0.1/24"\n\n[[process]]\nhost = "a"\nscript = "p.py"\nargv = [1]\n'
    )
    with pytest.raises(TopologyFileError, match="list of strings"):
        load_topology(lab)
