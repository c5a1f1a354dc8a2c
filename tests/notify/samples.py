"""Notices shared by the notify tests."""

from __future__ import annotations

from typing import TypedDict

from app.notify import notices
from app.notify.notices import Notice, NoticeKind, Thread

REPO = "acme/api"
PR_URL = "https://github.com/acme/api/pull/4321"
SUBJECT = "acme/api#4321"  # what notices about that pull request are about
TITLE = "HOTFIX: INC-2026-05-20-001 catalog nil-deref"


class HotfixFields(TypedDict):
    """The arguments every follow-up notice builder takes: the hotfix they are about."""

    repo: str
    number: int
    incident_id: str | None
    url: str


# The runbook's hotfix, whose follow-ups the follow-up notices are about.
HOTFIX_URL = "https://github.com/acme/bookstore-platform/pull/4321"
HOTFIX = HotfixFields(
    repo="acme/bookstore-platform", number=4321, incident_id="INC-2026-05-20-001", url=HOTFIX_URL
)

# The runbook's step-5 example.
ADMIN_MERGE = notices.admin_merge(
    repo=REPO,
    number=4321,
    title=TITLE,
    merged_by="alice",
    incident_id="INC-2026-05-20-001",
    approver="alice",
    cleanup_owner="bob",
    url=PR_URL,
)


def make_notice(
    kind: NoticeKind = NoticeKind.ADMIN_MERGE,
    text: str = "x",
    fields: list[tuple[str, str]] | None = None,
    key: str = "k",
    *,
    link: str | None = None,
    violation: bool = False,
    subject: str | None = None,
    thread: Thread = Thread.TOP,
) -> Notice:
    """A notice built by hand, for expectations and for inputs no builder produces."""
    return Notice(
        kind=kind,
        violation=violation,
        text=text,
        fields=tuple(fields or ()),
        link=link,
        idempotency_key=key,
        subject=subject,
        thread=thread,
    )
