"""Crash trials: kill a worker running a Vigie pass at a random moment, resume, check.

    python bench/chaos.py --trials 20 --short          # CI: a few minutes on 2 cores
    python bench/chaos.py --trials 50 [--seed 7]       # bigger sites, more corpora

Each trial::

    a database that has seen the site once (state A: feeds, pages, alerts all delivered)
    the site moves on (state B: items added and removed, stories edited in feeds and pages)
    worker: monitor_feeds -> recheck_articles -> deliver     SIGKILL at a chosen moment of
                                                              one of the three steps
    worker: the same pass again, to completion               (after the claim timeout)
    check:  every article has a current version or a recorded reason; no version repeats a
            text but as a revert by the source that changed it; every version's
            mentions are what re-tagging its text gives; every alert has its subject; the
            outbox is drained and no alert reached the webhook twice, except one caught
            between send and mark-sent (at most once more); every item the feeds ever
            served maps to an article; nothing is duplicated; and the database holds
            exactly what a run that was never killed holds (natural keys, clocks aside),
            and that run passes the same checks

The kill moments are planned, not left to chance: trials take the pass's steps in turn
(monitor, re-check, delivery), and the trials of one step are spread over that step's
duration in the reference pass, each at a random moment of its own slice. The parent watches
the worker's phase and kills it that long into its step. So every step takes kills in every
run, early and late in it, however fast the machine: with a random moment over the whole
pass, the short re-check and delivery steps went unhit in most runs of 20 trials.

Trials alternate between SQLite (WAL) and PostgreSQL when one is reachable
(``VIGIE_TEST_POSTGRES_URL``, else the local default), and between a few corpora. Flows run
for real against one ``prefect server`` (started here unless ``--api-url`` names one), in
processes forked from a warm fork server (see ``bench.chaos_worker``). One line per trial,
then exactly ``N trials, F failures``; the exit code is 1 when F > 0.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/corpus.py

from bench import consistency
from bench.chaos_site import Site, SiteState, first_state, next_state, running_site
from bench.chaos_worker import STEPS, Job, read_status, run_job, worker_context
from bench.harness import PREFECT_QUIET, prefect_server

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: Delivery claims older than this are taken over; the resuming pass pretends to run later.
CLAIM_TIMEOUT_S = 30.0
#: Rules for the trials: every alert goes to the webhook at once (no debounce, no digest),
#: so that "drained" and "sent once" can be checked at the end of every trial.
RULES = '[defaults]\nchannels = ["default"]\nmode = "immediate"\n'
WORKER_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Size:
    """How big each trial's site is."""

    feeds: int
    items: int
    corpora: int


SHORT = Size(feeds=3, items=4, corpora=1)
FULL = Size(feeds=6, items=8, corpora=4)


@dataclass
class Corpus:
    """One site's two states, the databases that saw state A, and the reference result."""

    index: int
    first: SiteState
    second: SiteState
    #: Backend -> URL of a database that has processed state A (copied for each trial).
    templates: dict[str, str]
    sent_before: frozenset[str]
    reference: consistency.Snapshot
    #: What the checks found wrong in the reference database (empty: nothing).
    reference_problems: list[str]
    #: Seconds each step of a complete pass over state B took (the reference pass).
    steps: dict[str, float]


@dataclass
class Trial:
    """What one trial did and found."""

    number: int
    backend: str
    corpus: int
    #: The step the kill was planned in, and how many seconds into it.
    step: str
    delay: float
    killed_in: str
    #: What the killed pass had committed: feeds stored, pages re-checked, alerts sent.
    progress: str
    in_flight: int
    rows: dict[str, int]
    problems: list[str]


class Lab:
    """Everything trials share: the site, Prefect, the fork server, databases, the tagger."""

    def __init__(self, root: Path, site: Site, api_url: str, postgres: str | None) -> None:
        from flows.settings import SEEDS_DIR
        from parsers.tagging import Tagger
        from parsers.taxonomy import load_taxonomy

        self.root = root
        self.site = site
        self.api_url = api_url
        self.postgres = postgres
        self.context = worker_context()
        self.tagger = Tagger(load_taxonomy(SEEDS_DIR / "taxonomy.toml"))
        self.rules = root / "alert_rules.toml"
        self.rules.write_text(RULES)
        # Names of this lab's PostgreSQL databases start with it: two labs may share a server.
        self.run_id = uuid.uuid4().hex[:6]
        self._databases: list[str] = []

    # --- databases ---------------------------------------------------------------------

    def new_database(self, backend: str, name: str, template: str | None = None) -> str:
        """A database for ``name``: empty and migrated, or a copy of ``template``."""
        if backend == "sqlite":
            path = self.root / f"{name}.db"
            if template is None:
                _migrate(f"sqlite:///{path}")
            else:
                _copy_sqlite(template.removeprefix("sqlite:///"), path)
            return f"sqlite:///{path}"
        assert self.postgres is not None
        url = _create_postgres(self.postgres, f"chaos_{self.run_id}_{name}", template)
        self._databases.append(url)
        if template is None:
            _migrate(url)
        return url

    def drop_databases(self) -> None:
        """Drop the PostgreSQL databases this lab created."""
        assert self.postgres is not None or not self._databases
        for url in reversed(self._databases):
            with suppress(Exception):
                _drop_postgres(self.postgres or "", url)
        self._databases.clear()

    # --- workers -----------------------------------------------------------------------

    def job(self, name: str, database: str, hook: str, deliver_later_s: float = 0.0) -> Job:
        """A pass over the site against ``database``, delivering to webhook ``hook``."""
        workdir = self.root / name
        workdir.mkdir(exist_ok=True)
        env = {
            "VIGIE_DATABASE_URL": database,
            "VIGIE_DATA_DIR": str(workdir),
            "VIGIE_FETCH_ALLOW_HOSTS": "127.0.0.1",
            "VIGIE_FETCH_PAGES": "true",
            "VIGIE_FETCH_RETRY_DELAY": "0.05",
            # The trial site's stories are older than its feeds: without this, a backfill
            # that alerts nobody, and no new-article alert to lose or duplicate.
            "VIGIE_ALERT_ON_BACKFILL": "true",
            # Delivery is a step of its own here, the one the trials kill during delivery:
            # delivered at the end of each flow, the alerts left it nothing to send, and a
            # kill planned in it landed after the pass (the same `deliver_due` runs either way).
            "VIGIE_DELIVER_AFTER_RUN": "false",
            "VIGIE_ALERT_URLS": self.site.hook_url(hook),
            "VIGIE_ALERT_RULES_PATH": str(self.rules),
            "VIGIE_ALERT_CLAIM_TIMEOUT_SECONDS": str(CLAIM_TIMEOUT_S),
        }
        return Job(
            env=env,
            api_url=self.api_url,
            log=str(workdir / "worker.log"),
            status=str(workdir / "status.json"),
            cwd=str(workdir),
            deliver_later_s=deliver_later_s,
        )

    def start(self, job: Job, barrier: Any = None) -> Any:
        """Start a worker process for ``job``."""
        # Not daemonic: a pass starts its own worker processes (flows.cpu), as in production.
        process = self.context.Process(target=run_job, args=(job, barrier))
        process.start()
        return process

    def complete(self, job: Job) -> float:
        """Run ``job`` to the end; its wall time. A failed pass raises with its log's tail."""
        started = time.perf_counter()
        process = self.start(job)
        process.join(WORKER_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join()
            raise RuntimeError(f"pass did not finish in {WORKER_TIMEOUT_S:.0f} s ({job.log})")
        if process.exitcode != 0:
            raise RuntimeError(f"pass failed ({process.exitcode}):\n{_tail(job.log)}")
        return time.perf_counter() - started


# --- database plumbing -------------------------------------------------------------------------


def _migrate(url: str) -> None:
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _copy_sqlite(source: str, target: Path) -> None:
    # The backup API copies what the WAL holds too; a plain file copy could miss it.
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _create_postgres(admin_url: str, name: str, template: str | None) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            clause = f' TEMPLATE "{make_url(template).database}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return str(admin.url.set(database=name).render_as_string(hide_password=False))
    finally:
        admin.dispose()


def _drop_postgres(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            name = make_url(url).database
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def postgres_reachable(url: str) -> bool:
    """True when the admin URL accepts a connection."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    engine = create_engine(url)
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def _add_feeds(url: str, state: SiteState) -> None:
    from datetime import UTC, datetime

    from db import repo
    from db.engine import make_engine, make_sessions

    engine = make_engine(url)
    specs = [repo.FeedSpec(feed.url, feed.name, feed.language) for feed in state.feeds]
    with make_sessions(engine).begin() as session:
        repo.add_feeds(session, specs, datetime.now(UTC))
    engine.dispose()


def _query(url: str, sql: str) -> list[Any]:
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).scalars())
    finally:
        engine.dispose()


def _tail(path: str, lines: int = 25) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- corpora and trials ------------------------------------------------------------------------


def prepare(lab: Lab, index: int, size: Size, seed: int, backends: Sequence[str]) -> Corpus:
    """Generate a site, let a database of each backend see state A, and run B once, unkilled,
    for the reference result and the duration of each step of the pass."""
    first = first_state(size.feeds, size.items, seed + index, lab.site.port)
    second = next_state(first, seed + index)
    templates: dict[str, str] = {}
    # The reference run is always on SQLite, so SQLite always gets a copy of state A.
    for backend in dict.fromkeys(["sqlite", *backends]):
        url = lab.new_database(backend, f"c{index}-{backend}-a")
        _add_feeds(url, first)
        lab.site.serve(first)
        lab.complete(lab.job(f"c{index}-{backend}-a", url, f"c{index}-{backend}-a"))
        templates[backend] = url
    sent = frozenset(_query(templates["sqlite"], "SELECT dedup_key FROM alerts"))
    reference = lab.new_database("sqlite", f"c{index}-reference", templates["sqlite"])
    lab.site.serve(second)
    job = lab.job(f"c{index}-reference", reference, f"c{index}-reference")
    lab.complete(job)
    done = read_status(job.status)
    steps = {step: float(done[f"{step}_seconds"]) for step in STEPS}
    snapshot = _snapshot(reference)
    # The reference must itself be right: a fault every run makes would otherwise pass as
    # "equal to the reference" in every trial.
    expected = consistency.Expectations(
        served=first.served() | second.served(),
        hits=lab.site.hook_hits(f"c{index}-reference"),
        sent_before=sent,
    )
    problems = _checked(lab, reference, expected)
    return Corpus(index, first, second, templates, sent, snapshot, problems, steps)


def _snapshot(url: str) -> consistency.Snapshot:
    from db.engine import make_engine

    engine = make_engine(url)
    try:
        return consistency.snapshot(engine, timeless=True)
    finally:
        engine.dispose()


def kill_plan(
    number: int, trials: int, steps: dict[str, float], rng: random.Random
) -> tuple[str, float]:
    """Where to kill trial ``number`` (1-based) of ``trials``: the step of the pass, taken in
    turn, and how many seconds into it, in the trial's own slice of that step's duration."""
    step = STEPS[(number - 1) % len(STEPS)]
    slots = math.ceil(trials / len(STEPS))
    slot = (number - 1) // len(STEPS)
    return step, steps[step] * (slot + rng.random()) / slots


def run_trial(
    lab: Lab, number: int, corpus: Corpus, backend: str, plan: tuple[str, float]
) -> Trial:
    """Kill a pass over state B where ``plan`` says, resume it, and check the database."""
    name = f"t{number}-{backend}"
    url = lab.new_database(backend, name, corpus.templates[backend])
    lab.site.serve(corpus.second)
    killed = lab.job(f"{name}-killed", url, name)
    process = lab.start(killed)
    step, delay = plan
    if _wait_for_step(process, killed.status, step):
        process.join(delay)
    if process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
        process.join()
        killed_in = str(read_status(killed.status).get("phase"))
    else:
        killed_in = "(finished first)"
    in_flight = frozenset(_query(url, "SELECT dedup_key FROM alerts WHERE status = 'sending'"))
    progress = _progress(url, corpus)
    problems = [f"the run that was never killed: {p}" for p in corpus.reference_problems]
    try:
        lab.complete(lab.job(f"{name}-resumed", url, name, deliver_later_s=CLAIM_TIMEOUT_S + 1))
        problems += _check(lab, url, corpus, name, in_flight)
    except RuntimeError as exc:
        problems.append(f"the resuming pass failed: {exc}")
    rows = _rows(url)
    if backend == "postgres" and not problems:
        _drop_postgres(lab.postgres or "", url)
    return Trial(
        number, backend, corpus.index, step, delay, killed_in, progress, len(in_flight), rows,
        problems,
    )  # fmt: skip


def _wait_for_step(process: Any, status: str, step: str) -> bool:
    """Wait until the worker has started ``step`` (True) or is past it or gone (False)."""
    target = STEPS.index(step)
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while process.is_alive() and time.monotonic() < deadline:
        phase = read_status(status).get("phase")
        if phase == step:
            return True
        if phase == "done" or (phase in STEPS and STEPS.index(phase) > target):
            return False
        time.sleep(0.005)
    return False


#: Committed work, counted from the fetch log (one row per feed poll and per page re-check,
#: written in the same transaction as what it found) and the outbox.
_PROGRESS = (
    "SELECT COUNT(*) FROM fetches WHERE feed_id IS NOT NULL",
    "SELECT COUNT(*) FROM fetches WHERE article_id IS NOT NULL",
    "SELECT COUNT(*) FROM alerts WHERE status = 'sent'",
)


def _progress(url: str, corpus: Corpus) -> str:
    before = [_query(corpus.templates["sqlite"], sql)[0] for sql in _PROGRESS]
    after = [_query(url, sql)[0] for sql in _PROGRESS]
    feeds, pages, sent = (a - b for a, b in zip(after, before, strict=True))
    return f"{feeds}/{len(corpus.second.feeds)} feeds, {pages} re-checks, {sent} sent"


def _check(lab: Lab, url: str, corpus: Corpus, hook: str, in_flight: frozenset[str]) -> list[str]:
    expected = consistency.Expectations(
        served=corpus.first.served() | corpus.second.served(),
        hits=lab.site.hook_hits(hook),
        in_flight=in_flight,
        sent_before=corpus.sent_before,
    )
    problems = _checked(lab, url, expected)
    differences = consistency.diff(corpus.reference, _snapshot(url), limit=2)
    if differences:
        problems.append("differs from the run that was never killed:\n    " + "\n    ".join(
            differences))  # fmt: skip
    return problems


def _checked(lab: Lab, url: str, expected: consistency.Expectations) -> list[str]:
    from db.engine import make_engine

    engine = make_engine(url)
    try:
        return consistency.check(engine, lab.tagger, expected)
    finally:
        engine.dispose()


def _rows(url: str) -> dict[str, int]:
    from db.engine import make_engine

    engine = make_engine(url)
    try:
        return consistency.counts(engine)
    finally:
        engine.dispose()


def describe(trial: Trial, trials: int, steps: dict[str, float]) -> str:
    """One line per trial (and the problems, indented, when it failed)."""
    verdict = "ok" if not trial.problems else f"FAILED ({len(trial.problems)} problems)"
    rows = trial.rows
    line = (
        f"trial {trial.number:>3}/{trials} {trial.backend:<8} corpus {trial.corpus}: "
        f"killed {trial.delay:4.2f} s into {trial.step:<7} (of {steps[trial.step]:4.2f} s) in "
        f"{trial.killed_in:<9} "
        f"({trial.progress} done, {trial.in_flight} in flight); {rows['articles']} articles, "
        f"{rows['article_versions']} versions, {rows['alerts']} alerts: {verdict}"
    )
    return "\n".join([line, *(f"    {problem}" for problem in trial.problems[:12])])


# --- main ------------------------------------------------------------------------------------


@contextmanager
def _prefect(api_url: str | None, root: Path) -> Iterator[str]:
    if api_url:
        yield api_url
        return
    with prefect_server(root / "prefect-home", root / "prefect-server.log") as server:
        yield server.api_url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--short", action="store_true", help="a small site, one corpus (CI)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--api-url", help="a running Prefect server's API (else one is started)")
    parser.add_argument("--keep", action="store_true", help="keep the trial directory")
    args = parser.parse_args(argv)
    size = SHORT if args.short else FULL
    os.environ.update(PREFECT_QUIET)
    postgres_url = os.environ.get("VIGIE_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    backends = _backends(args.backend, postgres_url)
    root = Path(tempfile.mkdtemp(prefix="vigie-chaos-"))
    started = time.perf_counter()
    failures = 0
    with ExitStack() as stack:
        api_url = stack.enter_context(_prefect(args.api_url, root))
        site = stack.enter_context(running_site())
        postgres = postgres_url if "postgres" in backends else None
        lab = Lab(root, site, api_url, postgres)
        stack.callback(lab.drop_databases)
        corpora = [prepare(lab, i, size, args.seed, backends) for i in range(size.corpora)]
        print(
            f"{len(corpora)} corpora of {size.feeds} feeds x {size.items} items on "
            f"{', '.join(backends)}; set-up took {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        rng = random.Random(args.seed)
        phases: Counter[str] = Counter()
        for number in range(1, args.trials + 1):
            corpus = corpora[(number - 1) % len(corpora)]
            backend = backends[((number - 1) // len(corpora)) % len(backends)]
            plan = kill_plan(number, args.trials, corpus.steps, rng)
            trial = run_trial(lab, number, corpus, backend, plan)
            failures += bool(trial.problems)
            phases[trial.killed_in] += 1
            print(describe(trial, args.trials, corpus.steps), flush=True)
        print("killed during: " + ", ".join(f"{p} {n}" for p, n in phases.most_common()))
    if not args.keep and not failures:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"trial files kept in {root}")
    print(f"took {time.perf_counter() - started:.0f} s")
    print(f"{args.trials} trials, {failures} failures")
    return 1 if failures else 0


def _backends(choice: str, postgres_url: str) -> list[str]:
    if choice == "sqlite":
        return ["sqlite"]
    reachable = postgres_reachable(postgres_url)
    if choice == "postgres" and not reachable:
        raise SystemExit(f"no PostgreSQL reachable at {postgres_url}")
    if not reachable:
        print(f"no PostgreSQL at {postgres_url}: SQLite only")
    return ["sqlite", "postgres"] if reachable else ["sqlite"]


if __name__ == "__main__":
    sys.exit(main())
