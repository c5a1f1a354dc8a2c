"""diff-size: a hotfix changes fewer lines than the policy's limit (50 by default)."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import text
from app.rules.model import Annotation, ChangedFile, Outcome, PullRequestSnapshot, Verdict
from app.rules.paths import matches_any
from app.rules.verdicts import disabled

RULE_ID = "diff-size"
# Enough to show where the bulk is without burying the check run.
MAX_ANNOTATIONS = 10


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    rule = policy.rules.diff_size
    if not rule.enabled:
        return disabled(RULE_ID)
    limit = rule.max_lines
    # GitHub stops listing files at 3,000; the lines we cannot see cannot be counted, and a
    # change that size is no hotfix anyway, so fail closed.
    if snapshot.files_truncated:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            "The PR has more files or commits than GitHub can list: far too large for a hotfix; "
            "ship the smallest fix and move the rest to the cleanup PR.",
        )
    counted = [f for f in snapshot.files if not matches_any(f.path, rule.ignore)]
    total = sum(f.changes for f in counted)
    skipped = len(snapshot.files) - len(counted)
    note = f" ({text.plural(skipped, 'generated file')} not counted)" if skipped else ""
    # Step 2: "If > 50 lines, you're doing too much in one hotfix."
    if total < limit:
        return Verdict(
            RULE_ID, Outcome.PASS, f"{total} changed lines{note}; a hotfix stays under {limit}."
        )
    return Verdict(
        RULE_ID,
        Outcome.FAIL,
        f"{total} changed lines; a hotfix must stay under {limit}. Ship the smallest fix and "
        f"move the rest to the cleanup PR{note}.",
        annotations=_largest(counted, total, limit),
    )


def _largest(files: list[ChangedFile], total: int, limit: int) -> tuple[Annotation, ...]:
    biggest = sorted((f for f in files if f.changes), key=lambda f: (-f.changes, f.path))
    return tuple(
        Annotation(
            path=f.path,
            start_line=1,
            end_line=1,
            # A file that alone breaks the limit is the problem; the others contribute to it.
            level="failure" if f.changes >= limit else "warning",
            message=f"{f.changes} of the PR's {total} changed lines are in this file; "
            f"a hotfix must stay under {limit}.",
            title="Hotfix diff too large",
        )
        for f in biggest[:MAX_ANNOTATIONS]
    )
