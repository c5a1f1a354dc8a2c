"""The incident loop end to end: declared, merged, deployed, verified; and a drill's cycle.

Webhooks go in; GitHub is the shared respx fake, Slack and Prometheus are local servers, and
time moves with the harness's clock. The assertions read what people see: the status
channel's thread, the audit channel, the ledger, the tracking issue, the status and the
check run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from app.settings import Settings
from app.store.models import Recovery
from tests.conftest import load_fixture
from tests.fakes.github import NUMBER, REPO
from tests.fakes.prometheus_server import FakePrometheusServer
from tests.fakes.prometheus_server import Reply as PromReply
from tests.fakes.slack_server import FakeSlackServer, SlackRequest
from tests.harness import AUDIT_CHANNEL, STATUS_CHANNEL
from tests.lane.conftest import only
from tests.lane.scenario import JUST_MERGED, Lane, Repo, pull_request

INCIDENT = "INC-2026-05-20-001"
HOTFIX = f"{INCIDENT} ({REPO}#{NUMBER})"
MERGE_SHA = "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d"
LATER_SHA = "fedcba9876543210fedcba9876543210fedcba98"
PR_URL = f"https://github.com/{REPO}/pull/{NUMBER}"
# Deployed at 09:58:40, six minutes after the merge at 09:52:31.
DEPLOYED_AT = JUST_MERGED.replace(minute=58, second=40)
QUERY = (
    'sum(rate(http_requests_total{repo="{{ repo }}",code=~"5.."}[5m])) '
    '/ sum(rate(http_requests_total{repo="{{ repo }}"}[5m]))'
)
RENDERED = (
    f'sum(rate(http_requests_total{{repo="{REPO}",code=~"5.."}}[5m])) '
    f'/ sum(rate(http_requests_total{{repo="{REPO}"}}[5m]))'
)
VERIFY_POLICY = f"""
verify:
  query: '{QUERY}'
  threshold: 0.01
  comparison: "<"
  window_minutes: 10
  interval_seconds: 60
"""


@pytest.fixture
def prometheus() -> Iterator[FakePrometheusServer]:
    with FakePrometheusServer() as server:
        yield server


@pytest.fixture
def lane_settings(lane_settings: Settings, prometheus: FakePrometheusServer) -> Settings:
    return lane_settings.model_copy(update={"prometheus_url": prometheus.url})


def status_messages(slack: FakeSlackServer) -> list[SlackRequest]:
    return slack.messages_in(STATUS_CHANNEL)


def texts(messages: list[SlackRequest]) -> list[str]:
    return [message.body["text"] for message in messages]


def fields(message: SlackRequest) -> list[str]:
    """The labelled details under a message, as Slack shows them (``*Label*\\nvalue``)."""
    return [
        field["text"]
        for block in message.body["blocks"]
        if block["type"] == "section" and "fields" in block
        for field in block["fields"]
    ]


def deployment(
    state: str = "success", *, sha: str = MERGE_SHA, environment: str = "production", id: int = 1
) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("deployment_status.created"))
    payload["deployment"]["sha"] = sha
    payload["deployment"]["environment"] = environment
    payload["deployment_status"].update(state=state, environment=environment, id=id)
    return payload


async def open_hotfix(lane: Lane, **changes: Any) -> None:
    await lane.deliver("pull_request", pull_request(**changes))


async def merge_hotfix(lane: Lane, **changes: Any) -> None:
    """Open the compliant hotfix, then merge it as @carol past branch protection."""
    await open_hotfix(lane, **changes)
    await lane.deliver("pull_request", pull_request("pull_request.closed", **changes))
    lane.clock.set(JUST_MERGED)
    await lane.run_due()


def tracking_body(repo: Repo) -> str:
    body: str = repo.tracking_issue["body"]
    return body


# --- step 1: declare --------------------------------------------------------------------------


async def test_a_hotfix_is_declared_once_per_incident(
    lane: Lane, slack_server: FakeSlackServer
) -> None:
    await open_hotfix(lane)
    await lane.deliver("pull_request", load_fixture("pull_request.edited"))
    # A second PR of the same incident (its revert, a second try) declares nothing new.
    await open_hotfix(lane, number=4322, html_url=f"https://github.com/{REPO}/pull/4322")

    declaration = only(status_messages(slack_server))
    assert declaration.body["text"] == f"DECLARING HOTFIX — {INCIDENT} P0"
    assert fields(declaration) == [
        "*Symptom*\ncatalog nil-deref on missing tenant header",
        "*Approver*\n@alice",
        "*Cleanup-owner*\n@bob",
        f"*Repository*\n{REPO}",
        f"*Pull request*\n#{NUMBER} {PR_URL}",
    ]
    assert declaration.thread_ts is None
    assert [row.key for row in lane.status_notices] == [f"declaration:acme:{INCIDENT}"]


async def test_a_declaration_without_an_approver_says_the_bypass_is_off_limits(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.commits[0]["commit"]["message"] = f"hotfix(catalog): nil-deref\n\n{INCIDENT}\n"
    await open_hotfix(lane, body="P0 incident.")

    declaration = only(status_messages(slack_server))
    assert fields(declaration)[1:3] == [
        "*Approver*\nNOT NAMED: do not use the bypass buttons until an approver is named",
        "*Cleanup-owner*\nNOT NAMED: name who opens the cleanup PR within 24 hours",
    ]


async def test_an_ordinary_pull_request_declares_nothing(
    lane: Lane, slack_server: FakeSlackServer
) -> None:
    await lane.deliver("pull_request", load_fixture("pull_request.opened.ordinary"))

    assert status_messages(slack_server) == []


# --- step 5: merge and deploy -----------------------------------------------------------------


async def test_the_merge_and_the_deployment_answer_in_the_declarations_thread(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"carol"}
    await merge_hotfix(lane)
    lane.clock.set(DEPLOYED_AT + timedelta(seconds=5))

    await lane.deliver("deployment_status", deployment())

    declaration, merged, deployed = status_messages(slack_server)
    assert merged.body["text"] == (
        f"Merged: {HOTFIX} by @carol (admin merge past branch protection)"
    )
    assert deployed.body["text"] == (
        f"Deployed: {HOTFIX} is live in production, 6 min after the merge"
    )
    ts = "1700000000.000100"  # the declaration's, the first message of the status channel
    assert [m.thread_ts for m in (declaration, merged, deployed)] == [None, ts, ts]
    row = only(lane.ledger)
    assert (row.deployed_at, row.deployment_environment, row.deployment_sha) == (
        DEPLOYED_AT,
        "production",
        MERGE_SHA,
    )
    assert "- Deployed: production at 2026-05-20 09:58 UTC, 6 min after the merge." in (
        tracking_body(repo).splitlines()
    )


async def test_a_later_commit_deployed_ships_the_hotfix_once(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.after_merge.add(LATER_SHA)
    await merge_hotfix(lane)
    lane.clock.set(DEPLOYED_AT + timedelta(seconds=5))

    await lane.deliver("deployment_status", deployment(sha=LATER_SHA))
    await lane.deliver("deployment_status", deployment(sha=LATER_SHA, id=2), delivery="again")

    assert only(lane.ledger).deployment_sha == LATER_SHA
    deployed = [text for text in texts(status_messages(slack_server)) if "Deployed" in text]
    assert len(deployed) == 1


async def test_a_deployment_that_does_not_hold_the_merge_is_not_the_hotfix(
    lane: Lane, slack_server: FakeSlackServer
) -> None:
    await merge_hotfix(lane)

    await lane.deliver("deployment_status", deployment(sha=LATER_SHA))  # diverged

    assert only(lane.ledger).deployed_at is None
    assert len(status_messages(slack_server)) == 2  # declared, merged


async def test_only_the_environments_the_policy_names_count(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.repo_policy = "deploy:\n  environments: [Production]\n"
    await merge_hotfix(lane)

    await lane.deliver("deployment_status", deployment(environment="staging"))
    assert only(lane.ledger).deployed_at is None

    await lane.deliver("deployment_status", deployment(environment="production", id=2))
    assert only(lane.ledger).deployment_environment == "production"


async def test_a_failed_deployment_is_broadcast_from_the_thread(
    lane: Lane, slack_server: FakeSlackServer
) -> None:
    await merge_hotfix(lane)
    failed = deployment("failure", id=77)
    failed["deployment_status"]["description"] = "sync failed: ImagePullBackOff"

    await lane.deliver("deployment_status", failed)
    await lane.deliver("deployment_status", deployment("pending", id=78))

    message = status_messages(slack_server)[-1]
    assert message.body["text"] == (
        f"DEPLOYMENT FAILED: the deployment of {HOTFIX} to production ended in failure"
    )
    assert (message.thread_ts, message.reply_broadcast) == ("1700000000.000100", True)
    assert "*Description*\nsync failed: ImagePullBackOff" in fields(message)
    assert only(lane.ledger).deployed_at is None


async def test_a_deployment_status_without_its_deployment_is_skipped(
    lane: Lane, slack_server: FakeSlackServer
) -> None:
    await merge_hotfix(lane)
    broken = deployment()
    del broken["deployment"]

    await lane.deliver("deployment_status", broken)

    assert [job.status for job in lane.jobs("delivery")][-1] == "done"
    assert only(lane.ledger).deployed_at is None


# --- step 6: verify ---------------------------------------------------------------------------


async def deployed_with_verify(lane: Lane, repo: Repo) -> None:
    repo.repo_policy = VERIFY_POLICY
    await merge_hotfix(lane)
    lane.clock.set(DEPLOYED_AT + timedelta(seconds=5))
    await lane.deliver("deployment_status", deployment())


async def test_a_recovered_symptom_answers_the_declaration_and_ticks_the_issue(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer, prometheus: FakePrometheusServer
) -> None:
    prometheus.set_value(0.004)

    await deployed_with_verify(lane, repo)

    assert prometheus.queries == [RENDERED]
    recovered = status_messages(slack_server)[-1]
    assert recovered.body["text"] == (
        f"Recovered: {HOTFIX}: the symptom metric is 0.004 (&lt; 0.01)"  # Slack-escaped
    )
    assert recovered.thread_ts == "1700000000.000100"
    assert only(lane.rows(Recovery)).state == "recovered"
    assert (
        "- Recovery: **recovered** at 2026-05-20 09:58 UTC: the symptom metric read 0.004."
        in tracking_body(repo).splitlines()
    )
    assert not [t for t in texts(slack_server.messages_in(AUDIT_CHANNEL)) if "RECOVER" in t]


async def test_a_symptom_that_stays_says_roll_back_in_the_audit_channel(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer, prometheus: FakePrometheusServer
) -> None:
    prometheus.set_value(0.2)
    await deployed_with_verify(lane, repo)
    assert only(lane.rows(Recovery)).state == "verifying"

    for minute in range(1, 11):  # every minute of the ten-minute window
        lane.clock.set(DEPLOYED_AT + timedelta(minutes=minute, seconds=5))
        await lane.run_due()

    assert len(prometheus.queries) == 11
    want = (
        f"NOT RECOVERED: {HOTFIX} did not recover: roll back the hotfix (revert + sync); "
        "do not chain another hotfix"
    )
    audit = only(
        [m for m in slack_server.messages_in(AUDIT_CHANNEL) if "RECOVER" in m.body["text"]]
    )
    assert audit.body["text"] == want
    assert status_messages(slack_server)[-1].body["text"] == want
    assert only(lane.rows(Recovery)).state == "not_recovered"
    assert (
        "- Recovery: **DID NOT RECOVER** by 2026-05-20 10:08 UTC (last value 0.2): roll back "
        "the hotfix (revert + sync); do not chain another hotfix."
    ) in tracking_body(repo).splitlines()


async def test_prometheus_down_then_up_is_retried_within_the_window(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer, prometheus: FakePrometheusServer
) -> None:
    prometheus.set_reply(PromReply.down())
    await deployed_with_verify(lane, repo)
    row = only(lane.rows(Recovery))
    assert row.state == "verifying"
    assert row.last_error is not None and "Prometheus unreachable" in row.last_error

    prometheus.set_reply(PromReply.error("parse error at char 3: unexpected identifier"))
    lane.clock.set(DEPLOYED_AT + timedelta(minutes=1, seconds=5))
    await lane.run_due()
    assert only(lane.rows(Recovery)).last_error == (
        "Prometheus refused the query (bad_data): parse error at char 3: unexpected identifier"
    )

    prometheus.set_reply(PromReply.vector(0.003))
    lane.clock.set(DEPLOYED_AT + timedelta(minutes=2, seconds=5))
    await lane.run_due()
    assert only(lane.rows(Recovery)).state == "recovered"
    assert status_messages(slack_server)[-1].body["text"].startswith("Recovered:")


async def test_prometheus_unreachable_all_window_long_is_said_plainly(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer, prometheus: FakePrometheusServer
) -> None:
    prometheus.set_reply(PromReply.http_status(503, "overloaded"))
    await deployed_with_verify(lane, repo)

    lane.clock.set(DEPLOYED_AT + timedelta(minutes=11))
    await lane.run_due()

    want = (
        f"UNVERIFIED: could not verify that {HOTFIX} recovered within 10 min: Prometheus "
        "answered HTTP 503; check the symptom metric by hand"
    )
    assert [m.body["text"] for m in slack_server.messages_in(AUDIT_CHANNEL)][-1] == want
    assert only(lane.rows(Recovery)).state == "unverified"
    assert [job.status for job in lane.jobs("verify-recovery")] == ["done"]


async def test_without_a_deployment_the_window_starts_one_window_after_the_merge(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer, prometheus: FakePrometheusServer
) -> None:
    repo.repo_policy = VERIFY_POLICY
    prometheus.set_value(0.002)
    await merge_hotfix(lane)
    assert only(lane.rows(Recovery)).state == "waiting"
    assert prometheus.queries == []

    lane.clock.set(JUST_MERGED + timedelta(minutes=10))
    await lane.run_due()

    assert prometheus.queries == [RENDERED]
    assert only(lane.rows(Recovery)).state == "recovered"


async def test_without_a_verify_query_the_issue_says_to_check_by_hand(
    lane: Lane, repo: Repo, prometheus: FakePrometheusServer
) -> None:
    await merge_hotfix(lane)

    assert lane.rows(Recovery) == []
    assert prometheus.requests == []
    assert (
        "- Recovery: not verified by hotfix-lane (no `verify` query in the policy, or no "
        "Prometheus configured): re-query the symptom metric by hand."
    ) in tracking_body(repo).splitlines()


# --- drills -----------------------------------------------------------------------------------

DRILL_TITLE = f"DRILL: {INCIDENT} catalog nil-deref game day"
DRILL = {"title": DRILL_TITLE, "labels": [{"name": "hotfix-drill"}]}


async def test_a_drill_runs_the_whole_cycle_in_minutes_marked_as_a_drill(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"carol"}
    await open_hotfix(lane, **DRILL)

    status = lane.statuses[-1]
    assert (status["state"], status["description"]) == (
        "success",
        "[DRILL] Hotfix lane: all 13 rules pass.",
    )
    assert lane.check_runs[-1]["output"]["title"] == "[DRILL] All 13 rules pass"
    declaration = only(status_messages(slack_server))
    assert declaration.body["text"] == f"[DRILL] DECLARING HOTFIX — {INCIDENT} P0"

    await lane.deliver("pull_request", pull_request("pull_request.closed", **DRILL))
    lane.clock.set(JUST_MERGED)
    await lane.run_due()

    row = only(lane.ledger)
    assert row.drill
    assert texts(slack_server.messages_in(AUDIT_CHANNEL)) == [
        f"[DRILL] @carol merged PR #{NUMBER} ({DRILL_TITLE}) via admin bypass",
        f"[DRILL] Drill merged: {REPO} PR #{NUMBER} ({DRILL_TITLE}) by @carol; "
        "not counted by the rate limit",
    ]
    assert texts(status_messages(slack_server))[-1] == (
        f"[DRILL] Merged: {HOTFIX} by @carol (admin merge past branch protection)"
    )
    # 24 hours at 1/60: the cleanup PR is due 24 minutes after the merge.
    assert "- [ ] cleanup PR: owner @bob, due 2026-05-20 10:16 UTC" in (
        tracking_body(repo).splitlines()
    )

    lane.clock.set(JUST_MERGED + timedelta(minutes=25))
    await lane.run_due()

    overdue = [t for t in texts(slack_server.messages_in(AUDIT_CHANNEL)) if "OVERDUE" in t]
    assert overdue == [
        f"[DRILL] OVERDUE: the cleanup PR of {HOTFIX} was due 2026-05-20 10:16 UTC; owner @bob"
    ]


async def test_a_drill_is_not_counted_by_the_rate_limit(lane: Lane, repo: Repo) -> None:
    repo.repo_policy = "rate_limit:\n  max_hotfixes: 1\n"
    await merge_hotfix(lane, **DRILL)

    # A real hotfix next: the drill before it is no hotfix merged in the window.
    await open_hotfix(lane, number=4330, html_url=f"https://github.com/{REPO}/pull/4330")

    verdicts = {v["rule"]: v for v in json.loads(lane.evaluations[-1].verdicts)}
    assert verdicts["rate-limit"] == {
        "rule": "rate-limit",
        "outcome": "pass",
        "message": "0 hotfixes merged in this organisation in 7 days (limit 1).",
    }


async def test_a_repository_cannot_make_its_hotfixes_drills(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    # The drill markers are the organisation's: a repository's file naming "hotfix" as the
    # drill label is ignored, so its hotfixes still count.
    repo.repo_policy = "drill:\n  label: hotfix\n  title_prefix: 'HOTFIX:'\n"
    await merge_hotfix(lane)

    assert not only(lane.ledger).drill
    assert not [t for t in texts(status_messages(slack_server)) if t.startswith("[DRILL]")]


async def test_only_the_named_deploy_tool_reports_deployments_when_the_policy_says_so(
    lane: Lane, repo: Repo
) -> None:
    repo.repo_policy = "deploy:\n  creators: [argocd-notifications]\n"
    await merge_hotfix(lane)

    # Anyone with write access can post a deployment status: carol's is not the tool's.
    await lane.deliver("deployment_status", deployment())
    assert only(lane.ledger).deployed_at is None

    made_by_tool = deployment(id=2)
    made_by_tool["deployment_status"]["performed_via_github_app"] = {"slug": "argocd-notifications"}
    await lane.deliver("deployment_status", made_by_tool)
    assert only(lane.ledger).deployment_environment == "production"


async def test_outside_the_drill_repositories_a_drill_label_makes_a_counted_hotfix(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    # The organisation keeps drills to its sandbox: here the drill's markers are a hotfix's.
    repo.org_policy = "drill:\n  repositories: ['acme/sandbox-*']\n"
    await merge_hotfix(lane, **DRILL)

    assert not only(lane.ledger).drill
    assert not [t for t in texts(status_messages(slack_server)) if t.startswith("[DRILL]")]
