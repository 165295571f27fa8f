"""What one hostile feed costs a monitor pass: memory, time, rows and alerts.

    .venv/bin/python bench/hostile.py                 # both scenarios
    .venv/bin/python bench/hostile.py --items 52000   # the big feed only, at its full size

Scenarios, each one ``vigie monitor --all`` (the real executable, against a ``prefect server``
of its own) over a loopback site with one good feed and one hostile one:

- ``big``: one feed of 52,000 relevant items (9.8 MB, under the 10 MB feed limit). Reported:
  the pass's peak memory, counted as ``bench/run.py`` counts it (peak RSS of the run's
  process plus the highest PSS of each worker process), wall time, articles stored and
  ``new_relevant_article`` alerts written;
- ``drip``: 20 summary-only items whose pages send a byte every 0.5 s, with a 6 s total
  timeout per response (so 60 s of pages at 2 requests per host) and a 10 s pass deadline
  (``--deadline``).
  Reported: the pass's wall time and what it left to a re-check.

Numbers are printed as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, clean_env, prefect_server

VIGIE = Path(sys.executable).parent / "vigie"
#: The description's length that makes 52,000 items weigh 9.8 MB.
FILLER = "Quebec asylum news"


def big_feed(base: str, items: int) -> bytes:
    """An RSS document of ``items`` relevant items, each with its own link and guid."""
    body = "".join(
        f"<item><title>Asylum seekers in Quebec, report {n}</title><link>{base}/a/{n}</link>"
        f"<guid>g-{n}</guid><description>{FILLER}, report {n}.</description></item>"
        for n in range(items)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>'
        f"<link>{base}/</link>{body}</channel></rss>"
    ).encode()


def drip_feed(base: str, items: int) -> bytes:
    """Summary-only items whose pages drip (see ``_Site``)."""
    body = "".join(
        f"<item><title>Asylum seekers, part {n}</title><link>{base}/drip/{n}</link>"
        f"<guid>d-{n}</guid><description>Quebec and asylum seekers, part {n}.</description></item>"
        for n in range(items)
    )
    return f'<rss version="2.0"><channel><title>drip</title>{body}</channel></rss>'.encode()


GOOD = (
    b'<rss version="2.0"><channel><title>good</title><item><title>Quebec asks Ottawa about '
    b"asylum seekers</title><link>http://news.example/good</link><guid>good-1</guid>"
    b"<description>Quebec asks Ottawa about asylum seekers.</description></item></channel></rss>"
)


class _Site:
    """A loopback site: ``/good.rss``, ``/bad.rss`` (set per scenario), dripping pages."""

    def __init__(self) -> None:
        self.bad = b""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/drip/"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    try:
                        while True:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.5)
                    except OSError:
                        return
                body = {"/good.rss": GOOD, "/bad.rss": site.bad}.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def site() -> Iterator[_Site]:
    served = _Site()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.server.shutdown()


def run_pass(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """One ``monitor_feeds(due_only=False)`` in a child process, with its peak memory: the
    run's process's peak RSS plus the workers' PSS (``bench/run.py`` counts the same)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child"],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the pass failed ({done.returncode}):\n{done.stderr[-4000:]}")
    measured: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"wall_seconds": round(time.perf_counter() - started, 1), **measured}


def child() -> None:
    """The measured pass (run by ``run_pass`` in a process of its own)."""
    import asyncio

    from bench.harness import DescendantSampler, own_peak_rss_mb
    from flows.monitor import run_monitor

    with DescendantSampler() as workers:
        counts = asyncio.run(run_monitor(due_only=False))
    own = own_peak_rss_mb()
    keys = ("new_articles", "alerts", "feeds_failed", "items_left", "pages_left")
    print(json.dumps({
        "run_process_peak_rss_mb": round(own, 1),
        "workers_peak_pss_mb": round(workers.peak_pss_mb, 1),
        "peak_mb": round(own + workers.peak_pss_mb, 1),
        **{key: counts.get(key) for key in keys},
    }))  # fmt: skip


def _rows(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        return {
            "articles": connection.execute("SELECT count(*) FROM articles").fetchone()[0],
            "new_relevant_article alerts": connection.execute(
                "SELECT count(*) FROM alerts WHERE kind = 'new_relevant_article'"
            ).fetchone()[0],
            "alerts": connection.execute("SELECT count(*) FROM alerts").fetchone()[0],
        }


def scenario(
    name: str, bad: bytes, served: _Site, api_url: str, tmp: Path, settings: dict[str, str]
) -> dict[str, Any]:
    workdir = tmp / name
    (workdir / "data").mkdir(parents=True)
    served.bad = bad
    env = clean_env(
        {"PREFECT_API_URL": api_url, "PREFECT_HOME": str(workdir / "prefect"),
         "VIGIE_DATA_DIR": str(workdir / "data"), "VIGIE_FETCH_ALLOW_HOSTS": "127.0.0.1",
         "VIGIE_FETCH_RETRIES": "0", **settings}
    )  # fmt: skip
    init = subprocess.run(
        [str(VIGIE), "init", "--no-curated"], env=env, cwd=workdir, capture_output=True
    )
    if init.returncode != 0:
        raise RuntimeError(init.stdout.decode() + init.stderr.decode())
    add = [str(VIGIE), "feeds", "add"]
    for path in ("/good.rss", "/bad.rss"):
        subprocess.run([*add, served.base + path], env=env, cwd=workdir, check=True,
                       capture_output=True)  # fmt: skip
    result = run_pass(env, workdir)
    return {"feed_bytes": len(bad), **result, **_rows(workdir / "data" / "vigie.db")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=52_000, help="items of the big feed")
    parser.add_argument("--only", choices=["big", "drip"], help="run one scenario")
    parser.add_argument(
        "--deadline", type=float, default=10.0,
        help="the drip pass's VIGIE_PASS_DEADLINE_SECONDS; 0 leaves it unset (older code)",
    )  # fmt: skip
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child:
        child()
        return 0
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vigie-hostile-") as name:
        tmp = Path(name)
        with prefect_server(tmp / "prefect", tmp / "prefect.log") as server, site() as served:
            if opts.only in (None, "big"):
                feed = big_feed(served.base, opts.items)
                # Its items are undated, so a first pass would alert on none (a backfill):
                # with backfill alerts on, the flood limit is what bounds its alerts.
                loud = {"VIGIE_ALERT_ON_BACKFILL": "true"}
                results["big"] = scenario("big", feed, served, server.api_url, tmp, loud)
                print(json.dumps({"big": results["big"]}), file=sys.stderr)
            if opts.only in (None, "drip"):
                settings = {"VIGIE_TOTAL_TIMEOUT": "6"}
                if opts.deadline:
                    settings["VIGIE_PASS_DEADLINE_SECONDS"] = f"{opts.deadline:g}"
                feed = drip_feed(served.base, 20)
                results["drip"] = scenario("drip", feed, served, server.api_url, tmp, settings)
    results["root"] = str(ROOT)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
