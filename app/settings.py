"""Runtime settings, read from the environment (prefix ``HOTFIX_LANE_``) and ``.env``.

Settings are built once, by the CLI or by whoever calls ``create_app``, and passed down.
Nothing reads the environment at import time, so tests build their own ``Settings``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values people paste from examples instead of a real secret: refusing them fails fast at start.
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "development", "xxx", "todo", "<secret>"}


class ConfigError(Exception):
    """A setting is missing or unusable; the message names the setting."""


class Settings(BaseSettings):
    """Every knob of a running hotfix-lane, with the defaults a single-node install wants."""

    model_config = SettingsConfigDict(
        env_prefix="HOTFIX_LANE_", env_file=".env", extra="ignore", frozen=True
    )

    webhook_secret: SecretStr | None = None
    database_url: str = "sqlite:///./hotfix-lane.db"

    github_app_id: str | None = None
    github_private_key: SecretStr | None = None
    github_private_key_path: Path | None = None
    github_api_url: str = "https://api.github.com"

    slack_bot_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    audit_channel: str | None = None
    audit_log_token: SecretStr | None = None

    public_url: str | None = None

    # The web view: sign-in with the App's own OAuth credentials, or none for local use.
    github_client_id: str | None = None
    github_client_secret: SecretStr | None = None
    web_auth: Literal["github", "none"] = "github"
    session_secret: SecretStr | None = None

    # Raw delivery bodies and finished jobs are deleted this many days after they were made.
    retention_days: int = Field(default=30, ge=1)

    # Prometheus's HTTP API for the verify step (runbook step 6); unset: recovery is not
    # verified by the app, and the tracking issue says so.
    prometheus_url: str | None = None
    prometheus_token: SecretStr | None = None

    log_level: str = "INFO"
    log_json: bool = False

    # Intake: GitHub caps webhook payloads at 25 MB.
    max_body_bytes: int = Field(default=25 * 1024 * 1024, gt=0)

    # Job queue.
    job_max_attempts: int = Field(default=8, ge=1)
    job_lease_seconds: float = Field(default=120.0, gt=0)
    # A job running longer than this is abandoned and retried (its lease is kept meanwhile).
    job_timeout_seconds: float = Field(default=600.0, gt=0)
    job_backoff_base_seconds: float = Field(default=2.0, ge=0)
    job_backoff_max_seconds: float = Field(default=900.0, ge=0)
    worker_poll_seconds: float = Field(default=0.5, gt=0)
    worker_concurrency: int = Field(default=4, ge=1)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)

    # Caches kept by the GitHub gateway.
    membership_cache_seconds: float = Field(default=600.0, ge=0)
    # A pull request can name thousands of people: at most this many team memberships are
    # looked up per evaluation, and the rest count as no member (fail closed).
    max_membership_lookups: int = Field(default=20, ge=1)
    policy_cache_seconds: float = Field(default=3600.0, ge=0)

    # Optional poller of the Enterprise Cloud audit log (off unless an interval is set).
    audit_log_poll_seconds: float | None = None

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("github_api_url")
    @classmethod
    def _absolute_api_url(cls, value: str) -> str:
        # githubkit joins request paths onto this base; a relative or scheme-less value only
        # fails later, on the first call to GitHub, far from the setting that caused it.
        return _absolute_http_url(value)

    @field_validator("prometheus_token", mode="before")
    @classmethod
    def _token_without_blanks(cls, value: object) -> object:
        # A secret mounted from a file often ends in a newline, which no header can carry.
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("prometheus_url")
    @classmethod
    def _absolute_prometheus_url(cls, value: str | None) -> str | None:
        return _absolute_http_url(value) if value and value.strip() else None

    @field_validator("public_url")
    @classmethod
    def _absolute_public_url(cls, value: str | None) -> str | None:
        # Sent as a check run's details_url and a status's target_url: GitHub answers 422 to
        # a value that is not an absolute http(s) URL, so every publish would fail. An empty
        # value (``HOTFIX_LANE_PUBLIC_URL=`` left in a .env) means "not set".
        if value is None or not value.strip():
            return None
        # No trailing slash, so links built on it never read "https://host//...".
        return _absolute_http_url(value).rstrip("/")

    @field_validator("slack_api_url")
    @classmethod
    def _slack_base_with_slash(cls, value: str) -> str:
        # slack-sdk joins the method name onto this base with urljoin, which replaces the
        # last path segment of a base without a trailing slash: ".../api" would post to
        # "/chat.postMessage" instead of "/api/chat.postMessage".
        value = _absolute_http_url(value)
        return value if value.endswith("/") else value + "/"

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return upper

    def require_webhook_secret(self) -> bytes:
        """The webhook secret as bytes; raise ``ConfigError`` if it is absent or a placeholder."""
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if secret.strip().lower() in _PLACEHOLDERS:
            raise ConfigError(
                "HOTFIX_LANE_WEBHOOK_SECRET is not set (or is a placeholder): "
                "set it to the App's webhook secret"
            )
        return secret.encode()

    @cached_property
    def github_private_key_pem(self) -> str | None:
        """The App's PEM key, inline or read from ``GITHUB_PRIVATE_KEY_PATH``."""
        if self.github_private_key is not None:
            # Keys pasted into one-line environment variables often carry literal "\n".
            return self.github_private_key.get_secret_value().replace("\\n", "\n")
        if self.github_private_key_path is not None:
            try:
                return self.github_private_key_path.read_text()
            except OSError as exc:
                raise ConfigError(
                    f"HOTFIX_LANE_GITHUB_PRIVATE_KEY_PATH cannot be read: {exc.strerror}"
                ) from exc
        return None

    @property
    def web_enabled(self) -> bool:
        """Whether the pages are served: without sign-in (``WEB_AUTH=none``), or with
        GitHub's OAuth and a secret to sign the session cookie with."""
        if self.web_auth == "none":
            return True
        return bool(self.github_client_id) and None not in (
            self.github_client_secret,
            self.session_secret,
        )

    @property
    def github_configured(self) -> bool:
        return bool(self.github_app_id) and (
            self.github_private_key is not None or self.github_private_key_path is not None
        )


def _absolute_http_url(value: str) -> str:
    """``value`` stripped of surrounding blanks; raise ``ValueError`` unless it is an
    absolute http(s) URL with a host."""
    value = value.strip()
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"is not a valid URL: {exc}") from exc
    if parts.scheme.lower() not in {"http", "https"} or not host:
        raise ValueError("must be an absolute http:// or https:// URL, such as https://host/path")
    return value


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment and ``.env``; keyword overrides win."""
    return Settings(**overrides)  # type: ignore[arg-type]
