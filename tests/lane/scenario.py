"""A GitHub repository as the fake GitHub serves it, and hotfix-lane running against it.

``Repo`` holds what GitHub would answer (commits, files, checks, team members, policy files);
tests change it between deliveries, e.g. to let the scan finish. ``Lane`` is the real app
(intake, store, worker) with its GitHub calls going to the respx fake.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import Session, col

from app.github.gateway import GitHubGateway
from app.jobs.worker import Worker
from app.main import create_app
from app.notify.slack import ChannelPacer, SlackNotifier
from app.services import Services
from app.settings import Settings
from app.store.models import Job
from app.wiring import build_worker
from tests.conftest import load_fixture, webhook_headers
from tests.fakes.clock import FakeClock
from tests.fakes.github import REPO, SHA, FakeGitHub, load, reply

COMPLIANT_MESSAGE = (
    "hotfix(catalog): nil-deref on missing tenant header\n\n"
    "INC-2026-05-20-001\napprover: @alice\ncleanup: @bob will open follow-up PR within 24h."
)


def commit_entry(message: str, *, author: str = "bob", sha: str = SHA) -> dict[str, Any]:
    entry = copy.deepcopy(load("pull_commits_page1")[0])
    entry["sha"] = sha
    entry["commit"]["message"] = message
    entry["author"]["login"] = author
    return entry


def review_entry(login: str, state: str = "APPROVED") -> dict[str, Any]:
    entry = copy.deepcopy(load("reviews")[0])
    entry["user"]["login"] = login
    entry["state"] = state
    entry["commit_id"] = SHA
    return entry


def file_entry(path: str, additions: int, deletions: int = 0) -> dict[str, Any]:
    entry = copy.deepcopy(load("pull_files")[0])
    entry.update(
        filename=path, additions=additions, deletions=deletions, changes=additions + deletions
    )
    return entry


def check_run_entry(
    name: str, status: str = "completed", conclusion: str | None = "success"
) -> dict[str, Any]:
    entry = copy.deepcopy(load("check_runs")["check_runs"][0])
    entry.update(name=name, status=status, conclusion=conclusion)
    return entry


def contents_reply(text: str) -> dict[str, Any]:
    entry = copy.deepcopy(load("contents_policy"))
    entry["content"] = base64.b64encode(text.encode()).decode()
    entry["size"] = len(text)
    return entry


@dataclass
class Repo:
    """What GitHub knows about acme/bookstore-platform and PR #4321; mutable per test."""

    commits: list[dict[str, Any]] = field(default_factory=lambda: [commit_entry(COMPLIANT_MESSAGE)])
    files: list[dict[str, Any]] = field(
        default_factory=lambda: [file_entry("services/catalog/middleware/tenant.go", 3, 1)]
    )
    check_runs: list[dict[str, Any]] = field(
        default_factory=lambda: [
            check_run_entry("scan"),
            check_run_entry("lint"),
            check_run_entry("unit-changed-package"),
            check_run_entry("build-sign-push"),
        ]
    )
    statuses: list[dict[str, Any]] = field(default_factory=list)
    # team slug -> active members
    teams: dict[str, set[str]] = field(default_factory=lambda: {"sre-leads": {"alice"}})
    reviews: list[dict[str, Any]] = field(default_factory=list)
    # Branch protection of main: classic required checks, and active ruleset rules.
    protected: bool = True
    required_checks: list[str] = field(default_factory=lambda: ["scan", "lint"])
    rules: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "type": "pull_request",
                "ruleset_id": 42,
                "ruleset_source_type": "Repository",
                "ruleset_source": REPO,
                "parameters": {
                    "required_approving_review_count": 1,
                    "dismiss_stale_reviews_on_push": True,
                    "require_code_owner_review": False,
                    "require_last_push_approval": False,
                    "required_review_thread_resolution": False,
                },
            },
        ]
    )
    repo_policy: str | None = None
    org_policy: str | None = None
    down: bool = False  # every read answers 502

    def serve(self, github: FakeGitHub) -> None:
        """Register the routes; each answers from the current state."""
        github.token("ghs_e2e")
        base = f"/repos/{REPO}"

        def read(builder: Any) -> Any:
            def respond(request: httpx.Request, **kwargs: Any) -> httpx.Response:
                if self.down:
                    return reply(load("server_error"), status=502)
                return builder(request, **kwargs)

            return respond

        def policy(text_of: Any) -> Any:
            def respond(request: httpx.Request) -> httpx.Response:
                text = text_of()
                if text is None:
                    return reply(load("not_found"), status=404)
                return reply(contents_reply(text))

            return read(respond)

        router = github.router
        router.get(f"{base}/contents/.github/hotfix-lane.yml").mock(
            side_effect=policy(lambda: self.repo_policy)
        )
        router.get("/repos/acme/.github/contents/.github/hotfix-lane.yml").mock(
            side_effect=policy(lambda: self.org_policy)
        )
        router.get(path__regex=rf"{base}/pulls/\d+/commits").mock(
            side_effect=read(lambda r: reply(self.commits))
        )
        router.get(path__regex=rf"{base}/pulls/\d+/files").mock(
            side_effect=read(lambda r: reply(self.files))
        )
        router.get(path__regex=rf"{base}/commits/[0-9a-f]{{40}}/check-runs").mock(
            side_effect=read(
                lambda r: reply(
                    {"total_count": len(self.check_runs), "check_runs": self.check_runs}
                )
            )
        )
        router.get(path__regex=rf"{base}/commits/[0-9a-f]{{40}}/status").mock(
            side_effect=read(
                lambda r: reply(
                    {
                        "state": "success",
                        "sha": SHA,
                        "total_count": len(self.statuses),
                        "statuses": self.statuses,
                    }
                )
            )
        )
        router.get(
            path__regex=r"/orgs/acme/teams/(?P<team>[^/]+)/memberships/(?P<login>[^/]+)"
        ).mock(side_effect=read(self._membership))
        router.get(path__regex=rf"{base}/pulls/\d+/reviews").mock(
            side_effect=read(lambda r: reply(self.reviews))
        )
        router.get(f"{base}/branches/main").mock(side_effect=read(self._branch))
        router.get(f"{base}/rules/branches/main").mock(
            side_effect=read(lambda r: reply(self.rules))
        )
        router.post(path__regex=rf"{base}/issues/\d+/comments").mock(
            return_value=reply(load("issue_comment_created"), status=201)
        )
        router.post(path__regex=rf"{base}/statuses/[0-9a-f]{{40}}").mock(
            return_value=reply(load("status_created"), status=201)
        )
        router.post(f"{base}/check-runs").mock(
            return_value=reply(load("check_run_created"), status=201)
        )
        router.patch(path__regex=rf"{base}/check-runs/\d+").mock(
            return_value=reply(load("check_run_created"))
        )
        router.get("/app").mock(return_value=reply(load("app")))

    def _branch(self, request: httpx.Request) -> httpx.Response:
        protection = {
            "enabled": self.protected,
            "required_status_checks": {
                "enforcement_level": "non_admins",
                "contexts": self.required_checks,
                "checks": [{"context": c, "app_id": None} for c in self.required_checks],
            },
        }
        return reply(
            {
                "name": "main",
                "commit": {
                    "sha": "9" * 40,
                    "url": f"https://api.github.com/repos/{REPO}/commits/main",
                },
                "_links": {
                    "self": f"https://api.github.com/repos/{REPO}/branches/main",
                    "html": f"https://github.com/{REPO}/tree/main",
                },
                "protected": self.protected,
                "protection": protection,
                "protection_url": f"https://api.github.com/repos/{REPO}/branches/main/protection",
            }
        )

    def _membership(self, request: httpx.Request, team: str, login: str) -> httpx.Response:
        if login in self.teams.get(team, set()):
            return reply(load("team_membership_active"))
        return reply(load("not_found"), status=404)


@dataclass
class Lane:
    """hotfix-lane, running: post deliveries, run the worker, read what it sent GitHub."""

    client: httpx.AsyncClient
    worker: Worker
    services: Services
    github: FakeGitHub
    clock: FakeClock  # the app's and the worker's: set it to move time

    async def run_due_later(self) -> int:
        """Make every waiting job due now (skipping its backoff or deferral) and run them."""
        with Session(self.services.engine) as session:
            session.connection().execute(
                update(Job).where(col(Job.status) == "queued").values(run_at=0)
            )
            session.commit()
        return await self.worker.drain()

    async def deliver(
        self, event: str, payload: dict[str, Any], delivery: str | None = None
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        response = await self.client.post(
            "/api/github/webhooks", content=body, headers=webhook_headers(body, event, delivery)
        )
        assert response.status_code == 202, response.text
        await self.worker.drain()
        return response

    def sent(self, method: str, path_part: str) -> list[dict[str, Any]]:
        """The JSON bodies of the requests sent to a path containing ``path_part``."""
        return [
            json.loads(call.request.content)
            for call in self.github.router.calls
            if call.request.method == method and path_part in call.request.url.path
        ]

    @property
    def statuses(self) -> list[dict[str, Any]]:
        return self.sent("POST", "/statuses/")

    @property
    def check_runs(self) -> list[dict[str, Any]]:
        return self.sent("POST", "/check-runs") + self.sent("PATCH", "/check-runs/")

    def requests(self, method: str | None = None) -> list[str]:
        """``METHOD /path`` of every request sent to GitHub (under the API URL)."""
        return [
            f"{c.request.method} {c.request.url.path.removeprefix('/api/v3')}"
            for c in self.github.router.calls
            if method is None or c.request.method == method
        ]

    def reset_calls(self) -> None:
        self.github.router.calls.clear()


def pull_request(name: str = "pull_request.opened", **changes: Any) -> dict[str, Any]:
    """A webhook payload with fields of ``pull_request`` replaced (e.g. ``body=...``)."""
    payload = load_fixture(name)
    payload["pull_request"].update(changes)
    return payload


@asynccontextmanager
async def running_lane(settings: Settings, github: FakeGitHub) -> AsyncIterator[Lane]:
    """The real app on ``settings``, its gateway's retries not waiting."""

    async def no_wait(_seconds: float) -> None:
        return None

    gateway = GitHubGateway(settings, sleep=no_wait)
    notifier = None
    if settings.slack_bot_token is not None:
        notifier = SlackNotifier(
            settings.slack_bot_token.get_secret_value(),
            settings.slack_api_url,
            pacer=ChannelPacer(sleep=no_wait),
        )
    clock = FakeClock(datetime.now(UTC))
    app = create_app(settings, run_worker=False, gateway=gateway, notifier=notifier, clock=clock)
    services: Services = app.state.services
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hotfix-lane.test") as c:
            worker = build_worker(services)
            yield Lane(client=c, worker=worker, services=services, github=github, clock=clock)
