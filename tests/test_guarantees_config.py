"""Guarantee 7, bad configuration: the CLI stops with ONE clear line saying what to fix (exit
code 2), never a traceback.

Each case runs the real ``vigie`` executable in a process of its own (what an operator sees,
Prefect's own log output included), from an empty directory, against the Prefect test server.
The runs are independent, so they go in parallel, once per test session.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

VIGIE = Path(sys.executable).parent / "vigie"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TAXONOMY_WITHOUT_TOPICS = (
    'version = "2025.1"\n[[concept]]\nkey = "legault"\nkind = "actor"\n'
    'label_en = "François Legault"\nlabel_fr = "François Legault"\n'
    'terms_en = ["François Legault"]\nterms_fr = ["François Legault"]\n'
)


@dataclass(frozen=True)
class Case:
    """A bad configuration, and what the one line must name so that the operator can fix it."""

    name: str
    env: dict[str, str]
    names: tuple[str, ...]
    #: A file written in the working directory before the run (name, content).
    file: tuple[str, str] | None = None


CASES = [
    Case("unreachable database",
         {"VIGIE_DATABASE_URL": "postgresql+psycopg://vigie:pw@127.0.0.1:1/vigie"},
         ("127.0.0.1", "database")),
    Case("unknown driver", {"VIGIE_DATABASE_URL": "postgresql+nosuchdriver://db.example/vigie"},
         ("VIGIE_DATABASE_URL",)),
    Case("sqlite URL with two slashes", {"VIGIE_DATABASE_URL": "sqlite://data/vigie.db"},
         ("VIGIE_DATABASE_URL",)),
    Case("unknown setting", {"VIGIE_DATABSE_URL": "sqlite:///x.db"},
         ("VIGIE_DATABSE_URL", "VIGIE_DATABASE_URL")),
    Case("bad value in .env", {}, ("VIGIE_FEED_INTERVAL_MINUTES", ".env"),
         (".env", "VIGIE_FEED_INTERVAL_MINUTES=abc\n")),
    Case("allowed host with a port", {"VIGIE_FETCH_ALLOW_HOSTS": "127.0.0.1:8765"},
         ("VIGIE_FETCH_ALLOW_HOSTS", "127.0.0.1:8765")),
    Case("malformed taxonomy", {"VIGIE_TAXONOMY_PATH": "taxonomy.toml"}, ("taxonomy.toml",),
         ("taxonomy.toml", 'version = "2025.1"\n[[concept]\nkey = "x"\n')),
    Case("taxonomy missing its topics", {"VIGIE_TAXONOMY_PATH": "taxonomy.toml"},
         ("taxonomy.toml", "topic"), ("taxonomy.toml", TAXONOMY_WITHOUT_TOPICS)),
    Case("malformed rules", {"VIGIE_ALERT_RULES_PATH": "rules.toml"}, ("rules.toml",),
         ("rules.toml", '[kinds.new_relevant_article]\nmode = "sometimes"\n')),
]  # fmt: skip

#: (case, command) -> a known bug that makes it fail; every one found so far is fixed.
KNOWN: dict[tuple[str, str], pytest.MarkDecorator] = {}

COMMANDS = {
    "run": ["run"],
    "articles": ["articles"],
    "monitor": ["monitor"],
    "alerts deliver": ["alerts", "deliver"],
}
# Which commands each case is meant to stop: a taxonomy only matters to commands that tag, and
# the rules file to passes and delivery. Cases that only repeat another's cause run once.
WHICH = {
    "sqlite URL with two slashes": ("articles",),
    "bad value in .env": ("articles",),
    "allowed host with a port": ("monitor",),
    "malformed taxonomy": ("run", "monitor"),
    "taxonomy missing its topics": ("run",),
    "malformed rules": ("run", "alerts deliver"),
}
RUNS = [
    (case, command)
    for case in CASES
    for command in WHICH.get(case.name, ("run", "articles", "monitor"))
]


@dataclass(frozen=True)
class Outcome:
    code: int
    output: str


def _run(case: Case, command: str, root: Path, api_url: str) -> Outcome:
    workdir = root / f"{case.name}-{command}".replace(" ", "_")
    (workdir / "data").mkdir(parents=True)
    if case.file is not None:
        (workdir / case.file[0]).write_text(case.file[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIE_", "PREFECT_"))}
    env |= {"VIGIE_DATA_DIR": str(workdir / "data"), "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "COLUMNS": "200", **case.env}  # fmt: skip
    done = subprocess.run(
        [str(VIGIE), *COMMANDS[command]],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return Outcome(done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def outcomes(
    prefect_server: None, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Outcome]:
    from prefect.settings import PREFECT_API_URL

    root = tmp_path_factory.mktemp("config")
    api = str(PREFECT_API_URL.value())
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {(c.name, cmd): pool.submit(_run, c, cmd, root, api) for c, cmd in RUNS}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.prefect_server
@pytest.mark.parametrize(
    ("case", "command"),
    [
        pytest.param(case, command, marks=KNOWN.get((case.name, command), ()),
                     id=f"{case.name}: vigie {command}")
        for case, command in RUNS
    ],
)  # fmt: skip
def test_bad_configuration_stops_with_one_clear_line(
    case: Case, command: str, outcomes: dict[tuple[str, str], Outcome]
) -> None:
    outcome = outcomes[(case.name, command)]
    lines = [line for line in outcome.output.splitlines() if line.strip()]

    assert outcome.code == 2, outcome.output
    assert "Traceback" not in outcome.output, outcome.output
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome.output
    for name in case.names:
        assert name in lines[0], f"{name!r} not named in {lines[0]!r}"
