"""Run the lane's rules on a snapshot and fold their verdicts into one status and check run.

This is the only place that knows which rules make up a lane. It stays pure like the rules:
the event handlers fetch the snapshot and the policy, call ``evaluate`` and publish the result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.policy.model import Policy
from app.rules import (
    approver_authorized,
    approver_named,
    cleanup_full_pipeline,
    cleanup_has_tests,
    cleanup_links_hotfix,
    cleanup_owner,
    diff_size,
    fast_path,
    incident_id,
    markers,
    no_chained_hotfix,
    preflight,
    rate_limit,
    scan,
    single_concern,
)
from app.rules.author_quota import process_bug_note
from app.rules.classify import classify
from app.rules.facts import approvers, incident_id_of, named_approver, named_cleanup_owner
from app.rules.model import Evaluation, Lane, Outcome, PullRequestSnapshot, State, Verdict
from app.rules.text import plural

__all__ = [
    "CLEANUP_RULES",
    "HOTFIX_RULES",
    "MAX_DESCRIPTION",
    "Rule",
    "aggregate",
    "error_evaluation",
    "evaluate",
    "incident_id_of",
    "named_approver",
    "named_cleanup_owner",
    "needs_reviews",
    "rules_for",
    "wanted_memberships",
]

# GitHub rejects commit-status descriptions longer than this.
MAX_DESCRIPTION = 140
ORDINARY_DESCRIPTION = "Not in the hotfix lane: no emergency-change rules apply."

Check = Callable[[PullRequestSnapshot, Policy, datetime], Verdict]


@dataclass(frozen=True)
class Rule:
    id: str
    check: Check


# In display order: who and what first (the audit trail), then the change, then CI.
HOTFIX_RULES: tuple[Rule, ...] = (
    Rule(markers.RULE_ID, markers.check),
    Rule(incident_id.RULE_ID, incident_id.check),
    Rule(no_chained_hotfix.RULE_ID, no_chained_hotfix.check),
    Rule(approver_named.RULE_ID, approver_named.check),
    Rule(approver_authorized.RULE_ID, approver_authorized.check),
    Rule(cleanup_owner.RULE_ID, cleanup_owner.check),
    Rule(preflight.RULE_ID, preflight.check),
    Rule(diff_size.RULE_ID, diff_size.check),
    Rule(single_concern.RULE_ID, single_concern.check),
    Rule(scan.RULE_ID, scan.check),
    Rule(fast_path.RULE_ID, fast_path.check),
    Rule(rate_limit.RULE_ID, rate_limit.check),
)
CLEANUP_RULES: tuple[Rule, ...] = (
    Rule(cleanup_links_hotfix.RULE_ID, cleanup_links_hotfix.check),
    Rule(cleanup_full_pipeline.RULE_ID, cleanup_full_pipeline.check),
    Rule(cleanup_has_tests.RULE_ID, cleanup_has_tests.check),
)
_LANE_NAMES = {Lane.HOTFIX: "Hotfix lane", Lane.CLEANUP: "Cleanup PR"}


def rules_for(lane: Lane) -> tuple[Rule, ...]:
    return {Lane.HOTFIX: HOTFIX_RULES, Lane.CLEANUP: CLEANUP_RULES}.get(lane, ())


def evaluate(
    snapshot: PullRequestSnapshot,
    policy: Policy,
    now: datetime,
    *,
    extra: Sequence[Verdict] = (),
) -> Evaluation:
    """Classify the PR, run its lane's rules (plus ``extra`` verdicts) and aggregate them.

    Any failure makes the state ``failure``; otherwise anything pending makes it ``pending``;
    advisory (neutral) and skipped verdicts never block.
    """
    lane = classify(snapshot, policy)
    if lane is Lane.ORDINARY:
        return Evaluation(
            lane=lane,
            state=State.SUCCESS,
            description=ORDINARY_DESCRIPTION,
            title="Not in the hotfix lane",
        )
    verdicts = tuple(rule.check(snapshot, policy, now) for rule in rules_for(lane)) + tuple(extra)
    evaluation = aggregate(lane, verdicts)
    note = process_bug_note(snapshot, policy) if lane is Lane.HOTFIX else None
    if note is None:
        return evaluation
    return dataclasses.replace(evaluation, notes=(*evaluation.notes, note))


def aggregate(lane: Lane, verdicts: tuple[Verdict, ...]) -> Evaluation:
    """Fold verdicts into a state, a status description and a check-run title."""
    failing = [v for v in verdicts if v.outcome is Outcome.FAIL]
    pending = [v for v in verdicts if v.outcome is Outcome.PENDING]
    if failing:
        state, blocking, verb = State.FAILURE, failing, _agree(len(failing), "fail")
    elif pending:
        state, blocking, verb = State.PENDING, pending, "pending"
    else:
        description, title = _success_text(lane, verdicts)
        return Evaluation(lane, State.SUCCESS, _clip(description), title, verdicts)
    first = blocking[0]
    title = f"{plural(len(blocking), 'rule')} {verb}: {', '.join(v.rule_id for v in blocking)}"
    return Evaluation(lane, state, _clip(f"{first.rule_id}: {first.message}"), title, verdicts)


def error_evaluation(lane: Lane, reason: str) -> Evaluation:
    """The result when the rules cannot run (invalid policy, GitHub unreachable): never green."""
    return Evaluation(
        lane=lane,
        state=State.ERROR,
        description=_clip(f"Cannot evaluate: {reason}"),
        title="Cannot evaluate the hotfix rules",
        # The description is clipped; the check run shows the whole reason.
        notes=(reason,),
    )


def wanted_memberships(snapshot: PullRequestSnapshot, policy: Policy) -> frozenset[tuple[str, str]]:
    """The (team slug, login) pairs the rules will ask ``snapshot.is_member`` about.

    The gateway fetches exactly these before building the snapshot: every approver named
    anywhere in the PR, against every approver team, and past the rate limit the reviewers
    and sign-offs against the review team.
    """
    if classify(snapshot, policy) is not Lane.HOTFIX:
        return frozenset()
    pairs = rate_limit.wanted_memberships(snapshot, policy)
    if not policy.rules.approver_authorized.enabled:
        return pairs
    return pairs | frozenset(
        (team, login)
        for login in approvers(snapshot, policy).everyone
        for team in policy.teams.approvers
    )


def needs_reviews(snapshot: PullRequestSnapshot, policy: Policy) -> bool:
    """Whether a rule will read the reviews (only the rate limit's sign-off does, past it)."""
    return classify(snapshot, policy) is Lane.HOTFIX and rate_limit.past_limit(snapshot, policy)


def _success_text(lane: Lane, verdicts: tuple[Verdict, ...]) -> tuple[str, str]:
    passed = sum(v.outcome is Outcome.PASS for v in verdicts)
    advisory = [v.rule_id for v in verdicts if v.outcome is Outcome.NEUTRAL]
    skipped = sum(v.outcome is Outcome.SKIPPED for v in verdicts)
    if passed == len(verdicts):
        summary = f"all {plural(passed, 'rule')} {_agree(passed, 'pass')}"
    else:
        summary = f"{plural(passed, 'rule')} {_agree(passed, 'pass')}"
        if advisory:
            summary += f", {len(advisory)} advisory ({', '.join(advisory)})"
        if skipped:
            summary += f", {skipped} turned off"
    return f"{_LANE_NAMES[lane]}: {summary}.", summary[0].upper() + summary[1:]


def _agree(count: int, verb: str) -> str:
    """``1 rule fails``, ``2 rules fail``."""
    return verb + ("es" if verb.endswith("s") else "s") if count == 1 else verb


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_DESCRIPTION else flat[: MAX_DESCRIPTION - 1] + "…"
