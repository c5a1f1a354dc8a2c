"""Reads of what stands between a head and its merge: checks, statuses, reviews, protection.

``checks`` is also where the publisher learns of a check run of ours that it has no record of
(``own_check_run_seen``): listing the head's check runs is the only way to find it, and every
evaluation lists them before it publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from app.github.cache import TTLCache
from app.github.errors import GitHubNotFound
from app.github.http import PER_PAGE, GitHubHttp
from app.github.names import CHECK_RUN_NAME, STATUS_CONTEXT
from app.github.responses import (
    BranchInfo,
    BranchRule,
    CheckRunPage,
    CombinedStatusPage,
    ReviewEntry,
    list_parser,
)
from app.rules.model import CheckResult, Review


@dataclass(frozen=True)
class BranchRequirements:
    classic_protection: bool
    required_checks: frozenset[str]
    ruleset_approvals: int


class CheckReads:
    """Reads of a head's checks and a pull request's reviews and target branch."""

    def __init__(self, http: GitHubHttp) -> None:
        self._http = http
        app_id = http.settings.github_app_id or ""
        # Our check run is the one this App created: anyone can name a run "hotfix-lane".
        self.app_id = int(app_id) if app_id.isdigit() else None
        self._own_runs_seen: TTLCache[tuple[str, str], int] = TTLCache(
            max_entries=1024, ttl=timedelta(hours=1), clock=http.clock
        )

    async def checks(self, installation_id: int, repo: str, sha: str) -> tuple[CheckResult, ...]:
        """Check runs and commit statuses on ``sha``, in one shape, without our own.

        Our own check run and status are left out: a rule about "other checks" must not wait
        for the result it is computing. Our run's id is noted for ``own_check_run_seen``. A
        run named like ours that another App created stays in: the caller reports it.
        """
        runs_with_ids = await self._http.get_all(
            installation_id,
            f"repos/{repo}/commits/{sha}/check-runs?per_page={PER_PAGE}",
            lambda data: CheckRunPage.model_validate(data).parse(),
        )
        for run, run_id in runs_with_ids:
            if self.is_ours(run) and run_id is not None:
                # Ours, created before a crash could record it: the publisher adopts it
                # instead of creating a second one.
                self._own_runs_seen.put((repo.lower(), sha), run_id)
        runs = [run for run, _ in runs_with_ids if not self.is_ours(run)]
        statuses = await self._http.get_all(
            installation_id,
            f"repos/{repo}/commits/{sha}/status?per_page={PER_PAGE}",
            lambda data: [s.to_check() for s in CombinedStatusPage.model_validate(data).statuses],
        )
        return (*runs, *(status for status in statuses if status.name != STATUS_CONTEXT))

    def is_ours(self, run: CheckResult) -> bool:
        """Whether a check run is this App's ``hotfix-lane`` run (its App id, not its name)."""
        return (
            run.source == "check_run"
            and run.name == CHECK_RUN_NAME
            and run.app_id is not None
            and run.app_id == self.app_id
        )

    def own_check_run_seen(self, repo: str, sha: str) -> int | None:
        """The id of our check run on ``sha`` as ``checks`` last listed it; sends nothing.

        Only ``checks`` fills this (``enrich`` calls it, so every evaluation does before it
        publishes). ``None`` when ``checks`` has not read ``sha`` in this process within the
        last hour, or GitHub listed no run of ours there. The publisher asks only when it has
        no record of a run for ``sha``: then the run is one it created but never recorded.
        """
        return self._own_runs_seen.get((repo.lower(), sha))

    async def reviews(self, installation_id: int, repo: str, number: int) -> tuple[Review, ...]:
        reviews = await self._http.get_all(
            installation_id,
            f"repos/{repo}/pulls/{number}/reviews?per_page={PER_PAGE}",
            list_parser(ReviewEntry, ReviewEntry.to_review),
        )
        return tuple(reviews)

    async def branch_requirements(
        self, installation_id: int, repo: str, branch: str
    ) -> BranchRequirements:
        """What a merge into ``branch`` had to satisfy: classic protection and rulesets.

        Both reads need only the App's contents/metadata access. Classic protection's review
        rule is not visible without admin access (the caller decides what to assume); rulesets
        show theirs. A branch deleted since the merge reads as unprotected.
        """
        ref = quote(branch, safe="")
        try:
            info = await self._http.get_one(
                installation_id, f"repos/{repo}/branches/{ref}", BranchInfo
            )
        except GitHubNotFound:
            info = BranchInfo()
        try:
            rules = await self._http.get_all(
                installation_id,
                f"repos/{repo}/rules/branches/{ref}?per_page={PER_PAGE}",
                list_parser(BranchRule, lambda rule: rule),
            )
        except GitHubNotFound:
            rules = []
        checks = set(info.required_checks)
        approvals = 0
        for rule in rules:
            if rule.parameters is None:
                continue
            checks.update(check.context for check in rule.parameters.required_status_checks)
            if rule.type == "pull_request":
                approvals = max(approvals, rule.parameters.required_approving_review_count or 0)
        return BranchRequirements(
            classic_protection=info.protected,
            required_checks=frozenset(checks),
            ruleset_approvals=approvals,
        )
