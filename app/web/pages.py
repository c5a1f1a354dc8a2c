"""The pages and their routes: dashboard, ledger (and its CSV), a pull request's details.

Every page reads the store in a worker thread (never GitHub, sign-in aside) and shows only
the repositories the viewer can read. Unknown pages and pull requests we never saw are 404.

No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations at
definition time, and the viewer dependency is local to ``web_router``.
"""

import csv
import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from app.policy.loader import default_policy
from app.rules.due_dates import FollowUpKind
from app.services import Services
from app.web import incidents, queries
from app.web.auth import Access, Viewer, local_page

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
T = TypeVar("T")

LEDGER_COLUMNS = (
    "merged_at",
    "org",
    "repository",
    "number",
    "incident_id",
    "title",
    "author",
    "approver",
    "merged_by",
    "bypassed",
    "scan_state",
    "drill",
    "deployed_at",
    "url",
)


def web_router(services: Services, access: Access) -> APIRouter:
    """The pages' routes, reading ``services``' store, signing in with ``access``."""
    router = APIRouter(include_in_schema=False)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["when"] = _when
    templates.env.filters["follow_up"] = lambda kind: FollowUpKind(kind).label
    engine = services.engine

    read = queries.reader(engine)

    ViewerDep = Annotated[Viewer, Depends(access.viewer)]

    def page(request: Request, name: str, viewer: Viewer, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request, name, {"viewer": viewer, "signed_in": not access.open, **context}
        )

    @router.get("/login")
    async def login(request: Request, next: str | None = None) -> Response:
        if access.open:
            return RedirectResponse(local_page(next), 303)
        return access.login(request, next)

    @router.get("/login/callback")
    async def callback(request: Request, code: str | None = None, state: str | None = None) -> Any:
        return await access.callback(request, code, state)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/", 303)

    @router.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request, viewer: ViewerDep) -> HTMLResponse:
        now = services.clock.now()

        def gather(session: Session) -> dict[str, Any]:
            return {
                "open_hotfixes": queries.open_hotfixes(session),
                "follow_ups": queries.owed_follow_ups(session),
                "windows": queries.rate_windows(session, policy=default_policy(), now=now),
            }

        found = await read(gather)
        return page(
            request,
            "dashboard.html",
            viewer,
            now=now,
            open_hotfixes=[h for h in found["open_hotfixes"] if viewer.can_read(h.repo)],
            follow_ups=[f for f in found["follow_ups"] if viewer.can_read(f.repo)],
            # An organisation's window counts what the viewer may not see: shown only to
            # those who see into it.
            windows=[w for w in found["windows"] if _sees_org(viewer, w.org)],
        )

    @router.get("/ledger", response_class=HTMLResponse)
    async def ledger_page(
        request: Request,
        viewer: ViewerDep,
        org: str | None = None,
        repo: str | None = None,
        author: str | None = None,
        since: Annotated[str | None, Query()] = None,
        until: Annotated[str | None, Query()] = None,
    ) -> HTMLResponse:
        filters = _filters(org, repo, author, since, until)
        rows = await read(
            lambda session: queries.ledger(session, **filters, readable=viewer.readable)
        )
        return page(
            request,
            "ledger.html",
            viewer,
            rows=[row for row in rows if viewer.can_read(row.repo_full_name)],
            filters={"org": org, "repo": repo, "author": author, "since": since, "until": until},
            query=request.url.query,
        )

    @router.get("/ledger.csv")
    async def ledger_csv(
        request: Request,
        viewer: ViewerDep,
        org: str | None = None,
        repo: str | None = None,
        author: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Response:
        filters = _filters(org, repo, author, since, until)
        rows = await read(
            lambda session: queries.ledger(session, **filters, readable=viewer.readable, limit=None)
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(LEDGER_COLUMNS)
        for row in rows:
            if viewer.can_read(row.repo_full_name):
                writer.writerow(_csv_row(row))
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="hotfix-ledger.csv"'},
        )

    @router.get("/incidents/{incident_id}", response_class=HTMLResponse)
    async def incident_page(request: Request, viewer: ViewerDep, incident_id: str) -> HTMLResponse:
        if len(incident_id) > 64:
            raise HTTPException(404, "No such incident")
        found = await read(lambda session: incidents.timeline(session, incident_id))
        events = tuple(e for e in found.events if viewer.can_read(e.repo))
        if not events:
            # Unknown, or only in repositories the viewer cannot read: the same answer.
            raise HTTPException(404, "No such incident")
        shown = incidents.Timeline(found.incident_id, events)
        return page(request, "incident.html", viewer, timeline=shown)

    @router.get("/{owner}/{name}/pull/{number}", response_class=HTMLResponse)
    async def pull_page(
        request: Request, viewer: ViewerDep, owner: str, name: str, number: str
    ) -> HTMLResponse:
        # A path that is no pull request's is an unknown page (404), not a bad request.
        if not number.isdecimal() or len(number) > 10:
            raise HTTPException(404, "No such pull request")
        repo = f"{owner}/{name}"
        if not viewer.can_read(repo):
            # The same answer as for a pull request that does not exist: nothing leaks.
            raise HTTPException(404, "No such pull request")
        details = await read(
            lambda session: queries.pull_details(session, repo=repo, number=int(number))
        )
        if details is None:
            raise HTTPException(404, "No such pull request")
        return page(request, "pull.html", viewer, pr=details)

    return router


def _sees_org(viewer: Viewer, org: str) -> bool:
    if viewer.readable is None:
        return True
    prefix = f"{org.lower()}/"
    return any(repo.startswith(prefix) for repo in viewer.readable)


def _filters(
    org: str | None, repo: str | None, author: str | None, since: str | None, until: str | None
) -> dict[str, Any]:
    return {
        "org": org or None,
        "repo": repo or None,
        "author": author or None,
        "since": query_date(since, "since"),
        # The day "until" names is included.
        "until": (day + timedelta(days=1)) if (day := query_date(until, "until")) else None,
    }


def query_date(value: str | None, name: str) -> datetime | None:
    """A ``YYYY-MM-DD`` query parameter as midnight UTC; 400 naming it when it is not one."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise HTTPException(400, f"{name} must be a date, YYYY-MM-DD") from None


def _csv_row(row: Any) -> list[str]:
    return [
        row.merged_at.isoformat(),
        row.org,
        row.repo_full_name,
        str(row.number),
        row.incident_id or "",
        _cell(row.title),
        row.author,
        row.approver or "",
        row.merged_by or "",
        "yes" if row.bypassed else "no",
        row.scan_state,
        "yes" if row.drill else "no",
        row.deployed_at.isoformat() if row.deployed_at else "",
        row.url or "",
    ]


def _cell(text: str) -> str:
    """A cell a spreadsheet will not run: a title starting with = + - @ is quoted."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "—"
