"""What we last published per head sha (table ``Publication``), read and written here only.

The publisher writes it; the merge judgement reads our last status state for the merged head.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from app.store.models import Publication

STATUS = "status"
CHECK_RUN = "check_run"


def get_publication(
    *, session: Session, repo_full_name: str, head_sha: str, kind: str
) -> Publication | None:
    """The last ``kind`` (``status`` or ``check_run``) published for ``head_sha``, if any."""
    return session.get(
        Publication, {"repo_full_name": repo_full_name, "head_sha": head_sha, "kind": kind}
    )


def save_publication(
    *,
    session: Session,
    repo_full_name: str,
    head_sha: str,
    kind: str,
    fingerprint: str,
    state: str,
    description: str,
    check_run_id: int | None = None,
    now: datetime,
) -> Publication:
    """Remember a publication, and commit at once.

    The write to GitHub has already happened: if the job failed later and rolled this back,
    its retry would create a second check run for the same sha.
    """
    when = now
    row = get_publication(
        session=session, repo_full_name=repo_full_name, head_sha=head_sha, kind=kind
    )
    if row is None:
        row = Publication(
            repo_full_name=repo_full_name,
            head_sha=head_sha,
            kind=kind,
            fingerprint=fingerprint,
            state=state,
            description=description,
            check_run_id=check_run_id,
            updated_at=when,
        )
    else:
        row.fingerprint = fingerprint
        row.state = state
        row.description = description
        row.check_run_id = check_run_id
        row.updated_at = when
    session.add(row)
    session.commit()
    return row
