"""A check run named like ours that another App created: reported as a security event.

Anyone who can add a workflow can create a check run called ``hotfix-lane``; only this App's
run is the result of the runbook's rules. Branch protection should require the check run
pinned to this App; the audit channel hears of every other one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlmodel import Session

from app.github.names import CHECK_RUN_NAME
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice
from app.rules.model import CheckResult
from app.services import Services

log = logging.getLogger(__name__)


def impostors(checks: Iterable[CheckResult]) -> list[CheckResult]:
    """Check runs named like ours in a list that already left ours out."""
    return [c for c in checks if c.source == "check_run" and c.name == CHECK_RUN_NAME]


def announce(services: Services, *, repo: str, sha: str, app: str | None) -> None:
    """Queue the security event (once per head and App)."""
    log.warning("a %s check run on %s@%s comes from %s", CHECK_RUN_NAME, repo, sha[:12], app)
    notice = notices.check_run_spoofed(repo=repo, sha=sha, name=CHECK_RUN_NAME, app=app)
    with Session(services.engine) as session:
        enqueue_notice(
            session,
            notice=notice,
            channel=audit_channel(services.settings),
            now=services.clock.now(),
        )
        session.commit()
