"""The organisation's floor: locked keys, tighten-only values, ``_extends`` problems."""

from __future__ import annotations

from typing import Any

import pytest

from app.policy.layers import PolicyLayer, Scope
from app.policy.loader import DEFAULT_SOURCE, PolicyError, default_policy_text, load_policy
from app.policy.model import IgnoredKey, Policy, ignored_note

ORG = "acme/.github:.github/hotfix-lane.yml"
REPO = "acme/api:.github/hotfix-lane.yml"
LOCKED = "locked by the organisation"


def merged(repo: str | None, org: str | None = None) -> Policy:
    return load_policy(
        [
            PolicyLayer(DEFAULT_SOURCE, default_policy_text()),
            PolicyLayer(ORG, org, Scope.ORGANISATION),
            PolicyLayer(REPO, repo, Scope.REPOSITORY),
        ]
    )


def value(policy: Policy, dotted: str) -> Any:
    data: Any = policy.model_dump(mode="json", by_alias=True)
    for part in dotted.split("."):
        data = data[part]
    return data


@pytest.mark.parametrize(
    ("repo", "key", "kept"),
    [
        ("lane: {label: emergency}", "lane", ("lane.label", "hotfix")),
        (
            "incident: {pattern: 'X-\\d+'}",
            "incident",
            ("incident.pattern", r"INC-\d{4}-\d{2}-\d{2}-\d{3}"),
        ),
        ("teams: {bypass: everyone}", "teams", ("teams.bypass", "platform-admins")),
        ("audit: {channel: '#void'}", "audit", ("audit.channel", "#platform-audit")),
        (
            "rules: {scan: {checks: [lint]}}",
            "rules.scan",
            ("rules.scan.checks", ["scan", "trivy", "snyk"]),
        ),
        (
            "rules: {markers: {enabled: false}}",
            "rules.markers.enabled",
            ("rules.markers.enabled", True),
        ),
        (
            "rules: {diff-size: {enabled: false}}",
            "rules.diff-size.enabled",
            ("rules.diff-size.enabled", True),
        ),
        ("locked: []", None, ("locked", [])),
    ],
    ids=[
        "the lane markers are locked",
        "the incident pattern is locked",
        "the teams are locked",
        "the audit channel is locked",
        "the scan is locked",
        "turning a rule off is locked",
        "turning the diff-size rule off is locked",
        "restating a floor value is no change and not reported",
    ],
)
def test_a_locked_key_in_the_repository_file_is_ignored(
    repo: str, key: str | None, kept: tuple[str, Any]
) -> None:
    policy = merged(repo)

    assert value(policy, kept[0]) == kept[1]
    assert policy.ignored == ((IgnoredKey(REPO, key, LOCKED),) if key else ())


def test_the_organisation_may_lock_more_keys_and_set_the_locked_ones() -> None:
    org = "locked: [cleanup.branch_prefix, 'rules.*.max_lines']\nlane: {label: urgent}\n"
    repo = "cleanup: {branch_prefix: c/}\nrules: {diff-size: {max_lines: 10}}\nlocked: []\n"

    policy = merged(repo, org)

    assert (policy.lane.label, policy.cleanup.branch_prefix) == ("urgent", "cleanup/")
    assert policy.rules.diff_size.max_lines == 50
    assert [item.key for item in policy.ignored] == [
        "cleanup.branch_prefix",
        "rules.diff-size.max_lines",
        "locked",
    ]


@pytest.mark.parametrize(
    ("repo", "dotted", "expected", "reason"),
    [
        ("rules: {diff-size: {max_lines: 30}}", "rules.diff-size.max_lines", 30, None),
        (
            "rules: {diff-size: {max_lines: 200}}",
            "rules.diff-size.max_lines",
            50,
            "would loosen: 200 > 50",
        ),
        ("rules: {diff-size: {ignore: [go.sum]}}", "rules.diff-size.ignore", ["go.sum"], None),
        (
            "rules: {diff-size: {ignore: ['**', go.sum]}}",
            "rules.diff-size.ignore",
            ["go.sum"],
            "would loosen: adds **",
        ),
        (
            "rules: {single-concern: {max_top_level_dirs: 3}}",
            "rules.single-concern.max_top_level_dirs",
            1,
            "would loosen: 3 > 1",
        ),
        ("rules: {single-concern: {blocking: true}}", "rules.single-concern.blocking", True, None),
        (
            "rules: {fast-path: {checks: [e2e]}}",
            "rules.fast-path.checks",
            ["lint", "unit-changed-package", "build-sign-push", "e2e"],
            None,
        ),
        ("rate_limit: {max_hotfixes: 1}", "rate_limit.max_hotfixes", 1, None),
        ("rate_limit: {max_hotfixes: 10}", "rate_limit.max_hotfixes", 3, "would loosen: 10 > 3"),
        ("rate_limit: {window_days: 30}", "rate_limit.window_days", 30, None),
        ("rate_limit: {window_days: 1}", "rate_limit.window_days", 7, "would loosen: 1 < 7"),
        (
            "rate_limit: {scope: repository}",
            "rate_limit.scope",
            "organisation",
            "would loosen: repository < organisation",
        ),
        ("author_quota: {note_after: 0}", "author_quota.note_after", 0, None),
        (
            "author_quota: {code_yellow_after: 9}",
            "author_quota.code_yellow_after",
            4,
            "would loosen: 9 > 4",
        ),
        ("follow_ups: {cleanup_hours: 0.5}", "follow_ups.cleanup_hours", 0.5, None),
        (
            "follow_ups: {postmortem_hours: 96}",
            "follow_ups.postmortem_hours",
            48,
            "would loosen: 96 > 48",
        ),
        (
            "follow_ups: {audit_review_days: 30}",
            "follow_ups.audit_review_days",
            7,
            "would loosen: 30 > 7",
        ),
        (
            "follow_ups: {breakglass_hours: 48}",
            "follow_ups.breakglass_hours",
            24,
            "would loosen: 48 > 24",
        ),
        (
            "follow_ups: {breakglass_labels: [sudo]}",
            "follow_ups.breakglass_labels",
            ["breakglass", "sudo"],
            None,
        ),
        (
            "follow_ups: {postmortem_sections: [timeline]}",
            "follow_ups.postmortem_sections",
            ["why hotfix", "bypass justified", "breakglass", "cleanup status", "timeline"],
            None,
        ),
        ("cleanup: {branch_prefix: c/}", "cleanup.branch_prefix", "c/", None),
        ("trailers: {commit: {approver: ok-by}}", "trailers.commit.approver", "ok-by", None),
    ],
    ids=[
        "fewer lines tighten",
        "more lines would loosen",
        "ignoring fewer files tightens",
        "ignoring more files would loosen",
        "more directories would loosen",
        "making single-concern blocking tightens",
        "fast-path checks only grow (union)",
        "a lower rate limit tightens",
        "a higher rate limit would loosen",
        "a longer window tightens",
        "a shorter window would loosen",
        "counting per repository would loosen",
        "a lower author note tightens",
        "a higher code-yellow threshold would loosen",
        "a shorter cleanup deadline tightens",
        "a longer postmortem deadline would loosen",
        "a later audit review would loosen",
        "a longer breakglass deadline would loosen",
        "breakglass labels only grow",
        "postmortem sections only grow",
        "a key outside the table is free: cleanup prefix",
        "a key outside the table is free: trailers",
    ],
)
def test_the_repository_may_only_tighten(
    repo: str, dotted: str, expected: Any, reason: str | None
) -> None:
    policy = merged(repo)

    assert value(policy, dotted) == expected
    assert policy.ignored == ((IgnoredKey(REPO, dotted, reason),) if reason else ())


def test_a_single_concern_turned_non_blocking_by_the_repository_would_loosen() -> None:
    policy = merged(
        "rules: {single-concern: {blocking: false}}", "rules: {single-concern: {blocking: true}}"
    )

    assert policy.rules.single_concern.blocking is True
    assert policy.ignored == (
        IgnoredKey(REPO, "rules.single-concern.blocking", "would loosen: true → false"),
    )


def test_the_floor_is_the_organisation_file_not_only_the_defaults() -> None:
    policy = merged("rules: {diff-size: {max_lines: 40}}", "rules: {diff-size: {max_lines: 20}}")

    assert policy.rules.diff_size.max_lines == 20
    assert ignored_note(policy.ignored) == (
        f"Ignored in {REPO}: rules.diff-size.max_lines (would loosen: 40 > 20)."
    )


def test_the_note_lists_every_ignored_key() -> None:
    policy = merged("rules: {scan: {checks: [lint]}, diff-size: {max_lines: 200}}")

    assert ignored_note(policy.ignored) == (
        f"Ignored in {REPO}: rules.scan (locked by the organisation); "
        "rules.diff-size.max_lines (would loosen: 200 > 50)."
    )
    assert ignored_note(merged(None).ignored) is None


def test_without_an_organisation_file_the_defaults_are_the_floor() -> None:
    policy = merged("rules: {diff-size: {max_lines: 80}}\nlane: {label: x}\n", None)

    assert (policy.rules.diff_size.max_lines, policy.lane.label) == (50, "hotfix")
    assert len(policy.ignored) == 2


def test_an_invalid_organisation_file_is_an_error_naming_it() -> None:
    with pytest.raises(PolicyError) as raised:
        merged("rules: {diff-size: {max_lines: 30}}", "rules: {diff-size: {max_line: 30}}")

    assert raised.value.source == ORG
    assert raised.value.key == "rules.diff-size.max_line"


def test_ignored_keys_are_not_part_of_the_dumped_policy() -> None:
    assert "ignored" not in merged("lane: {label: x}").model_dump()


BASE = "acme/base:.github/hotfix-lane.yml"


def test_the_organisation_file_builds_on_the_file_it_extends() -> None:
    policy = load_policy(
        [
            PolicyLayer(DEFAULT_SOURCE, default_policy_text()),
            PolicyLayer(
                BASE, "rules: {diff-size: {max_lines: 10}}\nlocked: [cleanup]\n", extended_by=ORG
            ),
            PolicyLayer(ORG, "_extends: base\nrate_limit: {max_hotfixes: 2}\n"),
            PolicyLayer(
                REPO,
                "rules: {diff-size: {max_lines: 20}}\ncleanup: {branch_prefix: c/}\n",
                Scope.REPOSITORY,
            ),
        ]
    )

    assert (policy.rules.diff_size.max_lines, policy.rate_limit.max_hotfixes) == (10, 2)
    assert policy.cleanup.branch_prefix == "cleanup/"
    assert [item.key for item in policy.ignored] == ["rules.diff-size.max_lines", "cleanup"]


@pytest.mark.parametrize(
    "problem",
    [
        "acme/base:.github/hotfix-lane.yml does not exist",
        "evil/base is not in the organisation acme",
        "acme/.github is the organisation's own file: a cycle",
    ],
    ids=["a missing base", "another organisation's base", "a cycle"],
)
def test_an_unusable_extends_is_an_error_on_the_organisation_file(problem: str) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(
            [
                PolicyLayer(DEFAULT_SOURCE, default_policy_text()),
                PolicyLayer(BASE, None, extended_by=ORG, problem=problem),
                PolicyLayer(ORG, "_extends: base\n"),
            ]
        )

    assert (raised.value.source, raised.value.key, raised.value.message) == (
        ORG,
        "_extends",
        problem,
    )


def test_extends_must_name_a_repository() -> None:
    with pytest.raises(PolicyError) as raised:
        merged(None, "_extends: [a, b]\n")

    assert (raised.value.source, raised.value.key) == (ORG, "_extends")


def test_extends_in_a_repository_file_is_ignored() -> None:
    policy = merged("_extends: base\n")

    assert policy.ignored == (IgnoredKey(REPO, "_extends", "read only in the organisation's file"),)
