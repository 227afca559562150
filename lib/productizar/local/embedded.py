"""The embedded default: a moto server (the AWS endpoint) and a DuckDB results zone, on loopback.

``up`` starts moto as its own process so that it outlives one notebook kernel (each papermill kernel is a
process; state must be shared through a server), records its pid and port in a git-ignored state file, and
builds the DuckDB file with the demo data when it is missing. A second ``up`` finds the running server.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from productizar.core import paths
from productizar.core.capacity import load_rules
from productizar.core.errors import LocalNotRunning
from productizar.core.files import locked
from productizar.core.hu import load_hu
from productizar.local import api as local_api
from productizar.local import demo_data, loopback, motoserver, seed

HOST = loopback.HOST


@dataclass(frozen=True)
class LocalState:
    pid: int
    port: int
    started_at: str
    # "run": started by a run, stopped by the last run using it; "user": `productizar local up`, left alone
    owner: str = "user"
    # the capacity model the server meters DynamoDB with: the sizing file and its time scale
    capacity_rules: str = ""
    time_scale: float = 1.0

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"


def _state_file() -> Path:
    return paths.state_dir() / "state.json"


def duckdb_file(variant: str = "local") -> Path:
    """Where a copy of the demo results zone lives (the name carries the data version and the copy)."""
    suffix = "" if variant == "local" else f"_{variant}"
    return paths.state_dir() / f"results_zone_v{demo_data.VERSION}{suffix}.duckdb"


def _lock() -> contextlib.AbstractContextManager[None]:
    """Serialize up/down between processes (two runs starting at once must share one server)."""
    return locked(paths.state_dir() / "lock")


def _read_state() -> LocalState | None:
    return loopback.read_state(_state_file(), LocalState)


def _health(port: int) -> str:
    return f"http://{HOST}:{port}/moto-api/"


def running() -> LocalState | None:
    """The running moto server of this state dir, or None."""
    state = _read_state()
    if state and loopback.runs(state.pid, motoserver.MARKER) and loopback.answers(_health(state.port)):
        return state
    return None


def capacity_model() -> tuple[Path, float]:
    """The rules the embedded endpoint meters DynamoDB with (``parameters/sizing.yaml``) and their time
    scale: the file's, or ``PRODUCTIZAR_TIME_SCALE`` (tests and rehearsals compress AWS's minutes)."""
    rules = paths.project_root() / "parameters" / "sizing.yaml"
    scale = os.environ.get("PRODUCTIZAR_TIME_SCALE")
    return rules, float(scale) if scale else load_rules(rules).time_scale


def _start_moto(log: Path, wait_s: float = 30.0) -> LocalState:
    rules, scale = capacity_model()
    started = loopback.spawn(
        lambda port: [
            sys.executable,
            "-m",
            motoserver.MARKER,
            "-H",
            HOST,
            "-p",
            str(port),
            "--capacity-rules",
            str(rules),
            "--time-scale",
            str(scale),
        ],
        _health,
        log,
        wait_s,
    )
    if not started:
        raise LocalNotRunning(f"moto did not start on {HOST}; see {log}")
    return LocalState(*started, datetime.now(UTC).isoformat(timespec="seconds"), "user", str(rules), scale)


def build_results_zone(target: Path, variant: str = "local") -> None:
    """Write a copy of the demo results zone to ``target`` atomically (a half-built file is never left);
    ``local``'s also holds the regression HU's tables, seeded from its committed exports."""
    tmp = target.with_name(target.name + ".building")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for t in demo_data.demo_tables(variant):
            t.write(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if variant == "local":
        regression = paths.regression_hu()
        seed.seed(load_hu(regression), tmp, folder=regression.with_suffix(""))
    os.replace(tmp, target)


def ensure_results_zone(variant: str = "local") -> None:
    """One environment's copy of the demo results zone, built once (the caller holds the lock). ``up`` builds
    ``local``'s; the rehearsals' copies are built when an environment first asks for them (``duckdb_path``)."""
    if not duckdb_file(variant).exists():
        build_results_zone(duckdb_file(variant), variant)


def results_zone_for_seeding(variant: str) -> Path:
    """The results-zone file of one embedded environment, built first when it is missing."""
    with _lock():
        ensure_results_zone(variant)
    return duckdb_path(variant)


def up(owner: str = "user") -> tuple[LocalState, bool]:
    """Start the embedded default if it is not running; returns its state and whether this call started it.

    ``owner`` says who stops it: a run's server is stopped by the last run using it; a user's (``local up``,
    also when it finds a run's server) stays until ``local down``."""
    with _lock():
        ensure_results_zone("local")
        state = running()
        if state:
            if owner == "user" and state.owner != "user":  # the analyst keeps it up from now on
                state = replace(state, owner="user")
                loopback.write_state(_state_file(), state)
            return state, False
        started = _start_moto(paths.state_dir() / "moto.log")
        state = replace(started, owner=owner)
        loopback.write_state(_state_file(), state)
        return state, True


def used_by_runs() -> bool:
    """Whether a run holds the embedded default now (its shared lock on ``users``)."""
    path = paths.state_dir() / "users"
    if not path.exists():
        return False
    with open(path, "a+") as users:
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(users, fcntl.LOCK_UN)
        return False


@contextlib.contextmanager
def in_use(echo: Callable[[str], None] = print) -> Iterator[LocalState]:
    """The embedded default for the length of a run: started if it is down, and stopped at the end only
    when a run started it and no other run is still using it (each run holds a shared lock on ``users``
    while it uses the server; the one that can take it exclusively is the last)."""
    paths.state_dir().mkdir(parents=True, exist_ok=True)
    with open(paths.state_dir() / "users", "a+") as users:
        fcntl.flock(users, fcntl.LOCK_SH)
        state: LocalState | None = None
        started = False
        try:
            state, started = up(owner="run")
            if started:
                echo(
                    f"se inició el entorno embebido (moto en {state.endpoint}); lo que dejaron corridas "
                    "anteriores ya no está (un servidor nuevo empieza vacío)"
                )
            yield state
        finally:
            fcntl.flock(users, fcntl.LOCK_UN)
            try:
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if started:
                    echo("el entorno embebido sigue en marcha: otra corrida lo está usando")
            else:
                try:
                    current = _read_state()
                    if (
                        state is not None
                        and current is not None
                        and current.owner == "run"
                        and current.pid == state.pid
                    ):
                        down()
                        echo("se detuvo el entorno embebido (lo inició esta corrida y ninguna otra lo usa)")
                finally:
                    fcntl.flock(users, fcntl.LOCK_UN)


def down(purge: bool = False) -> bool:
    """Stop the moto server of this state dir (True if one was stopped); ``purge`` also deletes the data."""
    with _lock():
        local_api.stop()
        state = _read_state()
        stopped = state is not None and loopback.stop(state.pid, motoserver.MARKER)
        _state_file().unlink(missing_ok=True)
        if purge:
            for f in paths.state_dir().glob("results_zone_v*.duckdb*"):
                f.unlink()
        return stopped


def reset() -> None:
    """Empty the running moto server (every service's state), as after a fresh start."""
    req = urllib.request.Request(moto_endpoint() + "/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=10):
        pass


def running_state() -> LocalState:
    """The running server's state; ``LocalNotRunning`` when it is down."""
    state = running()
    if not state:
        raise LocalNotRunning(
            "El entorno local no está levantado: ejecute `productizar local up` antes de abrir el cuaderno."
        )
    return state


def moto_endpoint() -> str:
    return running_state().endpoint


def duckdb_path(variant: str = "local") -> Path:
    """The file of one copy of the demo results zone; a rehearsal's copy is built on its first use once the
    embedded default has been set up (``local``'s exists)."""
    path = duckdb_file(variant)
    if not path.exists() and variant != "local" and duckdb_file("local").exists():
        with _lock():
            ensure_results_zone(variant)
    if not path.exists():
        raise LocalNotRunning(f"No existe la zona de resultados local ({path.name}): ejecute `productizar local up`.")
    return path


def status() -> dict[str, object]:
    """What the embedded default looks like now, for ``productizar local status``."""
    state = running()
    api = local_api.running()
    return {
        "moto": {"running": True, "endpoint": state.endpoint, "pid": state.pid, "since": state.started_at}
        if state
        else {"running": False},
        "reference_api": {"running": True, "base_url": api.base_url, "pid": api.pid} if api else {"running": False},
        "results_zone": {"path": str(duckdb_file()), "present": duckdb_file().exists()},
        "results_zone_copies": {v: str(duckdb_file(v)) for v in demo_data.VARIANTS if duckdb_file(v).exists()},
        "state_dir": str(paths.state_dir()),
    }
