"""``hotfix-lane check``: the rules that need no GitHub, run on a local branch before pushing.

The snapshot comes from ``git`` alone: the head branch, its commits since the merge-base with the
base branch, and the diff against that merge-base. A local branch has no labels and no PR yet, so
the label requirement of ``markers`` is waived, and the PR title is stood in for by the subject
of the tip commit (a subject starting exactly with ``HOTFIX:`` is checked like a title; any other
subject, such as the runbook's ``hotfix(catalog): ...``, is not). The
PR body is empty, so approver and cleanup owner must be named in commit messages.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from app.policy.model import Policy
from app.rules import cleanup_has_tests, markers, text
from app.rules.classify import classify
from app.rules.evaluate import HOTFIX_RULES, Rule
from app.rules.model import ChangedFile, Commit, Lane, Outcome, PullRequestSnapshot, Verdict

# The hotfix rules that read only the branch, the commits and the diff.
LOCAL_RULE_IDS = (
    "markers",
    "incident-id",
    "approver-named",
    "cleanup-owner",
    "diff-size",
    "single-concern",
)
NOT_IN_LANE = "Not in the hotfix lane: this branch is not a hotfix or cleanup branch."
# Unit and record separators: cannot occur in a commit message typed by a person.
_FIELD, _RECORD = "\x1f", "\x1e"


class LocalCheckError(Exception):
    """The local repository cannot be checked (not a git repository, unknown base)."""


def run_local_check(repo: Path, base: str | None, policy: Policy, now: datetime) -> list[Verdict]:
    """The local rules' verdicts for the current branch of ``repo`` against ``base``.

    ``base`` defaults to ``origin/main`` when it exists, else ``main``. An empty list means the
    branch is in no lane the local check knows.
    """
    snapshot = local_snapshot(repo, base)
    lane = classify(snapshot, policy)
    if lane is Lane.CLEANUP:
        return [cleanup_has_tests.check(snapshot, policy, now)]
    if lane is not Lane.HOTFIX:
        return []
    return [rule.check(snapshot, policy, now) for rule in local_rules(snapshot, policy)]


def local_rules(snapshot: PullRequestSnapshot, policy: Policy) -> tuple[Rule, ...]:
    """The hotfix registry cut down to the local rules, with ``markers`` in its local form."""
    # Only a subject written exactly like a PR title ("HOTFIX: INC-..."), as `gh pr create
    # --fill` would use it, stands in for the title; "hotfix(catalog): ..." is just a commit.
    titled = snapshot.title.startswith(policy.lane.title_prefix)

    def local_markers(s: PullRequestSnapshot, p: Policy, now: datetime) -> Verdict:
        return markers.check_markers(s, p, require_label=False, check_title=titled)

    return tuple(
        Rule(rule.id, local_markers) if rule.id == markers.RULE_ID else rule
        for rule in HOTFIX_RULES
        if rule.id in LOCAL_RULE_IDS
    )


def local_snapshot(repo: Path, base: str | None) -> PullRequestSnapshot:
    """A snapshot of HEAD against its merge-base with ``base``, read with ``git``."""
    if _git(repo, "rev-parse", "--is-inside-work-tree", check=False) != "true":
        raise LocalCheckError(f"{repo} is not a git repository")
    base_ref = base or _default_base(repo)
    if (
        _git(repo, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}", check=False)
        is None
    ):
        raise LocalCheckError(f"unknown base '{base_ref}': pass --base with a branch or commit")
    head_sha = _git(repo, "rev-parse", "HEAD", check=False)
    if head_sha is None:
        raise LocalCheckError(f"{repo} has no commits yet")
    commits = _commits(repo, base_ref, f"{base_ref}..HEAD")
    return PullRequestSnapshot(
        repo_full_name=f"local/{repo.resolve().name}",
        number=0,
        title=text.first_line(commits[-1].message) if commits else "",
        body="",
        author_login="",
        head_ref=_git(repo, "rev-parse", "--abbrev-ref", "HEAD") or "HEAD",
        head_sha=head_sha,
        base_ref=base_ref,
        commits=commits,
        files=_files(repo, f"{base_ref}...HEAD"),
    )


def format_table(verdicts: Sequence[Verdict]) -> str:
    """A plain-text table: one row per rule, then a one-line summary."""
    if not verdicts:
        return NOT_IN_LANE
    rule_width = max(len("RULE"), *(len(v.rule_id) for v in verdicts))
    result_width = max(len("RESULT"), *(len(v.outcome.value) for v in verdicts))
    rows = [("RULE", "RESULT", "MESSAGE")]
    rows += [(v.rule_id, v.outcome.value, v.message) for v in verdicts]
    lines = [
        f"{rule.ljust(rule_width)}  {result.ljust(result_width)}  {message}"
        for rule, result, message in rows
    ]
    failing = sum(v.outcome is Outcome.FAIL for v in verdicts)
    lines.append("")
    lines.append(f"{failing} of {len(verdicts)} rules fail." if failing else "No rule fails.")
    return "\n".join(lines)


def exit_code(verdicts: Sequence[Verdict]) -> int:
    """1 when any rule fails, else 0 (advisory and skipped verdicts do not fail the check)."""
    return 1 if any(v.outcome is Outcome.FAIL for v in verdicts) else 0


def _default_base(repo: Path) -> str:
    for candidate in ("origin/main", "main"):
        if _git(repo, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}", check=False):
            return candidate
    raise LocalCheckError("neither origin/main nor main exists: pass --base")


def _commits(repo: Path, base_ref: str, revisions: str) -> tuple[Commit, ...]:
    # Oldest first, like GitHub lists a pull request's commits.
    fields = _FIELD.join(("%H", "%P", "%an", "%ae", "%cn", "%ce", "%B"))
    log = _git(repo, "log", "--reverse", f"--format={fields}{_RECORD}", revisions) or ""
    commits: list[Commit] = []
    for record in log.split(_RECORD):
        parts = record.strip("\n").split(_FIELD, 6)
        if len(parts) == 7:
            sha, parents, author, author_email, committer, committer_email, message = parts
            # Logins exist only on GitHub; a local commit has a name and an email at most.
            commits.append(
                Commit(
                    sha=sha,
                    message=message.strip(),
                    author_name=author,
                    author_email=author_email,
                    committer_name=committer,
                    committer_email=committer_email,
                    parents=tuple(parents.split()),
                    co_authors=text.co_author_trailers(message),
                    base_merge=_is_base_merge(repo, base_ref, parents.split()),
                )
            )
    return tuple(commits)


def _is_base_merge(repo: Path, base_ref: str, parents: list[str]) -> bool:
    """Two parents, the second on the base branch: what the gateway asks GitHub, asked of git."""
    if len(parents) != 2:
        return False
    ancestor = _git(repo, "merge-base", "--is-ancestor", parents[1], base_ref, check=False)
    return ancestor is not None


def _files(repo: Path, revisions: str) -> tuple[ChangedFile, ...]:
    # -z keeps odd file names intact; --no-renames keeps one path per record.
    numstat = _git(repo, "diff", "--numstat", "--no-renames", "-z", revisions) or ""
    files: list[ChangedFile] = []
    for record in numstat.split("\0"):
        added, _, rest = record.partition("\t")
        deleted, _, path = rest.partition("\t")
        if path:
            # Binary files show "-": they have no lines to count.
            files.append(ChangedFile(path, _count(added), _count(deleted)))
    return tuple(files)


def _count(value: str) -> int:
    return int(value) if value.isdigit() else 0


def _git(repo: Path, *args: str, check: bool = True) -> str | None:
    """Run git in ``repo``; the trimmed output, or ``None`` on failure when ``check`` is off."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            ["git", "-C", str(repo), *args],  # noqa: S607 - git from PATH, like a developer's shell
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise LocalCheckError("git is not installed or not on PATH") from exc
    if done.returncode != 0:
        if check:
            detail = done.stderr.strip() or f"exit status {done.returncode}"
            raise LocalCheckError(f"git {' '.join(args)} failed: {detail}")
        return None
    return done.stdout.strip()
