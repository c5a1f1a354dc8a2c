"""The web view's pages over HTTP, in process: served or not, what they list, what they hide.

The browser tests (``test_browser*.py``) drive the same pages in Chromium; these pin the
routing and the rules: 404 when the web view is off, sign-in first, one repository's rows
never shown to someone who cannot read it, the ledger's CSV.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.settings import Settings
from tests.conftest import load_fixture
from tests.fakes.github import NUMBER, REPO, FakeGitHub, app_settings
from tests.lane.scenario import JUST_MERGED, Lane, Repo, pull_request, running_lane

PUBLIC_URL = "https://hotfix-lane.acme.example"


@pytest.fixture
def repo(fake_github: FakeGitHub) -> Repo:
    repo = Repo()
    repo.serve(fake_github)
    return repo


def web_settings(make: Callable[..., Settings], key: rsa.RSAPrivateKey, **changes: Any) -> Settings:
    return make(**app_settings(key), public_url=PUBLIC_URL, **changes)


@pytest.fixture
async def open_web(
    make_settings: Callable[..., Settings],
    app_key: rsa.RSAPrivateKey,
    fake_github: FakeGitHub,
    repo: Repo,
) -> AsyncIterator[Lane]:
    """The app with ``WEB_AUTH=none``, a hotfix merged and one open."""
    settings = web_settings(make_settings, app_key, web_auth="none")
    async with running_lane(settings, fake_github) as lane:
        yield lane


async def test_without_sign_in_configured_the_pages_are_not_served(
    make_settings: Callable[..., Settings],
    app_key: rsa.RSAPrivateKey,
    fake_github: FakeGitHub,
    repo: Repo,
) -> None:
    async with running_lane(web_settings(make_settings, app_key), fake_github) as lane:
        for path in ("/", "/ledger", f"/{REPO}/pull/{NUMBER}", "/static/style.css"):
            assert (await lane.client.get(path)).status_code == 404, path
        assert (await lane.client.get("/healthz")).json() == {"status": "ok"}
        await lane.deliver("pull_request", pull_request())
        # No page to link to: the status carries none.
        assert "target_url" not in lane.statuses[-1]


async def test_the_dashboard_lists_the_open_hotfix_with_its_verdict(open_web: Lane) -> None:
    await open_web.deliver("pull_request", pull_request())

    page = await open_web.client.get("/")

    assert page.status_code == 200
    assert f'<tr data-pr="{REPO}#{NUMBER}" class="state-success">' in page.text
    assert "Hotfix lane: all 13 rules pass." in page.text
    assert open_web.statuses[-1]["target_url"] == f"{PUBLIC_URL}/{REPO}/pull/{NUMBER}"
    assert open_web.check_runs[0]["details_url"] == f"{PUBLIC_URL}/{REPO}/pull/{NUMBER}"


async def test_the_details_page_the_status_links_to_shows_each_rule(open_web: Lane) -> None:
    await open_web.deliver("pull_request", pull_request())
    link = open_web.statuses[-1]["target_url"].removeprefix(PUBLIC_URL)

    page = await open_web.client.get(link)

    assert page.status_code == 200
    assert '<tr data-rule="scan" class="outcome-pass">' in page.text
    assert '<tr data-rule="markers" class="outcome-pass">' in page.text
    assert 'Verdict: <span class="state">success</span>' in page.text


async def test_unknown_pages_and_pull_requests_are_404(open_web: Lane) -> None:
    for path in (f"/{REPO}/pull/999", "/acme/other/pull/1", "/no/such/page/here", "/nope"):
        assert (await open_web.client.get(path)).status_code == 404, path
    for path in (f"/{REPO}/pull/not-a-number", f"/{REPO}/pull/99999999999999999999"):
        assert (await open_web.client.get(path)).status_code == 404, path


async def test_an_overdue_follow_up_is_first_and_marked(open_web: Lane, repo: Repo) -> None:
    repo.teams["platform-admins"] = {"carol"}
    await open_web.deliver("pull_request", pull_request())
    await open_web.deliver("pull_request", pull_request("pull_request.closed"))
    open_web.clock.set(JUST_MERGED.replace(day=21, hour=10))  # the cleanup PR is a day late
    await open_web.run_due()

    page = (await open_web.client.get("/")).text

    first = page.index('<tr class="follow-up')
    assert page[first:].startswith(f'<tr class="follow-up overdue" data-pr="{REPO}#{NUMBER}">')
    assert '<strong class="flag">OVERDUE</strong> 2026-05-21 09:52 UTC' in page
    assert "1 of 3 in 7 days" in page


async def test_the_ledger_downloads_as_csv_without_formulas(open_web: Lane, repo: Repo) -> None:
    await open_web.deliver("pull_request", pull_request(title="=HYPERLINK(1) HOTFIX: x"))
    await open_web.deliver(
        "pull_request", pull_request("pull_request.closed", title="=HYPERLINK(1) HOTFIX: x")
    )

    response = await open_web.client.get("/ledger.csv?org=ACME")

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["repository"], row["number"], row["title"]) for row in rows] == [
        (REPO, str(NUMBER), "'=HYPERLINK(1) HOTFIX: x")
    ]
    assert (await open_web.client.get("/ledger.csv?org=other")).text.count("\n") == 1
    # "Until" includes the day it names: the merge at 09:52 that day is in.
    until = await open_web.client.get("/ledger.csv?until=2026-05-20")
    assert until.text.count("\n") == 2
    assert (await open_web.client.get("/ledger.csv?until=2026-05-19")).text.count("\n") == 1
    assert (await open_web.client.get("/ledger?since=yesterday")).status_code == 400


async def test_with_github_sign_in_a_page_asks_to_sign_in_first(
    make_settings: Callable[..., Settings],
    app_key: rsa.RSAPrivateKey,
    fake_github: FakeGitHub,
    repo: Repo,
) -> None:
    settings = web_settings(
        make_settings,
        app_key,
        github_client_id="Iv1.hotfixlane",
        github_client_secret="client-secret-for-tests",
        session_secret="session-secret-for-tests",
    )
    async with running_lane(settings, fake_github) as lane:
        page = await lane.client.get(f"/{REPO}/pull/{NUMBER}")
        assert page.status_code == 307
        assert page.headers["location"] == f"/login?next=/{REPO}/pull/{NUMBER}"

        login = await lane.client.get("/login?next=/ledger")
        assert login.status_code == 303
        location = login.headers["location"]
        assert location.startswith(
            "https://github.acme.example/login/oauth/authorize?client_id=Iv1.hotfixlane"
            f"&redirect_uri={PUBLIC_URL.replace(':', '%3A').replace('/', '%2F')}"
            "%2Flogin%2Fcallback&state="
        )
        cookie = login.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
        assert "secure" in cookie.lower()  # PUBLIC_URL is https

        forged = await lane.client.get("/login/callback?code=abc&state=not-ours")
        assert forged.status_code == 400


async def test_the_details_page_shows_the_evidence_and_what_to_do_next(
    open_web: Lane, repo: Repo
) -> None:
    repo.repo_policy = "rules:\n  diff-size:\n    max_lines: 3\n"
    await open_web.deliver("pull_request", pull_request())

    page = (await open_web.client.get(f"/{REPO}/pull/{NUMBER}")).text

    # The fixture's commit names @alice as the approver and @bob as the cleanup owner.
    assert "<td>@alice </td>" in page and "<td>@bob </td>" in page
    assert '<tr data-check="scan"><td>scan</td><td>github-actions</td><td>success</td>' in page
    assert "<td><code>services/catalog/middleware/tenant.go</code></td><td>3</td><td>1</td>" in page
    assert (
        "<td><code>rules.diff-size.max_lines</code></td>"
        "<td>acme/bookstore-platform:.github/hotfix-lane.yml</td>"
    ) in page
    next_steps = page[page.index('<section id="next">') :]
    assert "<li>4 changed lines; a hotfix must stay under 3." in next_steps.split("</section>")[0]


async def test_the_incident_page_lays_out_its_timeline(open_web: Lane, repo: Repo) -> None:
    repo.teams["platform-admins"] = {"carol"}
    await open_web.deliver("pull_request", pull_request())
    await open_web.deliver("pull_request", pull_request("pull_request.closed"))
    open_web.clock.set(JUST_MERGED.replace(day=21, hour=10))
    await open_web.run_due()

    page = await open_web.client.get("/incidents/INC-2026-05-20-001")

    assert page.status_code == 200
    kinds = re.findall(r'data-kind="([a-z-]+)"', page.text)
    assert kinds[:4] == ["opened", "declared", "passed", "merged"]
    assert kinds.count("follow-up") == 1  # the cleanup PR, a day late by now
    assert "cleanup PR OVERDUE" in page.text
    assert (await open_web.client.get("/incidents/INC-2099-01-01-001")).status_code == 404


async def test_every_details_link_sent_to_github_opens_a_page(open_web: Lane, repo: Repo) -> None:
    await open_web.deliver("pull_request", pull_request())
    await open_web.deliver("pull_request", load_fixture("pull_request.opened.ordinary"))
    cleanup = pull_request(
        number=4401,
        title="Cleanup: INC-2026-05-20-001 catalog hotfix - tests + docs",
        head={**pull_request()["pull_request"]["head"], "ref": "cleanup/INC-2026-05-20-001"},
        labels=[],
    )
    await open_web.deliver("pull_request", cleanup)
    await open_web.deliver("pull_request", pull_request("pull_request.closed"))

    links = {body["target_url"] for body in open_web.statuses} | {
        body["details_url"] for body in open_web.check_runs if "details_url" in body
    }

    assert len(links) == 3  # the hotfix's, the ordinary PR's, the cleanup PR's
    for link in sorted(links):
        assert link.startswith(f"{PUBLIC_URL}/")
        page = await open_web.client.get(link.removeprefix(PUBLIC_URL))
        assert page.status_code == 200, link
