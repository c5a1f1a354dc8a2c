"""``hotfix-lane check`` against real git repositories built in a temporary directory."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.lane.local import (
    NOT_IN_LANE,
    LocalCheckError,
    exit_code,
    format_table,
    local_snapshot,
    run_local_check,
)
from app.rules.model import Outcome, Verdict
from tests.rules.factories import HOTFIX_MESSAGE, INCIDENT, NOW, policy

BRANCH = f"hotfix/{INCIDENT}-catalog-nil-deref"
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bob",
    "GIT_AUTHOR_EMAIL": "bob@example.com",
    "GIT_COMMITTER_NAME": "Bob",
    "GIT_COMMITTER_EMAIL": "bob@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=GIT_ENV)


def write(repo: Path, path: str, lines: int) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(f"line {i}\n" for i in range(lines)))


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one commit on main and a hotfix branch checked out."""
    git(tmp_path, "init", "-q", "-b", "main")
    write(tmp_path, "services/catalog/handler.go", 20)
    commit_all(tmp_path, "initial")
    git(tmp_path, "checkout", "-q", "-b", BRANCH)
    return tmp_path


def outcomes(verdicts: list[Verdict]) -> dict[str, Outcome]:
    return {v.rule_id: v.outcome for v in verdicts}


def test_runbook_hotfix_passes_every_local_rule(repo: Path) -> None:
    write(repo, "services/catalog/handler.go", 22)
    commit_all(repo, HOTFIX_MESSAGE)
    verdicts = run_local_check(repo, None, policy(), NOW)
    assert outcomes(verdicts) == {
        "markers": Outcome.PASS,
        "incident-id": Outcome.PASS,
        "approver-named": Outcome.PASS,
        "cleanup-owner": Outcome.PASS,
        "diff-size": Outcome.PASS,
        "single-concern": Outcome.PASS,
    }
    assert exit_code(verdicts) == 0


def test_a_large_commit_without_trailers_fails(repo: Path) -> None:
    write(repo, "services/catalog/handler.go", 80)
    commit_all(repo, f"hotfix: rewrite handler\n\n{INCIDENT}")
    verdicts = run_local_check(repo, "main", policy(), NOW)
    assert outcomes(verdicts)["diff-size"] is Outcome.FAIL
    assert outcomes(verdicts)["approver-named"] is Outcome.FAIL
    assert outcomes(verdicts)["cleanup-owner"] is Outcome.FAIL
    assert exit_code(verdicts) == 1


def test_a_hotfix_subject_is_checked_like_a_title(repo: Path) -> None:
    write(repo, "services/catalog/handler.go", 21)
    commit_all(repo, "HOTFIX: INC-2026-05-21-002 fix\n\napprover: @alice\ncleanup: @bob")
    verdicts = run_local_check(repo, "main", policy(), NOW)
    assert outcomes(verdicts)["markers"] is Outcome.FAIL
    assert outcomes(verdicts)["incident-id"] is Outcome.FAIL


def test_a_conventional_hotfix_subject_is_not_taken_for_a_title(repo: Path) -> None:
    write(repo, "services/catalog/handler.go", 21)
    commit_all(repo, f"hotfix: nil-deref\n\n{INCIDENT}\napprover: @alice\ncleanup: @bob")
    verdicts = run_local_check(repo, "main", policy(), NOW)
    assert outcomes(verdicts)["markers"] is Outcome.PASS


def test_the_snapshot_reads_branch_commits_and_diff(repo: Path) -> None:
    write(repo, "services/catalog/handler.go", 22)
    (repo / "logo.png").write_bytes(b"\x89PNG\0\x01\x02")
    commit_all(repo, "first\n\nbody")
    write(repo, "docs/notes.md", 3)
    commit_all(repo, "HOTFIX: second")
    snapshot = local_snapshot(repo, "main")
    assert snapshot.head_ref == BRANCH
    assert snapshot.title == "HOTFIX: second"
    assert [c.message for c in snapshot.commits] == ["first\n\nbody", "HOTFIX: second"]
    assert all(c.author_login is None for c in snapshot.commits)
    assert {(f.path, f.additions, f.deletions) for f in snapshot.files} == {
        ("services/catalog/handler.go", 2, 0),
        ("logo.png", 0, 0),
        ("docs/notes.md", 3, 0),
    }


def test_the_diff_starts_at_the_merge_base(repo: Path) -> None:
    write(repo, "services/catalog/handler.go", 22)
    commit_all(repo, HOTFIX_MESSAGE)
    git(repo, "checkout", "-q", "main")
    write(repo, "web/big.js", 500)
    commit_all(repo, "unrelated work on main")
    git(repo, "checkout", "-q", BRANCH)
    snapshot = local_snapshot(repo, "main")
    assert [f.path for f in snapshot.files] == ["services/catalog/handler.go"]


def test_origin_main_is_the_default_base_when_present(repo: Path) -> None:
    git(repo, "update-ref", "refs/remotes/origin/main", "main")
    assert local_snapshot(repo, None).base_ref == "origin/main"


def test_an_ordinary_branch_has_no_local_rules(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/x")
    write(repo, "a.txt", 500)
    commit_all(repo, "feature")
    verdicts = run_local_check(repo, "main", policy(), NOW)
    assert verdicts == []
    assert format_table(verdicts) == NOT_IN_LANE
    assert exit_code(verdicts) == 0


def test_a_cleanup_branch_is_checked_for_tests(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", f"cleanup/{INCIDENT}-tests")
    write(repo, "docs/catalog.md", 5)
    commit_all(repo, "docs")
    verdicts = run_local_check(repo, "main", policy(), NOW)
    assert outcomes(verdicts) == {"cleanup-has-tests": Outcome.FAIL}


def test_not_a_git_repository_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LocalCheckError, match="is not a git repository"):
        run_local_check(tmp_path, None, policy(), NOW)


def test_an_unknown_base_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(LocalCheckError, match="unknown base 'develop'"):
        run_local_check(repo, "develop", policy(), NOW)


def test_no_default_base_is_a_clear_error(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "trunk")
    write(tmp_path, "a.txt", 1)
    commit_all(tmp_path, "initial")
    with pytest.raises(LocalCheckError, match="pass --base"):
        run_local_check(tmp_path, None, policy(), NOW)


def test_format_table_lines_up_the_columns() -> None:
    verdicts = [
        Verdict("markers", Outcome.PASS, "Hotfix markers present."),
        Verdict("diff-size", Outcome.FAIL, "72 changed lines; a hotfix must stay under 50."),
    ]
    assert format_table(verdicts) == (
        "RULE       RESULT  MESSAGE\n"
        "markers    pass    Hotfix markers present.\n"
        "diff-size  fail    72 changed lines; a hotfix must stay under 50.\n"
        "\n"
        "1 of 2 rules fail."
    )


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        pytest.param(Outcome.PASS, 0, id="a pass exits 0"),
        pytest.param(Outcome.NEUTRAL, 0, id="an advisory exits 0"),
        pytest.param(Outcome.SKIPPED, 0, id="a skipped rule exits 0"),
        pytest.param(Outcome.FAIL, 1, id="a failure exits 1"),
    ],
)
def test_exit_code(outcome: Outcome, code: int) -> None:
    assert exit_code([Verdict("markers", Outcome.PASS, ""), Verdict("x", outcome, "")]) == code


def test_the_check_command_prints_a_table_and_exits_0_on_a_good_branch(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    write(repo, "services/catalog/handler.go", 22)
    commit_all(repo, HOTFIX_MESSAGE)

    assert main(["check", "--repo", str(repo), "--base", "main"]) == 0
    out = capsys.readouterr().out
    assert "diff-size" in out and "pass" in out


def test_the_check_command_exits_1_when_a_rule_fails(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    write(repo, "services/catalog/handler.go", 80)
    commit_all(repo, f"hotfix: rewrite handler\n\n{INCIDENT}")

    assert main(["check", "--repo", str(repo), "--base", "main"]) == 1
    assert "fail" in capsys.readouterr().out


def test_the_check_command_honours_the_repository_policy_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    write(repo, ".github/hotfix-lane.yml", 0)
    (repo / ".github" / "hotfix-lane.yml").write_text("rules:\n  diff-size:\n    max_lines: 2\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "policy")
    git(repo, "branch", "-f", "main")
    write(repo, "services/catalog/handler.go", 22)
    commit_all(repo, HOTFIX_MESSAGE)

    assert main(["check", "--repo", str(repo), "--base", "main"]) == 1


def test_the_check_command_reports_a_bad_policy_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    (repo / ".github").mkdir()
    (repo / ".github" / "hotfix-lane.yml").write_text("rules:\n  diff-size:\n    max_lines: x\n")

    assert main(["check", "--repo", str(repo), "--base", "main"]) == 2
    assert "rules.diff-size.max_lines" in capsys.readouterr().err
