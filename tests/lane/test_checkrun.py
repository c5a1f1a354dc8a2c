"""The check-run bodies: output, annotations in chunks of 50, status and conclusion."""

from __future__ import annotations

import pytest

from app.lane.checkrun import build_check_run, build_summary
from app.rules.model import Annotation, Evaluation, Lane, Outcome, State, Verdict
from tests.fakes.github import SHA
from tests.lane.samples import annotation, evaluation

SUMMARY = """\
**Lane:** hotfix

| Rule | Result | Details |
| --- | --- | --- |
| `incident-id` | ✅ pass | INC-2026-05-20-001 found in the title. |
| `approver` | ❌ fail | No `approver: @login` trailer and no `Approver:` line in the body. |

Runbook: step 1 names the approver up front."""


def test_the_create_body_is_exact() -> None:
    bodies = build_check_run(
        evaluation(annotations=(annotation(134),)),
        head_sha=SHA,
        details_url="https://hotfix-lane.acme.example",
    )

    assert bodies == [
        {
            "name": "hotfix-lane",
            "head_sha": SHA,
            "details_url": "https://hotfix-lane.acme.example",
            "status": "completed",
            "conclusion": "failure",
            "output": {
                "title": "Hotfix lane: 1 rule failing",
                "summary": SUMMARY,
                "annotations": [
                    {
                        "path": "services/catalog/middleware/tenant.go",
                        "start_line": 134,
                        "end_line": 134,
                        "annotation_level": "failure",
                        "message": "Line 134 is outside the hotfix's one concern.",
                        "title": "Unrelated change",
                    }
                ],
            },
        }
    ]


def test_120_annotations_go_out_as_50_50_and_20() -> None:
    many = tuple(annotation(line) for line in range(1, 121))
    bodies = build_check_run(evaluation(annotations=many), head_sha=SHA)

    assert [len(body["output"]["annotations"]) for body in bodies] == [50, 50, 20]
    assert "head_sha" in bodies[0]
    # The follow-ups only append annotations; GitHub still wants a title and summary.
    assert all(set(body) == {"output"} for body in bodies[1:])
    assert all(body["output"]["summary"] == SUMMARY for body in bodies)
    lines = [a["start_line"] for body in bodies for a in body["output"]["annotations"]]
    assert lines == list(range(1, 121))


def test_an_update_without_annotations_carries_state_and_text_only() -> None:
    bodies = build_check_run(evaluation(annotations=(annotation(3),)), with_annotations=False)
    assert bodies == [
        {
            "status": "completed",
            "conclusion": "failure",
            "output": {"title": "Hotfix lane: 1 rule failing", "summary": SUMMARY},
        }
    ]


@pytest.mark.parametrize(
    ("state", "status", "conclusion"),
    [
        (State.SUCCESS, "completed", "success"),
        (State.FAILURE, "completed", "failure"),
        (State.PENDING, "in_progress", None),
        (State.ERROR, "completed", "failure"),
    ],
)
def test_states_map_to_status_and_conclusion(
    state: State, status: str, conclusion: str | None
) -> None:
    body = build_check_run(evaluation(state))[0]
    assert body["status"] == status
    assert body.get("conclusion") == conclusion


def test_an_error_says_it_could_not_be_evaluated() -> None:
    errored = Evaluation(
        lane=Lane.HOTFIX,
        state=State.ERROR,
        description="GitHub did not answer",
        title="GitHub did not answer",
    )
    assert build_check_run(errored)[0]["output"]["title"] == (
        "Could not be evaluated: GitHub did not answer"
    )


def test_advice_alone_concludes_success() -> None:
    advised = Evaluation(
        lane=Lane.HOTFIX,
        state=State.SUCCESS,
        description="All rules pass (1 piece of advice)",
        title="Hotfix lane: all rules pass",
        verdicts=(Verdict("small-diff", Outcome.NEUTRAL, "Consider a test | next time."),),
    )
    body = build_check_run(advised)[0]
    assert body["conclusion"] == "success"
    assert (
        "| `small-diff` | 💬 advice | Consider a test \\| next time. |" in body["output"]["summary"]
    )


def test_unknown_annotation_levels_and_backwards_lines_are_repaired() -> None:
    odd = Annotation(path="a.go", start_line=0, end_line=-3, level="error", message="m")
    body = build_check_run(evaluation(annotations=(odd,)))[0]
    assert body["output"]["annotations"] == [
        {
            "path": "a.go",
            "start_line": 1,
            "end_line": 1,
            "annotation_level": "warning",
            "message": "m",
        }
    ]


def test_the_summary_stays_within_githubs_limit() -> None:
    verdicts = tuple(Verdict(f"rule-{i}", Outcome.FAIL, "x" * 1000) for i in range(100))
    huge = Evaluation(Lane.HOTFIX, State.FAILURE, "d", "t", verdicts)
    summary = build_summary(huge)
    assert len(summary) == 65_535
    assert summary.endswith("_(cut at GitHub's 65,535-character limit)_")


def test_a_failure_only_a_person_can_clear_asks_for_action() -> None:
    from app.lane.checkrun import build_state
    from app.rules.model import Evaluation, Lane, Outcome, State, Verdict

    waiting = Evaluation(
        lane=Lane.HOTFIX,
        state=State.FAILURE,
        description="rate-limit: 3 hotfixes merged",
        title="1 rule fails: rate-limit",
        verdicts=(
            Verdict("scan", Outcome.PASS, "ok"),
            Verdict("rate-limit", Outcome.FAIL, "needs a team review"),
        ),
    )
    assert build_state(waiting, details_url="https://hotfix-lane.acme.example") == {
        "status": "completed",
        "conclusion": "action_required",
    }
    # GitHub wants a page for the action: without PUBLIC_URL it stays a failure.
    assert build_state(waiting) == {"status": "completed", "conclusion": "failure"}
