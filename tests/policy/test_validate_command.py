"""``hotfix-lane validate-config FILE``."""

from __future__ import annotations

import json
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


def test_org_and_repo_print_the_effective_policy_and_what_was_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org = tmp_path / "org.yml"
    org.write_text("rules:\n  diff-size:\n    max_lines: 40\n")
    repo = tmp_path / "repo.yml"
    repo.write_text("rules:\n  scan:\n    checks: [lint]\n  diff-size:\n    max_lines: 200\n")

    assert main(["validate-config", "--org", str(org), "--repo", str(repo), "--json"]) == 0

    out = json.loads(capsys.readouterr().out)
    assert out["policy"]["rules"]["diff-size"]["max_lines"] == 40
    assert out["policy"]["rules"]["scan"]["checks"] == ["scan", "trivy", "snyk"]
    assert out["ignored"] == [
        {"source": str(repo), "key": "rules.scan", "reason": "locked by the organisation"},
        {
            "source": str(repo),
            "key": "rules.diff-size.max_lines",
            "reason": "would loosen: 200 > 40",
        },
    ]


def test_org_and_repo_print_yaml_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo.yml"
    repo.write_text("lane:\n  label: emergency\n")

    assert main(["validate-config", "--repo", str(repo)]) == 0

    out = capsys.readouterr().out
    assert "  lane:\n    label: hotfix\n" in out
    assert out.endswith(f"ignored:\n  - {repo}: lane (locked by the organisation)\n")


def test_an_invalid_organisation_file_fails_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org = tmp_path / "org.yml"
    org.write_text("rules:\n  diff-size:\n    max_line: 30\n")
    repo = tmp_path / "repo.yml"
    repo.write_text("rules: {}\n")

    assert main(["validate-config", "--org", str(org), "--repo", str(repo)]) == 1
    assert f"{org}: rules.diff-size.max_line" in capsys.readouterr().err


def test_validate_config_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate-config"]) == 2  # a usage error
    assert "needs FILE" in capsys.readouterr().err
