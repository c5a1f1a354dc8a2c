"""The incident loop's recurring jobs: the runbook's freshness (daily) and the weekly digest
(see ``app.jobs.recurring`` for how a slot runs once across processes)."""

from __future__ import annotations

from app.jobs.recurring import Recurring, next_midnight, next_monday_morning

FRESHNESS_JOB = "runbook-freshness"
DIGEST_JOB = "weekly-digest"

FRESHNESS = Recurring(FRESHNESS_JOB, next_midnight)
DIGEST = Recurring(DIGEST_JOB, next_monday_morning)
RECURRING = (FRESHNESS, DIGEST)
