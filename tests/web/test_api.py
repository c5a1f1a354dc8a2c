"""The web view's JSON API over HTTP, in process: what each endpoint answers, what it hides,
and the schema and docs page that describe it.

The scene: #4322, a second hotfix of the incident, is opened while #4321 is open; #4321
merges, so #4322 is now a chained hotfix and fails, and #4321 owes its follow-ups.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.settings import Settings
from app.store.models import HotfixRecord
from tests.fakes.github import NUMBER, REPO, FakeGitHub, app_settings
from tests.lane.scenario import JUST_MERGED, Lane, Repo, pull_request, running_lane

SECOND = 4322
SECOND_SHA = "4" * 40
SHA = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"  # the fixtures' head of #4321
CLIENT_ID, CLIENT_SECRET = "Iv1.hotfixlane", "client-secret-for-tests"
NO_SUCH_PULL = {"detail": "No such pull request"}
SIGN_IN_FIRST = {"detail": "sign in at /login first"}
ENDPOINTS = ("ledger", "follow-ups", f"pulls/{REPO}/{NUMBER}", "open-hotfixes")

LEDGER_ENTRY = {
    "merged_at": "2026-05-20T09:52:31Z",
    "org": "acme",
    "repository": REPO,
    "number": NUMBER,
    "incident_id": "INC-2026-05-20-001",
    "title": "HOTFIX: INC-2026-05-20-001 catalog nil-deref on missing tenant header",
    "author": "bob",
    "approver": "alice",
    "cleanup_owner": "bob",
    "merged_by": "carol",
    "bypassed": True,
    "bypass_reasons": ["0 approving review(s), 1 required"],
    "scan_state": "passed",
    "drill": False,
    "deployed_at": None,
    "deployment_environment": None,
    "url": f"https://github.com/{REPO}/pull/{NUMBER}",
}
ALL_PASS = "Hotfix lane: all 13 rules pass."
CHAINED = (
    "no-chained-hotfix: INC-2026-05-20-001 already has a merged hotfix (#4321): revert it, "
    "or declare a new incident for a new fix."
)
VERDICTS = [
    ("markers", "Hotfix markers present for INC-2026-05-20-001."),
    ("incident-id", "Every commit names INC-2026-05-20-001."),
    ("no-chained-hotfix", "No merged hotfix of INC-2026-05-20-001 yet."),
    ("approver-named", "@alice is named as the approver."),
    ("approver-authorized", "@alice may approve hotfixes."),
    ("approver-confirmed", "@alice confirmed with `/hotfix approve` after the latest push."),
    ("cleanup-owner", "@bob owns the cleanup PR, due within 24 hours of the merge."),
    ("preflight", "Pre-flight recorded: a flag flip and a rollback were ruled out."),
    ("diff-size", "4 changed lines; a hotfix stays under 50."),
    ("single-concern", "Changes stay within services."),
    ("scan", "Scan passed on the head commit (scan)."),
    ("fast-path", "Fast-path checks passed: lint, unit-changed-package, build-sign-push."),
    ("rate-limit", "0 hotfixes merged in this organisation in 7 days (limit 3)."),
]


@pytest.fixture
def repo(fake_github: FakeGitHub) -> Repo:
    repo = Repo()
    repo.serve(fake_github)
    return repo


def settings_for(make: Callable[..., Settings], key: rsa.RSAPrivateKey, **changes: Any) -> Settings:
    return make(**app_settings(key), **changes)


async def open_and_merge(lane: Lane) -> None:
    """#4322 and #4321 opened (both pass), then #4321 merged a few minutes later."""
    second = pull_request(
        number=SECOND,
        title="HOTFIX: INC-2026-05-20-001 catalog retry on missing tenant header",
        html_url=f"https://github.com/{REPO}/pull/{SECOND}",
    )
    second["pull_request"]["head"].update(
        ref="hotfix/INC-2026-05-20-001-catalog-retry", sha=SECOND_SHA
    )
    await lane.deliver("pull_request", second)
    await lane.deliver("pull_request", pull_request())
    lane.clock.set(JUST_MERGED)
    await lane.deliver("pull_request", pull_request("pull_request.closed"))


@pytest.fixture
async def lane(
    make_settings: Callable[..., Settings],
    app_key: rsa.RSAPrivateKey,
    fake_github: FakeGitHub,
    repo: Repo,
) -> AsyncIterator[Lane]:
    """The app with ``WEB_AUTH=none``: #4321 merged, #4322 open."""
    async with running_lane(
        settings_for(make_settings, app_key, web_auth="none"), fake_github
    ) as lane:
        await open_and_merge(lane)
        yield lane


async def get(client: httpx.AsyncClient, path: str, status: int = 200) -> Any:
    response = await client.get(f"/api/v1/{path}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def test_the_ledger_lists_the_merged_hotfix(lane: Lane) -> None:
    assert await get(lane.client, "ledger") == [LEDGER_ENTRY]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("org=ACME", True),
        ("org=other", False),
        (f"repo={REPO.upper()}", True),
        ("repo=acme/other", False),
        ("author=Bob", True),
        ("author=carol", False),
        ("since=2026-05-20", True),
        ("since=2026-05-21", False),
        ("until=2026-05-20", True),  # the whole of the day named
        ("until=2026-05-19", False),
        ("since=2026-05-20&until=2026-05-20&limit=1", True),
        ("org=&repo=&author=&since=&until=", True),  # an empty filter filters nothing
    ],
    ids=lambda value: {True: "finds it", False: "finds nothing"}.get(value, value),
)
async def test_the_ledger_filters(lane: Lane, query: str, found: bool) -> None:
    assert await get(lane.client, f"ledger?{query}") == ([LEDGER_ENTRY] if found else [])


@pytest.mark.parametrize(
    ("query", "status", "detail"),
    [
        ("since=yesterday", 400, "since must be a date, YYYY-MM-DD"),
        ("until=2026-13-01", 400, "until must be a date, YYYY-MM-DD"),
        ("limit=5001", 422, "Input should be less than or equal to 5000"),
        ("limit=0", 422, "Input should be greater than or equal to 1"),
    ],
)
async def test_the_ledger_refuses_bad_filters(
    lane: Lane, query: str, status: int, detail: str
) -> None:
    body = await get(lane.client, f"ledger?{query}", status)
    # Our own 400 says what is wrong in a sentence; a 422 is FastAPI's validation, per field.
    said = body["detail"] if status == 400 else body["detail"][0]["msg"]
    assert said == detail
    assert (await lane.client.get("/api/v1/ledger?limit=5000")).status_code == 200


async def test_owed_follow_ups_overdue_first(lane: Lane) -> None:
    lane.clock.set(JUST_MERGED.replace(day=21, hour=10))  # the cleanup PR is a day late
    await lane.run_due()

    def owed(kind: str, label: str, owner: str, due: str, overdue: bool) -> dict[str, Any]:
        return {
            "repository": REPO,
            "number": NUMBER,
            "incident_id": "INC-2026-05-20-001",
            "follow_up": label,
            "kind": kind,
            "owner": owner,
            "due_at": due,
            "overdue": overdue,
        }

    assert await get(lane.client, "follow-ups") == [
        owed("cleanup-pr", "cleanup PR", "bob", "2026-05-21T09:52:31Z", True),
        owed("postmortem", "postmortem", "bob", "2026-05-22T09:52:31Z", False),
        owed("audit-review", "audit review", "acme/platform-team", "2026-05-27T09:52:31Z", False),
    ]


async def test_the_open_hotfixes_are_the_dashboards(lane: Lane) -> None:
    assert await get(lane.client, "open-hotfixes") == [
        {
            "repository": REPO,
            "number": SECOND,
            "title": "HOTFIX: INC-2026-05-20-001 catalog retry on missing tenant header",
            "author": "bob",
            "state": "failure",
            "description": CHAINED,
            "evaluated_at": "2026-05-20T09:53:00Z",
            "drill": False,
        }
    ]


async def test_a_merged_pull_request_shows_each_rule_and_its_ledger_entry(lane: Lane) -> None:
    evaluation = {
        "state": "success",
        "description": ALL_PASS,
        "head_sha": SHA,
        "evaluated_at": "2026-05-20T09:50:00Z",
    }

    assert await get(lane.client, f"pulls/{REPO}/{NUMBER}") == {
        "repository": REPO,
        "number": NUMBER,
        "title": "HOTFIX: INC-2026-05-20-001 catalog nil-deref on missing tenant header",
        "author": "bob",
        "url": f"https://github.com/{REPO}/pull/{NUMBER}",
        "lane": "hotfix",
        "pull_state": "closed",
        "head_sha": SHA,
        "latest": evaluation
        | {
            "verdicts": [
                {"rule": rule, "outcome": "pass", "message": message} for rule, message in VERDICTS
            ]
        },
        "history": [evaluation],
        "hotfix": LEDGER_ENTRY,
    }


async def test_an_open_pull_request_shows_its_history_newest_first(lane: Lane) -> None:
    details = await get(lane.client, f"pulls/{REPO.upper()}/{SECOND}")

    assert (details["repository"], details["pull_state"], details["hotfix"]) == (
        REPO,
        "open",
        None,
    )
    assert details["history"] == [
        {
            "state": "failure",
            "description": CHAINED,
            "head_sha": SECOND_SHA,
            "evaluated_at": "2026-05-20T09:53:00Z",
        },
        {
            "state": "success",
            "description": ALL_PASS,
            "head_sha": SECOND_SHA,
            "evaluated_at": "2026-05-20T09:50:00Z",
        },
    ]
    latest = details["latest"]
    assert {k: v for k, v in latest.items() if k != "verdicts"} == details["history"][0]
    failing = [v for v in latest["verdicts"] if v["outcome"] != "pass"]
    rule, message = CHAINED.split(": ", 1)
    assert failing == [{"rule": rule, "outcome": "fail", "message": message}]


async def test_a_pull_request_we_never_saw_is_404(lane: Lane) -> None:
    for path in (f"pulls/{REPO}/999", f"pulls/acme/other/{NUMBER}"):
        assert await get(lane.client, path, 404) == NO_SUCH_PULL
    assert (await lane.client.get(f"/api/v1/pulls/{REPO}/not-a-number")).status_code == 422


# --- with GitHub sign-in ---------------------------------------------------------------------


@pytest.fixture
async def signed_lane(
    make_settings: Callable[..., Settings],
    app_key: rsa.RSAPrivateKey,
    fake_github: FakeGitHub,
    repo: Repo,
) -> AsyncIterator[Lane]:
    """The app with GitHub sign-in (over http: the test client sends its cookie back), the
    same scene, and two people: erin reads the repository, dave reads another one."""
    fake_github.oauth(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        users={"erin": [REPO], "dave": ["acme/other"]},
    )
    settings = settings_for(
        make_settings,
        app_key,
        github_client_id=CLIENT_ID,
        github_client_secret=CLIENT_SECRET,
        session_secret="session-secret-for-tests",
    )
    async with running_lane(settings, fake_github) as lane:
        await open_and_merge(lane)
        yield lane


async def sign_in(client: httpx.AsyncClient, login: str) -> None:
    """GitHub's web flow, with the browser's trip to GitHub skipped: GitHub sends it back to
    the callback with ``code-<login>`` and the state it was given."""
    client.cookies.clear()
    started = await client.get("/login")
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    done = await client.get("/login/callback", params={"code": f"code-{login}", "state": state})
    assert done.status_code == 303, done.text


async def test_unsigned_in_the_api_answers_401_not_a_redirect(signed_lane: Lane) -> None:
    for path in (*ENDPOINTS, f"pulls/{REPO}/999"):
        assert await get(signed_lane.client, path, 401) == SIGN_IN_FIRST, path


async def test_a_person_sees_only_the_repositories_they_can_read(signed_lane: Lane) -> None:
    await sign_in(signed_lane.client, "dave")

    for path in ("ledger", "follow-ups", "open-hotfixes"):
        assert await get(signed_lane.client, path) == [], path
    # Unreadable is told apart from unknown by nothing.
    assert await get(signed_lane.client, f"pulls/{REPO}/{NUMBER}", 404) == NO_SUCH_PULL
    assert await get(signed_lane.client, f"pulls/{REPO}/999", 404) == NO_SUCH_PULL

    await sign_in(signed_lane.client, "erin")

    assert await get(signed_lane.client, "ledger") == [LEDGER_ENTRY]
    assert [f["kind"] for f in await get(signed_lane.client, "follow-ups")] == [
        "cleanup-pr",
        "postmortem",
        "audit-review",
    ]
    assert [h["number"] for h in await get(signed_lane.client, "open-hotfixes")] == [SECOND]
    assert (await get(signed_lane.client, f"pulls/{REPO}/{NUMBER}"))["number"] == NUMBER


async def test_the_limit_counts_the_rows_a_person_can_read(signed_lane: Lane) -> None:
    # A newer hotfix in a repository erin cannot read comes first in the ledger.
    signed_lane.record_hotfix(
        HotfixRecord(
            org="acme",
            repo_full_name="acme/other",
            number=7,
            title="HOTFIX: INC-2026-05-20-009 other",
            author="dave",
            merged_at=JUST_MERGED + timedelta(hours=1),
            head_sha="7" * 40,
            base_ref="main",
            policy_state="success",
            scan_state="passed",
            recorded_at=JUST_MERGED + timedelta(hours=1),
        )
    )
    await sign_in(signed_lane.client, "erin")

    assert await get(signed_lane.client, "ledger?limit=1") == [LEDGER_ENTRY]


# --- the schema, the docs page, and the web view off -----------------------------------------


async def test_the_schema_documents_the_four_endpoints(lane: Lane) -> None:
    response = await lane.client.get("/api/openapi.json")
    schema = response.json()

    api = {path: ops for path, ops in schema["paths"].items() if path.startswith("/api/")}
    assert {path: ops["get"]["summary"] for path, ops in api.items()} == {
        "/api/v1/ledger": "Merged hotfixes, newest first",
        "/api/v1/follow-ups": "Owed follow-ups, overdue first",
        "/api/v1/pulls/{owner}/{repo}/{number}": "A pull request's verdicts",
        "/api/v1/open-hotfixes": "Open hotfix pull requests",
    }
    assert {path: sorted(ops["get"]["responses"]) for path, ops in api.items()} == {
        "/api/v1/ledger": ["200", "400", "401", "422"],
        "/api/v1/follow-ups": ["200", "401"],
        "/api/v1/pulls/{owner}/{repo}/{number}": ["200", "401", "404", "422"],
        "/api/v1/open-hotfixes": ["200", "401"],
    }
    assert all(ops["get"]["tags"] == ["web view"] for ops in api.values())
    models = schema["components"]["schemas"]
    undescribed = [
        f"{name}.{field}"
        for name in ("LedgerEntry", "FollowUpEntry", "PullRequestDetails", "OpenHotfix")
        for field, spec in models[name]["properties"].items()
        if not spec.get("description")
    ]
    assert undescribed == []
    # The pages, the webhook and the audit-log intake stay out of it.
    assert not any(path in schema["paths"] for path in ("/", "/ledger", "/api/github/webhooks"))


async def test_the_docs_page_needs_nothing_from_elsewhere(lane: Lane) -> None:
    response = await lane.client.get("/api/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script src=" not in page and "<script" not in page
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert stylesheets == ["/static/style.css"]
    assert "https://" not in page
    for heading in (
        "<code>GET /api/v1/ledger</code> — Merged hotfixes, newest first",
        "<code>GET /api/v1/follow-ups</code> — Owed follow-ups, overdue first",
        "<code>GET /api/v1/pulls/{owner}/{repo}/{number}</code> — A pull request&#x27;s verdicts",
        "<code>GET /api/v1/open-hotfixes</code> — Open hotfix pull requests",
    ):
        assert heading in page
    # Response fields, nested ones by their path.
    assert "<tr><td>bypass_reasons</td><td>list of string</td>" in page
    assert "<tr><td>latest.verdicts[].rule</td><td>string</td>" in page
    assert "<tr><td>history[].evaluated_at</td><td>string (date-time)</td>" in page
    assert "<tr><td>limit (optional)</td><td>query</td><td>integer, default 200</td>" in page
    assert '<a href="/api/openapi.json">' in page


async def test_without_the_web_view_there_is_no_api(
    make_settings: Callable[..., Settings],
    app_key: rsa.RSAPrivateKey,
    fake_github: FakeGitHub,
    repo: Repo,
) -> None:
    async with running_lane(settings_for(make_settings, app_key), fake_github) as lane:
        await lane.deliver("pull_request", pull_request())
        for path in ("/api/v1/ledger", "/api/v1/open-hotfixes", "/api/docs"):
            assert (await lane.client.get(path)).status_code == 404, path
        schema = (await lane.client.get("/api/openapi.json")).json()
        assert not [path for path in schema["paths"] if path.startswith("/api/")]


async def test_the_session_cookie_never_carries_the_github_token_in_the_clear(
    signed_lane: Lane,
) -> None:
    await sign_in(signed_lane.client, "erin")
    cookie = signed_lane.client.cookies["hotfix_lane_session"]
    # The cookie is signed JSON (base64); the token inside is sealed.
    payload = base64.b64decode(cookie.split(".")[0] + "==").decode()

    assert '"login": "erin"' in payload
    assert "gho_erintoken" not in payload
    assert await get(signed_lane.client, "ledger") == [LEDGER_ENTRY]

    # A cookie whose sealed token was swapped is no sign-in.
    forged = payload.replace(json.loads(payload)["token"], "gho_erintoken")
    signed_lane.client.cookies["hotfix_lane_session"] = (
        base64.b64encode(forged.encode()).decode() + "." + cookie.split(".", 1)[1]
    )
    assert await get(signed_lane.client, "ledger", 401) == SIGN_IN_FIRST
