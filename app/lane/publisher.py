"""Sending an evaluation to GitHub: the commit status always, the check run for PRs in a lane.

Thin on purpose: bodies come from the pure builders in ``status`` and ``checkrun``; what was
sent is fingerprinted in the ``Publication`` table, so publishing the same result for the same
sha again sends nothing (redeliveries, re-evaluations that change nothing).

Check runs are created once per head sha and updated afterwards. GitHub *appends* the
annotations of every update and offers no way to remove them, so annotations are only sent
when they changed; should a run already carry a different set, a fresh run is created instead
(GitHub shows the newest run of a name), rather than leaving stale pointers on the diff.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from app.github.gateway import GitHubGateway
from app.lane.checkrun import build_annotations, build_check_run, build_state
from app.lane.locks import KeyedLocks
from app.lane.status import build_status, status_body
from app.rules.model import Evaluation, Lane
from app.store import locks
from app.store import publications as record

# What a caller keeps of a publication (the evaluation row), written with what was sent.
Record = Callable[[Connection], None]

# One publisher at a time per (repo, sha) in this process: two jobs for the same head would
# otherwise both see "no check run yet" and create two.
_sha_locks = KeyedLocks()


def _lock(repo: str, head_sha: str) -> asyncio.Lock:
    return _sha_locks((repo.lower(), head_sha))


def _lock_name(repo: str, head_sha: str) -> str:
    """The cross-process lock of a head: one check run per head, whichever replica
    publishes first (the other finds its id in the publication row and updates)."""
    return f"publish:{repo.lower()}@{head_sha}"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


# A check run's fingerprint is two halves: its state and output, then its annotations, so we
# can tell "only the text changed" (update in place) from "the annotations changed".
_HALF = 32
_NO_ANNOTATIONS = _digest([])[:_HALF]
# A run created whose annotation updates may not all have gone out: never matches a real
# fingerprint, and its annotation half says "update in place".
_UNFINISHED = "0" * _HALF + _NO_ANNOTATIONS


@dataclass(frozen=True)
class Published:
    """What one ``publish`` sent: whether a status, and how many check-run requests."""

    status: bool
    check_run_requests: int


@dataclass(frozen=True)
class _Target:
    """Where a publication goes, and where it is remembered.

    No transaction stays open across a request to GitHub, where it would hold SQLite's write
    lock for seconds: what was sent is kept in ``pending`` until ``flush`` writes it (when,
    ``publish`` says).
    """

    gateway: GitHubGateway
    engine: Engine
    installation_id: int
    repo: str
    head_sha: str
    now: datetime
    # The pull request's details page, the "Details" link of both (None: no page to link).
    details_url: str | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)

    def published(self) -> dict[str, record.PublicationRow]:
        """What was last sent for this head, by kind: one read for the status and the run."""
        with self.engine.connect() as conn:
            return record.published_for(conn, repo_full_name=self.repo, head_sha=self.head_sha)

    def remember(
        self, kind: str, fingerprint: str, state: str, description: str, run_id: int | None = None
    ) -> None:
        """Keep what was sent for ``kind``, to be written by the next ``flush``."""
        self.pending.append(
            {
                "kind": kind,
                "fingerprint": fingerprint,
                "state": state,
                "description": description,
                "check_run_id": run_id,
            }
        )

    def flush(self, also: Record | None = None) -> None:
        """Write what was sent since the last flush, and ``also``, in one transaction.

        Should ``also`` fail, what was sent is still written (on its own) before the error
        goes on: the rows of what GitHub already has must never be lost with the caller's.
        """
        if not self.pending and also is None:
            return
        try:
            with self.engine.begin() as conn:
                self._write_pending(conn)
                if also is not None:
                    also(conn)
        except Exception:
            if also is None or not self.pending:
                raise
            with self.engine.begin() as conn:
                self._write_pending(conn)
            self.pending.clear()
            raise
        self.pending.clear()

    def _write_pending(self, conn: Connection) -> None:
        for row in self.pending:
            record.remember_publication(
                conn, repo_full_name=self.repo, head_sha=self.head_sha, now=self.now, **row
            )


async def publish(
    gateway: GitHubGateway,
    *,
    engine: Engine,
    installation_id: int,
    repo: str,
    head_sha: str,
    evaluation: Evaluation,
    now: datetime,
    details_url: str | None = None,
    force: bool = False,
    also: Record | None = None,
) -> Published:
    """Publish ``evaluation`` for ``head_sha``; ``force`` sends even what was sent before.
    ``details_url`` is the page the status and the check run link to.

    What was sent is written as soon as nothing else is to be sent before it matters: the
    status of a PR in a lane at once (before its check run), the rest once the requests are
    done, with ``also`` (what the caller records of this evaluation) in the same transaction.
    Should a request fail, what was sent before it is written all the same, and ``also`` is
    not.
    """
    target = _Target(gateway, engine, installation_id, repo, head_sha, now, details_url)
    async with _lock(repo, head_sha), locks.held(engine, _lock_name(repo, head_sha)):
        last = target.published()
        try:
            status = await _publish_status(target, evaluation, force, last.get(record.STATUS))
            runs = 0
            if evaluation.lane is not Lane.ORDINARY:
                row = last.get(record.CHECK_RUN)
                runs = await _publish_check_run(target, evaluation, force, row)
        except BaseException:
            target.flush()
            raise
        target.flush(also)
    return Published(status=status, check_run_requests=runs)


async def republish_status(
    gateway: GitHubGateway,
    *,
    engine: Engine,
    installation_id: int,
    repo: str,
    head_sha: str,
    now: datetime,
    details_url: str | None = None,
) -> bool:
    """Put our last status for ``head_sha`` back after someone else overwrote it.

    Anyone with write access can set a status with our context; the check run cannot be
    spoofed. Sends from the stored row, so no evaluation (and no read) is needed. Returns
    ``False`` when we never published for that sha: then evaluate and ``publish``.
    """
    target = _Target(gateway, engine, installation_id, repo, head_sha, now, details_url)
    async with _lock(repo, head_sha), locks.held(engine, _lock_name(repo, head_sha)):
        row = target.published().get(record.STATUS)
        if row is None:
            return False
        body = status_body(row.state, row.description, target_url=details_url)
        await gateway.set_status(installation_id, repo, head_sha, body)
        return True


async def _publish_status(
    target: _Target, evaluation: Evaluation, force: bool, row: record.PublicationRow | None
) -> bool:
    body = build_status(evaluation, target_url=target.details_url)
    fingerprint = _digest(body)
    if row is not None and row.fingerprint == fingerprint and not force:
        return False
    await target.gateway.set_status(target.installation_id, target.repo, target.head_sha, body)
    target.remember(record.STATUS, fingerprint, body["state"], body["description"])
    if evaluation.lane is not Lane.ORDINARY:
        # Written before the check run's requests: a merge queue may act on this status at
        # once, and what it asks (green at the head?) is answered from this row.
        target.flush()
    return True


async def _publish_check_run(
    target: _Target, evaluation: Evaluation, force: bool, row: record.PublicationRow | None
) -> int:
    """Create or update the check run (``row``: what was last sent); return how many requests
    that took."""
    gateway, details_url = target.gateway, target.details_url
    text = build_check_run(evaluation, details_url=details_url, with_annotations=False)
    annotations_half = _digest(build_annotations(evaluation))[:_HALF]
    fingerprint = _digest(text)[:_HALF] + annotations_half

    if row is not None and row.fingerprint == fingerprint and not force:
        return 0
    sent_annotations = row.fingerprint[_HALF:] if row is not None else _NO_ANNOTATIONS
    run_id = row.check_run_id if row is not None else None
    if row is None and (adopted := gateway.own_check_run_seen(target.repo, target.head_sha)):
        # A run we created but never recorded (the process died in between), as the
        # evaluation's ``checks`` read listed it: update it rather than pile up a second one;
        # re-sent annotations are the lesser harm.
        run_id, sent_annotations = adopted, _NO_ANNOTATIONS

    state = build_state(evaluation, details_url=details_url)
    shown = state.get("conclusion", state["status"])
    # GitHub keeps a completed run's conclusion when the run is moved back to in_progress:
    # a result that went from decided to pending needs a new run to show it.
    reopened = row is not None and row.state != "in_progress" and "conclusion" not in state
    if (
        run_id is not None
        and not reopened
        and sent_annotations
        in (
            _NO_ANNOTATIONS,
            annotations_half,
        )
    ):
        created = 0
        updates = text
        if sent_annotations != annotations_half:
            updates = build_check_run(evaluation, details_url=details_url)
    else:
        created = 1
        bodies = build_check_run(evaluation, head_sha=target.head_sha, details_url=details_url)
        run_id = await gateway.create_check_run(target.installation_id, target.repo, bodies[0])
        updates = bodies[1:]
        if updates:
            # Written before the updates can fail: a retry then updates this run in place.
            target.remember(record.CHECK_RUN, _UNFINISHED, shown, evaluation.title, run_id)
            target.flush()
    for body in updates:
        await gateway.update_check_run(target.installation_id, target.repo, run_id, body)

    target.remember(record.CHECK_RUN, fingerprint, shown, evaluation.title, run_id)
    return created + len(updates)
