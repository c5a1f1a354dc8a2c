"""``/hotfix`` comments that close follow-ups, on the hotfix PR or its tracking issue.

``postmortem <URL>`` (the cleanup owner, the author or the approver), ``audit-reviewed`` (a
review-team member who is none of the author, the approver or who merged it: runbook step 9,
"NOT the hotfix author"), ``breakglass-cleaned <URL>``, and ``help``. A refused command gets
a reply saying who may, or what is missing; nothing changes then.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sqlmodel import Session

from app.followups import lifecycle, queries, tracker
from app.followups.tracker import Hotfix
from app.github.payloads import IssueCommentEvent, parse_event
from app.rules import commands, postmortem
from app.rules.due_dates import FollowUpKind
from app.services import EventContext
from app.store.models import FollowUp

log = logging.getLogger(__name__)

_BLOB = re.compile(r"^/(?P<owner>[^/]+)/(?P<repo>[^/]+)/blob/(?P<ref>[^/]+)/(?P<path>.+)$")


@dataclass(frozen=True)
class _Request:
    context: EventContext
    installation_id: int
    repo: str
    number: int  # where the comment was made: the PR or the tracking issue
    author: str
    command: commands.Command


async def on_comment(context: EventContext) -> None:
    event = parse_event(context.event, context.payload)
    if not isinstance(event, IssueCommentEvent) or event.repository is None:
        return
    user = event.comment.user
    command = commands.parse(event.comment.body)
    if command is None or user is None or user.type == "Bot" or event.installation_id is None:
        return
    request = _Request(
        context,
        event.installation_id,
        event.repository.full_name,
        event.issue.number,
        user.login,
        command,
    )
    if command.name == "help" or not command.known:
        await _reply(request, commands.help_text(None if command.known else command.name))
        return
    with Session(context.services.engine, expire_on_commit=False) as session:
        finder = (
            queries.hotfix_of_pull_request
            if event.issue.is_pull_request
            else queries.hotfix_of_issue
        )
        record = finder(session, repo=request.repo, number=request.number)
    if record is None or record.id is None:
        await _reply(
            request,
            f"@{user.login} `/hotfix {command.name}` works on a merged hotfix PR or its "
            "tracking issue; this is neither.",
        )
        return
    hotfix = await tracker.load(context.services, record.id)
    if hotfix is None:
        return
    handler = {
        "postmortem": _postmortem,
        "audit-reviewed": _audit_reviewed,
        "breakglass-cleaned": _breakglass_cleaned,
    }.get(command.name)
    if handler is not None:
        await handler(request, hotfix)


async def _postmortem(request: _Request, hotfix: Hotfix) -> None:
    record = hotfix.record
    allowed = _people(record.cleanup_owner, record.author, record.approver)
    if request.author.lower() not in allowed:
        await _reply(
            request,
            f"@{request.author} only the cleanup owner, the author or the approver of this "
            f"hotfix ({_list(allowed)}) can link its postmortem.",
        )
        return
    row = _follow_up(request, hotfix, FollowUpKind.POSTMORTEM)
    url = request.command.argument
    if row is None or url is None or not _is_link(url):
        await _reply(request, "Link the postmortem: `/hotfix postmortem <URL>`.")
        return
    problem = await _check_postmortem(request, hotfix, url)
    if problem is not None:
        await _reply(request, f"@{request.author} {problem} The postmortem stays open.")
        return
    if await lifecycle.complete(
        request.context.services, hotfix, row, done_by=request.author, evidence=url
    ):
        await _reply(request, f"Postmortem recorded: {url}")
    else:
        await _reply(request, _already(row))


async def _check_postmortem(request: _Request, hotfix: Hotfix, url: str) -> str | None:
    """Why the linked postmortem does not count, or None when it does.

    A file in a repository on this GitHub must be readable and have the hotfix-specific
    sections of runbook step 8. A document elsewhere is taken as linked.
    """
    where = _repository_file(url, request.context.services.settings.github_api_url)
    if where is None:
        return None
    repo, ref, path = where
    text = await hotfix.gateway.file_text(request.installation_id, repo, path, ref=ref)
    if text is None:
        return f"cannot read `{path}` at `{ref}` in {repo}: link a file this App can read."
    missing = postmortem.missing_sections(text, hotfix.policy.follow_ups.postmortem_sections)
    if missing:
        return (
            "the postmortem has no heading for: "
            + "; ".join(f"**{section}**" for section in missing)
            + " (runbook step 8: why a hotfix was needed, whether the bypass was justified, "
            "whether breakglass was used, the cleanup PR's status)."
        )
    return None


async def _audit_reviewed(request: _Request, hotfix: Hotfix) -> None:
    record = hotfix.record
    involved = _people(record.author, record.approver, record.merged_by)
    team = hotfix.policy.teams.review
    member = request.author.lower() not in involved and await hotfix.gateway.is_active_member(
        request.installation_id, record.org, team, request.author
    )
    if not member:
        await _reply(
            request,
            f"@{request.author} the audit review is recorded by a member of "
            f"@{record.org}/{team} who is not the author, the approver or who merged this "
            f"hotfix ({_list(involved)}).",
        )
        return
    row = _follow_up(request, hotfix, FollowUpKind.AUDIT_REVIEW)
    if row is None:
        return
    if await lifecycle.complete(
        request.context.services, hotfix, row, done_by=request.author, evidence=None
    ):
        await _reply(request, f"Audit review recorded by @{request.author}.")
    else:
        await _reply(request, _already(row))


async def _breakglass_cleaned(request: _Request, hotfix: Hotfix) -> None:
    record = hotfix.record
    row = _follow_up(request, hotfix, FollowUpKind.BREAKGLASS)
    if row is None:
        await _reply(request, "This hotfix did not declare the breakglass role: nothing to clean.")
        return
    allowed = _people(record.cleanup_owner, record.author, record.approver)
    team = hotfix.policy.teams.review
    if request.author.lower() not in allowed and not await hotfix.gateway.is_active_member(
        request.installation_id, record.org, team, request.author
    ):
        await _reply(
            request,
            f"@{request.author} the breakglass cleanup is recorded by the cleanup owner, the "
            f"author, the approver ({_list(allowed)}) or a member of @{record.org}/{team}.",
        )
        return
    url = request.command.argument
    if url is None or not _is_link(url):
        await _reply(request, "Link the finished checklist: `/hotfix breakglass-cleaned <URL>`.")
        return
    if await lifecycle.complete(
        request.context.services, hotfix, row, done_by=request.author, evidence=url
    ):
        await _reply(request, f"Breakglass cleanup recorded: {url}")
    else:
        await _reply(request, _already(row))


def _follow_up(request: _Request, hotfix: Hotfix, kind: FollowUpKind) -> FollowUp | None:
    """The hotfix's follow-up of ``kind``, if it owes one."""
    assert hotfix.record.id is not None
    with Session(request.context.services.engine, expire_on_commit=False) as session:
        rows = queries.follow_ups(session, hotfix.record.id)
    return next((row for row in rows if row.kind == kind.value), None)


def _repository_file(url: str, api_url: str) -> tuple[str, str, str] | None:
    """``(owner/repo, ref, path)`` when ``url`` shows a file of a repository on this GitHub
    (github.com, or the Enterprise Server the App talks to); None for anything else."""
    parts = urlsplit(url)
    api = urlsplit(api_url)
    # api.github.com serves github.com; an Enterprise Server serves its own host only (a
    # github.com link there is a document elsewhere).
    web_host = api.netloc.lower().removeprefix("api.")
    hosts = {web_host, "www.github.com"} if web_host == "github.com" else {web_host}
    if parts.netloc.lower() not in hosts:
        return None
    path = parts.path
    prefix = api.path.rstrip("/").removesuffix("/api/v3")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    match = _BLOB.match(path)
    if match is None:
        return None
    repo = f"{match.group('owner')}/{match.group('repo')}"
    return repo, unquote(match.group("ref")), unquote(match.group("path"))


def _already(row: FollowUp) -> str:
    by = f" by @{row.done_by}" if row.done_by else ""
    return f"The {FollowUpKind(row.kind).label} was already recorded{by}; nothing changed."


def _is_link(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _people(*logins: str | None) -> list[str]:
    return list(dict.fromkeys(login.lower() for login in logins if login))


def _list(logins: list[str]) -> str:
    return ", ".join(f"@{login}" for login in logins) or "nobody named"


async def _reply(request: _Request, text: str) -> None:
    """Answer the comment, once per delivery: a retried job does not answer twice."""
    gateway = request.context.services.gateway
    if gateway is None:
        return
    await gateway.comment_once(
        request.installation_id,
        request.repo,
        request.number,
        text,
        marker=f"reply:{request.context.delivery_id}",
    )
