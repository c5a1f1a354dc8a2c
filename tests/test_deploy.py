"""The Kubernetes manifests: each workload probed, non-root by number, resourced, disrupted
gently; the migration a Job; the kustomization renders them all."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"


def manifests() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        docs.extend(d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d)
    return docs


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in manifests() if d["kind"] == kind}


def pod_specs() -> dict[str, dict[str, Any]]:
    workloads = {**by_kind("Deployment"), **by_kind("Job")}
    return {name: d["spec"]["template"]["spec"] for name, d in workloads.items()}


def test_every_pod_runs_as_a_numeric_non_root_user_with_resources() -> None:
    specs = pod_specs()
    assert set(specs) == {"hotfix-lane-api", "hotfix-lane-worker", "hotfix-lane-migrate"}
    for name, spec in specs.items():
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert isinstance(security["runAsUser"], int) and security["runAsUser"] > 0, name
        for container in spec["containers"]:
            assert container["resources"]["requests"].keys() == {"cpu", "memory"}, name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name


def test_the_api_and_the_workers_are_probed_and_kept_available() -> None:
    specs = pod_specs()
    api = specs["hotfix-lane-api"]["containers"][0]
    worker = specs["hotfix-lane-worker"]["containers"][0]
    assert api["args"][:2] == ["hotfix-lane", "serve"] and "--no-worker" in api["args"]
    assert worker["args"] == ["hotfix-lane", "worker", "--metrics-port", "9100"]
    for container in (api, worker):
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert set(by_kind("PodDisruptionBudget")) == {"hotfix-lane-api", "hotfix-lane-worker"}
    assert by_kind("Service")["hotfix-lane"]["spec"]["selector"] == {
        "app.kubernetes.io/component": "api"
    }
    job = specs["hotfix-lane-migrate"]["containers"][0]
    assert job["command"] == ["hotfix-lane", "db", "upgrade"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_kustomization_renders() -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY)], check=True, capture_output=True, text=True
    ).stdout
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(rendered) if d)
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "Deployment",
        "Job",
        "PodDisruptionBudget",
        "PodDisruptionBudget",
        "Service",
    ]
    assert "image: ghcr.io/acme/hotfix-lane:0.1.0" in rendered
