"""Until the root conftest imports the fake Slack fixtures, these tests import them here."""

from tests.fakes.slack_fixtures import slack_api_url, slack_server

__all__ = ["slack_api_url", "slack_server"]
