"""``hotfix-lane validate-config FILE``."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main


def test_a_valid_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hotfix-lane.yml"
    path.write_text("rules:\n  diff-size:\n    max_lines: 30\n")

    assert main(["validate-config", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: valid\n"


def test_an_invalid_file_points_at_the_bad_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hotfix-lane.yml"
    path.write_text("rules:\n  diff-size:\n    max_line: 30\n")

    assert main(["validate-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "rules.diff-size" in err
    assert "max_line" in err


def test_the_shipped_defaults_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    default = Path(__file__).resolve().parents[2] / "policies" / "default.yml"
    assert main(["validate-config", str(default)]) == 0
