"""Plumbing shared by the benchmark scripts: processes, servers, environments, memory.

Every measured run happens in a child process, so that its peak RSS is its own and its
start-up costs (``import prefect``) are visible rather than hidden in a warm parent.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
#: Quiet, private Prefect: no analytics (its "database is locked" tracebacks), warnings only.
PREFECT_QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}


def code_version() -> dict[str, str | None]:
    """The commit checked out and a digest of Vigie's sources as they are on disk.

    Others edit the working tree while benchmarks run; comparing the digest taken at the
    start and at the end of a run tells whether it measured one version of the code.
    """
    digest = hashlib.sha256()
    for package in ("flows", "parsers", "db"):
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head = ""
    return {"commit": head or None, "source_digest": digest.hexdigest()[:16]}


def rss_mb(ru_maxrss: int) -> float:
    """``ru_maxrss`` in MB: Linux counts KiB, macOS bytes."""
    return ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def own_peak_rss_mb() -> float:
    """Peak resident memory of the calling process."""
    return rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def tree_peak_rss_mb(pid: int) -> float | None:
    """Sum of the peak RSS (VmHWM) of a process and its children, on Linux; else None."""
    total, pending, seen = 0.0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            if current == pid:
                return None
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
        pending.extend(int(c) for c in children)
    return total


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process and its live children, on Linux; else None.

    Used on the Prefect server: the work it does for a flow run (recording task runs, logs,
    artifacts) is part of what the run costs on the machine.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            if current == pid:
                return None
            continue
        fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        pending.extend(int(c) for c in children)
    return total


class DescendantSampler:
    """CPU seconds and memory of this process's descendants (Vigie's worker processes,
    which end with the run) while a block runs: /proc is read every ``interval`` seconds,
    on Linux; elsewhere both stay 0. A worker's last ``interval`` of CPU may be missed.

    Memory is PSS, not RSS: workers forked from one fork server share its imported code,
    and summing their RSS would count those pages once per worker. The PSS of all of them is
    summed at each sample and the highest sum kept: a sum of each process's own highest PSS
    counted shared pages twice, since a page's share grows as the processes sharing it exit
    (when the workers end, the fork server's PSS becomes every page it shared with them).
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._cpu: dict[int, float] = {}
        self._base: dict[int, float] = {}
        self._peak_pss = 0.0  # highest sum of the descendants' PSS at one sample, MB
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DescendantSampler:
        # Processes that outlive a pass (kept workers) count only what they spend in this one.
        self._sample()
        self._base = dict(self._cpu)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(cpu - self._base.get(pid, 0.0) for pid, cpu in self._cpu.items())

    @property
    def peak_pss_mb(self) -> float:
        """The descendants' highest PSS, summed at one moment."""
        return self._peak_pss

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()
        self._sample()

    def _sample(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in _descendants(os.getpid()):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            self._cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
            total += sum(
                int(line.split()[1]) / 1024
                for line in rollup.splitlines()
                if line.startswith("Pss:")
            )
        self._peak_pss = max(self._peak_pss, total)


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                kids = [int(c) for c in children.read_text().split()]
            except OSError:
                continue
            found += kids
            pending += kids
    return found


def load_average() -> float | None:
    """The 1-minute load average: a benchmark on a shared machine should say how busy it was."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (a tiny race, acceptable for a benchmark)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def loopback_hosts(wanted: int) -> list[str]:
    """Up to ``wanted`` loopback addresses that can be bound here (127.0.0.2, ...).

    One address per outlet makes per-host politeness behave as with real sites; where only
    127.0.0.1 works (macOS), every outlet shares it and the politeness limit bites harder.
    """
    hosts = []
    for n in range(2, 2 + wanted):
        host = f"127.0.0.{n}"
        try:
            with socket.socket() as sock:
                sock.bind((host, 0))
        except OSError:
            break
        hosts.append(host)
    return hosts or ["127.0.0.1"]


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without Vigie or Prefect settings, plus ``extra``.

    A developer's ``VIGIE_*`` or Prefect profile must not leak into a measured run (and
    Vigie refuses unknown ``VIGIE_*`` names).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIE_", "PREFECT_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(PREFECT_QUIET)
    env.update(extra)
    return env


def vigie_env(
    workdir: Path, api_url: str, prefect_home: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``clean_env`` for a Vigie run: its SQLite database and data in ``workdir``, loopback
    feeds allowed, flows reporting to the Prefect server at ``api_url``; plus ``extra``."""
    return clean_env(
        {
            "VIGIE_DATABASE_URL": f"sqlite:///{workdir / 'vigie.db'}",
            "VIGIE_DATA_DIR": str(workdir / "data"),
            "VIGIE_FETCH_ALLOW_HOSTS": "127.0.0.0/8",
            "PREFECT_API_URL": api_url,
            "PREFECT_HOME": str(prefect_home),
            **(extra or {}),
        }
    )


def _wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        with suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def _stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Stop a child started in its own session, with whatever it spawned."""
    if proc.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@dataclass
class PrefectServer:
    """A running ``prefect server start``."""

    api_url: str
    start_seconds: float
    pid: int


@contextmanager
def prefect_server(home: Path, log: Path) -> Iterator[PrefectServer]:
    """``prefect server start`` on a free port with its own PREFECT_HOME, until exit."""
    port = free_port()
    env = clean_env({"PREFECT_HOME": str(home), "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"})
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--analytics-off"]
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/health", 180, proc)
        seconds = time.perf_counter() - started
        yield PrefectServer(f"http://127.0.0.1:{port}/api", seconds, proc.pid)
    finally:
        _stop(proc)


@contextmanager
def served_corpus(root: Path, hosts: Sequence[str], port: int) -> Iterator[str]:
    """``bench.serve`` in a child process; yields the stats URL. Out of process, so that it
    never competes for the GIL with a profiled or measured run."""
    command = [sys.executable, "-m", "bench.serve", "--root", str(root), "--port", str(port)]
    command += ["--hosts", ",".join(hosts)]
    proc = subprocess.Popen(
        command,
        env=clean_env({}),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if not line.startswith("READY"):
            raise RuntimeError(f"corpus server did not start (said {line!r})")
        yield f"http://{hosts[0]}:{port}/__stats"
    finally:
        _stop(proc, timeout=5)


def server_stats(url: str) -> dict[str, int]:
    """Request counts by status, from the corpus server."""
    with urllib.request.urlopen(url, timeout=5) as response:
        stats: dict[str, int] = json.loads(response.read())
    return stats


def run_worker(
    args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float = 1800
) -> dict[str, object]:
    """Run ``python -m bench.workers ARGS`` and return the JSON it wrote; its wall time too."""
    result = cwd / f"result-{time.monotonic_ns()}.json"
    command = [sys.executable, "-m", "bench.workers", *args, "--result", str(result)]
    started = time.perf_counter()
    done = subprocess.run(command, env=dict(env), cwd=cwd, capture_output=True, timeout=timeout)
    wall = time.perf_counter() - started
    if done.returncode != 0 or not result.exists():
        tail = done.stderr.decode(errors="replace")[-4000:]
        raise RuntimeError(f"worker {' '.join(args[:1])} failed ({done.returncode}):\n{tail}")
    data: dict[str, object] = json.loads(result.read_text())
    data["process_seconds"] = wall
    return data


@contextmanager
def scratch_postgres(admin_url: str, purpose: str) -> Iterator[Engine]:
    """A PostgreSQL database of its own for one bench run (``vigie_bench_<purpose>_<pid>``),
    created through ``admin_url``'s server and dropped afterwards; yields its engine."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from db.engine import make_engine

    name = f"vigie_bench_{purpose}_{os.getpid()}"
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(make_url(admin_url).set(database=name).render_as_string(False))
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
