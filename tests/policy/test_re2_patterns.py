"""Policy patterns run on RE2: what RE2 cannot run is refused when the policy is loaded.

RE2 has no backtracking, so no pattern can take more than linear time; the price is the
features that need backtracking. A pattern using one is a ``PolicyError`` naming the file and
``incident.pattern``, so the pull request gets an ``error`` status, never a crash or a hang.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.policy.loader import (
    DEFAULT_SOURCE,
    PolicyError,
    default_policy_text,
    load_policy,
    validate_policy_file,
)
from app.policy.model import Policy

# The organisation's file and the repository's, as the gateway names them.
LAYERS = ("acme/.github:.github/hotfix-lane.yml", "acme/api:.github/hotfix-lane.yml")
INVALID = "not a valid regular expression: "


def _override(pattern: str) -> str:
    return f"incident:\n  pattern: '{pattern}'\n"


def _load(pattern: str, source: str = LAYERS[1]) -> Policy:
    """The defaults, with ``pattern`` in the file ``source`` (the other layer absent)."""
    layers = [(layer, _override(pattern) if layer == source else None) for layer in LAYERS]
    return load_policy([(DEFAULT_SOURCE, default_policy_text()), *layers])


REFUSED = [
    pytest.param(r"(INC)-\d+-\1", r"invalid escape sequence: \1", id="a backreference"),
    pytest.param(r"(?P<id>INC)-(?P=id)", "invalid perl operator: (?P", id="a named backreference"),
    pytest.param(r"(?<!X)INC-\d+", "invalid perl operator: (?<", id="a look-behind"),
    pytest.param(r"INC-\d+(?!\d)", "invalid perl operator: (?!", id="a look-ahead"),
    pytest.param(r"INC-\d++", "bad repetition operator: ++", id="a possessive quantifier"),
    pytest.param(r"(?>INC)-\d+", "invalid perl operator: (?>", id="an atomic group"),
    pytest.param(
        r"INC-\d+\Z", r"invalid escape sequence: \Z", id="Python's \\Z (RE2 spells it \\z)"
    ),
    pytest.param(r"INC-\d{1001}", "invalid repetition size: {1001}", id="a repetition over 1000"),
    pytest.param("INC-(\\d+", "missing ): INC-(\\d+", id="an unbalanced group"),
    pytest.param(
        "INC)-(\\d+", "unexpected ): INC)-(\\d+", id="a group closed early, valid once wrapped"
    ),
]


@pytest.mark.parametrize(
    "source", LAYERS, ids=["in the organisation's file", "in the repository's"]
)
@pytest.mark.parametrize(("pattern", "reason"), REFUSED)
def test_a_pattern_re2_cannot_run_is_a_policy_error_naming_file_and_key(
    source: str, pattern: str, reason: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        _load(pattern, source)
    error = caught.value
    assert (error.source, error.key) == (source, "incident.pattern")
    assert str(error).startswith(f"{source}: incident.pattern: {INVALID}{reason}")
    assert str(error).endswith("(RE2 syntax: no backreferences or look-around)")


def test_validate_config_reports_the_same_error(tmp_path: Path) -> None:
    path = tmp_path / "hotfix-lane.yml"
    path.write_text(_override(r"(INC)-\d+-\1"))
    (error,) = validate_policy_file(path)
    assert (error.source, error.key) == (str(path), "incident.pattern")
    assert error.message.startswith(INVALID + r"invalid escape sequence: \1")


ACCEPTED = [
    pytest.param(r"INC-\d{4}-\d{2}-\d{2}-\d{3}", id="the runbook's default"),
    pytest.param(r"(?:INC|SEV)-\d+", id="a non-capturing alternation"),
    pytest.param(r"(?P<year>\d{4})-INC-\d+", id="a named group"),
    pytest.param(r"(?i)inc-\d+", id="a case-insensitive flag"),
    pytest.param(r"(a+)+$", id="nested quantifiers, harmless on RE2"),
    pytest.param(r"\pL+-\d+", id="a Unicode class"),
]


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_a_pattern_re2_runs_loads(pattern: str) -> None:
    assert _load(pattern).incident.pattern == pattern
