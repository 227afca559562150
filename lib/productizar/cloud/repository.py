"""The team's git repositories (``Cloud_nu0044001_productizar``, ``NU0044001_ProductizarLaAnalitica``):
a step's files written where the runbook puts them, on the runbook's branch, as one commit naming the HU.

A local clone only: the branch is created from the clone's current commit when it does not exist, nothing
is pushed unless asked, and a clone with uncommitted changes, or a branch that has diverged from (or is
behind) its remote, is refused with the reason before anything is written. A run that changes nothing adds
no commit. When writing or committing fails, the clone is put back as it was.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from productizar.core.errors import ProductizarError

INFRA_REPO_ENV, COORDINATORS_REPO_ENV, PUSH_ENV = (
    "PRODUCTIZAR_INFRA_REPO",
    "PRODUCTIZAR_COORDINATORS_REPO",
    "PRODUCTIZAR_PUSH",
)


class RepositoryRefused(ProductizarError):
    """The clone is not in a state to take the step's commit; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    """Where a step delivers: a clone (None: the evidence folder only) and whether to push."""

    path: Path | None
    push: bool = False
    option: str = ""  # the CLI option that names it, for messages

    @property
    def active(self) -> bool:
        return self.path is not None


def _git(repo: Path, *args: str, check: bool = True, strip: bool = True) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise ProductizarError(f"git {' '.join(args)} falló en {repo}: {detail[-1] if detail else proc.returncode}")
    return proc.stdout.strip() if strip else proc.stdout


def _ok(repo: Path, *args: str) -> bool:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=60).returncode == 0


@dataclass
class Clone:
    """A clone checked and on the step's branch."""

    path: Path
    branch: str
    started_on: str
    created: bool

    def read(self, relative: str) -> str | None:
        """A file of the branch as checked out (None when it does not have it)."""
        target = self.path / relative
        return target.read_text(encoding="utf-8") if target.is_file() else None


def _refuse(repo: Path, option: str, why: str) -> RepositoryRefused:
    return RepositoryRefused(f"No se usa el repositorio {repo} ({option}): {why}")


def _ahead_behind(repo: Path, branch: str) -> tuple[int, int, str] | None:
    upstream = _git(repo, "rev-parse", "--abbrev-ref", f"{branch}@{{upstream}}", check=False)
    if not upstream or "fatal" in upstream:
        return None
    counts = _git(repo, "rev-list", "--left-right", "--count", f"{branch}...{upstream}").split()
    return int(counts[0]), int(counts[1]), upstream


def check(target: Target, branch: str) -> tuple[str, bool, bool]:
    """Refuse, before touching anything, a folder that is not a clone's root, uncommitted changes, a
    detached HEAD, and a branch that diverged from or is behind its remote. Returns the current branch and
    whether ``branch`` exists locally and on ``origin``."""
    if target.path is None:
        raise ProductizarError("no repository to check")
    repo, option = target.path, target.option
    if not repo.is_dir() or not _ok(repo, "rev-parse", "--git-dir"):
        raise _refuse(repo, option, "no es un clon de git.")
    top = Path(_git(repo, "rev-parse", "--show-toplevel")).resolve()
    if top != repo:
        raise _refuse(repo, option, f"es una subcarpeta del clon {top}; indique la raíz del clon.")
    dirty = _git(repo, "status", "--porcelain", "--untracked-files=normal", strip=False)
    if dirty.strip():
        first = ", ".join(line[3:] for line in dirty.splitlines()[:5])
        raise _refuse(repo, option, f"tiene cambios sin confirmar ({first}); confírmelos o descártelos antes.")
    current = _git(repo, "symbolic-ref", "--short", "-q", "HEAD", check=False)
    if not current:
        raise _refuse(repo, option, "el HEAD está separado (detached); cámbiese a trunk o a la rama de la HU.")
    exists = _ok(repo, "rev-parse", "--verify", "-q", f"refs/heads/{branch}")
    remote = _ok(repo, "rev-parse", "--verify", "-q", f"refs/remotes/origin/{branch}")
    for name in [branch] if exists else [current]:
        state = _ahead_behind(repo, name)
        if state is None:
            continue
        ahead, behind, upstream = state
        if ahead and behind:
            raise _refuse(
                repo,
                option,
                f"la rama {name} divergió de {upstream} ({ahead} commits propios, {behind} del remoto); "
                "reconcílielas (git pull --rebase) antes.",
            )
        if behind and name == branch:
            why = f"la rama {name} está {behind} commits atrás de {upstream}; haga git pull antes."
            raise _refuse(repo, option, why)
    return current, exists, remote


def open_clone(target: Target, branch: str) -> Clone:
    """Check the clone (``check``) and check out ``branch``: created from the current commit, or from the
    remote's branch of that name when only the remote has it."""
    current, exists, remote = check(target, branch)
    assert target.path is not None
    repo = target.path
    if exists:
        _git(repo, "checkout", "-q", branch)
    elif remote:
        _git(repo, "checkout", "-q", "-b", branch, "--track", f"origin/{branch}")
    else:
        _git(repo, "checkout", "-q", "-b", branch)
    return Clone(repo, branch, current, created=not exists and not remote)


@dataclass(frozen=True)
class Delivery:
    """What a step left in a clone: the branch, the new commit (None: nothing changed), whether pushed."""

    repo: str
    branch: str
    commit: str | None
    head: str
    files: list[str] = field(default_factory=list)
    pushed: bool = False
    created_branch: bool = False

    def sentence(self) -> str:
        where = f"rama {self.branch} de {self.repo}"
        if self.commit is None:
            said = f"Sin cambios en la {where}: ya tenía estos {len(self.files)} archivos (no se agrega commit)."
        else:
            said = f"Commit {self.commit[:10]} en la {where} con {len(self.files)} archivos."
        return said + (" Enviado al remoto (--push)." if self.pushed else " No se envió al remoto (sin --push).")


def commit(
    clone: Clone,
    files: dict[str, str],
    message: str,
    push: bool = False,
    progress: Callable[[str], None] = print,
) -> Delivery:
    """Write ``files`` (paths relative to the clone) and commit them on the clone's branch: one commit, or
    none when the branch already has them. A failure restores the clone as it was."""
    repo = clone.path
    before = _git(repo, "rev-parse", "HEAD")
    try:
        for rel, text in files.items():
            target = repo / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        _git(repo, "add", "--", *files)
        new = None
        if not _ok(repo, "diff", "--cached", "--quiet"):
            _git(repo, "commit", "-q", "-m", message)
            new = _git(repo, "rev-parse", "HEAD")
    except (OSError, ProductizarError):
        _git(repo, "reset", "-q", "--hard", before, check=False)
        _git(repo, "clean", "-fdq", "--", *files, check=False)
        raise
    pushed = False
    if push:
        progress(f"git push origin {clone.branch}")
        _git(repo, "push", "-q", "-u", "origin", clone.branch)
        pushed = True
    head = _git(repo, "rev-parse", "HEAD")
    return Delivery(str(repo), clone.branch, new, head, sorted(files), pushed, clone.created)
