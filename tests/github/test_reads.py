"""Reads: pagination, conditional requests, truncation, memberships, the policy files."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from app.github.gateway import GitHubGateway
from app.github.payloads import Actor, PushEvent
from app.policy.layers import PolicyLayer, Scope
from app.rules.model import ChangedFile, CheckResult, Review
from tests.conftest import load_fixture
from tests.fakes.clock import FakeClock
from tests.fakes.github import (
    INSTALLATION_ID,
    NUMBER,
    REPO,
    SHA,
    FakeGitHub,
    load,
    reply,
    snapshot,
)

PR_PATH = f"/repos/{REPO}/pulls/{NUMBER}"
POLICY = "/contents/.github/hotfix-lane.yml"
POLICY_TEXT = base64.b64decode(load("contents_policy")["content"]).decode()

ACTIONS = "github-actions"
# When the fixtures' check runs and statuses completed.
AT_16 = datetime(2026, 5, 20, 9, 16, tzinfo=UTC)
AT_18 = datetime(2026, 5, 20, 9, 18, tzinfo=UTC)


def serve_pull_request(fake_github: FakeGitHub) -> None:
    """Commits on two pages, files, check runs and the combined status of ``SHA``."""
    fake_github.get(
        f"{PR_PATH}/commits",
        reply(
            load("pull_commits_page1"),
            etag='W/"c1"',
            next_page=f"/repositories/123456789/pulls/{NUMBER}/commits?per_page=100&page=2",
        ),
    )
    fake_github.get(
        f"/repositories/123456789/pulls/{NUMBER}/commits",
        reply(load("pull_commits_page2"), etag='W/"c2"'),
        page="2",
    )
    fake_github.get(f"{PR_PATH}/files", reply(load("pull_files"), etag='W/"f1"'))
    fake_github.serve_checks()


async def test_enrich_reads_every_page_and_maps_checks_and_statuses(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    serve_pull_request(fake_github)

    enriched = await gateway.enrich(INSTALLATION_ID, snapshot())

    assert fake_github.requests == [
        f"POST /app/installations/{INSTALLATION_ID}/access_tokens",
        f"GET {PR_PATH}/commits?per_page=100",
        f"GET /repositories/123456789/pulls/{NUMBER}/commits?per_page=100&page=2",
        f"GET {PR_PATH}/files?per_page=100",
        f"GET /repos/{REPO}/commits/{SHA}/check-runs?per_page=100",
        f"GET /repos/{REPO}/commits/{SHA}/status?per_page=100",
    ]
    assert [c.author_login for c in enriched.commits] == ["bob", None]
    assert "approver: @alice" in enriched.commits[0].message
    assert enriched.files == (
        ChangedFile("services/catalog/middleware/tenant.go", 3, 1, "modified"),
        ChangedFile("services/catalog/middleware/tenant_test.go", 12, 0, "added"),
    )
    assert not enriched.files_truncated
    # Our own check run and status are left out; statuses read as checks.
    assert enriched.checks == (
        CheckResult("scan", "completed", "success", "check_run", ACTIONS, 15368, AT_18),
        CheckResult("unit-tests", "in_progress", None, "check_run", ACTIONS, 15368),
        CheckResult("trivy", "completed", "success", "status", completed_at=AT_16),
        CheckResult("ci/lint", "completed", "failure", "status", completed_at=AT_16),
    )


async def test_checks_note_our_own_run_for_the_publisher_to_adopt(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.serve_checks()
    assert gateway.own_check_run_seen(REPO, SHA) is None

    checks = await gateway.checks(INSTALLATION_ID, REPO, SHA)

    assert "hotfix-lane" not in [check.name for check in checks]
    ours = next(run for run in load("check_runs")["check_runs"] if run["name"] == "hotfix-lane")
    assert gateway.own_check_run_seen(REPO.upper(), SHA) == ours["id"]
    assert gateway.own_check_run_seen(REPO, "0" * 40) is None


async def test_a_known_head_reads_only_the_checks_again(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    serve_pull_request(fake_github)
    first = await gateway.enrich(INSTALLATION_ID, snapshot())
    fake_github.router.calls.clear()

    again = await gateway.enrich(INSTALLATION_ID, snapshot())

    assert again == first
    assert fake_github.requests == [
        f"GET /repos/{REPO}/commits/{SHA}/check-runs?per_page=100",
        f"GET /repos/{REPO}/commits/{SHA}/status?per_page=100",
    ]


async def test_repeated_reads_revalidate_with_the_etag(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    pull = fake_github.get(
        PR_PATH,
        reply(load("pull_request"), etag='"pr-v1"'),
        reply(status=304, etag='"pr-v1"'),
    )

    first = await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)
    second = await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert second == first
    assert "if-none-match" not in pull.calls[0].request.headers
    assert pull.calls[1].request.headers["if-none-match"] == '"pr-v1"'


async def test_more_than_3000_files_mark_the_snapshot_truncated(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.get(f"{PR_PATH}/commits", reply(load("pull_commits_page1")))
    fake_github.serve_checks()
    entry = load("pull_files")[0]
    # GitHub serves 30 pages of 100 and then stops, whatever changed_files says.
    for page in range(30, 0, -1):
        files = [entry | {"filename": f"generated/file_{page:02}_{i:03}.go"} for i in range(100)]
        fake_github.get(
            f"{PR_PATH}/files",
            reply(
                files,
                next_page=f"{PR_PATH}/files?per_page=100&page={page + 1}" if page < 30 else None,
            ),
            **({"page": str(page)} if page > 1 else {}),
        )

    enriched = await gateway.enrich(INSTALLATION_ID, snapshot(changed_files=3412))

    assert len(enriched.files) == 3000
    assert enriched.files_truncated
    assert fake_github.requests[-3] == f"GET {PR_PATH}/files?per_page=100&page=30"


async def test_reviews_skip_deleted_accounts(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.get(f"{PR_PATH}/reviews", reply(load("reviews")))

    reviews = await gateway.reviews(INSTALLATION_ID, REPO, NUMBER)

    assert [(r.user_login, r.state, r.commit_id) for r in reviews] == [("alice", "APPROVED", SHA)]
    assert isinstance(reviews[0], Review)
    assert reviews[0].submitted_at is not None


async def test_team_members_are_active_members_only_and_cached(
    gateway: GitHubGateway, fake_github: FakeGitHub, clock: FakeClock
) -> None:
    teams = "/orgs/acme/teams"
    fake_github.get(f"{teams}/sre-leads/memberships/alice", reply(load("team_membership_active")))
    fake_github.get(f"{teams}/sre-leads/memberships/carol", reply(load("team_membership_pending")))
    fake_github.get(
        f"{teams}/platform-admins/memberships/alice", reply(load("not_found"), status=404)
    )
    pairs = [("sre-leads", "alice"), ("sre-leads", "carol"), ("platform-admins", "alice")]

    members = await gateway.team_members(INSTALLATION_ID, "acme", pairs)
    assert members == {"sre-leads": frozenset({"alice"}), "platform-admins": frozenset()}
    assert len(fake_github.requests) == 4

    clock.advance(minutes=9)
    assert await gateway.team_members(INSTALLATION_ID, "acme", pairs) == members
    assert len(fake_github.requests) == 4

    clock.advance(minutes=2)
    await gateway.team_members(INSTALLATION_ID, "acme", pairs[:1])
    assert len(fake_github.requests) == 5


async def test_the_organisation_file_is_the_floor_under_the_repository_file_and_cached(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    repo_file = fake_github.get(f"/repos/{REPO}{POLICY}", reply(load("contents_policy")))
    org_file = fake_github.get(f"/repos/acme/.github{POLICY}", reply(load("contents_policy")))

    layers = await gateway.policy_layers(INSTALLATION_ID, REPO, "main")
    assert await gateway.policy_layers(INSTALLATION_ID, REPO, "main") == layers

    assert layers == [
        PolicyLayer("acme/.github:.github/hotfix-lane.yml", POLICY_TEXT, Scope.ORGANISATION),
        PolicyLayer(f"{REPO}:.github/hotfix-lane.yml", POLICY_TEXT, Scope.REPOSITORY),
    ]
    assert (repo_file.call_count, org_file.call_count) == (1, 1)
    assert repo_file.calls.last.request.url.params["ref"] == "main"


async def test_without_a_repository_file_the_organisation_file_still_applies(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.get(f"/repos/{REPO}{POLICY}", reply(load("not_found"), status=404))
    fake_github.get(f"/repos/acme/.github{POLICY}", reply(load("contents_policy")))

    layers = await gateway.policy_layers(INSTALLATION_ID, REPO, "release/2026")

    assert layers == [
        PolicyLayer("acme/.github:.github/hotfix-lane.yml", POLICY_TEXT, Scope.ORGANISATION),
        PolicyLayer(f"{REPO}:.github/hotfix-lane.yml", None, Scope.REPOSITORY),
    ]
    assert fake_github.requests[1:] == [
        f"GET /repos/{REPO}{POLICY}?ref=release%2F2026",
        f"GET /repos/acme/.github{POLICY}",
    ]


def contents(text: str) -> dict[str, object]:
    reply_body: dict[str, object] = load("contents_policy")
    return reply_body | {"content": base64.b64encode(text.encode()).decode()}


@pytest.mark.parametrize(
    ("extends", "base_text", "problem"),
    [
        ("base", "rules: {}\n", None),
        ("acme/base", "rules: {}\n", None),
        ("base", None, "acme/base:.github/hotfix-lane.yml does not exist"),
        ("base", "_extends: other\n", "only one level is followed"),
        ("evil/base", None, "evil/base is not in the organisation acme"),
        (".github", None, "a cycle"),
    ],
    ids=[
        "a repository name is read in the organisation",
        "an owner/repo name in the organisation is read",
        "a missing base is a problem on _extends",
        "a base that extends again is refused",
        "another organisation's file is refused",
        "the organisation's own file is a cycle",
    ],
)
async def test_the_organisation_file_extends_one_level(
    gateway: GitHubGateway,
    fake_github: FakeGitHub,
    extends: str,
    base_text: str | None,
    problem: str | None,
) -> None:
    fake_github.get(f"/repos/{REPO}{POLICY}", reply(load("not_found"), status=404))
    org_text = f"_extends: {extends}\n"
    fake_github.get(f"/repos/acme/.github{POLICY}", reply(contents(org_text)))
    fake_github.get(
        f"/repos/acme/base{POLICY}",
        reply(contents(base_text)) if base_text else reply(load("not_found"), status=404),
    )

    base, org, repo = await gateway.policy_layers(INSTALLATION_ID, REPO, "main")

    assert (org.text, repo.scope) == (org_text, Scope.REPOSITORY)
    assert base.extended_by == "acme/.github:.github/hotfix-lane.yml"
    assert base.scope is Scope.ORGANISATION
    if problem is None:
        assert (base.source, base.text, base.problem) == (
            "acme/base:.github/hotfix-lane.yml",
            base_text,
            None,
        )
    else:
        assert base.problem is not None and problem in base.problem


async def test_a_push_to_an_extended_file_drops_the_organisation_entries(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.get(f"/repos/{REPO}{POLICY}", reply(load("not_found"), status=404))
    fake_github.get(f"/repos/acme/.github{POLICY}", reply(contents("_extends: base\n")))
    base_file = fake_github.get(f"/repos/acme/base{POLICY}", reply(contents("rules: {}\n")))
    await gateway.policy_layers(INSTALLATION_ID, REPO, "main")

    webhook = load_fixture("push")
    webhook["repository"] |= {"full_name": "acme/base", "name": "base"}
    assert gateway.note_push(PushEvent.model_validate(webhook))

    await gateway.policy_layers(INSTALLATION_ID, REPO, "main")
    assert base_file.call_count == 2


@pytest.mark.parametrize(
    ("changes", "dropped"),
    [
        ({}, True),
        ({"ref": "refs/heads/feature"}, False),
        ({"commits": [{"added": [], "modified": ["README.md"], "removed": []}]}, False),
        ({"commits": []}, True),
    ],
    ids=[
        "a push to the default branch touching the file drops the cache",
        "a push to another branch keeps it",
        "a push touching other files keeps it",
        "a push listing no commits drops it (we cannot tell)",
    ],
)
async def test_pushes_drop_the_cached_policy(
    gateway: GitHubGateway, fake_github: FakeGitHub, changes: dict[str, object], dropped: bool
) -> None:
    repo_file = fake_github.get(f"/repos/{REPO}{POLICY}", reply(load("contents_policy")))
    fake_github.get(f"/repos/acme/.github{POLICY}", reply(load("not_found"), status=404))
    await gateway.policy_layers(INSTALLATION_ID, REPO, "main")

    push = PushEvent.model_validate(load_fixture("push") | changes)
    assert gateway.note_push(push) is dropped

    await gateway.policy_layers(INSTALLATION_ID, REPO, "main")
    assert repo_file.call_count == (2 if dropped else 1)


async def test_a_push_to_the_organisation_config_repo_drops_every_fallback(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.get(f"/repos/{REPO}{POLICY}", reply(load("not_found"), status=404))
    org_file = fake_github.get(f"/repos/acme/.github{POLICY}", reply(load("contents_policy")))
    await gateway.policy_layers(INSTALLATION_ID, REPO, "main")

    webhook = load_fixture("push")
    webhook["repository"] |= {"full_name": "acme/.github", "name": ".github"}
    assert gateway.note_push(PushEvent.model_validate(webhook))

    await gateway.policy_layers(INSTALLATION_ID, REPO, "main")
    assert org_file.call_count == 2


async def test_our_own_bot_is_recognised_with_one_read(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    app = fake_github.get("/app", reply(load("app")))

    assert await gateway.is_own_sender(Actor(login="hotfix-lane[bot]", type="Bot"))
    assert not await gateway.is_own_sender(Actor(login="github-actions[bot]", type="Bot"))
    assert not await gateway.is_own_sender(Actor(login="mallory", type="User"))
    assert not await gateway.is_own_sender(None)

    assert app.call_count == 1
    # GET /app authenticates as the App itself, with the JWT.
    assert app.calls.last.request.headers["authorization"].startswith("Bearer ")
