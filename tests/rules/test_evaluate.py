from __future__ import annotations

import pytest

from app.rules import evaluate as ev
from app.rules.evaluate import (
    CLEANUP_RULES,
    HOTFIX_RULES,
    MAX_DESCRIPTION,
    error_evaluation,
    evaluate,
    incident_id_of,
    named_approver,
    named_cleanup_owner,
    wanted_memberships,
)
from app.rules.model import Lane, LaneHistory, Outcome, PullRequestSnapshot, State, Verdict
from tests.rules.factories import (
    INCIDENT,
    NOW,
    check,
    cleanup_pr,
    commit,
    files,
    hotfix_pr,
    ordinary_pr,
    policy,
)


def test_registry_lists_each_rule_once_in_display_order() -> None:
    assert [r.id for r in HOTFIX_RULES] == [
        "markers",
        "incident-id",
        "no-chained-hotfix",
        "approver-named",
        "approver-authorized",
        "approver-confirmed",
        "cleanup-owner",
        "preflight",
        "diff-size",
        "single-concern",
        "scan",
        "fast-path",
        "rate-limit",
    ]
    assert [r.id for r in CLEANUP_RULES] == [
        "cleanup-links-hotfix",
        "cleanup-full-pipeline",
        "cleanup-has-tests",
    ]


def test_ordinary_pr_gets_success_and_no_verdicts() -> None:
    result = evaluate(ordinary_pr(), policy(), NOW)
    assert (result.lane, result.state, result.verdicts) == (Lane.ORDINARY, State.SUCCESS, ())
    assert result.description == "Not in the hotfix lane: no emergency-change rules apply."


def test_ordinary_pr_ignores_extra_verdicts() -> None:
    extra = [Verdict("rate-limit", Outcome.FAIL, "too many")]
    assert evaluate(ordinary_pr(), policy(), NOW, extra=extra).state is State.SUCCESS


def test_runbook_hotfix_passes_every_rule() -> None:
    result = evaluate(hotfix_pr(), policy(), NOW)
    assert result.state is State.SUCCESS
    assert result.description == "Hotfix lane: all 13 rules pass."
    assert result.title == "All 13 rules pass"
    assert all(v.outcome is Outcome.PASS for v in result.verdicts)


def test_runbook_cleanup_passes_every_rule() -> None:
    result = evaluate(cleanup_pr(), policy(), NOW)
    assert (result.lane, result.state) == (Lane.CLEANUP, State.SUCCESS)
    assert result.description == "Cleanup PR: all 3 rules pass."


BIG = files(("services/a.go", 60, 12))
NO_SCAN = (check("lint"), check("unit-changed-package"), check("build-sign-push"))
SCAN_FAILED = (*NO_SCAN, check("trivy", "failure"))

AGGREGATION = [
    pytest.param(
        hotfix_pr(files=BIG), State.FAILURE, "1 rule fails: diff-size", id="one failure fails"
    ),
    pytest.param(
        hotfix_pr(files=BIG, checks=SCAN_FAILED),
        State.FAILURE,
        "2 rules fail: diff-size, scan",
        id="failures are listed in display order",
    ),
    pytest.param(
        hotfix_pr(checks=NO_SCAN),
        State.PENDING,
        "1 rule pending: scan",
        id="a missing scan is pending",
    ),
    pytest.param(
        hotfix_pr(files=BIG, checks=NO_SCAN),
        State.FAILURE,
        "1 rule fails: diff-size",
        id="a failure wins over a pending rule",
    ),
    pytest.param(
        hotfix_pr(files=files(("a/x.go", 1), ("b/y.go", 1))),
        State.SUCCESS,
        "12 rules pass, 1 advisory (single-concern)",
        id="an advisory verdict does not block",
    ),
]


@pytest.mark.parametrize(("snapshot", "state", "title"), AGGREGATION)
def test_aggregation(snapshot: PullRequestSnapshot, state: State, title: str) -> None:
    result = evaluate(snapshot, policy(), NOW)
    assert result.state is state
    assert result.title == title


def test_description_names_the_first_failing_rule_and_the_fix() -> None:
    result = evaluate(hotfix_pr(files=BIG), policy(), NOW)
    assert result.description.startswith(
        "diff-size: 72 changed lines; a hotfix must stay under 50."
    )
    assert len(result.description) <= MAX_DESCRIPTION


def test_a_long_description_with_no_piece_that_fits_points_at_the_check_run() -> None:
    extra = [Verdict("rate-limit", Outcome.FAIL, "word " * 100)]
    result = evaluate(hotfix_pr(), policy(), NOW, extra=extra)
    assert result.state is State.FAILURE
    assert result.description == "rate-limit fails; see the check run"


def test_extra_verdicts_count_like_rules() -> None:
    extra = [Verdict("rate-limit", Outcome.PASS, "1 of 3 hotfixes this week.")]
    result = evaluate(hotfix_pr(), policy(), NOW, extra=extra)
    assert result.description == "Hotfix lane: all 14 rules pass."
    assert result.verdicts[-1] == extra[0]


def test_turned_off_rules_are_counted_apart() -> None:
    off = policy("rules: {preflight: {enabled: false}}")
    result = evaluate(hotfix_pr(body=""), off, NOW)
    assert result.state is State.SUCCESS
    assert result.description == "Hotfix lane: 12 rules pass, 1 turned off."


def test_a_hotfix_past_its_authors_quota_carries_the_process_bug_note() -> None:
    history = LaneHistory(
        0, author_this_quarter=0, quarter="2026-Q2", author_overdue_this_quarter=1
    )
    result = evaluate(hotfix_pr(history=history), policy(), NOW)
    assert result.state is State.SUCCESS
    assert [note.split(". ")[0] for note in result.notes] == [
        "**Process bug?** With this one, @bob has 1 hotfix and 1 overdue follow-up in 2026-Q2"
    ]


def test_error_evaluation_is_never_green_and_keeps_the_whole_reason() -> None:
    reason = "acme/api:.github/hotfix-lane.yml: rules.diff-size.max_lines: " + "x" * 200
    result = error_evaluation(Lane.HOTFIX, reason)
    assert result.state is State.ERROR
    assert result.description == (
        "Cannot evaluate: acme/api:.github/hotfix-lane.yml: rules.diff-size.max_lines…"
    )
    assert result.notes == (reason,)


def test_wanted_memberships_pairs_every_named_approver_with_every_team() -> None:
    snapshot = hotfix_pr(body="Approver: @dave")
    assert wanted_memberships(snapshot, policy()) == {
        ("sre-leads", "alice"),
        ("eng-managers", "alice"),
        ("sre-leads", "dave"),
        ("eng-managers", "dave"),
    }


@pytest.mark.parametrize(
    ("snapshot", "override"),
    [
        pytest.param(ordinary_pr(body="Approver: @alice"), None, id="none for an ordinary PR"),
        pytest.param(cleanup_pr(body="Approver: @alice"), None, id="none for a cleanup PR"),
        pytest.param(
            hotfix_pr(),
            "rules: {approver-authorized: {enabled: false}}",
            id="none when not checked",
        ),
    ],
)
def test_wanted_memberships_is_empty(snapshot: PullRequestSnapshot, override: str | None) -> None:
    assert wanted_memberships(snapshot, policy(override)) == frozenset()


def test_public_helpers_for_the_ledger() -> None:
    snapshot = hotfix_pr()
    assert incident_id_of(snapshot, policy()) == INCIDENT
    assert named_approver(snapshot, policy()) == "alice"
    assert named_cleanup_owner(snapshot, policy()) == "bob"
    bare = hotfix_pr(title="HOTFIX", head_ref="hotfix/x", body="", commits=(commit("fix"),))
    assert (incident_id_of(bare, policy()), named_approver(bare, policy())) == (None, None)
    assert named_cleanup_owner(bare, policy()) is None


def test_rules_for_an_ordinary_lane_is_empty() -> None:
    assert ev.rules_for(Lane.ORDINARY) == ()


# Every rule but scan has an `enabled` switch (the rate limit is tuned under `rate_limit:`);
# a snapshot that breaks every rule shows the switch wins over what the rule would have found.
SWITCHABLE = [
    rule for rule in HOTFIX_RULES + CLEANUP_RULES if rule.id not in {"scan", "rate-limit"}
]
BROKEN = ordinary_pr(labels=("hotfix",), files_truncated=True, checks=(check("lint", "failure"),))


@pytest.mark.parametrize("rule", SWITCHABLE, ids=lambda rule: f"{rule.id} can be turned off")
def test_turned_off_rules_are_skipped(rule: ev.Rule) -> None:
    off = policy(f"rules: {{{rule.id}: {{enabled: false}}}}")
    verdict = rule.check(BROKEN, off, NOW)
    assert (verdict.rule_id, verdict.outcome) == (rule.id, Outcome.SKIPPED)


@pytest.mark.parametrize(
    "rule", HOTFIX_RULES + CLEANUP_RULES, ids=lambda rule: f"{rule.id} reports under its own id"
)
def test_every_rule_reports_under_its_own_id(rule: ev.Rule) -> None:
    assert rule.check(BROKEN, policy(), NOW).rule_id == rule.id


def test_a_single_rule_reads_in_the_singular() -> None:
    verdicts = (Verdict("cleanup-has-tests", Outcome.PASS, "ok"),)
    assert ev.aggregate(Lane.CLEANUP, verdicts).description == "Cleanup PR: all 1 rule passes."
