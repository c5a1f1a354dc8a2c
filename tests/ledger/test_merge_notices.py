"""Which audit notices a merge calls for (pure)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.ledger.notices import Merge, merge_notices
from app.notify.notices import NoticeKind
from app.rules.merge import MergeFindings
from app.rules.model import Lane
from tests.rules.factories import policy

MERGE = Merge(
    repo="acme/bookstore-platform",
    number=4321,
    title="HOTFIX: INC-2026-05-20-001 fix",
    url="https://github.com/acme/bookstore-platform/pull/4321",
    lane=Lane.HOTFIX,
    merged_by="carol",
    merged_by_in_bypass_team=True,
    incident_id="INC-2026-05-20-001",
    approver="alice",
    cleanup_owner="bob",
    author="bob",
    author_this_quarter=1,
    quarter="2026-Q2",
)
CLEAN = MergeFindings(
    policy_state="success",
    bypassed=False,
    reasons=(),
    scan_state="passed",
    scan_results=(("scan", "success"),),
)
BYPASS = replace(CLEAN, bypassed=True, reasons=("0 approving review(s), 1 required",))


@pytest.mark.parametrize(
    ("merge", "findings", "override", "kinds"),
    [
        pytest.param(MERGE, CLEAN, None, [], id="a compliant merge announces nothing"),
        pytest.param(
            MERGE,
            BYPASS,
            None,
            [NoticeKind.ADMIN_MERGE],
            id="an admin merge by the bypass team is announced",
        ),
        pytest.param(
            replace(MERGE, merged_by_in_bypass_team=False),
            BYPASS,
            None,
            [NoticeKind.BYPASS_BY_NON_MEMBER],
            id="a bypass by a non-member",
        ),
        pytest.param(
            replace(MERGE, lane=Lane.ORDINARY),
            BYPASS,
            None,
            [NoticeKind.BYPASS_OUTSIDE_LANE],
            id="a bypass outside the lane",
        ),
        pytest.param(
            replace(MERGE, lane=Lane.ORDINARY),
            CLEAN,
            None,
            [],
            id="an ordinary reviewed merge announces nothing",
        ),
        pytest.param(
            MERGE,
            replace(CLEAN, scan_state="missing", scan_results=()),
            None,
            [NoticeKind.SCAN_BYPASSED],
            id="no scan is a security event even unbypassed",
        ),
        pytest.param(
            MERGE,
            replace(BYPASS, scan_state="failed"),
            None,
            [NoticeKind.ADMIN_MERGE, NoticeKind.SCAN_BYPASSED],
            id="an admin merge past a failed scan is both",
        ),
        pytest.param(
            MERGE,
            CLEAN,
            "audit:\n  approver_merges: true\n",
            [NoticeKind.APPROVER_NOT_MERGER],
            id="when the approver must merge, carol merging is a violation",
        ),
        pytest.param(
            replace(MERGE, merged_by="alice"),
            CLEAN,
            "audit:\n  approver_merges: true\n",
            [],
            id="when the approver must merge, alice merging is fine",
        ),
        pytest.param(
            replace(MERGE, author_this_quarter=5),
            CLEAN,
            None,
            [NoticeKind.AUTHOR_QUOTA_EXCEEDED],
            id="a fifth hotfix by one author in a quarter is code yellow",
        ),
        pytest.param(
            replace(MERGE, author_this_quarter=4), CLEAN, None, [], id="a fourth is not yet"
        ),
    ],
)
def test_merge_notices(
    merge: Merge, findings: MergeFindings, override: str | None, kinds: list[NoticeKind]
) -> None:
    notices = merge_notices(merge, findings, policy(override))
    assert [n.kind for n in notices] == kinds


def test_the_code_yellow_notice_names_author_count_and_quarter() -> None:
    (notice,) = merge_notices(replace(MERGE, author_this_quarter=5), CLEAN, policy())
    assert notice.text == (
        "CODE YELLOW: @bob has merged 5 hotfixes in 2026-Q2, more than 4 a quarter; "
        "@acme/platform-team to hold a code-yellow conversation"
    )
