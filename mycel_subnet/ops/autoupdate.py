"""Opt-in auto-updater for a node's checkout: fast-forward, reinstall, test, restart on spec change.

One run (a systemd timer or pm2 cron starts it; nothing runs it by default):

1. refuses, changing nothing, when the checkout is not on a branch, has local changes to
   tracked files, or has diverged from its upstream (fast-forward only, never a merge);
2. `git fetch`; nothing to do when the upstream has no new commit, or when it is a commit that
   already failed here (remembered in .git/mycel-autoupdate-rejected);
3. `git merge --ff-only`, then the set-up command (scripts/setup.sh) and the tests that matter
   (DEFAULT_TESTS); if either fails, the checkout goes back to the old commit (`git reset
   --keep`), set-up runs again for it, the new commit is remembered as rejected, exit 1;
4. restarts the neurons (`--restart-cmd`) only when `[tool.mycel] spec_version` changed. The
   restart stops them with SIGTERM, which the validator reads as "finish the running step, then
   exit" and the miner as "finish in-flight requests": never mid-step. The supervisors' stop
   timeouts (deploy/) are longer than a step.

Exit codes: 0 done (up to date, updated, restarted), 1 update failed and rolled back, 2 bad
arguments, 3 refused (not a git checkout, detached, dirty, diverged, another update running).
Run: scripts/auto_update.sh [--restart-cmd CMD] [--tests PATH ...] (see docs/validator.md).
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("mycel.autoupdate")

# The tests that matter before a restart: the wire contract, the score store that must survive
# restarts, the caller policy, and the supervisors' command lines still parsing with the new code.
DEFAULT_TESTS = (
    "tests/protocol",
    "tests/validator/test_scoring_store.py",
    "tests/transport/test_units.py",
    "tests/ops/test_deploy.py",
)
REJECTED_FILE = "mycel-autoupdate-rejected"
LOCK_FILE = "mycel-autoupdate.lock"

OK, FAILED, USAGE, REFUSED = 0, 1, 2, 3


class Refused(Exception):
    """The update cannot start; nothing was changed."""


@dataclass(frozen=True)
class Outcome:
    status: str  # up_to_date | skipped | updated | restarted | failed | refused
    message: str
    old: str = ""
    new: str = ""
    old_spec: int | None = None
    new_spec: int | None = None

    @property
    def exit_code(self) -> int:
        return {"failed": FAILED, "refused": REFUSED}.get(self.status, OK)


@dataclass(frozen=True)
class Commands:
    setup: Sequence[str]
    tests: Sequence[str]
    restart: Sequence[str] | None


def default_commands(repo: Path, tests: Sequence[str], restart: str | None) -> Commands:
    venv_python = repo / ".venv" / "bin" / "python"
    python = str(venv_python) if venv_python.exists() else sys.executable
    return Commands(
        setup=["bash", "scripts/setup.sh"],
        tests=[python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        restart=shlex.split(restart) if restart else None,
    )


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise Refused(f"git {' '.join(args)} failed: {detail[-1] if detail else done.returncode}")
    return done.stdout.strip()


def _is_ancestor(repo: Path, older: str, newer: str) -> bool:
    done = subprocess.run(["git", "merge-base", "--is-ancestor", older, newer], cwd=repo)
    return done.returncode == 0


def spec_at(repo: Path, rev: str) -> int | None:
    """`[tool.mycel] spec_version` in pyproject.toml at a commit; None when absent."""
    try:
        text = _git(repo, "show", f"{rev}:pyproject.toml")
        value = tomllib.loads(text).get("tool", {}).get("mycel", {}).get("spec_version")
    except (Refused, tomllib.TOMLDecodeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _step(name: str, command: Sequence[str], repo: Path) -> bool:
    log.info("%s: %s", name, shlex.join(command))
    done = subprocess.run(list(command), cwd=repo, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        log.error("%s failed (exit %d): %s", name, done.returncode, " | ".join(tail))
        return False
    return True


def _upstream(repo: Path, remote: str | None, branch: str | None) -> tuple[str, str]:
    """(remote, remote-tracking ref) to fast-forward to."""
    current = subprocess.run(
        ["git", "symbolic-ref", "--quiet", "--short", "HEAD"], cwd=repo, capture_output=True,
        text=True,
    )  # fmt: skip
    if current.returncode != 0:
        raise Refused("the checkout is on a detached HEAD; check out a branch first")
    if remote and branch:
        return remote, f"{remote}/{branch}"
    try:
        ref = _git(repo, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    except Refused:
        raise Refused(
            f"branch {current.stdout.strip()} has no upstream; pass --remote and --branch"
        ) from None
    return ref.split("/", 1)[0], ref


def update(
    repo: Path,
    commands: Commands,
    *,
    remote: str | None = None,
    branch: str | None = None,
) -> Outcome:
    """One update run (see the module docstring); never raises for an expected failure."""
    try:
        git_dir = Path(_git(repo, "rev-parse", "--absolute-git-dir"))
    except (Refused, FileNotFoundError, NotADirectoryError):
        return Outcome("refused", f"{repo} is not a git checkout")
    with (git_dir / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return Outcome("refused", "another update is running in this checkout")
        try:
            return _update_locked(repo, git_dir, commands, remote, branch)
        except Refused as refusal:
            return Outcome("refused", str(refusal))


def _update_locked(
    repo: Path, git_dir: Path, commands: Commands, remote: str | None, branch: str | None
) -> Outcome:
    remote, ref = _upstream(repo, remote, branch)
    if _git(repo, "status", "--porcelain", "--untracked-files=no"):
        raise Refused("local changes to tracked files; commit or discard them first")
    _git(repo, "fetch", "--quiet", remote)
    old, new = _git(repo, "rev-parse", "HEAD"), _git(repo, "rev-parse", ref)
    if old == new or _is_ancestor(repo, new, old):
        return Outcome("up_to_date", f"up to date with {ref} at {old[:12]}", old, old)
    if not _is_ancestor(repo, old, new):
        raise Refused(f"HEAD {old[:12]} and {ref} {new[:12]} have diverged; fast-forward only")
    rejected = git_dir / REJECTED_FILE
    if rejected.exists() and rejected.read_text().strip() == new:
        return Outcome("skipped", f"{new[:12]} failed set-up or tests here before", old, new)
    old_spec, new_spec = spec_at(repo, old), spec_at(repo, new)
    log.info("fast-forward %s -> %s (spec %s -> %s)", old[:12], new[:12], old_spec, new_spec)
    _git(repo, "merge", "--ff-only", "--quiet", new)
    if not (_step("set-up", commands.setup, repo) and _step("tests", commands.tests, repo)):
        _git(repo, "reset", "--quiet", "--keep", old)
        rejected.write_text(new + "\n")
        back = _step("set-up (rollback)", commands.setup, repo)
        note = "" if back else "; set-up of the old commit failed too: check the venv"
        return Outcome(
            "failed", f"{new[:12]} rejected, back at {old[:12]}{note}", old, new, old_spec,
            new_spec,
        )  # fmt: skip
    rejected.unlink(missing_ok=True)
    if old_spec == new_spec:
        return Outcome(
            "updated", f"at {new[:12]}; spec {new_spec} unchanged, no restart", old, new,
            old_spec, new_spec,
        )  # fmt: skip
    if commands.restart is None:
        log.warning("spec changed %s -> %s: restart the neurons (no --restart-cmd)", old_spec,
                    new_spec)  # fmt: skip
        return Outcome("updated", f"at {new[:12]}; restart needed", old, new, old_spec, new_spec)
    if not _step("restart", commands.restart, repo):
        return Outcome("failed", f"at {new[:12]}; the restart command failed", old, new,
                       old_spec, new_spec)  # fmt: skip
    return Outcome(
        "restarted", f"at {new[:12]}; spec {old_spec} -> {new_spec}, neurons restarted", old,
        new, old_spec, new_spec,
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mycel-autoupdate",
        description="Fast-forward this checkout, reinstall, run the tests that matter, and "
        "restart the neurons only when [tool.mycel] spec_version changed.",
    )
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="the checkout (default: .)")
    parser.add_argument("--remote", help="remote to pull from (default: the branch's upstream)")
    parser.add_argument("--branch", help="branch on --remote (default: the branch's upstream)")
    parser.add_argument(
        "--restart-cmd",
        help="command that restarts the neurons with SIGTERM, e.g. 'pm2 restart "
        "mycel-validator' (default: none, only say a restart is needed)",
    )
    parser.add_argument(
        "--tests", nargs="+", default=list(DEFAULT_TESTS), metavar="PATH",
        help="pytest paths to run before accepting an update (default: %(default)s)",
    )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if bool(args.remote) != bool(args.branch):
        print("mycel-autoupdate: give --remote and --branch together", file=sys.stderr)
        return USAGE
    logging.basicConfig(level=logging.INFO, format="autoupdate: %(levelname)s %(message)s")
    repo = args.repo.expanduser().resolve()
    if not repo.is_dir():
        print(f"mycel-autoupdate: --repo {repo} is not a directory", file=sys.stderr)
        return USAGE
    outcome = update(
        repo, default_commands(repo, args.tests, args.restart_cmd), remote=args.remote,
        branch=args.branch,
    )  # fmt: skip
    print(f"mycel-autoupdate: {outcome.status}: {outcome.message}", file=sys.stderr)
    return outcome.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
