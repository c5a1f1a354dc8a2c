from __future__ import annotations

import pytest

from app.rules.author_quota import process_bug_note
from app.rules.model import LaneHistory
from tests.rules.factories import hotfix_pr, policy

ADVICE = (
    "More than one a quarter means the normal pipeline is failing the team: look at why "
    "hotfixes keep being needed (slow CI, missing rollback targets) in the postmortem."
)


def quarter(merged: int, overdue: int = 0) -> LaneHistory:
    """The ledger's view of @bob's quarter: hotfixes merged before this one, overdue follow-ups."""
    return LaneHistory(
        0, author_this_quarter=merged, quarter="2026-Q2", author_overdue_this_quarter=overdue
    )


@pytest.mark.parametrize(
    ("history", "override", "note"),
    [
        pytest.param(quarter(0), None, None, id="the author's first hotfix has no note"),
        pytest.param(
            quarter(1),
            None,
            f"**Process bug?** With this one, @bob has 2 hotfixes in 2026-Q2. {ADVICE}",
            id="a second hotfix notes a process bug in the old words",
        ),
        pytest.param(
            quarter(0, overdue=1),
            None,
            "**Process bug?** With this one, @bob has 1 hotfix and 1 overdue follow-up in "
            f"2026-Q2. {ADVICE}",
            id="a first hotfix with an overdue follow-up is past the quota",
        ),
        pytest.param(
            quarter(1, overdue=1),
            None,
            "**Process bug?** With this one, @bob has 2 hotfixes and 1 overdue follow-up in "
            f"2026-Q2. {ADVICE}",
            id="the note names the overdue follow-up",
        ),
        pytest.param(
            quarter(2, overdue=3),
            None,
            "**Process bug?** With this one, @bob has 3 hotfixes and 3 overdue follow-ups in "
            f"2026-Q2. {ADVICE}",
            id="several overdue follow-ups read in the plural",
        ),
        pytest.param(
            quarter(1, overdue=1),
            "author_quota: {note_after: 3}",
            None,
            id="hotfixes and overdue follow-ups together within note_after have no note",
        ),
        pytest.param(
            quarter(2, overdue=1),
            "author_quota: {note_after: 3}",
            "**Process bug?** With this one, @bob has 3 hotfixes and 1 overdue follow-up in "
            f"2026-Q2. {ADVICE}",
            id="an overdue follow-up tips the author past note_after",
        ),
        pytest.param(None, None, None, id="no note without the ledger"),
    ],
)
def test_process_bug_note(
    history: LaneHistory | None, override: str | None, note: str | None
) -> None:
    assert process_bug_note(hotfix_pr(history=history), policy(override)) == note
