"""Run the lane's rules on a snapshot and fold their verdicts into one status and check run.

This is the only place that knows which rules make up a lane. It stays pure like the rules:
the event handlers fetch the snapshot and the policy, call ``evaluate`` and publish the result.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.policy.model import Policy, ignored_note
from app.rules import (
    approver_authorized,
    approver_confirmed,
    approver_named,
    cleanup_full_pipeline,
    cleanup_has_tests,
    cleanup_links_hotfix,
    cleanup_owner,
    diff_size,
    facts,
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
from app.rules.facts import (
    approvers,
    incident_id_of,
    is_drill,
    named_approver,
    named_cleanup_owner,
)
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
    "fit_description",
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
_ERROR_TITLE = "Cannot evaluate the hotfix rules"
_SEE_CHECK_RUN = "; see the check run"

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
    Rule(approver_confirmed.RULE_ID, approver_confirmed.check),
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
    # What the repository's policy file set and the organisation's floor ignored: said on the
    # check run, so that nobody believes a setting the lane does not apply.
    ignored = ignored_note(policy.ignored)
    if lane is Lane.ORDINARY:
        return Evaluation(
            lane=lane,
            state=State.SUCCESS,
            description=ORDINARY_DESCRIPTION,
            title="Not in the hotfix lane",
            notes=(ignored,) if ignored else (),
        )
    verdicts = tuple(rule.check(snapshot, policy, now) for rule in rules_for(lane)) + tuple(extra)
    evaluation = aggregate(lane, verdicts)
    note = process_bug_note(snapshot, policy) if lane is Lane.HOTFIX else None
    notes = tuple(text for text in (note, ignored) if text is not None)
    if notes:
        evaluation = dataclasses.replace(evaluation, notes=(*evaluation.notes, *notes))
    if lane is Lane.HOTFIX and is_drill(snapshot, policy):
        evaluation = as_drill(evaluation)
    if policy.mode == "report":
        evaluation = as_report(evaluation)
    return evaluation


REPORT_PREFIX = "Report only: "


def as_report(evaluation: Evaluation) -> Evaluation:
    """What enforcing would say, published without blocking (a rollout): the status is
    success and says the real verdict; the check run (neutral) keeps every verdict."""
    if evaluation.state is State.SUCCESS:
        return dataclasses.replace(evaluation, report_only=True)
    description = fit_description(
        f"{REPORT_PREFIX}{evaluation.state.value}: {evaluation.description}",
        fallbacks=(f"{REPORT_PREFIX}{evaluation.state.value}; see the check run",),
    )
    note = (
        "This organisation runs hotfix-lane in report mode (`mode: report`): these verdicts "
        "do not block the merge yet."
    )
    return dataclasses.replace(
        evaluation,
        state=State.SUCCESS,
        description=description,
        title=REPORT_PREFIX + evaluation.title,
        notes=(*evaluation.notes, note),
        report_only=True,
    )


DRILL_PREFIX = "[DRILL] "


def as_drill(evaluation: Evaluation) -> Evaluation:
    """The same verdicts, said to be a drill on the status and the check run's title, so
    nobody mistakes a game-day run for a live incident (nor the other way round)."""
    description = DRILL_PREFIX + evaluation.description
    if len(description) > MAX_DESCRIPTION:
        description = next(
            line
            for line in (DRILL_PREFIX + evaluation.title, f"{DRILL_PREFIX}see the check run")
            if len(line) <= MAX_DESCRIPTION
        )
    return dataclasses.replace(
        evaluation, description=description, title=DRILL_PREFIX + evaluation.title
    )


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
        return Evaluation(lane, State.SUCCESS, description, title, verdicts)
    first, ids = blocking[0], [v.rule_id for v in blocking]
    title = f"{plural(len(blocking), 'rule')} {verb}: {', '.join(ids)}"
    description = fit_description(
        first.message, lead=first.rule_id, fallbacks=_blocking_fallbacks(ids, verb)
    )
    return Evaluation(lane, state, description, title, verdicts)


def error_evaluation(lane: Lane, reason: str) -> Evaluation:
    """The result when the rules cannot run (invalid policy, GitHub unreachable): never green."""
    return Evaluation(
        lane=lane,
        state=State.ERROR,
        description=fit_description(
            reason, lead="Cannot evaluate", fallbacks=(f"{_ERROR_TITLE}{_SEE_CHECK_RUN}",)
        ),
        title=_ERROR_TITLE,
        # The description may say less; the check run shows the whole reason.
        notes=(reason,),
    )


def wanted_memberships(snapshot: PullRequestSnapshot, policy: Policy) -> facts.MembershipPairs:
    """The (team slug, login) pairs the rules will ask ``snapshot.is_member`` about, in order.

    The gateway fetches these before building the snapshot, the first ones first, and only so
    many per evaluation (a pair past its cap is no member). So the approver of record comes
    first, against every approver team; then, past the rate limit, the sign-offs against the
    review team; then the other approvers named in the PR (``facts.MAX_NAMED`` at most).
    """
    if classify(snapshot, policy) is not Lane.HOTFIX:
        return frozenset()
    named = approvers(snapshot, policy).everyone
    if not policy.rules.approver_authorized.enabled:
        named = ()
    teams = policy.teams.approvers
    return facts.in_order(
        [
            *((team, login) for login in named[:1] for team in teams),
            *rate_limit.wanted_memberships(snapshot, policy),
            *((team, login) for login in named[1:] for team in teams),
        ]
    )


def needs_reviews(snapshot: PullRequestSnapshot, policy: Policy) -> bool:
    """Whether a rule will read the reviews: the approver's confirmation, and past the rate
    limit the review team's sign-off."""
    if classify(snapshot, policy) is not Lane.HOTFIX:
        return False
    return approver_confirmed.needs_reviews(snapshot, policy) or rate_limit.past_limit(
        snapshot, policy
    )


def _success_text(lane: Lane, verdicts: tuple[Verdict, ...]) -> tuple[str, str]:
    passed = sum(v.outcome is Outcome.PASS for v in verdicts)
    advisory = [v.rule_id for v in verdicts if v.outcome is Outcome.NEUTRAL]
    skipped = sum(v.outcome is Outcome.SKIPPED for v in verdicts)
    if passed == len(verdicts):
        summary = f"all {plural(passed, 'rule')} {_agree(passed, 'pass')}"
        return f"{_LANE_NAMES[lane]}: {summary}.", summary[0].upper() + summary[1:]
    counted = f"{plural(passed, 'rule')} {_agree(passed, 'pass')}"
    named = unnamed = counted
    if advisory:
        unnamed += f", {len(advisory)} advisory"
        named = f"{unnamed} ({', '.join(advisory)})"
    if skipped:
        unnamed += f", {skipped} turned off"
        named += f", {skipped} turned off"
    # Advisory rules are named only while they fit; the count always does.
    said = (f"{_LANE_NAMES[lane]}: {named}.", f"{_LANE_NAMES[lane]}: {unnamed}.")
    description = next((text for text in said if len(text) <= MAX_DESCRIPTION), said[-1])
    return description, named[0].upper() + named[1:]


def _agree(count: int, verb: str) -> str:
    """``1 rule fails``, ``2 rules fail``."""
    return verb + ("es" if verb.endswith("s") else "s") if count == 1 else verb


def _blocking_fallbacks(ids: Sequence[str], verb: str) -> list[str]:
    """The last resorts when no part of the first message fits: which rules block, naming as
    many as fit (``diff-size fails; …``, ``3 rules fail: a, b and 1 more; …``), then none."""
    count = len(ids)
    if count == 1:
        named = [f"{ids[0]} {'is pending' if verb == 'pending' else verb}{_SEE_CHECK_RUN}"]
    else:
        named = [
            f"{count} rules {verb}: {', '.join(ids[:shown])}"
            + (f" and {count - shown} more" if shown < count else "")
            + _SEE_CHECK_RUN
            for shown in range(count, 0, -1)
        ]
    return [*named, f"{plural(count, 'rule')} {verb}{_SEE_CHECK_RUN}"]


def fit_description(text: str, *, lead: str = "", fallbacks: Sequence[str] = ()) -> str:
    """``lead: text`` on one line in at most 140 characters, said shorter rather than cut.

    A status description is a glance; the check run carries every message whole. So when the
    text is too long it loses whole pieces from the end: later sentences first, then trailing
    clauses of the first sentence (marked ``…``), then it gives way to the first of
    ``fallbacks`` that fits. It never ends inside a word, a path, an ``@login``, a quoted or
    backticked token or a ``/hotfix`` command; if nothing fits it is empty, never half.
    """
    flat = " ".join(text.split())
    said = [f"{lead}: {piece}" if lead else piece for piece in _shorter(flat)] if flat else [lead]
    return next((line for line in (*said, *fallbacks) if len(line) <= MAX_DESCRIPTION), "")


def _shorter(text: str) -> list[str]:
    """``text``, then ever shorter ways to say it in whole pieces, longest first."""
    sentences, clauses = _stops(text)
    first_sentence = sentences[0] if sentences else len(text)
    return [
        text,
        *(text[:end] for end in reversed(sentences)),
        *(text[:end].rstrip(",;:") + "…" for end in reversed(clauses) if end < first_sentence),
    ]


# One unbreakable piece of a message: a run of non-space characters, in which a backticked or
# quoted token and a comment command with its argument (`/hotfix postmortem <URL>`) are taken
# whole, spaces and all.
_PIECE = re.compile(
    r"""(?:
        `[^`]*`
      | (?<![\w'])'[^']*'(?!\w)
      | "[^"]*"
      | (?<![\w.-])/hotfix(?:\s+[\w-]+(?:\s+(?:<[^<>\s]+>|https?://\S+))?)?
      | \S
    )+""",
    re.VERBOSE,
)
_OPENING, _CLOSING = "([{", ")]}"
_DASHES = frozenset({"-", "\N{EN DASH}", "\N{EM DASH}"})
_SENTENCE_ENDS = frozenset({".", "!", "?"})


def _stops(text: str) -> tuple[list[int], list[int]]:
    """Where ``text`` may end: after whole sentences, and after whole clauses (a piece ending
    in ``,`` ``;`` or ``:``, or before a dash or a parenthesis), never inside brackets."""
    pieces = [(match.group(), match.end()) for match in _PIECE.finditer(text)]
    sentences: list[int] = []
    clauses: list[int] = []
    depth = 0
    for (piece, end), (following, _) in itertools.pairwise(pieces):
        depth = max(0, depth + sum(map(piece.count, _OPENING)) - sum(map(piece.count, _CLOSING)))
        if depth:
            continue
        if piece.rstrip(_CLOSING + "'\"`")[-1:] in _SENTENCE_ENDS and not following[0].islower():
            sentences.append(end)
        elif piece[-1] in ",;:" or following in _DASHES or following[0] in _OPENING:
            clauses.append(end)
    return sentences, clauses
