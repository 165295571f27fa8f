"""Ctrl-C stops ``vigie`` at once and without a traceback, whenever it comes.

A terminal sends Ctrl-C's SIGINT to the whole process group, Prefect's temporary server
included; each case does the same to the real executable, started in a session of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

VIGIE = Path(sys.executable).parent / "vigie"
#: How a process stopped by Ctrl-C ends: exit code 130, or killed by SIGINT itself.
STOPPED = {130, -signal.SIGINT}


def _start(tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIE_", "PREFECT_"))}
    env |= {
        "VIGIE_DATA_DIR": str(tmp_path / "data"),
        # A fresh home: the temporary server migrates its database first, a wide window.
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    return subprocess.Popen(
        [str(VIGIE), "monitor"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _has_child(pid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if int(fields[1]) == pid:
            return True
    return False


def _interrupt(process: subprocess.Popen[str]) -> tuple[int, str, float]:
    began = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"still running 30 s after Ctrl-C:\n{output}")
    return process.returncode, output, time.monotonic() - began


@pytest.mark.parametrize("delay", [0.3, 1.0])
def test_ctrl_c_while_vigie_starts_up(tmp_path: Path, delay: float) -> None:
    process = _start(tmp_path)
    time.sleep(delay)  # while Python loads Prefect and the rest, or checks the database

    code, output, _ = _interrupt(process)

    assert code in STOPPED and "Traceback" not in output, output


def test_ctrl_c_while_prefects_temporary_server_starts(tmp_path: Path) -> None:
    process = _start(tmp_path)
    deadline = time.monotonic() + 60
    while not _has_child(process.pid):  # the server's process: Vigie is waiting for it
        assert process.poll() is None and time.monotonic() < deadline, process.stdout
        time.sleep(0.05)
    # Past the server's own interpreter start-up (Ctrl-C there makes it print a traceback of
    # its own), into its imports and database migrations, which take seconds.
    time.sleep(0.5)
    assert process.poll() is None, "the server started before the test could interrupt it"

    code, output, seconds = _interrupt(process)

    assert code in STOPPED and "Traceback" not in output, output
    assert seconds < 15, output


# A module that, like Prefect's plugin set-up, turns whatever interrupts its import into an
# error of its own, logs it and goes on.
SWALLOWING_MODULE = """
import time
try:
    try:
        time.sleep(10)
    except BaseException as exc:
        raise RuntimeError("wrapped") from exc  # as pydantic wraps it
except Exception:
    print("swallowed: the import went on")
"""
IMPORTING_WITH_VIGIES_HANDLER = """
import os, signal, sys, threading
sys.path.insert(0, sys.argv[1])
from cli.entry import _on_ctrl_c
signal.signal(signal.SIGINT, _on_ctrl_c)
print("importing", flush=True)
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
import swallowing
print("the command went on")
"""


def test_ctrl_c_during_an_import_that_would_swallow_it_stops_at_once(tmp_path: Path) -> None:
    (tmp_path / "swallowing.py").write_text(SWALLOWING_MODULE)

    done = subprocess.run(
        [sys.executable, "-c", IMPORTING_WITH_VIGIES_HANDLER, str(tmp_path)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert (done.returncode, done.stdout) == (130, "importing\n"), done.stdout + done.stderr
