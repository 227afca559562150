"""The ``productizar`` command: run the runbook for an HU, record approvals, show the board, manage the
embedded default, check HU files.

Exit status: 0 all good, 1 a step failed, 2 bad input (nothing was written).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from productizar.core import paths
from productizar.core.environments import get_environment
from productizar.core.errors import BadInput
from productizar.core.hu import load_hu
from productizar.core.scrub import default_scrubber
from productizar.local import embedded
from productizar.run import approvals, board
from productizar.run import drift as drift_command
from productizar.run.board import render_text
from productizar.run.registry import STEPS, parse_steps
from productizar.run.runner import Runner


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="productizar", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the runbook's step notebooks for one HU file")
    run.add_argument("hu_file", help="parameters/hu/<name>.yaml")
    run.add_argument("--env", required=True, help="local | local-dev | local-qa | local-prd | dev | qa | prd")
    run.add_argument("--steps", default="", help=f"comma-separated subset, in any order, of: {','.join(STEPS)}")
    run.add_argument("--force", action="store_true", help="run steps again even if they succeeded with the same inputs")
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

    local = sub.add_parser("local", help="the embedded default: moto server and DuckDB results zone on loopback")
    local.add_argument("action", choices=["up", "down", "status"])
    local.add_argument("--purge", action="store_true", help="with down: also delete the demo results zone file")
    local.add_argument("--force", action="store_true", help="with down: stop it even while a run is using it")

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
            return _local(args.action, args.purge, args.force)
        if args.command == "approve":
            return _approve(args)
        if args.command == "approvals":
            return _approvals(args)
        if args.command == "status":
            return _status(args.json)
        if args.command == "drift":
            return drift_command.run(args.hu_file, args.envs, count=not args.no_count)
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
        runner = Runner(
            args.hu_file, args.env, parse_steps(args.steps), force=args.force, confirm=args.confirm, **repos
        )
        return runner.run().exit_code
    except BadInput as exc:  # a parameter file's problems, or a command line that asks for what is not there
        print(exc.render(), file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
