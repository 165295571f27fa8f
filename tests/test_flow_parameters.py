"""Flow run parameters sent to Prefect without FastAPI (``flows.parameters``)."""

from __future__ import annotations

import enum
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prefect import Flow

from flows.alerts import deliver_alerts
from flows.digest import daily_digest
from flows.monitor import monitor_feeds
from flows.recheck import recheck_articles
from flows.reprocess import reprocess
from flows.seeds import ingest_seeds

ROOT = Path(__file__).resolve().parent.parent
FLOWS = [monitor_feeds, recheck_articles, daily_digest, ingest_seeds, reprocess, deliver_alerts]


class Colour(enum.Enum):
    RED = "red"


class Level(int, enum.Enum):
    HIGH = 2


@pytest.mark.parametrize(
    "parameters",
    [
        {"due_only": False, "fetch_pages": None, "batch_size": 50},
        {"ratio": 0.5, "name": "x", "flag": True},
        {},
        {"when": datetime(2026, 11, 21, 14, 15, tzinfo=UTC), "due_only": True},
        {"colour": Colour.RED, "level": Level.HIGH, "items": [1, "a", None]},
    ],
)
@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.name)
def test_parameters_are_sent_as_prefect_itself_encodes_them(
    flow: Flow[Any, Any], parameters: dict[str, Any]
) -> None:
    assert flow.serialize_parameters(parameters) == Flow.serialize_parameters(flow, parameters)


def test_a_pass_s_parameters_are_encoded_without_importing_fastapi() -> None:
    check = (
        "import sys; from flows.monitor import monitor_feeds;"
        "sent = monitor_feeds.serialize_parameters("
        "{'due_only': False, 'fetch_pages': None, 'batch_size': 50});"
        "print(sent == {'due_only': False, 'fetch_pages': None, 'batch_size': 50},"
        " 'fastapi' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
