"""The ``productizar`` command: run the runbook for an HU, manage the embedded default, check HU files.

Exit status: 0 all good, 1 a step failed, 2 bad input (nothing was written).
"""

from __future__ import annotations

import argparse
import json
import sys

from productizar.core.errors import BadInput
from productizar.core.hu import load_hu
from productizar.local import embedded
from productizar.run.registry import STEPS, parse_steps
from productizar.run.runner import Runner


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="productizar", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the runbook's step notebooks for one HU file")
    run.add_argument("hu_file", help="parameters/hu/<name>.yaml")
    run.add_argument("--env", required=True, help="local | dev | qa | prd")
    run.add_argument("--steps", default="", help=f"comma-separated subset, in any order, of: {','.join(STEPS)}")
    run.add_argument("--force", action="store_true", help="run steps again even if they succeeded with the same inputs")
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
    return p


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
        if args.command == "check":
            hu = load_hu(args.hu_file)
            print(f"{args.hu_file}: ok (HU {hu.id}, {len(hu.tables)} tables)")
            return 0
        runner = Runner(args.hu_file, args.env, parse_steps(args.steps), force=args.force, confirm=args.confirm)
        return runner.run().exit_code
    except BadInput as exc:  # a parameter file's problems, or a command line that asks for what is not there
        print(exc.render(), file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
