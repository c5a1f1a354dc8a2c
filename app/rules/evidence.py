"""What the verdicts were drawn from, kept with each evaluation for the details page.

A verdict says "approver named" or "scan passed"; a reviewer asks which commit named whom,
who confirmed, which check counted as the scan and from which App, how many lines each file
changed, and which policy file set what. Pure: built from the snapshot the rules saw, bounded
in size (a pull request can carry thousands of commits and files).
"""

from __future__ import annotations

from typing import Any

from app.policy.model import Policy
from app.rules import ci, facts, scan, text
from app.rules.model import PullRequestSnapshot

MAX_COMMITS = 50
MAX_FILES = 200
MAX_CHECKS = 50


def evidence(snapshot: PullRequestSnapshot, policy: Policy) -> dict[str, Any]:
    """The evidence of one evaluation, as JSON-ready values."""
    keys = policy.trailers
    commits = [
        {
            "sha": commit.sha,
            "author": commit.author_login,
            "approvers": text.named_logins(commit.message, keys.commit.approver, facts.MAX_NAMED),
            "cleanup_owners": text.named_logins(
                commit.message, keys.commit.cleanup_owner, facts.MAX_NAMED
            ),
            "base_merge": commit.base_merge,
        }
        for commit in snapshot.commits[:MAX_COMMITS]
    ]
    changed = tuple(f.path for f in snapshot.files)
    judged = scan.scans(snapshot.checks, policy.rules.scan, changed)
    counted = {id(check) for check in judged.trusted}
    fast_path = ci.matching(snapshot.checks, policy.rules.fast_path.checks)
    return {
        "commits": commits,
        "commits_shown": len(commits),
        "commits_total": len(snapshot.commits),
        "body_approvers": list(facts.approvers(snapshot, policy).in_body),
        "confirmations": list(snapshot.approver_confirmations),
        "approving_reviews": sorted(
            {
                review.user_login
                for review in snapshot.reviews
                if review.state == "APPROVED" and review.commit_id == snapshot.head_sha
            }
        ),
        "scan": [
            {
                "name": check.name,
                "app": check.app_slug,
                "source": check.source,
                "conclusion": check.conclusion or check.status,
                "counted": id(check) in counted,
            }
            for check in ci.matching(snapshot.checks, policy.rules.scan.checks)[:MAX_CHECKS]
        ],
        "scan_set_aside": judged.distrusted,
        "fast_path": [
            {"name": check.name, "app": check.app_slug, "conclusion": check.conclusion}
            for check in fast_path[:MAX_CHECKS]
        ],
        "files": [
            {"path": f.path, "additions": f.additions, "deletions": f.deletions}
            for f in snapshot.files[:MAX_FILES]
        ],
        "files_total": len(snapshot.files),
        "files_truncated": snapshot.files_truncated,
        "changed_lines": sum(f.changes for f in snapshot.files),
        "policy_sources": [{"key": key, "source": source} for key, source in policy.sources],
        "policy_ignored": [
            {"source": item.source, "key": item.key, "reason": item.reason}
            for item in policy.ignored
        ],
    }
