"""Publishing tests: the shared fake GitHub, an in-memory database and sample evaluations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

import app.store.models  # noqa: F401  (registers the tables)
from app.rules.model import Annotation, Evaluation, Lane, Outcome, State, Verdict


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


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
