"""URL settings are checked (and normalised) when settings are built, not on first use."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError
from slack_sdk.web.internal_utils import _get_url

from app.settings import Settings

# --- slack_api_url ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:9000/api", "http://127.0.0.1:9000/api/"),
        ("http://127.0.0.1:9000/api/", "http://127.0.0.1:9000/api/"),
        ("https://slack.com/api", "https://slack.com/api/"),
        ("  https://slack.com/api  ", "https://slack.com/api/"),
    ],
)
def test_slack_api_url_gets_a_trailing_slash(
    make_settings: Callable[..., Settings], given: str, expected: str
) -> None:
    assert make_settings(slack_api_url=given).slack_api_url == expected


def test_slack_sdk_then_posts_under_the_configured_path(
    make_settings: Callable[..., Settings],
) -> None:
    # What slack-sdk does with the base: without the slash, "/api" would be dropped.
    base = make_settings(slack_api_url="http://127.0.0.1:9000/api").slack_api_url

    assert _get_url(base, "chat.postMessage") == "http://127.0.0.1:9000/api/chat.postMessage"


def test_the_default_slack_api_url_is_unchanged(make_settings: Callable[..., Settings]) -> None:
    assert make_settings().slack_api_url == "https://slack.com/api/"


# --- public_url ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://hotfix-lane.acme.example", "https://hotfix-lane.acme.example"),
        ("https://hotfix-lane.acme.example/", "https://hotfix-lane.acme.example"),
        ("http://127.0.0.1:8000/lane/", "http://127.0.0.1:8000/lane"),
        (" https://hotfix-lane.acme.example ", "https://hotfix-lane.acme.example"),
        (None, None),
        ("", None),
        ("   ", None),
    ],
)
def test_public_url_is_kept_without_a_trailing_slash(
    make_settings: Callable[..., Settings], given: str | None, expected: str | None
) -> None:
    assert make_settings(public_url=given).public_url == expected


BAD_URLS = [
    pytest.param("hotfix-lane.acme.example", id="no scheme"),
    pytest.param("/hotfix-lane", id="a path only"),
    pytest.param("ftp://hotfix-lane.acme.example", id="not http"),
    pytest.param("https://", id="no host"),
    pytest.param("https:///path", id="an empty host"),
    pytest.param("https://host:port/", id="a port that is not a number"),
    pytest.param("mailto:ops@acme.example", id="not a web URL"),
]


@pytest.mark.parametrize("value", BAD_URLS)
def test_public_url_must_be_an_absolute_http_url(
    make_settings: Callable[..., Settings], value: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(public_url=value)

    [error] = caught.value.errors()
    assert error["loc"] == ("public_url",)
    assert "http" in error["msg"] or "URL" in error["msg"]


# --- github_api_url ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["https://api.github.com", "https://ghe.acme.example/api/v3", "http://127.0.0.1:9100"],
)
def test_github_api_url_accepts_absolute_http_urls(
    make_settings: Callable[..., Settings], value: str
) -> None:
    assert make_settings(github_api_url=value).github_api_url == value


@pytest.mark.parametrize("value", [*BAD_URLS, pytest.param("", id="empty")])
def test_github_api_url_must_be_an_absolute_http_url(
    make_settings: Callable[..., Settings], value: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(github_api_url=value)

    [error] = caught.value.errors()
    assert error["loc"] == ("github_api_url",)


@pytest.mark.parametrize("value", ["slack.com/api", "", "file:///tmp/slack"])
def test_slack_api_url_must_be_an_absolute_http_url(
    make_settings: Callable[..., Settings], value: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(slack_api_url=value)

    [error] = caught.value.errors()
    assert error["loc"] == ("slack_api_url",)
