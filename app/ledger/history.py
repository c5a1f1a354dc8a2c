"""What the ledger says about a new hotfix: the rate-limit count and the author's quarter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from app.ledger.records import count_merged, quarter_bounds
from app.policy.model import Policy
from app.lane.tracking import team_review_logins


@dataclass(frozen=True)
class LaneHistory:
    merged_in_window: int  # hotfixes merged in the rate-limit window and scope
    author_this_quarter: int  # hotfixes the PR's author merged this calendar quarter
    quarter: str  # e.g. 2026-Q2
    team_reviews: tuple[str, ...]  # logins who commented /hotfix team-reviewed


def read_history(
    session: Session,
    *,
    repo_full_name: str,
    number: int,
    author: str,
    policy: Policy,
    now: datetime,
) -> LaneHistory:
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
        merged_in_window=in_window,
        author_this_quarter=by_author,
        quarter=quarter_name(now),
        team_reviews=team_review_logins(session, repo_full_name=repo_full_name, number=number),
    )


def quarter_name(at: datetime) -> str:
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}"
