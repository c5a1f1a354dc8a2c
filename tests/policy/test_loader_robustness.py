"""Whatever a policy file holds, loading it raises ``PolicyError`` naming the file, never more.

A policy file is written by whoever can push to the repository (or to the organisation's
``.github``). A bare exception out of the loader crashes the evaluation job and the pull
request gets no status at all; a ``PolicyError`` gives it an ``error`` status saying what to fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.policy.loader import (
    DEFAULT_SOURCE,
    MAX_POLICY_BYTES,
    TOP_LEVEL,
    PolicyError,
    default_policy_text,
    load_policy,
    validate_policy_file,
)

ORG = "acme/.github:.github/hotfix-lane.yml"
REPO = "acme/api:.github/hotfix-lane.yml"


def _laughs(levels: int) -> str:
    """Nine aliases of nine aliases, ``levels`` deep, under a key the schema knows."""
    text = "trailers:\n  commit:\n    approver:\n      - &a0 [x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, levels):
        text += f"      - &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]\n"
    return text


NASTY = [
    pytest.param(
        "? [a, b]\n: 1\n", "line 1", "a list or mapping cannot be a key", id="complex key"
    ),
    pytest.param(
        "rules:\n  diff-size: {max_lines: 10}\n  ? {a: 1}\n  : 1\n",
        "line 3",
        "a list or mapping cannot be a key",
        id="complex key, nested",
    ),
    pytest.param(
        bytes(range(256)).decode("latin-1"),
        TOP_LEVEL,
        "unacceptable character",
        id="binary garbage",
    ),
    pytest.param(
        "rules:\n" + "  # padding\n" * 200_000,
        TOP_LEVEL,
        f"a policy file may be at most {MAX_POLICY_BYTES // 1024} KiB",
        id="a 2 MB file",
    ),
    pytest.param(
        "!!python/object:os.system {}\n",
        "line 1",
        "could not determine a constructor",
        id="python object tag",
    ),
    pytest.param(
        "rules: !!python/name:os.system\n",
        "line 1",
        "could not determine a constructor",
        id="python name tag",
    ),
    pytest.param(
        "- rules\n- lane\n", TOP_LEVEL, "is not of type 'object'", id="a list at top level"
    ),
    pytest.param("42\n", TOP_LEVEL, "is not of type 'object'", id="a scalar at top level"),
    pytest.param(
        "rules:\n\tdiff-size:\n\t\tmax_lines: 30\n",
        "line 2",
        "found character '\\t' that cannot start any token",
        id="tabs",
    ),
    pytest.param("rules: {diff-size: {max_lines: 30}}\x00\n", TOP_LEVEL, "#x0000", id="a NUL byte"),
    pytest.param(
        "rules: " + "[" * 5000 + "]" * 5000 + "\n",
        TOP_LEVEL,
        "nested too deeply",
        id="deep nesting",
    ),
    pytest.param(
        _laughs(6),
        TOP_LEVEL,
        "anchors and aliases expand to over 100,000 values",
        id="aliases that expand to half a million values",
    ),
    pytest.param(
        "teams:\n  approvers: &loop [*loop]\n",
        "line 2",
        "an alias refers to the value that contains it",
        id="an alias inside itself",
    ),
    pytest.param(
        "follow_ups: {cleanup_hours: 2026-13-45}\n",
        "line 1",
        "month must be in 1..12",
        id="a date that does not exist",
    ),
    pytest.param(
        "rules: {diff-size: {max_lines: " + "9" * 5000 + "}}\n",
        "line 1",
        "cannot read this value",
        id="an integer of 5000 digits",
    ),
    pytest.param(
        "? [a]\n: 1\n? [a]\n: 2\n", "line 1", "a list or mapping cannot be a key", id="repeated"
    ),
]


@pytest.mark.parametrize(("text", "key", "message"), NASTY)
def test_a_nasty_repository_file_is_a_policy_error_naming_it(
    text: str, key: str, message: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy([(DEFAULT_SOURCE, default_policy_text()), (ORG, None), (REPO, text)])

    error = caught.value
    assert (error.source, error.key) == (REPO, key)
    assert message in error.message
    # Schema messages quote the offending value; they stay short enough for a check run.
    assert len(str(error)) < 500


@pytest.mark.parametrize(("text", "key", "message"), NASTY)
def test_a_nasty_organisation_file_is_blamed_on_the_organisation(
    text: str, key: str, message: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy([(DEFAULT_SOURCE, default_policy_text()), (ORG, text), (REPO, None)])

    assert (caught.value.source, caught.value.key) == (ORG, key)


@pytest.mark.parametrize(("text", "key", "message"), NASTY)
def test_validate_config_reports_a_nasty_file_instead_of_crashing(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    path = tmp_path / "hotfix-lane.yml"
    path.write_text(text, encoding="utf-8")

    [error] = validate_policy_file(path)[:1]

    assert (error.source, error.key) == (str(path), key)
    assert message in error.message


def test_anchors_within_the_limit_still_work() -> None:
    # Aliases are legitimate YAML: sharing one list between two keys is no attack.
    text = (
        "cleanup:\n  test_globs: &tests ['**/tests/**']\nrules:\n  diff-size:\n    ignore: *tests\n"
    )

    policy = load_policy([(DEFAULT_SOURCE, default_policy_text()), (REPO, text)])

    assert policy.cleanup.test_globs == ("**/tests/**",)
    assert policy.rules.diff_size.ignore == ("**/tests/**",)


def test_a_file_just_under_the_size_limit_is_read() -> None:
    padding = "# " + "x" * 98 + "\n"
    text = "rules: {diff-size: {max_lines: 30}}\n"
    text += padding * ((MAX_POLICY_BYTES - len(text)) // len(padding))

    policy = load_policy([(DEFAULT_SOURCE, default_policy_text()), (REPO, text)])

    assert policy.rules.diff_size.max_lines == 30
