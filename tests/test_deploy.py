"""The Kubernetes manifests: each workload probed, non-root by number, resourced, disrupted
gently; the migration a Job; the kustomization renders them all; every document passes the
Kubernetes schema, unknown fields rejected."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"
# The Kubernetes release whose schemas (bundled by kubernetes-validate, no cluster needed) the
# manifests are checked against. kubernetes-validate N carries releases up to N, hence >=1.37.
KUBERNETES_VERSION = "1.37"


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


def schema_error(doc: dict[str, Any]) -> str | None:
    """None if the document passes the strict schema of KUBERNETES_VERSION, else what fails."""
    try:
        checked = kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        return f"{'.'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
    except (
        kubernetes_validate.SchemaNotFoundError,
        kubernetes_validate.InvalidSchemaError,
        kubernetes_validate.utils.VersionNotSupportedError,
    ) as e:
        # These carry their text in .message only (str(e) is empty).
        return f"{type(e).__name__}: {e.message}"
    # Not an older bundled schema silently standing in for the one asked for.
    assert checked == KUBERNETES_VERSION
    return None


def test_every_manifest_passes_the_kubernetes_schema() -> None:
    docs = manifests()
    assert docs
    failures = [
        f"{doc['kind']}/{doc['metadata']['name']}: {error}"
        for doc in docs
        if (error := schema_error(doc)) is not None
    ]
    assert not failures, "\n".join(failures)


def test_the_secret_example_passes_the_kubernetes_schema() -> None:
    # Not in the kustomization (the secret comes from the operator's store), so checked apart.
    (secret,) = (d for d in yaml.safe_load_all((DEPLOY / "secret.example.yaml").read_text()) if d)
    assert secret["kind"] == "Secret"
    assert schema_error(secret) is None


def _misspell_a_container_field(deployment: dict[str, Any]) -> None:
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"


def _spell_out_the_replicas(deployment: dict[str, Any]) -> None:
    deployment["spec"]["replicas"] = "two"


@pytest.mark.parametrize(
    ("break_it", "path", "complaint"),
    [
        (
            _misspell_a_container_field,
            "spec.template.spec.containers.0",
            "'imagePullPolicyy' was unexpected",
        ),
        (_spell_out_the_replicas, "spec.replicas", "'two' is not of type 'integer'"),
    ],
)
def test_the_schema_check_rejects_an_unknown_field_and_a_wrong_type(
    break_it: Callable[[dict[str, Any]], None], path: str, complaint: str
) -> None:
    deployment = by_kind("Deployment")["hotfix-lane-api"]
    assert schema_error(deployment) is None
    break_it(deployment)
    error = schema_error(deployment)
    assert error is not None
    assert error.startswith(f"{path}: ") and complaint in error, error
