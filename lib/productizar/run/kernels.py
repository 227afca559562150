"""The notebooks' kernels for a batch: private to the run, and each started one step ahead.

A kernel takes a second or two to start and another to import pandas, matplotlib and the step's module;
the batch starts the next step's kernel (which imports that module as it starts, outside the notebook's
history and execution count) while the current step runs, so most of that time is spent on the other core.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client import AsyncKernelManager
from jupyter_core.utils import run_sync
from traitlets import CaselessStrEnum, default

from productizar.core.errors import ProductizarError

#: what every step's notebook imports first (run/step.py), and the module each step's notebook imports
COMMON_IMPORTS = "import productizar.run.step"
STEP_MODULE = "productizar.steps.{}"


def private_kernel_manager(folder: Path) -> type[AsyncKernelManager]:
    """A kernel manager whose kernel listens on Unix sockets in ``folder`` (private to this run), not on
    loopback TCP where any local user could try to reach it."""

    class PrivateKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _private_ip(self) -> str:
            return str(folder / "kernel")

    return PrivateKernelManager


@dataclass
class Kernel:
    """A started kernel and its private folder (its sockets, and the notebook it runs)."""

    manager: AsyncKernelManager  # nbclient polls an async kernel's liveness while it waits for output
    folder: Path

    def close(self) -> None:
        """Stop the kernel (its notebook is saved already) and remove its sockets; a kernel that is gone
        already, or will not stop, costs nothing more here."""
        try:
            if self.manager.has_kernel:
                run_sync(self.manager.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001  (the step's outcome is decided; a stop that fails must not change it)
            pass
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class KernelNotStarted(ProductizarError):
    """A step's kernel could not be started (no ipykernel, no room for its sockets)."""


def start(step: str, cwd: Path) -> Kernel:
    """Start a kernel in ``cwd`` that imports ``step``'s module as it starts; return without waiting for it."""
    folder = Path(tempfile.mkdtemp(prefix=f"productizar-kernel-{step}-"))
    manager = private_kernel_manager(folder)(kernel_name="python3")
    lines = f"--IPKernelApp.exec_lines={COMMON_IMPORTS}; import {STEP_MODULE.format(step)}"
    try:
        run_sync(manager.start_kernel)(cwd=str(cwd), extra_arguments=["--HistoryManager.hist_file=:memory:", lines])
    except Exception as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise KernelNotStarted(f"no se pudo iniciar el kernel del cuaderno de {step}: {exc}") from None
    return Kernel(manager, folder)


@dataclass
class Ahead:
    """At most one kernel started ahead of its step; whatever is not taken is stopped on ``close``."""

    cwd: Path
    waiting: Kernel | None = field(default=None)

    def prepare(self, step: str) -> None:
        """Start ``step``'s kernel now; if it cannot start, its step tries again when it runs, and fails
        there with its own sentence (never the step running now)."""
        if self.waiting is None:
            try:
                self.waiting = start(step, self.cwd)
            except KernelNotStarted:
                self.waiting = None

    def take(self, step: str) -> Kernel:
        """The kernel started ahead (whichever step it was started for), or one started now."""
        kernel, self.waiting = self.waiting, None
        return kernel if kernel is not None else start(step, self.cwd)

    def close(self) -> None:
        kernel, self.waiting = self.waiting, None
        if kernel is not None:
            kernel.close()
