"""The ``productizar`` command: run the runbook for an HU, record approvals, show the board, manage the
embedded default, check HU files.

Exit status: 0 all good, 1 a step failed, 2 bad input (nothing was written).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from productizar.core import deferred, hu_draft, paths
from productizar.core.environments import EMBEDDED, DuckDBZone, get_environment
from productizar.core.errors import BadInput, UsageError
from productizar.core.hu import DEFAULT_SAMPLE_ROWS, load_hu
from productizar.core.scrub import default_scrubber
from productizar.local import embedded, seed
from productizar.run import approvals, board
from productizar.run import drift as drift_command
from productizar.run.board import render_text
from productizar.run.registry import STEPS, parse_steps

T = TypeVar("T")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="productizar", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the runbook's step notebooks for one HU file")
    run.add_argument("hu_file", help="parameters/hu/<name>.yaml")
    run.add_argument("--env", required=True, help="local | local-dev | local-qa | local-prd | dev | qa | prd")
    run.add_argument("--steps", default="", help=f"comma-separated subset, in any order, of: {','.join(STEPS)}")
    run.add_argument("--force", action="store_true", help="run steps again even if they succeeded with the same inputs")
    run.add_argument(
        "--plan", action="store_true", help="say which steps would run and why (which input changed); run nothing"
    )
    run.add_argument("--infra-repo", default=None, help="clone of Cloud_nu0044001_productizar: commit there")
    run.add_argument(
        "--coordinators-repo", default=None, help="clone of NU0044001_ProductizarLaAnalitica: commit there"
    )
    run.add_argument("--push", action="store_true", help="with the repos: push the HU's branches to origin")
    run.add_argument(
        "--confirm",
        default="",
        metavar="HU_ID",
        help="the HU id, typed back: lets steps write in environments that require confirmation",
    )

    local = sub.add_parser(
        "local",
        help="the embedded default: moto server and DuckDB results zone on loopback; seed any HU's tables into it",
    )
    local.add_argument("action", choices=["up", "down", "status", "seed"])
    local.add_argument("hu_file", nargs="?", help="with seed: the HU file whose tables are written")
    local.add_argument("--purge", action="store_true", help="with down: also delete the demo results zone file")
    local.add_argument("--force", action="store_true", help="with down: stop it even while a run is using it")
    local.add_argument(
        "--from",
        dest="from_dir",
        default=None,
        metavar="FOLDER",
        help="with seed: files exported from Hue or Hive, <schema>.<table>.csv or .parquet, one per HU table "
        "(absent: the tables are synthesized from the HU)",
    )
    local.add_argument(
        "--env", default="local", help="with seed: the embedded environment whose results zone gets the tables"
    )
    local.add_argument(
        "--replace", action="store_true", help="with seed: replace tables the seed did not write (the demo's)"
    )

    new = sub.add_parser(
        "new", help="write a new HU file, every field commented in Spanish (asks in a terminal; flags otherwise)"
    )
    new.add_argument("path", help="where to write it: parameters/hu/<name>.yaml")
    new.add_argument("--hu-id", type=int, default=None, help="the HU number")
    new.add_argument("--api", default=None, help="the API's name, CamelCase (ScoreMora)")
    new.add_argument(
        "--table", action="append", default=[], metavar="SPEC", help=f"repeated, one per table: {hu_draft.TABLE_FORMAT}"
    )
    new.add_argument(
        "--rows", type=int, default=None, help="rows each table holds, what `local seed` synthesizes (default 10000)"
    )
    new.add_argument("--title", default="", help="the HU's title (default: Despliegue API <api>)")
    new.add_argument("--requested-by", default="", help="who asks for it, an e-mail (inventario_lz)")
    new.add_argument("--force", action="store_true", help="overwrite the file if it exists")

    check = sub.add_parser("check", help="validate an HU file and list every problem")
    check.add_argument("hu_file")

    approve = sub.add_parser("approve", help="record the approval of a manual gate (appended to approvals.jsonl)")
    approve.add_argument("hu_file")
    approve.add_argument("--env", required=True, help="the environment whose gate is approved (prd, local-prd)")
    approve.add_argument("--gate", required=True, help="the gate's id (productizar approvals lists them)")
    approve.add_argument("--by", required=True, help="who approved it")
    approve.add_argument("--ref", required=True, help="the e-mail, HA number or ticket that holds the approval")
    approve.add_argument(
        "--evidence", default=None, help="the evidence hash the approver looked at: refused if it changed since"
    )

    listing = sub.add_parser("approvals", help="list an environment's manual gates with their state")
    listing.add_argument("hu_file")
    listing.add_argument("--env", required=True)
    listing.add_argument("--json", action="store_true", help="a JSON list of objects (gate, approved, state...)")

    status = sub.add_parser("status", help="the board: every HU under outputs/ by environment, with headlines")
    status.add_argument("--json", action="store_true", help="the board as JSON")

    drift = sub.add_parser(
        "drift", help="compare what an HU has deployed in two or more environments (exit 1: unexpected drift)"
    )
    drift.add_argument("hu_file")
    drift.add_argument("--envs", required=True, help="comma-separated, two or more: dev,qa,prd or local-dev,...")
    drift.add_argument(
        "--no-count", action="store_true", help="skip the item counts by parallel Scan (they read every table whole)"
    )
    return p


def _approve(args: argparse.Namespace) -> int:
    hu = load_hu(args.hu_file)
    env = get_environment(args.env)
    a = approvals.approve(hu, args.env, env, args.gate, args.by, args.ref, args.evidence)
    print(f"approved {a.gate} for HU {hu.id} in {args.env} by {a.by} ({a.ref}); evidence {a.evidence}")
    still = approvals.missing(hu, args.env, env)
    print(f"{len(still)} gate(s) still pending" if still else f"every gate of {args.env} is approved")
    return 0


def _approvals(args: argparse.Namespace) -> int:
    hu = load_hu(args.hu_file)
    env = get_environment(args.env)
    found = approvals.states(hu, args.env, env)
    if args.json:
        print(json.dumps([g.as_json() for g in found], indent=2, ensure_ascii=False))
        return 0
    if not found:
        print(f"{args.env} has no manual gates")
        return 0
    evidence = approvals.current_evidence(hu, env, args.env)
    where = env.promotes_from or args.env
    print(f"HU {hu.id} in {args.env}: evidence of {where} {evidence or '(none yet)'}")
    for g in found:
        print(f"  [{'x' if g.approved else ' '}] {g.line()}")
    return 0


def _status(as_json: bool) -> int:
    rows = board.collect(paths.output_root())
    if as_json:
        print(json.dumps([r.as_json() for r in rows], indent=2, ensure_ascii=False))
    else:
        print(render_text(rows), end="")
    if rows:
        board.write(paths.output_root(), default_scrubber())
    return 0


def _ask(prompt: str, parse: Callable[[str], T]) -> T:
    """Ask in the terminal until the answer parses; the parse error is shown before asking again."""
    while True:
        try:
            return parse(input(prompt).strip())
        except ValueError as exc:
            print(f"  {exc}")


def _ask_tables() -> list[hu_draft.TableDraft]:
    print(f"Tables, one per line as {hu_draft.TABLE_FORMAT}; an empty line ends the list.")
    tables: list[hu_draft.TableDraft] = []
    while True:
        answer = input(f"  table {len(tables) + 1}: ").strip()
        if not answer:
            if tables:
                return tables
            print("  the HU needs one table at least")
            continue
        try:
            tables.append(hu_draft.parse_table(answer))
        except ValueError as exc:
            print(f"  {exc}")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f'the HU id is a positive whole number, got "{text}"')
    return int(text)


def _new(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.suffix not in (".yaml", ".yml"):
        raise UsageError(f"new writes a YAML file: name it <something>.yaml, got {path}")
    if path.exists() and not args.force:
        raise UsageError(f"{path} exists already; choose another name or use --force to overwrite it")
    try:
        tables = [hu_draft.parse_table(t) for t in args.table]
        api = hu_draft.check_api(args.api) if args.api else None
        requested_by = hu_draft.check_email(args.requested_by) if args.requested_by else _git_email()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.rows is not None and not 1 <= args.rows <= 10_000_000:
        raise UsageError(f"--rows must be between 1 and 10000000, got {args.rows}")
    if args.hu_id is not None and args.hu_id <= 0:
        raise UsageError(f"--hu-id must be a positive whole number, got {args.hu_id}")
    missing = [f for f, v in (("--hu-id", args.hu_id), ("--api", api), ("--table", tables)) if not v]
    if missing and not sys.stdin.isatty():
        raise UsageError(
            f"new needs {', '.join(missing)} when it cannot ask (no terminal): productizar new {path} "
            f"--hu-id <number> --api <ApiName> --table {hu_draft.TABLE_FORMAT} [--table ...]"
        )
    hu_id = args.hu_id if args.hu_id is not None else _ask("HU id: ", _positive)
    api = api or _ask("API name (CamelCase, e.g. ScoreMora): ", hu_draft.check_api)
    tables = tables or _ask_tables()
    draft = hu_draft.Draft(hu_id, api, tuple(tables), args.title, requested_by, args.rows or DEFAULT_SAMPLE_ROWS)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.draft.yaml")
    tmp.write_text(hu_draft.render(draft, str(path)), encoding="utf-8")
    try:
        hu = load_hu(tmp)  # the draft must pass `productizar check` as written
    except BadInput:
        tmp.unlink()
        raise
    tmp.replace(path)
    print(f"wrote {path}: HU {hu.id}, API {hu.api.name}, {len(hu.tables)} table(s); every field is commented")
    print(f"next: productizar check {path} && productizar local seed {path} && productizar run {path} --env local")
    return 0


def _git_email() -> str:
    """The analyst's e-mail as git knows it, when it is one; the placeholder otherwise (commented to review)."""
    try:
        found = subprocess.run(["git", "config", "user.email"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        found = ""
    try:
        return hu_draft.check_email(found.strip())
    except ValueError:
        return "analista@example.com"


def _seed(args: argparse.Namespace) -> int:
    if not args.hu_file:
        raise UsageError("local seed needs the HU file: productizar local seed <HU file> [--from FOLDER]")
    hu = load_hu(args.hu_file)
    env = get_environment(args.env)
    zone = env.results_zone
    if not isinstance(zone, DuckDBZone) or zone.path != EMBEDDED:
        raise UsageError(
            f"local seed writes only into an embedded results zone (local, local-dev, local-qa, local-prd); "
            f"{args.env} reads {zone.backend}"
        )
    target = embedded.results_zone_for_seeding(zone.demo_data)
    source = Path(args.from_dir) if args.from_dir else None
    print(f"seeding {len(hu.tables)} table(s) of HU {hu.id} into {target.name} ({args.env}) ...", flush=True)
    for s in seed.seed(hu, target, source, replace=args.replace):
        print(f"  {s.source}: {s.rows:,} rows · {s.origin}")
        for (name, kind), how in zip(s.columns, s.decided):
            print(f"      {name:<32} {kind:<16} {how}")
    print(f"next: productizar run {args.hu_file} --env {args.env}")
    return 0


def _local(action: str, purge: bool, force: bool = False) -> int:
    if action == "up":
        state, started = embedded.up()
        print(
            f"{'started' if started else 'already running'}: moto at {state.endpoint} (pid {state.pid}); "
            f"results zone {embedded.duckdb_file()}"
        )
    elif action == "down":
        if embedded.used_by_runs() and not force:
            print(
                "productizar: a run is using the embedded default; stopping it now would fail that run. "
                "Wait for it to end, or use `local down --force`.",
                file=sys.stderr,
            )
            return 1
        print("stopped" if embedded.down(purge) else "was not running")
    else:
        print(json.dumps(embedded.status(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "local":
            if args.action == "seed":
                return _seed(args)
            if args.hu_file or args.from_dir:
                raise UsageError(f"local {args.action} takes no HU file or --from (those go with seed)")
            return _local(args.action, args.purge, args.force)
        if args.command == "approve":
            return _approve(args)
        if args.command == "approvals":
            return _approvals(args)
        if args.command == "status":
            return _status(args.json)
        if args.command == "drift":
            return drift_command.run(args.hu_file, args.envs, count=not args.no_count)
        if args.command == "new":
            return _new(args)
        if args.command == "check":
            hu = load_hu(args.hu_file)
            print(f"{args.hu_file}: ok (HU {hu.id}, {len(hu.tables)} tables)")
            return 0
        repos: dict[str, Any] = {
            k: v
            for k, v in (("infra_repo", args.infra_repo), ("coordinators_repo", args.coordinators_repo))
            if v is not None
        }
        if args.push:
            repos["push"] = True
        # here, not at the top: papermill and nbformat (jsonschema) take a while to import, which no other
        # command needs (check, new, status, local... each starts that much sooner); jsonschema's IRI grammar,
        # most of that while, waits for a check that asks for it (core/deferred.py)
        deferred.install()
        from productizar.run.runner import Runner

        runner = Runner(
            args.hu_file, args.env, parse_steps(args.steps), force=args.force, confirm=args.confirm, **repos
        )
        if args.plan:
            print(f"Plan de la HU {runner.hu.id} en {args.env} (no se ejecuta nada):")
            print("\n".join(runner.plan()))
            return 0
        return runner.run().exit_code
    except BadInput as exc:  # a parameter file's problems, or a command line that asks for what is not there
        print(exc.render(), file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
