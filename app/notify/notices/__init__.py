"""Audit notices: what the app tells the audit channel, built as plain values.

Runbook step 5 and step 9: every admin merge and every admin action posts to the audit channel,
and a platform-team member reviews them within a week. A notice is decided and worded here,
without I/O, so the outbox can store it before anything is sent and tests can pin its exact
text. Rendering to Block Kit lives in ``blocks.py``; sending in ``slack.py``.

Every builder takes keyword-only arguments and derives the idempotency key from its inputs
alone, so re-processing the same merge or audit event yields the same key and the outbox can
refuse a second copy. Keys never contain titles or other free text: they must stay short
(the job table's key column is 255 characters) and stable when a title is edited.

A notice about a pull request names it as its ``subject``, a notice about an audit-log event
names the event; later notices answer in the Slack thread of the first notice with that
subject (``Thread``): follow-ups under the admin merge, an override's outcome under it.
"""

from __future__ import annotations

from app.notify.notices.audit import (
    branch_protection_deleted,
    branch_protection_weakened,
    bypass_team_member_added,
    policy_override,
    policy_override_confirmed,
    policy_override_unmatched,
    ruleset_bypass,
)
from app.notify.notices.followups import (
    follow_up_done,
    follow_up_overdue,
    follow_up_reminder,
    follow_ups_complete,
)
from app.notify.notices.incidents import (
    deployed,
    deployment_failed,
    drill_merged,
    hotfix_declared,
    incident_merged,
    not_recovered,
    recovered,
    recovery_unverified,
)
from app.notify.notices.model import (
    DRILL_PREFIX,
    SECURITY_EVENTS,
    VIOLATIONS,
    Field,
    Notice,
    NoticeKind,
    Thread,
    as_drill,
    audit_key,
    audit_outcome_key,
    drilled,
    reported,
)
from app.notify.notices.pull_requests import (
    admin_merge,
    approver_not_confirmed,
    approver_not_merger,
    author_quota_exceeded,
    bypass_by_non_member,
    bypass_outside_lane,
    check_run_spoofed,
    policy_changed,
    rate_limit_tripped,
    scan_bypassed,
    status_spoofed,
)
from app.notify.notices.reviews import runbook_stale, weekly_digest

__all__ = [
    "DRILL_PREFIX",
    "SECURITY_EVENTS",
    "VIOLATIONS",
    "Field",
    "Notice",
    "NoticeKind",
    "Thread",
    "admin_merge",
    "approver_not_confirmed",
    "approver_not_merger",
    "as_drill",
    "audit_key",
    "audit_outcome_key",
    "author_quota_exceeded",
    "branch_protection_deleted",
    "branch_protection_weakened",
    "bypass_by_non_member",
    "bypass_outside_lane",
    "bypass_team_member_added",
    "check_run_spoofed",
    "deployed",
    "deployment_failed",
    "drill_merged",
    "drilled",
    "follow_up_done",
    "follow_up_overdue",
    "follow_up_reminder",
    "follow_ups_complete",
    "hotfix_declared",
    "incident_merged",
    "not_recovered",
    "policy_changed",
    "policy_override",
    "policy_override_confirmed",
    "policy_override_unmatched",
    "rate_limit_tripped",
    "recovered",
    "recovery_unverified",
    "reported",
    "ruleset_bypass",
    "runbook_stale",
    "scan_bypassed",
    "status_spoofed",
    "weekly_digest",
]
