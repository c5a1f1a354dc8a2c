"""The web view's data as JSON under ``/api/v1``: the ledger, owed follow-ups, a pull request's
verdicts, the open hotfixes; and ``/api/docs``, a plain page describing them.

The same rules as the pages: the store is read in a worker thread (never GitHub, sign-in
aside), each row is shown only to a viewer who can read its repository, and a pull request
the viewer cannot read is the same 404 as one we never saw. Unsigned-in, the API answers 401
instead of the pages' redirect to ``/login``: a script cannot follow GitHub's sign-in.

``/api/docs`` is rendered here from the app's OpenAPI schema rather than by FastAPI's Swagger
UI, which loads its script and stylesheet from a CDN: the service must work air-gapped.

No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations at
definition time, and the viewer dependency is local to ``api_router``.
"""

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from app.rules.due_dates import FollowUpKind
from app.services import Services
from app.store.models import HotfixRecord
from app.web import queries
from app.web.auth import Access, Viewer
from app.web.pages import query_date

PREFIX = "/api/v1"
DOCS_PATH = "/api/docs"
SIGN_IN_FIRST = "sign in at /login first"
NO_SUCH_PULL = "No such pull request"
LEDGER_DEFAULT, LEDGER_MAX = 200, 5000

T = TypeVar("T")


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str = Field(description="What went wrong, for a person to read.")


class LedgerEntry(BaseModel):
    """A merged hotfix, as the ledger keeps it."""

    merged_at: datetime = Field(description="When GitHub merged the pull request (UTC).")
    org: str = Field(description="The organisation (owner) of the repository.")
    repository: str = Field(description="The repository, `owner/name`.")
    number: int = Field(description="The pull request's number.")
    incident_id: str | None = Field(description="The incident the hotfix names, if any.")
    title: str = Field(description="The pull request's title at merge.")
    author: str = Field(description="The pull request's author (login).")
    approver: str | None = Field(description="The approver the pull request named (login).")
    cleanup_owner: str | None = Field(
        description="Who owes the cleanup pull request (login), if one was named."
    )
    merged_by: str | None = Field(description="Who pressed merge (login).")
    bypassed: bool = Field(description="Whether the merge went past a failing or missing check.")
    bypass_reasons: list[str] = Field(description="What was bypassed, one reason each.")
    scan_state: str = Field(
        description="The security scan at merge: passed, failed, running, missing."
    )
    drill: bool = Field(description="A game-day drill: kept, but counted by no limit.")
    deployed_at: datetime | None = Field(
        description="The first successful deployment of the merge in a policy environment."
    )
    deployment_environment: str | None = Field(description="The environment of that deployment.")
    url: str | None = Field(description="The pull request on GitHub.")


class FollowUpEntry(BaseModel):
    """Something a merged hotfix still owes (runbook step 7 and after)."""

    repository: str = Field(description="The hotfix's repository, `owner/name`.")
    number: int = Field(description="The hotfix pull request's number.")
    incident_id: str | None = Field(description="The hotfix's incident, if any.")
    follow_up: str = Field(description="What is owed, as people read it, e.g. `cleanup PR`.")
    kind: str = Field(
        description="What is owed, as stored: cleanup-pr, postmortem, audit-review, "
        "breakglass-cleanup."
    )
    owner: str | None = Field(description="Who owes it (a login, or `org/team`), if named.")
    due_at: datetime = Field(description="When it is due (UTC).")
    overdue: bool = Field(description="Whether it is past due.")


class Verdict(BaseModel):
    """One rule's verdict on a head commit."""

    rule: str = Field(description="The rule's id, e.g. `scan`.")
    outcome: str = Field(description="pass, fail, pending, neutral (advisory) or skipped.")
    message: str = Field(description="The rule's explanation.")


class Evaluation(BaseModel):
    """One evaluation of a pull request's head, as published to GitHub."""

    state: str = Field(description="The published state: success, failure, pending, error.")
    description: str = Field(description="The published status description.")
    head_sha: str = Field(description="The head commit evaluated.")
    evaluated_at: datetime = Field(description="When it was evaluated (UTC).")


class LatestEvaluation(Evaluation):
    """The latest evaluation, with every rule's verdict."""

    verdicts: list[Verdict] = Field(description="Each rule's verdict, in the rules' order.")


class PullRequestDetails(BaseModel):
    """A pull request as we saw it, with its evaluations."""

    repository: str = Field(description="The repository, `owner/name`.")
    number: int = Field(description="The pull request's number.")
    title: str = Field(description="Its title, as last delivered.")
    author: str | None = Field(description="Its author (login).")
    url: str | None = Field(description="The pull request on GitHub.")
    lane: str = Field(description="The lane it was judged in: hotfix, cleanup or ordinary.")
    pull_state: str = Field(description="open or closed, as GitHub last told us.")
    head_sha: str = Field(description="Its head commit, as last delivered.")
    latest: LatestEvaluation | None = Field(
        description="The latest evaluation with its verdicts; null if never evaluated."
    )
    history: list[Evaluation] = Field(
        description="Every evaluation, newest first (the first is `latest`), "
        f"at most {queries.MAX_ROWS}."
    )
    hotfix: LedgerEntry | None = Field(description="Its ledger entry, once merged as a hotfix.")


class OpenHotfix(BaseModel):
    """An open hotfix pull request with its latest verdict (the dashboard's list)."""

    repository: str = Field(description="The repository, `owner/name`.")
    number: int = Field(description="The pull request's number.")
    title: str = Field(description="Its title, as last delivered.")
    author: str | None = Field(description="Its author (login).")
    state: str | None = Field(
        description="The latest published state: success, failure, pending, error; "
        "null if not evaluated yet."
    )
    description: str | None = Field(description="The latest published status description.")
    evaluated_at: datetime | None = Field(description="When it was last evaluated (UTC).")
    drill: bool = Field(description="Whether it is a game-day drill.")


def api_router(services: Services, access: Access) -> APIRouter:
    """The JSON API's routes and its docs page, reading ``services``' store."""
    # The docs page lives beside ``/api/v1``, not in it: an outer router holds both.
    outer = APIRouter()
    router = APIRouter(prefix=PREFIX, tags=["web view"])
    engine = services.engine

    read = queries.reader(engine)

    async def api_viewer(request: Request) -> Viewer:
        """The pages' viewer, but 401 where they redirect to sign in."""
        try:
            return await access.viewer(request)
        except HTTPException as exc:
            if exc.status_code == 307:
                raise HTTPException(401, SIGN_IN_FIRST) from None
            raise

    ViewerDep = Annotated[Viewer, Depends(api_viewer)]
    unsigned: dict[int | str, dict[str, Any]] = {
        401: {"model": Problem, "description": f"Not signed in: {SIGN_IN_FIRST}."}
    }

    @router.get(
        "/ledger",
        summary="Merged hotfixes, newest first",
        responses={**unsigned, 400: {"model": Problem, "description": "A date is not YYYY-MM-DD."}},
    )
    async def ledger(
        viewer: ViewerDep,
        org: Annotated[str | None, Query(description="Only this organisation's.")] = None,
        repo: Annotated[
            str | None, Query(description="Only this repository's (owner/name).")
        ] = None,
        author: Annotated[str | None, Query(description="Only this author's (login).")] = None,
        since: Annotated[
            str | None, Query(description="Merged on or after this day (YYYY-MM-DD, UTC).")
        ] = None,
        until: Annotated[
            str | None, Query(description="Merged on or before this day (YYYY-MM-DD, UTC).")
        ] = None,
        limit: Annotated[
            int,
            Query(
                ge=1,
                le=LEDGER_MAX,
                description=f"At most this many entries (1 to {LEDGER_MAX}).",
            ),
        ] = LEDGER_DEFAULT,
    ) -> list[LedgerEntry]:
        """The hotfix ledger, filtered; case does not matter in `org`, `repo` and `author`."""
        start = query_date(since, "since")
        end = query_date(until, "until")
        # What the viewer may read is applied in the query: the limit counts their rows.
        rows = await read(
            lambda session: queries.ledger(
                session,
                org=org or None,
                repo=repo or None,
                author=author or None,
                since=start,
                until=end + timedelta(days=1) if end else None,
                readable=viewer.readable,
                limit=limit,
            )
        )
        return [_ledger_entry(row) for row in rows]

    @router.get(
        "/follow-ups",
        summary="Owed follow-ups, overdue first",
        description="What merged hotfixes still owe, overdue ones first, then by due time "
        f"(at most {queries.MAX_FOLLOW_UPS}).",
        responses=unsigned,
    )
    async def follow_ups(viewer: ViewerDep) -> list[FollowUpEntry]:
        rows = await read(queries.owed_follow_ups)
        return [
            FollowUpEntry(
                repository=row.repo,
                number=row.number,
                incident_id=row.incident_id,
                follow_up=FollowUpKind(row.kind).label,
                kind=row.kind,
                owner=row.owner,
                due_at=row.due_at,
                overdue=row.overdue,
            )
            for row in rows
            if viewer.can_read(row.repo)
        ]

    @router.get(
        "/pulls/{owner}/{repo}/{number}",
        summary="A pull request's verdicts",
        responses={
            **unsigned,
            404: {"model": Problem, "description": "We never saw it, or you cannot read it."},
        },
    )
    async def pull(
        viewer: ViewerDep,
        owner: Annotated[str, Path(description="The repository's owner.")],
        repo: Annotated[str, Path(description="The repository's name.")],
        number: Annotated[int, Path(ge=1, le=2**31 - 1, description="The pull request's number.")],
    ) -> PullRequestDetails:
        """The latest verdict of each rule on a pull request, and its evaluations, newest first."""
        full_name = f"{owner}/{repo}"
        if not viewer.can_read(full_name):
            # The same answer as for a pull request that does not exist: nothing leaks.
            raise HTTPException(404, NO_SUCH_PULL)
        details = await read(
            lambda session: queries.pull_details(session, repo=full_name, number=number)
        )
        if details is None:
            raise HTTPException(404, NO_SUCH_PULL)
        return _pull_details(details)

    @router.get(
        "/open-hotfixes",
        summary="Open hotfix pull requests",
        description="Open hotfix pull requests with their latest verdict, the most recently "
        f"updated first (at most {queries.MAX_ROWS}); the dashboard's list.",
        responses=unsigned,
    )
    async def open_hotfixes(viewer: ViewerDep) -> list[OpenHotfix]:
        rows = await read(queries.open_hotfixes)
        return [
            OpenHotfix(
                repository=row.repo,
                number=row.number,
                title=row.title,
                author=row.author,
                state=row.state,
                description=row.description,
                evaluated_at=row.evaluated_at,
                drill=row.drill,
            )
            for row in rows
            if viewer.can_read(row.repo)
        ]

    @outer.get(DOCS_PATH, response_class=HTMLResponse, include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(docs_page(request.app.openapi(), openapi_url=request.app.openapi_url))

    outer.include_router(router)
    return outer


def _ledger_entry(row: HotfixRecord) -> LedgerEntry:
    return LedgerEntry(
        merged_at=row.merged_at,
        org=row.org,
        repository=row.repo_full_name,
        number=row.number,
        incident_id=row.incident_id,
        title=row.title,
        author=row.author,
        approver=row.approver,
        cleanup_owner=row.cleanup_owner,
        merged_by=row.merged_by,
        bypassed=row.bypassed,
        bypass_reasons=_reasons(row.bypass_reasons),
        scan_state=row.scan_state,
        drill=row.drill,
        deployed_at=row.deployed_at,
        deployment_environment=row.deployment_environment,
        url=row.url,
    )


def _reasons(text: str) -> list[str]:
    try:
        reasons = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(reason) for reason in reasons] if isinstance(reasons, list) else []


def _pull_details(details: queries.PullDetails) -> PullRequestDetails:
    latest = details.latest
    return PullRequestDetails(
        repository=details.repo,
        number=details.number,
        title=details.title,
        author=details.author,
        url=details.url,
        lane=details.lane,
        pull_state=details.state,
        head_sha=details.head_sha,
        latest=None
        if latest is None
        else LatestEvaluation(
            **_evaluation(latest).model_dump(),
            verdicts=[
                Verdict(rule=v.rule, outcome=v.outcome, message=v.message) for v in latest.verdicts
            ],
        ),
        history=[_evaluation(row) for row in details.history],
        hotfix=_ledger_entry(details.hotfix) if details.hotfix else None,
    )


def _evaluation(row: queries.Evaluated) -> Evaluation:
    return Evaluation(
        state=row.state,
        description=row.description,
        head_sha=row.head_sha,
        evaluated_at=row.evaluated_at,
    )


def docs_page(schema: Mapping[str, Any], *, openapi_url: str | None) -> str:
    """The API described for people, from its OpenAPI ``schema``: each operation's summary,
    parameters, response fields and errors; no script, and only the site's own stylesheet."""
    components: Mapping[str, Any] = schema.get("components", {}).get("schemas", {})
    parts = [
        '<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        '  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "  <title>API · hotfix-lane</title>\n"
        '  <link rel="stylesheet" href="/static/style.css">\n</head>\n<body>\n'
        '<header><nav><a class="brand" href="/">hotfix-lane</a> <a href="/">Dashboard</a> '
        f'<a href="/ledger">Ledger</a> <a href="{DOCS_PATH}">API</a></nav></header>\n<main>\n'
        f"<h1>{escape(str(schema.get('info', {}).get('title', 'hotfix-lane')))} API</h1>\n"
        "<p>JSON over GET, with the pages' rules: the pages' session cookie "
        '(<a href="/login">sign in</a> first, when sign-in is configured) and only the '
        "repositories you can read.",
    ]
    if openapi_url:
        parts.append(
            f' The schema: <a href="{escape(openapi_url)}">{escape(openapi_url)}</a> (OpenAPI).'
        )
    parts.append("</p>\n")
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            parts.append(_operation(method, path, operation, components))
    parts.append("</main>\n</body>\n</html>\n")
    return "".join(parts)


def _operation(
    method: str, path: str, operation: Mapping[str, Any], components: Mapping[str, Any]
) -> str:
    anchor = re.sub(r"[^a-z0-9]+", "-", f"{method}{path}".lower()).strip("-")
    out = [
        f'<section id="{anchor}">\n<h2><code>{escape(method.upper())} {escape(path)}</code>'
        f" — {_text(operation.get('summary', ''))}</h2>\n",
    ]
    if operation.get("description"):
        out.append(f"<p>{_text(operation['description'])}</p>\n")
    parameters = [
        (
            f"{p.get('name', '')}{'' if p.get('required') else ' (optional)'}",
            str(p.get("in", "")),
            _type(p.get("schema", {})),
            str(p.get("description", "")),
        )
        for p in operation.get("parameters", [])
    ]
    if parameters:
        out.append(_table(("Parameter", "In", "Type", "Description"), parameters))
    responses: Mapping[str, Any] = operation.get("responses", {})
    ok = responses.get("200", {}).get("content", {}).get("application/json", {}).get("schema")
    if ok is not None:
        model = _object(ok, components) or {}
        shape = _type(ok) + (f": {model['description']}" if "description" in model else "")
        out.append(f"<h3>200</h3>\n<p>{_text(shape)}</p>\n")
        out.append(_table(("Field", "Type", "Description"), list(_fields(ok, components, ""))))
    errors = [(code, r.get("description", "")) for code, r in responses.items() if code != "200"]
    if errors:
        items = "".join(f"<li><code>{escape(c)}</code> {_text(t)}</li>\n" for c, t in errors)
        out.append(f"<h3>Errors</h3>\n<ul>\n{items}</ul>\n")
    out.append("</section>\n")
    return "".join(out)


def _table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{_text(c)}</td>" for c in row) + "</tr>\n" for row in rows
    )
    return f"<table>\n<tr>{cells}</tr>\n{body}</table>\n"


def _text(text: object) -> str:
    """Escaped, with the schema's Markdown-style `code` spans shown as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(str(text)))


def _fields(
    schema: Mapping[str, Any], components: Mapping[str, Any], prefix: str, depth: int = 0
) -> Iterator[tuple[str, str, str]]:
    """Each field of the model ``schema`` is (or lists), nested ones dotted: ``latest.state``,
    ``history[].state``."""
    model = _object(schema, components)
    if model is None or depth > 4:
        return
    for name, field in model.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path, _type(field), str(field.get("description", ""))
        yield from _fields(field, components, path + ("[]." if _lists(field) else "."), depth + 1)


def _object(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The object model a schema names, directly, as a list's items or as one of ``anyOf``."""
    if "$ref" in schema:
        found = components.get(str(schema["$ref"]).rsplit("/", 1)[-1])
        return found if isinstance(found, Mapping) else None
    if schema.get("type") == "array":
        return _object(schema.get("items", {}), components)
    for option in schema.get("anyOf", []):
        found = _object(option, components)
        if found is not None:
            return found
    return None


def _lists(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "array" or any(_lists(o) for o in schema.get("anyOf", []))


def _type(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    kind = str(schema.get("type", "any"))
    if "format" in schema:
        kind += f" ({schema['format']})"
    return f"{kind}, default {schema['default']}" if "default" in schema else kind
