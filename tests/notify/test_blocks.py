"""The exact chat.postMessage body for a notice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.notify import notices
from app.notify.blocks import escape, render, title
from app.notify.notices import NoticeKind
from tests.notify.samples import ADMIN_MERGE, PR_URL, make_notice


def test_admin_merge_renders_header_summary_fields_and_link() -> None:
    text = "@alice merged PR #4321 (HOTFIX: INC-2026-05-20-001 catalog nil-deref) via admin bypass"
    assert render(ADMIN_MERGE) == {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Admin merge"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Incident*\nINC-2026-05-20-001"},
                    {"type": "mrkdwn", "text": "*Approver*\n@alice"},
                    {"type": "mrkdwn", "text": "*Cleanup owner*\n@bob"},
                    {"type": "mrkdwn", "text": "*Repository*\nacme/api"},
                ],
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{PR_URL}|View on GitHub>"}],
            },
        ],
    }


def test_overdue_follow_up_renders_header_summary_fields_and_link() -> None:
    notice = notices.follow_up_overdue(
        repo="acme/api",
        number=4321,
        incident_id="INC-2026-05-20-001",
        follow_up="cleanup PR",
        owner="bob",
        due_at=datetime(2026, 5, 21, 9, 52, tzinfo=UTC),
        url=PR_URL,
    )
    text = (
        "OVERDUE: the cleanup PR of INC-2026-05-20-001 (acme/api#4321) "
        "was due 2026-05-21 09:52 UTC; owner @bob"
    )
    assert render(notice) == {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Follow-up overdue"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Incident*\nINC-2026-05-20-001"},
                    {"type": "mrkdwn", "text": "*Follow-up*\ncleanup PR"},
                    {"type": "mrkdwn", "text": "*Owner*\n@bob"},
                    {"type": "mrkdwn", "text": "*Due*\n2026-05-21 09:52 UTC"},
                    {"type": "mrkdwn", "text": "*Hotfix*\nacme/api#4321"},
                ],
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{PR_URL}|View on GitHub>"}],
            },
        ],
    }


def test_violation_has_a_marked_header_and_no_link_block_without_a_link() -> None:
    notice = notices.policy_override_unmatched(
        repo="acme/api", branch="main", actor="dave", window_minutes=15, document_id="doc-2"
    )
    blocks = render(notice)["blocks"]

    assert blocks[0]["text"]["text"] == "Violation: Bypass outside the hotfix lane (audit log)"
    assert [block["type"] for block in blocks] == ["header", "section", "section"]


def test_security_event_header() -> None:
    notice = notices.scan_bypassed(
        repo="acme/api", number=1, title="t", merged_by="a", scans={}, url=PR_URL
    )
    assert render(notice)["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Security event: Scan bypassed"},
    }


def test_user_text_is_escaped_everywhere_it_is_mrkdwn() -> None:
    notice = notices.bypass_outside_lane(
        repo="acme/api",
        number=9,
        title="<!channel> R&D <https://evil.example|docs>",
        merged_by="dave",
        url="https://github.com/acme/api/pull/9?a=1&b=<2>",
    )
    text = (
        "VIOLATION: @dave merged PR #9 (&lt;!channel&gt; R&amp;D "
        "&lt;https://evil.example|docs&gt;) via admin bypass but it is not in the hotfix lane"
    )
    rendered = render(notice)
    assert rendered["text"] == text
    assert rendered["blocks"][1]["text"]["text"] == text
    assert rendered["blocks"][3]["elements"][0]["text"] == (
        "<https://github.com/acme/api/pull/9?a=1&amp;b=&lt;2&gt;|View on GitHub>"
    )


def test_field_values_are_escaped() -> None:
    notice = make_notice(
        NoticeKind.BRANCH_PROTECTION_WEAKENED, fields=[("Changes", "approvals 1 -> 0 & <none>")]
    )
    assert render(notice)["blocks"][2] == {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": "*Changes*\napprovals 1 -&gt; 0 &amp; &lt;none&gt;"}],
    }


def test_more_than_ten_fields_spill_into_a_second_section() -> None:
    notice = make_notice(fields=[(f"F{i}", str(i)) for i in range(12)])

    sections = render(notice)["blocks"][2:]

    assert [len(section["fields"]) for section in sections] == [10, 2]


def test_long_values_are_clipped_to_slack_limits_without_splitting_an_entity() -> None:
    # The field's "&" escapes to "&amp;", which the 2,000-character cut would split.
    value = "a" * (2000 - len("*F*\n") - 3) + "&bbbb"
    notice = make_notice(text="y" * 3100, fields=[("F", value)])

    blocks = render(notice)["blocks"]

    assert blocks[1]["text"]["text"] == "y" * 2999 + "…"
    assert blocks[2]["fields"][0]["text"] == "*F*\n" + "a" * 1993 + "…"


def test_escape_handles_ampersand_first() -> None:
    assert escape("&lt;") == "&amp;lt;"


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_has_a_header_within_slacks_150_characters(kind: NoticeKind) -> None:
    assert 0 < len(title(make_notice(kind))) <= 150
