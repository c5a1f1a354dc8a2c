"""The check run ``hotfix-lane``: pure builders of its request bodies.

GitHub's rules for check runs shape this module:

- at most 50 annotations per request: the first 50 go with the create (or update) and each
  further 50 with an update of their own; every update *appends* its annotations;
- ``output.summary`` and ``output.text`` hold at most 65,535 characters, and ``output`` needs a
  ``title`` and a ``summary`` whenever it is sent;
- a run with a ``conclusion`` is ``completed``; one without is ``queued`` or ``in_progress``.
"""

from __future__ import annotations

from typing import Any

from app.github.names import CHECK_RUN_NAME
from app.lane.text import one_line, truncate
from app.rules.model import Annotation, Evaluation, Outcome, State

OUTPUT_LIMIT = 65_535
ANNOTATIONS_PER_REQUEST = 50
# GitHub documents no limit for these; it refuses very long ones, so keep them sane.
TITLE_LIMIT = 255
ANNOTATION_MESSAGE_LIMIT = 64 * 1024 - 1
ANNOTATION_LEVELS = frozenset({"notice", "warning", "failure"})

_OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.PASS: "✅ pass",
    Outcome.FAIL: "❌ fail",
    Outcome.PENDING: "⏳ pending",
    Outcome.NEUTRAL: "💬 advice",
    Outcome.SKIPPED: "⏭️ skipped",
}

# (status, conclusion) per overall state. Advisory findings leave the state SUCCESS, so they
# conclude success: advice must never block a merge.
_STATE_TO_RUN: dict[State, tuple[str, str | None]] = {
    State.SUCCESS: ("completed", "success"),
    State.FAILURE: ("completed", "failure"),
    State.PENDING: ("in_progress", None),
    # Never green when the rules could not run (GitHub unreachable, policy invalid).
    State.ERROR: ("completed", "failure"),
}

_CUT_NOTICE = "\n\n_(cut at GitHub's 65,535-character limit)_"


def _cell(text: str) -> str:
    """Text that stays inside one markdown table cell."""
    return one_line(text).replace("|", "\\|") or "—"


def build_title(evaluation: Evaluation) -> str:
    title = evaluation.title
    if evaluation.state is State.ERROR:
        title = f"Could not be evaluated: {title}" if title else "Could not be evaluated"
    return truncate(one_line(title), TITLE_LIMIT) or "hotfix-lane"


def build_summary(evaluation: Evaluation) -> str:
    """A markdown table with one row per rule, then the evaluation's notes."""
    lines = [
        f"**Lane:** {evaluation.lane.value}",
        "",
        "| Rule | Result | Details |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| `{verdict.rule_id}` | {_OUTCOME_LABELS[verdict.outcome]} | {_cell(verdict.message)} |"
        for verdict in evaluation.verdicts
    ]
    summary = "\n".join(lines)
    if evaluation.notes:
        summary += "\n\n" + "\n\n".join(evaluation.notes)
    if len(summary) > OUTPUT_LIMIT:
        summary = summary[: OUTPUT_LIMIT - len(_CUT_NOTICE)] + _CUT_NOTICE
    return summary


def _annotation(annotation: Annotation) -> dict[str, Any]:
    start = max(annotation.start_line, 1)
    body: dict[str, Any] = {
        "path": annotation.path,
        "start_line": start,
        "end_line": max(annotation.end_line, start),
        "annotation_level": annotation.level
        if annotation.level in ANNOTATION_LEVELS
        else "warning",
        "message": truncate(annotation.message, ANNOTATION_MESSAGE_LIMIT),
    }
    if annotation.title:
        body["title"] = truncate(one_line(annotation.title), TITLE_LIMIT)
    return body


def build_annotations(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Every verdict's annotations, in verdict order, shaped as GitHub wants them."""
    return [
        _annotation(annotation)
        for verdict in evaluation.verdicts
        for annotation in verdict.annotations
    ]


# Failures a person fixes without touching the code: the team's sign-off past the rate limit.
_NEEDS_A_PERSON = frozenset({"rate-limit"})


def build_state(evaluation: Evaluation, *, details_url: str | None = None) -> dict[str, str]:
    """``status`` and ``conclusion``; ``action_required`` when the only failures wait on a
    person (it needs a page to send them to, hence only with a ``details_url``)."""
    status, conclusion = _STATE_TO_RUN[evaluation.state]
    if evaluation.report_only:
        # Report mode: the real verdict is in the title and summary; nothing blocks.
        return {"status": "completed", "conclusion": "neutral"}
    failing = {v.rule_id for v in evaluation.verdicts if v.outcome is Outcome.FAIL}
    if details_url and failing and failing <= _NEEDS_A_PERSON:
        conclusion = "action_required"
    return (
        {"status": status} if conclusion is None else {"status": status, "conclusion": conclusion}
    )


def build_check_run(
    evaluation: Evaluation,
    *,
    head_sha: str | None = None,
    details_url: str | None = None,
    with_annotations: bool = True,
) -> list[dict[str, Any]]:
    """The request bodies that publish ``evaluation``, in the order to send them.

    The first creates the run when ``head_sha`` is given (``POST .../check-runs``) and
    otherwise updates it (``PATCH .../check-runs/{id}``); every further body is an update
    that appends the next 50 annotations.
    """
    output = {"title": build_title(evaluation), "summary": build_summary(evaluation)}
    annotations = build_annotations(evaluation) if with_annotations else []
    chunks = [
        annotations[i : i + ANNOTATIONS_PER_REQUEST]
        for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
    ] or [[]]

    first: dict[str, Any] = {}
    if head_sha is not None:
        first |= {"name": CHECK_RUN_NAME, "head_sha": head_sha}
    if details_url:
        first["details_url"] = details_url
    first |= build_state(evaluation, details_url=details_url)

    bodies: list[dict[str, Any]] = []
    for index, chunk in enumerate(chunks):
        body = dict(first) if index == 0 else {}
        body["output"] = output | {"annotations": chunk} if chunk else dict(output)
        bodies.append(body)
    return bodies
