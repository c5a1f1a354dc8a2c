"""``GitHubGateway``: the one place where hotfix-lane talks to GitHub (REST only).

Reads fill a ``PullRequestSnapshot`` for the rules and fetch the policy files; writes publish
statuses, check runs and comments. The gateway is a façade over parts that share one HTTP core
(``http``: clients, retries, rate limits as ``Defer``, ETags, pages), each part in its own
module with the caches of its subject:

- ``pulls``: the pull request, its commits (base merges asked about with the compare API)
  and changed files (``enrich``, ``with_diff``);
- ``checks``: check runs and statuses, reviews, branch requirements, our own check run;
- ``organisation``: team memberships, a user's profile (the approver's e-mail), the audit log,
  the App's slug;
- ``policy_files``: the policy layers and their invalidation on push, text files;
- ``writes``: statuses, check runs, comments;
- ``issues``: the tracking issues of hotfixes, and comments posted once;
- ``hook_deliveries``: the App's webhook deliveries, and redelivering one GitHub failed.

Composition rather than inheritance: each part is built from the core (``pulls`` also from
``checks``, whose reads ``enrich`` adds), so what depends on what is written in ``__init__``,
and the gateway's methods are the parts' own bound methods, listed there part by part.

API economy, with warm caches:

- every GET is conditional (``If-None-Match``); a 304 costs nothing against the rate limit;
- commits and files of a pull request are fixed by its head and base, so they are kept per
  ``(head sha, base ref)`` and not read again while the head stays;
- team memberships, the approver's profile and policy files are kept for
  ``membership_cache_seconds`` and ``policy_cache_seconds``; a push that touches the policy
  file drops that repository's entry;
- a merge commit's second parent is looked up on the base branch once per head (rare: only
  commits with two parents), and kept once found there.

Re-evaluating a hotfix pull request at a known head therefore reads check runs, the combined
status and the reviews: three requests (five at most with a membership and the approver's
profile to refresh).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime

import httpx

from app.clock import Clock
from app.github.checks import CheckReads
from app.github.hook_deliveries import HookDeliveries
from app.github.http import RETRY_DELAYS, GitHubHttp, Sleep
from app.github.issues import Issues
from app.github.organisation import OrganisationReads
from app.github.policy_files import ChangeFeed, PolicyFiles
from app.github.pulls import PullRequestReads
from app.github.writes import Writes
from app.settings import Settings

_SYSTEM = Clock()


class GitHubGateway:
    """Installation-scoped access to GitHub for one process; create once, ``aclose`` at exit.

    ``clock`` drives every cache and ``Defer`` time; ``sleep`` and ``retry_delays`` the pause
    between tries (tests pass a sleep that returns at once); ``transport`` replaces the HTTP
    transport under the counting wrapper; ``policy_changes`` reads the pushes to policy files
    other processes recorded (their cached policies are dropped here too).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = _SYSTEM.now,
        sleep: Sleep = asyncio.sleep,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        transport: httpx.AsyncBaseTransport | None = None,
        policy_changes: ChangeFeed | None = None,
    ) -> None:
        http = GitHubHttp(
            settings, clock=clock, sleep=sleep, retry_delays=retry_delays, transport=transport
        )
        checks = CheckReads(http)
        pulls = PullRequestReads(http, checks=checks)
        organisation = OrganisationReads(http)
        policy = PolicyFiles(http, changes=policy_changes)
        writes = Writes(http)
        issues = Issues(http, organisation=organisation)
        deliveries = HookDeliveries(http)
        self._settings = settings

        self.pull_request = pulls.pull_request
        self.enrich = pulls.enrich
        self.with_diff = pulls.with_diff
        self.is_on_branch = pulls.is_on_branch
        self.compared_messages = pulls.compared_messages

        # This App's id: what tells our check run from another App's of the same name.
        self.app_id = checks.app_id
        self.checks = checks.checks
        self.own_check_run_seen = checks.own_check_run_seen
        self.reviews = checks.reviews
        self.branch_requirements = checks.branch_requirements

        self.team_members = organisation.team_members
        self.is_active_member = organisation.is_active_member
        self.user = organisation.user
        self.audit_log = organisation.audit_log
        self.app_slug = organisation.app_slug
        self.is_own_sender = organisation.is_own_sender

        self.policy_layers = policy.policy_layers
        self.note_push = policy.note_push
        self.forget_policy = policy.forget
        self.file_text = policy.file_text

        self.set_status = writes.set_status
        self.create_check_run = writes.create_check_run
        self.update_check_run = writes.update_check_run
        self.comment = writes.comment

        self.create_issue = issues.create_issue
        self.update_issue = issues.update_issue
        self.find_own_issue = issues.find_own_issue
        self.comment_once = issues.comment_once

        self.hook_deliveries = deliveries.hook_deliveries
        self.redeliver = deliveries.redeliver

        self.forget_installation = http.forget_installation
        self.aclose = http.aclose
