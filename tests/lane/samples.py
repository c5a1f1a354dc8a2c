"""Sample evaluations for the publishing tests."""

from __future__ import annotations

from app.rules.model import Annotation, Evaluation, Lane, Outcome, State, Verdict


def annotation(line: int, *, level: str = "failure") -> Annotation:
    return Annotation(
        path="services/catalog/middleware/tenant.go",
        start_line=line,
        end_line=line,
        level=level,
        message=f"Line {line} is outside the hotfix's one concern.",
        title="Unrelated change",
    )


def evaluation(
    state: State = State.FAILURE,
    *,
    lane: Lane = Lane.HOTFIX,
    annotations: tuple[Annotation, ...] = (),
    description: str = "Approver missing: name an SRE lead or engineering manager",
) -> Evaluation:
    """A hotfix evaluation with two rules; the second one fails unless the state is SUCCESS."""
    failing = state is not State.SUCCESS
    return Evaluation(
        lane=lane,
        state=state,
        description=description,
        title="Hotfix lane: 1 rule failing" if failing else "Hotfix lane: all rules pass",
        verdicts=(
            Verdict("incident-id", Outcome.PASS, "INC-2026-05-20-001 found in the title."),
            Verdict(
                "approver",
                Outcome.FAIL if failing else Outcome.PASS,
                "No `approver: @login` trailer and no `Approver:` line in the body."
                if failing
                else "@alice (sre-leads) approves.",
                annotations,
            ),
        ),
        notes=("Runbook: step 1 names the approver up front.",),
    )
