from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from app.policy.loader import (
    DEFAULT_SOURCE,
    POLICY_DIR,
    PolicyError,
    default_policy,
    default_policy_text,
    load_policy,
    validate_policy_file,
)
from app.policy.model import Policy

ORG = "acme/.github:.github/hotfix-lane.yml"
REPO = "acme/api:.github/hotfix-lane.yml"


def _load(org: str | None = None, repo: str | None = None) -> Policy:
    return load_policy([(DEFAULT_SOURCE, default_policy_text()), (ORG, org), (REPO, repo)])


def _error(org: str | None = None, repo: str | None = None) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        _load(org, repo)
    return caught.value


def test_default_file_validates_against_the_schema() -> None:
    schema = json.loads((POLICY_DIR / "schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(default_policy_text()))


def test_defaults_are_the_runbooks() -> None:
    policy = default_policy()
    assert (policy.lane.label, policy.lane.branch_prefix, policy.lane.title_prefix) == (
        "hotfix",
        "hotfix/",
        "HOTFIX:",
    )
    assert policy.cleanup.branch_prefix == "cleanup/"
    assert policy.incident.pattern == r"INC-\d{4}-\d{2}-\d{2}-\d{3}"
    assert policy.teams.approvers == ("sre-leads", "eng-managers")
    assert (policy.teams.bypass, policy.teams.review) == ("platform-admins", "platform-team")
    assert policy.rules.diff_size.max_lines == 50
    assert policy.rules.scan.checks == ("scan", "trivy", "snyk")
    assert (policy.rate_limit.max_hotfixes, policy.rate_limit.window_days) == (3, 7)
    assert (policy.follow_ups.cleanup_hours, policy.follow_ups.postmortem_hours) == (24, 48)
    assert policy.follow_ups.audit_review_days == 7
    assert policy.audit.channel == "#platform-audit"


PRECEDENCE = [
    pytest.param(None, None, 50, id="no files keep the default"),
    pytest.param(
        "rules: {diff-size: {max_lines: 80}}", None, 80, id="the org file overrides the default"
    ),
    pytest.param(
        None, "rules: {diff-size: {max_lines: 30}}", 30, id="the repo file overrides the default"
    ),
    pytest.param(
        "rules: {diff-size: {max_lines: 80}}",
        "rules: {diff-size: {max_lines: 30}}",
        30,
        id="the repo file overrides the org file",
    ),
    pytest.param(
        "rules: {diff-size: {max_lines: 80}}",
        "audit: {channel: '#x'}",
        80,
        id="the org value stands where the repo file is silent",
    ),
    pytest.param(
        "rules: {diff-size: {max_lines: 80}}", "", 80, id="an empty repo file is an empty override"
    ),
    pytest.param("# only a comment\n", None, 50, id="a comment-only file is an empty override"),
]


@pytest.mark.parametrize(("org", "repo", "max_lines"), PRECEDENCE)
def test_precedence(org: str | None, repo: str | None, max_lines: int) -> None:
    assert _load(org, repo).rules.diff_size.max_lines == max_lines


def test_mappings_merge_deeply() -> None:
    policy = _load(repo="rules: {diff-size: {max_lines: 30}}\nteams: {bypass: admins}")
    assert policy.rules.diff_size.enabled is True
    assert "go.sum" in policy.rules.diff_size.ignore
    assert policy.teams.approvers == ("sre-leads", "eng-managers")
    assert policy.teams.bypass == "admins"


def test_lists_replace_instead_of_merging() -> None:
    policy = _load(org="teams: {approvers: [sre-leads, cto]}", repo="teams: {approvers: [cto]}")
    assert policy.teams.approvers == ("cto",)


def test_policy_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        default_policy().audit.channel = "#x"  # type: ignore[misc]


ERRORS = [
    pytest.param(
        None,
        "rules:\n  diff-size:\n    max_lines: fifty\n",
        f"{REPO}: rules.diff-size.max_lines: 'fifty' is not of type 'integer'",
        id="a wrong type names the file and the dotted key",
    ),
    pytest.param(
        "rules: {diff-size: {max_line: 3}}",
        None,
        f"{ORG}: rules.diff-size.max_line: unknown key; did you mean 'max_lines'?",
        id="a typo in the org file names the org file",
    ),
    pytest.param(
        None,
        "rulez: {}",
        f"{REPO}: rulez: unknown key; did you mean 'rules'?",
        id="an unknown top-level key is caught",
    ),
    pytest.param(
        None,
        "rules: {scan: {enabled: false}}",
        f"{REPO}: rules.scan.enabled: the scan cannot be turned off",
        id="turning the scan off is refused",
    ),
    pytest.param(
        None,
        "rules: {scan: {checks: []}}",
        f"{REPO}: rules.scan.checks: [] should be non-empty",
        id="an empty scan list is refused",
    ),
    pytest.param(
        None,
        "incident: {pattern: 'INC-(\\d+'}",
        f"{REPO}: incident.pattern: not a valid regular expression",
        id="an invalid incident pattern names incident.pattern",
    ),
    pytest.param(
        None,
        "teams: {approvers: [sre-leads, 7]}",
        f"{REPO}: teams.approvers[1]: 7 is not of type 'string'",
        id="a bad list item names its index",
    ),
    pytest.param(
        None,
        "- just\n- a list\n",
        f"{REPO}: (top level): ['just', 'a list'] is not of type 'object'",
        id="a file that is not a mapping is refused at the top level",
    ),
    pytest.param(
        None,
        "rules:\n  diff-size: {max_lines: 10\n",
        f"{REPO}: line 3: YAML syntax error:",
        id="a YAML syntax error names the line",
    ),
    pytest.param(
        None,
        "audit: {channel: a}\naudit: {channel: b}\n",
        f"{REPO}: line 2: YAML syntax error: duplicate key 'audit'",
        id="a duplicate key is an error",
    ),
]


@pytest.mark.parametrize(("org", "repo", "expected"), ERRORS)
def test_errors(org: str | None, repo: str | None, expected: str) -> None:
    assert str(_error(org, repo)).startswith(expected)


def test_error_carries_its_parts() -> None:
    error = _error(repo="rules: {diff-size: {max_lines: 0}}")
    assert (error.source, error.key) == (REPO, "rules.diff-size.max_lines")
    assert "minimum" in error.message or "less than" in error.message


def test_validate_policy_file_reports_every_error(tmp_path: Path) -> None:
    path = tmp_path / "hotfix-lane.yml"
    path.write_text(
        "rules:\n"
        "  diff-size: {max_lines: fifty, ignore: nope}\n"
        "  scan: {enabled: false}\n"
        "  fast-path: {enabeld: true}\n"
    )
    errors = validate_policy_file(path)
    assert [e.key for e in errors] == [
        "rules.diff-size.ignore",
        "rules.diff-size.max_lines",
        "rules.fast-path.enabeld",
        "rules.scan.enabled",
    ]
    assert all(e.source == str(path) for e in errors)
    assert "did you mean 'enabled'?" in errors[2].message


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("", id="an empty file is valid"),
        pytest.param("rules: {diff-size: {max_lines: 30}}\n", id="a small override is valid"),
        pytest.param(default_policy_text(), id="the default file is valid"),
    ],
)
def test_validate_policy_file_accepts(tmp_path: Path, content: str) -> None:
    path = tmp_path / "hotfix-lane.yml"
    path.write_text(content)
    assert validate_policy_file(path) == []


def test_validate_policy_file_reports_a_missing_file(tmp_path: Path) -> None:
    [error] = validate_policy_file(tmp_path / "absent.yml")
    assert error.key == "(top level)"
    assert "cannot read the file" in error.message


def test_validate_policy_file_reports_a_bad_pattern(tmp_path: Path) -> None:
    path = tmp_path / "hotfix-lane.yml"
    path.write_text("incident: {pattern: '['}\n")
    [error] = validate_policy_file(path)
    assert error.key == "incident.pattern"


def test_a_character_yaml_cannot_read_is_a_syntax_error() -> None:
    assert str(_error(repo="audit: {channel: \x07}")).startswith(
        f"{REPO}: (top level): YAML syntax error: unacceptable character"
    )


def test_an_override_without_the_defaults_is_incomplete() -> None:
    with pytest.raises(PolicyError, match=r"^x\.yml: lane: Field required"):
        load_policy([("x.yml", "audit: {channel: '#x'}")])


def test_validate_policy_file_reports_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "hotfix-lane.yml"
    path.write_bytes(b"\xff\xfe rules")
    [error] = validate_policy_file(path)
    assert error.message == "not UTF-8 text"
