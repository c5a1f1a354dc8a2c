"""The postmortem's hotfix-specific sections, matched as headings (runbook step 8)."""

from __future__ import annotations

import pytest

from app.rules.postmortem import headings, missing_sections
from tests.rules.factories import policy

SECTIONS = policy().follow_ups.postmortem_sections

RUNBOOK = """# Postmortem INC-2026-05-20-001

## Why was a hotfix needed?
The test suite takes 30 minutes.

## Was branch protection bypass justified?
Yes.

## Was the breakglass IAM role used?
No.

## What's the cleanup PR status?
Merged (#4330).
"""


@pytest.mark.parametrize(
    ("document", "missing"),
    [
        pytest.param(RUNBOOK, [], id="the runbook's own questions"),
        pytest.param(
            "## Why a hotfix was needed\n## Whether the bypass was justified\n"
            "## Whether break-glass was used\n## The clean-up PR's status\n",
            [],
            id="other words and spellings",
        ),
        pytest.param(
            RUNBOOK.replace("## Was the breakglass IAM role used?", "Breakglass: no"),
            ["breakglass"],
            id="a section named only in the text",
        ),
        pytest.param(
            "Why hotfix\n==========\n\nBypass justified\n----------------\n",
            ["breakglass", "cleanup status"],
            id="underlined headings count",
        ),
        pytest.param("", list(SECTIONS), id="an empty file"),
    ],
)
def test_missing_sections(document: str, missing: list[str]) -> None:
    assert missing_sections(document, SECTIONS) == missing


def test_headings_keep_their_text_without_closing_hashes() -> None:
    assert headings("# Title #\n  ## Sub\ntext\n") == ["Title", "Sub"]
