"""A GitHub repository as the fake GitHub serves it, and hotfix-lane running against it.

``Repo`` holds what GitHub would answer (commits, files, checks, team members, policy files);
tests change it between deliveries, e.g. to let the scan finish. ``Lane`` is the running app
of ``tests/harness.py`` with its GitHub calls going to the respx fake.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from app.lane.tracking import add_confirmation
from app.settings import Settings
from tests.conftest import load_fixture
from tests.fakes.github import REPO, SHA, FakeGitHub, load, reply
from tests.harness import RunningApp, running_app

BEFORE_MERGE = datetime(2026, 5, 20, 9, 50, tzinfo=UTC)
JUST_MERGED = datetime(2026, 5, 20, 9, 53, tzinfo=UTC)

# A route's answer, made from the request (and the path's named groups) when it comes.
Responder = Callable[..., httpx.Response]

COMPLIANT_MESSAGE = (
    "hotfix(catalog): nil-deref on missing tenant header\n\n"
    "INC-2026-05-20-001\napprover: @alice\ncleanup: @bob will open follow-up PR within 24h."
)


def commit_entry(
    message: str,
    *,
    author: str | None = "bob",
    sha: str = SHA,
    email: str = "bob@acme.example",
    parents: tuple[str, ...] = ("aaaabbbbccccddddeeeeffff0000111122223333",),
) -> dict[str, Any]:
    """An item of the commits reply; ``author=None``: its ``email`` maps to no account."""
    entry: dict[str, Any] = copy.deepcopy(load("pull_commits_page1")[0])
    entry["sha"] = sha
    entry["commit"]["message"] = message
    entry["commit"]["author"]["email"] = email
    if author is None:
        entry["author"] = None
    else:
        entry["author"]["login"] = author
    entry["parents"] = [{"sha": parent, "url": "...", "html_url": "..."} for parent in parents]
    return entry


def review_entry(login: str, state: str = "APPROVED") -> dict[str, Any]:
    entry: dict[str, Any] = copy.deepcopy(load("reviews")[0])
    entry["user"]["login"] = login
    entry["state"] = state
    entry["commit_id"] = SHA
    return entry


def file_entry(path: str, additions: int, deletions: int = 0) -> dict[str, Any]:
    entry: dict[str, Any] = copy.deepcopy(load("pull_files")[0])
    entry.update(
        filename=path, additions=additions, deletions=deletions, changes=additions + deletions
    )
    return entry


def check_run_entry(
    name: str, status: str = "completed", conclusion: str | None = "success"
) -> dict[str, Any]:
    entry: dict[str, Any] = copy.deepcopy(load("check_runs")["check_runs"][0])
    entry.update(name=name, status=status, conclusion=conclusion)
    return entry


def contents_reply(text: str) -> dict[str, Any]:
    entry: dict[str, Any] = copy.deepcopy(load("contents_policy"))
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
    # GitHub lists the check runs created on a head in that head's check runs, each with an
    # id of its own, as it really does (what lets a retry adopt a run it made but never
    # recorded); off, every create answers the one fixture run and the list stays as set.
    lists_own_check_runs: bool = False
    created_check_runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Issues (the tracking issues) and comments, as GitHub holds them: number -> issue.
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # Other files of the repository, by (ref, path): e.g. a postmortem.
    files_at: dict[tuple[str, str], str] = field(default_factory=dict)
    # Public e-mails of users (``GET /users/{login}``); a login not here shows none.
    emails: dict[str, str] = field(default_factory=dict)
    # Commits on main (its head or ancestors): what the compare API finds "behind" main.
    on_main: set[str] = field(default_factory=set)
    # Commits whose history holds the hotfix's merge commit (later commits of main): what
    # the compare API finds the merge "behind".
    after_merge: set[str] = field(default_factory=set)
    # (base, head) -> the subjects of the commits head adds: a merge queue's group.
    compared: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def serve(self, github: FakeGitHub) -> None:
        """Register the routes; each answers from the current state."""
        base = f"/repos/{REPO}"

        def read(builder: Responder) -> Responder:
            def respond(request: httpx.Request, **kwargs: Any) -> httpx.Response:
                if self.down:
                    return reply(load("server_error"), status=502)
                return builder(request, **kwargs)

            return respond

        def policy(text_of: Callable[[], str | None]) -> Responder:
            def respond(request: httpx.Request) -> httpx.Response:
                # A file at another commit (``files_at[(sha, path)]``), else the current one.
                ref = request.url.params.get("ref")
                earlier = self.files_at.get((ref, ".github/hotfix-lane.yml")) if ref else None
                text = earlier if earlier is not None else text_of()
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
        router.get(path__regex=rf"{base}/pulls/(?P<number>\d+)$").mock(
            side_effect=read(self._pull(github))
        )
        router.get(path__regex=rf"{base}/pulls/\d+/commits").mock(
            side_effect=read(lambda r: reply(self.commits))
        )
        router.get(path__regex=rf"{base}/pulls/\d+/files").mock(
            side_effect=read(lambda r: reply(self.files))
        )
        router.get(path__regex=rf"{base}/commits/(?P<sha>[0-9a-f]{{40}})/check-runs").mock(
            side_effect=read(self._list_check_runs)
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
        router.post(path__regex=rf"{base}/issues/(?P<number>\d+)/comments").mock(
            side_effect=self._add_comment
        )
        router.get(path__regex=rf"{base}/issues/(?P<number>\d+)/comments").mock(
            side_effect=read(lambda r, number: reply(self.comments.get(int(number), [])))
        )
        router.get(f"{base}/issues").mock(side_effect=read(self._list_issues))
        router.post(f"{base}/issues").mock(side_effect=self._create_issue)
        router.patch(path__regex=rf"{base}/issues/(?P<number>\d+)").mock(
            side_effect=self._update_issue
        )
        router.get(path__regex=rf"{base}/contents/(?P<path>.+)").mock(side_effect=read(self._file))
        router.post(path__regex=rf"{base}/statuses/[0-9a-f]{{40}}").mock(
            return_value=reply(load("status_created"), status=201)
        )
        router.post(f"{base}/check-runs").mock(side_effect=self._create_check_run)
        router.patch(path__regex=rf"{base}/check-runs/\d+").mock(
            return_value=reply(load("check_run_created"))
        )
        router.get("/app").mock(return_value=reply(load("app")))
        router.get(path__regex=r"/users/(?P<login>[^/]+)$").mock(side_effect=read(self._user))
        router.get(path__regex=rf"{base}/compare/main\.\.\.(?P<sha>[0-9a-f]{{40}})").mock(
            side_effect=read(self._compare)
        )
        router.get(
            path__regex=rf"{base}/compare/(?P<later>[0-9a-f]{{40}})\.\.\.(?P<merge>[0-9a-f]{{40}})"
        ).mock(side_effect=read(self._compare_with_merge))

    def _pull(self, github: FakeGitHub) -> Responder:
        def respond(request: httpx.Request, number: str) -> httpx.Response:
            pr = github.pulls.get(int(number))
            return reply(pr) if pr is not None else reply(load("not_found"), status=404)

        return respond

    def _list_check_runs(self, request: httpx.Request, sha: str) -> httpx.Response:
        runs = self.check_runs + self.created_check_runs.get(sha, [])
        return reply({"total_count": len(runs), "check_runs": runs})

    def _create_check_run(self, request: httpx.Request) -> httpx.Response:
        run = load("check_run_created")
        if self.lists_own_check_runs:
            sha = json.loads(request.content)["head_sha"]
            created = self.created_check_runs.setdefault(sha, [])
            made = sum(len(runs) for runs in self.created_check_runs.values())
            run = {**run, "id": run["id"] + made + 1, "head_sha": sha}
            created.append(run)
        return reply(run, status=201)

    def _add_comment(self, request: httpx.Request, number: str) -> httpx.Response:
        entry = copy.deepcopy(load("issue_comment_created"))
        entry["body"] = json.loads(request.content)["body"]
        self.comments.setdefault(int(number), []).append(entry)
        return reply(entry, status=201)

    def _list_issues(self, request: httpx.Request) -> httpx.Response:
        label = request.url.params.get("labels")
        found = [
            issue
            for issue in self.issues.values()
            if label is None or label in [entry["name"] for entry in issue["labels"]]
        ]
        return reply(found)

    def _create_issue(self, request: httpx.Request) -> httpx.Response:
        data = json.loads(request.content)
        number = 5000 + len(self.issues) + 1
        issue = copy.deepcopy(load("issue_created"))
        issue.update(
            number=number,
            title=data["title"],
            body=data.get("body"),
            state="open",
            labels=[{"name": name} for name in data.get("labels", [])],
            user=copy.deepcopy(load("issue_comment_created")["user"]),
        )
        self.issues[number] = issue
        return reply(issue, status=201)

    def _update_issue(self, request: httpx.Request, number: str) -> httpx.Response:
        issue = self.issues.get(int(number))
        if issue is None:
            return reply(load("not_found"), status=404)
        issue.update(json.loads(request.content))
        return reply(issue)

    def _file(self, request: httpx.Request, path: str) -> httpx.Response:
        ref = request.url.params.get("ref", "main")
        text = self.files_at.get((ref, path))
        if text is None:
            return reply(load("not_found"), status=404)
        return reply(contents_reply(text))

    @property
    def tracking_issue(self) -> dict[str, Any]:
        """The one issue opened, with its comments (the test fails if there is not one)."""
        assert len(self.issues) == 1, self.issues
        (issue,) = self.issues.values()
        return {**issue, "comments": [c["body"] for c in self.comments.get(issue["number"], [])]}

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

    def _user(self, request: httpx.Request, login: str) -> httpx.Response:
        user = copy.deepcopy(load("user"))
        user.update(login=login, id=1000 + len(login), name=None, email=self.emails.get(login))
        return reply(user)

    def _compare(self, request: httpx.Request, sha: str) -> httpx.Response:
        return reply(load("compare") | {"status": "behind" if sha in self.on_main else "diverged"})

    def _compare_with_merge(self, request: httpx.Request, later: str, merge: str) -> httpx.Response:
        if (later, merge) in self.compared:
            commits = [
                commit_entry(message, sha=f"{n:040x}")
                for n, message in enumerate(self.compared[later, merge], start=1)
            ]
            return reply(load("compare") | {"status": "ahead", "commits": commits})
        contains = later in self.after_merge or later == merge
        return reply(load("compare") | {"status": "behind" if contains else "diverged"})

    def _membership(self, request: httpx.Request, team: str, login: str) -> httpx.Response:
        if login in self.teams.get(team, set()):
            return reply(load("team_membership_active"))
        return reply(load("not_found"), status=404)


@dataclass
class Lane(RunningApp):
    """hotfix-lane running against the fake GitHub: the app, and what it sent GitHub.

    Like a runbook-abiding team, @alice (the approver the fixtures name) confirms every head
    a pull request is delivered at with ``/hotfix approve``, stored directly; tests of the
    confirmation itself set ``approver_confirms = False``.
    """

    github: FakeGitHub
    approver_confirms: bool = True

    def confirm(self, number: int, head_sha: str, login: str = "alice") -> None:
        """Record ``/hotfix approve`` by ``login`` at ``head_sha``, as the command does."""
        with self.session() as session:
            add_confirmation(
                session,
                repo_full_name=REPO,
                number=number,
                login=login,
                head_sha=head_sha,
                now=self.clock.now(),
            )

    async def post_webhook(
        self, event: str, body: Any, delivery: str | None = None, **header_overrides: str
    ) -> httpx.Response:
        """As GitHub does: a pull request delivered is also what its REST API answers now,
        unless the copy held is as new (two events of one second: the first one stays)."""
        if event == "pull_request" and isinstance(body, dict) and "pull_request" in body:
            pr = body["pull_request"]
            if self.approver_confirms:
                self.confirm(int(pr["number"]), pr["head"]["sha"])
            held = self.github.pulls.get(int(pr["number"]))
            if held is None or (pr.get("updated_at") or "") > (held.get("updated_at") or ""):
                self.github.pulls[int(pr["number"])] = copy.deepcopy(pr)
        return await super().post_webhook(event, body, delivery, **header_overrides)

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
    """The real app on ``settings``, its gateway's retries and Slack's pacing not waiting."""
    # The fixtures' PR is open and evaluated before it merges at 09:52:31 UTC: a merge is
    # judged by what was true then, and its follow-up deadlines lie ahead.
    async with running_app(settings, start=BEFORE_MERGE, no_waits=True) as app:
        yield Lane.on(app, github=github)
