"""The deployment files stay true to the code: Docker cannot run here, so what can be checked
without it is checked statically.

* every YAML file under deploy/ parses;
* deploy/prefect.yaml and flows/deployments.py name the same deployments, entrypoints,
  schedules, time zone, tags and concurrency limits, and every entrypoint is a real flow;
* docker-compose.yml builds deploy/Dockerfile and sets only variables Vigie or Prefect read;
* the Kubernetes manifests are well formed and take their settings from the ConfigMap and
  the Secret;
* ``vigie server`` and ``vigie serve`` start what they say, and a SIGTERM while serve starts
  up stops it with exit code 0.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from flows.deployments import ANCHOR, DEPLOYMENTS, TIMEZONE, WORK_POOL, DeploymentSpec, load_flow
from flows.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
#: The variable deploy/prefect.yaml's pull step reads: where a worker finds this repository.
CODE_DIR_VARIABLE = "FLOW_CODE_DIR"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _prefect_yaml() -> dict[str, Any]:
    return dict(_load(DEPLOY / "prefect.yaml"))


def _compose() -> dict[str, Any]:
    return dict(_load(DEPLOY / "docker-compose.yml"))


def _k8s_documents() -> list[dict[str, Any]]:
    paths = sorted((DEPLOY / "k8s").glob("*.yaml"))
    return [
        doc
        for path in paths
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc is not None
    ]


def _vigie_variables() -> set[str]:
    return {f"VIGIE_{name.upper()}" for name in Settings.model_fields}


def _prefect_variables() -> set[str]:
    """Every environment variable Prefect's settings read (walks its nested settings models)."""
    from prefect.settings import Settings as PrefectSettings
    from pydantic import AliasChoices
    from pydantic_settings import BaseSettings

    names: set[str] = set()

    def walk(model: type[BaseSettings]) -> None:
        prefix = model.model_config.get("env_prefix", "")
        for name, field in model.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseSettings):
                walk(kind)
                continue
            names.add(f"{prefix}{name}".upper())
            if isinstance(field.validation_alias, AliasChoices):
                names.update(
                    c.upper() for c in field.validation_alias.choices if isinstance(c, str)
                )

    walk(PrefectSettings)
    return names


def _known_variable(name: str) -> bool:
    return name in _vigie_variables() or name in _prefect_variables() or name == CODE_DIR_VARIABLE


# --- every file parses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml")),
    ids=lambda p: str(p.relative_to(DEPLOY)),
)
def test_every_yaml_file_parses(path: Path) -> None:
    documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    assert documents and all(isinstance(doc, dict) for doc in documents if doc is not None)


# --- prefect.yaml and flows/deployments.py agree ---------------------------------------------


def _expected_schedules(spec: DeploymentSpec) -> list[dict[str, Any]]:
    if spec.cron is not None:
        return [{"cron": spec.cron, "timezone": TIMEZONE}]
    if spec.interval_seconds is not None:
        return [{"interval": spec.interval_seconds, "anchor": ANCHOR, "timezone": TIMEZONE}]
    return []


def _yaml_schedules(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    schedules = []
    for item in deployment.get("schedules") or []:
        schedule = {k: item[k] for k in ("cron", "interval", "timezone") if k in item}
        if "anchor_date" in item:
            schedule["anchor"] = datetime.fromisoformat(item["anchor_date"])
        schedules.append(schedule)
    return schedules


def test_prefect_yaml_deploys_exactly_the_python_deployments() -> None:
    by_name = {d["name"]: d for d in _prefect_yaml()["deployments"]}
    assert list(by_name) == [spec.name for spec in DEPLOYMENTS]
    for spec in DEPLOYMENTS:
        deployment = by_name[spec.name]
        assert deployment["entrypoint"] == spec.entrypoint
        assert _yaml_schedules(deployment) == _expected_schedules(spec), spec.name
        assert deployment.get("concurrency_limit") == spec.concurrency_limit, spec.name
        assert tuple(deployment["tags"]) == spec.tags
        assert deployment["description"] == spec.description
        assert (deployment.get("parameters") or {}) == spec.parameters
        assert deployment["work_pool"]["name"] == WORK_POOL


def test_schedules_and_work_pool_come_from_the_definitions_block() -> None:
    document = _prefect_yaml()
    definitions = document["definitions"]
    named_schedules = list(definitions["schedules"].values())
    for deployment in document["deployments"]:
        assert deployment["work_pool"] == definitions["work_pools"]["local"]
        assert all(s in named_schedules for s in deployment["schedules"])
    assert all(s["timezone"] == TIMEZONE for s in named_schedules)
    # The anchors are real YAML anchors, not copies that could drift apart.
    text = (DEPLOY / "prefect.yaml").read_text(encoding="utf-8")
    assert "work_pool: *local" in text and "&every_15_minutes" in text


def test_the_interval_anchor_is_midnight_in_toronto() -> None:
    anchors = {
        datetime.fromisoformat(s["anchor_date"])
        for s in _prefect_yaml()["definitions"]["schedules"].values()
        if "anchor_date" in s
    }
    assert anchors == {ANCHOR}
    assert ANCHOR.utcoffset() == timedelta(hours=-5)


def test_the_pull_step_changes_into_the_directory_a_worker_names() -> None:
    assert _prefect_yaml()["pull"] == [
        {
            "prefect.deployments.steps.set_working_directory": {
                "directory": "{{ $" + CODE_DIR_VARIABLE + " }}"
            }
        }
    ]


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda s: s.name)
def test_every_entrypoint_is_a_real_flow(spec: DeploymentSpec) -> None:
    path, _, function = spec.entrypoint.partition(":")
    assert (ROOT / path).is_file()
    flow = load_flow(spec.entrypoint)
    assert flow.fn.__name__ == function
    assert spec.flow_name == flow.name


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda s: s.name)
def test_every_served_deployment_has_its_schedule(spec: DeploymentSpec) -> None:
    from flows.deployments import runner_deployment

    deployment = runner_deployment(spec)
    schedules = [s.schedule for s in deployment.schedules or []]
    assert deployment.name == spec.name and deployment.tags == list(spec.tags)
    assert deployment.entrypoint == spec.entrypoint.replace("/", ".").replace(".py:", ".")
    if spec.cron is None and spec.interval_seconds is None:
        assert schedules == []
        return
    (schedule,) = schedules
    assert getattr(schedule, "timezone", None) == TIMEZONE
    if spec.cron is not None:
        assert getattr(schedule, "cron", None) == spec.cron
    else:
        assert getattr(schedule, "interval", None) == timedelta(seconds=spec.interval_seconds or 0)


# --- docker-compose.yml and the Dockerfile ---------------------------------------------------


def _our_image_services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    return {name: s for name, s in services.items() if s.get("image", "").startswith("vigie:")}


def test_compose_builds_the_dockerfile_for_every_vigie_service() -> None:
    ours = _our_image_services()
    assert {"prefect-server", "setup", "worker"} <= set(ours)
    for service in ours.values():
        build = service["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (
            DEPLOY / "Dockerfile"
        )


def test_compose_sets_only_variables_vigie_or_prefect_read() -> None:
    for name, service in _compose()["services"].items():
        variables = set(service.get("environment") or {})
        if service["image"].startswith("postgres:"):
            assert all(v.startswith("POSTGRES_") for v in variables), name
        else:
            unknown = sorted(v for v in variables if not _known_variable(v))
            assert not unknown, f"{name} sets variables nothing reads: {unknown}"


def test_compose_services_have_healthchecks_and_wait_for_each_other() -> None:
    services = _compose()["services"]
    for name in ("prefect-db", "vigie-db", "prefect-server", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert services["prefect-server"]["depends_on"]["prefect-db"]["condition"] == "service_healthy"
    assert services["setup"]["depends_on"]["vigie-db"]["condition"] == "service_healthy"
    worker = services["worker"]
    assert worker["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    assert worker["environment"][CODE_DIR_VARIABLE] == "/app"
    assert worker["environment"]["VIGIE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert services["prefect-server"]["environment"][
        "PREFECT_SERVER_DATABASE_CONNECTION_URL"
    ].startswith("postgresql+asyncpg://")


def test_compose_deploys_without_storing_the_code_directory() -> None:
    # Stored at deploy time, FLOW_CODE_DIR would override every worker's own value.
    (command,) = _compose()["services"]["setup"]["command"]
    assert f"env -u {CODE_DIR_VARIABLE} prefect --no-prompt deploy --all" in command
    assert "--prefect-file deploy/prefect.yaml" in command


def test_compose_interpolations_are_documented() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    variables = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    assert variables and all(v in readme for v in variables)


def test_dockerfile_installs_the_project_and_starts_a_worker() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert "pip install -e ." in text
    assert 'ENTRYPOINT ["prefect", "worker", "start"]' in text
    workdir = re.search(r"^WORKDIR (\S+)$", text, re.M)
    assert workdir and f"{CODE_DIR_VARIABLE}={workdir.group(1)}" in text
    for copied in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (ROOT / copied).exists(), copied


# --- Kubernetes ------------------------------------------------------------------------------


def test_k8s_manifests_are_well_formed() -> None:
    documents = _k8s_documents()
    kinds = {doc["kind"] for doc in documents}
    assert {"Deployment", "ConfigMap", "Secret"} <= kinds
    for doc in documents:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]


def _k8s(kind: str) -> dict[str, Any]:
    (doc,) = [d for d in _k8s_documents() if d["kind"] == kind]
    return doc


def test_k8s_worker_takes_its_settings_from_the_configmap_and_the_secret() -> None:
    config, secret, deployment = _k8s("ConfigMap"), _k8s("Secret"), _k8s("Deployment")
    assert "PREFECT_API_URL" in config["data"] and config["data"][CODE_DIR_VARIABLE] == "/app"
    assert "VIGIE_DATABASE_URL" in secret["stringData"]
    for variable in {*config["data"], *secret["stringData"]}:
        assert _known_variable(variable), variable

    pod = deployment["spec"]["template"]
    assert (
        deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    )
    (container,) = pod["spec"]["containers"]
    sources = container["envFrom"]
    assert {"configMapRef": {"name": config["metadata"]["name"]}} in sources
    assert {"secretRef": {"name": secret["metadata"]["name"]}} in sources
    assert container["args"][:2] == ["--pool", WORK_POOL]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_k8s_kustomization_builds() -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True, timeout=60
    )
    assert built.returncode == 0, built.stderr
    assert {d["kind"] for d in yaml.safe_load_all(built.stdout)} >= {"Deployment", "Secret"}


# --- the commands ----------------------------------------------------------------------------


def _app() -> Any:
    from cli.app import app

    return app


def test_vigie_server_execs_prefect_server_with_analytics_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cli import server

    started: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(server, "_exec", lambda argv, env: started.append((argv, env)))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")

    result = CliRunner().invoke(_app(), ["server", "--port", "4321"])

    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:4321" in result.output
    assert "PREFECT_API_URL=http://127.0.0.1:4321/api" in result.output
    ((argv, env),) = started
    assert argv[1:] == [
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        "4321",
        "--analytics-off",
    ]
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["PREFECT_SERVER_LOGGING_LEVEL"] == "WARNING"


def test_vigie_serve_needs_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    # Also forget a URL from a Prefect profile or from the test session's Prefect server.
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(_app(), ["serve"])
    assert result.exit_code == 2
    assert "vigie server" in result.output and "PREFECT_API_URL" in result.output


# A SIGTERM that lands while code run by exec() executes, as while serve starts up, then stops
# serve cleanly. (With a bare KeyboardInterrupt, Python 3.11 exits with -2 all the same.)
STOPPED_DURING_EXEC = """
import os, signal, sys, threading
from cli.server import _interrupt
signal.signal(signal.SIGTERM, _interrupt)
threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
try:
    exec("while True: pass")
except KeyboardInterrupt:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("stopped")
"""


def test_sigterm_while_serve_starts_up_exits_cleanly() -> None:
    done = subprocess.run(
        [sys.executable, "-c", STOPPED_DURING_EXEC],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "stopped\n"), done.stderr


def test_schedules_read_well() -> None:
    from cli.server import schedule_text

    assert [schedule_text(spec) for spec in DEPLOYMENTS] == [
        "every 15 min",
        "cron 7 * * * *",
        "every 5 min",
        "cron 0 7 * * *",
        "by hand only",
        "by hand only",
    ]


def test_automations_that_list_their_events_in_another_order_are_the_same() -> None:
    from uuid import uuid4

    from flows.automations import build, load_specs, same_automation

    specs = load_specs(ROOT / "deploy" / "automations.yaml")
    block = uuid4()
    [wanted, *_] = build(specs, block)
    expect = sorted(wanted.trigger.expect)
    assert len(expect) > 1
    # What the server sends back: the same events, in any order. (Two equal sets may iterate
    # in different orders, depending on how they were filled and on the hash seed.)
    for order in itertools.permutations(expect):
        spec = {**specs[0], "trigger": {**specs[0]["trigger"], "expect": list(order)}}
        [current] = build([spec], block)
        assert same_automation(wanted, current)
    other = {**specs[0], "trigger": {**specs[0]["trigger"], "expect": expect[:1]}}
    assert not same_automation(wanted, build([other], block)[0])
