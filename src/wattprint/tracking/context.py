"""Facts about where and what a run is, gathered without subprocesses."""

from __future__ import annotations

import socket
import sys
from pathlib import Path


def hostname() -> str:
    return socket.gethostname()


def command_line() -> str:
    """The current program's command line as the user typed it (approximately)."""
    return " ".join([Path(sys.executable).name, *sys.argv]) if sys.argv else sys.executable


def git_commit(start: Path | None = None) -> str | None:
    """The commit checked out in the git work tree containing ``start`` (default: the
    current directory), read from ``.git`` directly; ``None`` outside a repository."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        git = folder / ".git"
        if git.is_file():  # worktree or submodule: "gitdir: <path>"
            text = git.read_text().strip()
            if not text.startswith("gitdir:"):
                return None
            git = (folder / text.split(":", 1)[1].strip()).resolve()
        if git.is_dir():
            return _resolve_head(git)
    return None


def _resolve_head(git: Path) -> str | None:
    try:
        head = (git / "HEAD").read_text().strip()
    except OSError:
        return None
    if not head.startswith("ref:"):
        return head or None
    ref = head.split(":", 1)[1].strip()
    common = git
    commondir = git / "commondir"
    if commondir.is_file():
        common = (git / commondir.read_text().strip()).resolve()
    for base in (git, common):
        ref_file = base / ref
        if ref_file.is_file():
            return ref_file.read_text().strip() or None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha
    return None  # a branch with no commits yet
