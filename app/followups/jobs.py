"""The follow-ups' job runners: a hotfix recorded, a cleanup PR merged, a deadline reached."""

from __future__ import annotations

from app.followups import tracker
from app.followups.cleanup import cleanup_merged
from app.followups.deadlines import DeadlineRunner
from app.followups.lifecycle import DUE_JOB, REMIND_JOB, open_follow_ups
from app.jobs.queue import ClaimedJob
from app.services import Services

__all__ = [
    "DUE_JOB",
    "REMIND_JOB",
    "CleanupRecordedRunner",
    "DeadlineRunner",
    "HotfixRecordedRunner",
    "TrackingSyncRunner",
]


class HotfixRecordedRunner:
    """``hotfix-recorded``: open the hotfix's follow-ups and its tracking issue."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        await open_follow_ups(self.services, job.row_id())


class CleanupRecordedRunner:
    """``cleanup-recorded``: tick the cleanup follow-up of the hotfixes a cleanup PR follows."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        await cleanup_merged(self.services, job.row_id())


class TrackingSyncRunner:
    """``tracking-issue-sync``: rewrite a hotfix's tracking issue (it was deployed, or its
    recovery was decided), when it has one."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        hotfix = await tracker.load(self.services, job.row_id())
        if hotfix is not None:
            await tracker.refresh(self.services, hotfix)
