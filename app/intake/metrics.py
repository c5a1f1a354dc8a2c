"""Intake's Prometheus metrics (prometheus-client's registry is process-global)."""

from __future__ import annotations

from prometheus_client import Counter

DELIVERIES = Counter(
    "hotfix_lane_deliveries_total",
    "Webhook deliveries received, by event and outcome.",
    ["event", "outcome"],
)
SIGNATURE_FAILURES = Counter(
    "hotfix_lane_signature_failures_total",
    "Webhook deliveries refused for a missing or wrong signature.",
)
REJECTED = Counter(
    "hotfix_lane_webhook_rejections_total",
    "Webhook requests refused, by HTTP status (bad signature, malformed, too large, busy).",
    ["status"],
)
