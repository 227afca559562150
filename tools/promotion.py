"""Rehearse the demo HU's promotion DEV → QA → PRD on the embedded default (`make promotion`).

Each command is the one an analyst types, and each outcome is checked: QA before a green DEV is refused,
DEV and then QA run green, PRD is refused listing the manual gates still missing, every gate is approved
with `productizar approve`, PRD runs green, and `productizar status` shows the board. The embedded default
stays up for the whole rehearsal (each environment keeps what its runs left); it is stopped at the end
when this script started it (`--keep-up` leaves it running for what comes next).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from productizar.core import paths

ROOT = Path(__file__).resolve().parents[1]
HU = "parameters/hu/demo.yaml"
HU_ID = "3575833"
APPROVERS = {  # who approves each gate in the rehearsal, and the reference they give
    "aprobacion_e2e": ("Jefa de Ejemplo Muñoz", "correo «Aprobación excepción pruebas E2E - API AlterCtraScoreDelta»"),
    "excepcion_e2e": ("Equipo de pruebas continuas", "solicitud de excepción E2E aprobada"),
    "monitoreo": ("Mesa de monitoreo", "HA3629938"),
    "sonar": ("Plataforma Sonar", "tablero AlterCtraScoreDelta creado"),
    "hygieia": ("Líder Técnico Peña", "Hygieia 91 % (captura adjunta a la HU)"),
    "certificacion": ("Certificador de la célula", "DoD y testplan de la HU 3575833"),
    "create_oc": ("Aprobador del stage", "Change Order USD con variables de la HU"),
    "smoke_prd": ("Analista Ejemplo", "stage de smoke test de PRD igual al de DEV"),
}


def productizar(*args: str, expect: int, quiet: bool = False, show: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one `productizar` command as an analyst would, show it, and stop the rehearsal if its exit
    status is not the expected one (``quiet``: its output is kept for checking; ``show``: and printed)."""
    cmd = [sys.executable, "-m", "productizar", *args]
    print(f"\n$ productizar {' '.join(args)}", flush=True)
    t0 = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, text=True, capture_output=quiet)
    if quiet and show:
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
    if done.returncode != expect:
        raise SystemExit(f"promotion: `productizar {' '.join(args)}` exited {done.returncode}, expected {expect}")
    print(f"  (exit {done.returncode} as expected, {time.monotonic() - t0:.0f} s)", flush=True)
    return done


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"promotion: {what}: not as expected")


def rehearse() -> None:
    confirm = ["--confirm", HU_ID]
    refused = productizar("run", HU, "--env", "local-qa", *confirm, expect=2, quiet=True)
    check("local-dev has no run" in refused.stderr, "QA's refusal does not name DEV")
    productizar("run", HU, "--env", "local-dev", expect=0)
    productizar("run", HU, "--env", "local-qa", *confirm, expect=0)
    refused = productizar("run", HU, "--env", "local-prd", *confirm, expect=2, quiet=True)
    listed = productizar("approvals", HU, "--env", "local-prd", "--json", expect=0, quiet=True, show=False)
    gates = json.loads(listed.stdout)
    missing = [g["gate"] for g in gates if not g["approved"]]
    check(bool(missing) and all(f"{g}: pendiente" in refused.stderr for g in missing), "PRD's refusal lists every gate")
    for gate in missing:
        by, ref = APPROVERS.get(gate, ("Analista Ejemplo", "aprobación registrada en la HU"))
        productizar("approve", HU, "--env", "local-prd", "--gate", gate, "--by", by, "--ref", ref, expect=0)
    productizar("approvals", HU, "--env", "local-prd", expect=0)
    productizar("run", HU, "--env", "local-prd", *confirm, expect=0)
    productizar("status", expect=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-up", action="store_true", help="leave the embedded default running at the end")
    args = parser.parse_args()
    up = productizar("local", "up", expect=0, quiet=True)
    started = up.stdout.startswith("started")
    try:
        rehearse()
    finally:
        if started and not args.keep_up:
            productizar("local", "down", expect=0, quiet=True)
    board = paths.output_root() / "index.html"
    print(f"\npromotion rehearsed: HU {HU_ID} green in local-dev, local-qa and local-prd; board {board}")


if __name__ == "__main__":
    main()
