"""What the ledger says about a new hotfix: the rate-limit count and the author's quarter."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.ledger.records import count_merged, quarter_bounds
from app.policy.model import Policy
from app.rules.model import LaneHistory


def read_history(
    session: Session, *, repo_full_name: str, author: str, policy: Policy, now: datetime
) -> LaneHistory:
    """The counts ``rate-limit`` and the author-quota note need, as of ``now``."""
    org = repo_full_name.split("/", 1)[0]
    window = policy.rate_limit
    in_window = count_merged(
        session,
        org=org,
        since=now - timedelta(days=window.window_days),
        until=now,
        repo_full_name=repo_full_name if window.scope == "repository" else None,
    )
    start, end = quarter_bounds(now)
    by_author = count_merged(session, org=org, since=start, until=end, author=author)
    return LaneHistory(
        merged_in_window=in_window, author_this_quarter=by_author, quarter=quarter_name(now)
    )


def quarter_name(at: datetime) -> str:
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}"
