"""The auto-updater on a throwaway git repo: a local bare "origin", a node's clone, and new
commits pushed from a developer's clone. The set-up, test and restart commands are tiny real
scripts that leave marks, so each decision (restart only on a spec change, roll back on failing
tests, refuse local changes or a diverged branch) is seen, and nothing real restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mycel_subnet.ops import autoupdate
from mycel_subnet.ops.autoupdate import Commands, update

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}  # fmt: skip

PYPROJECT = '[project]\nname = "node"\nversion = "0"\n\n[tool.mycel]\nspec_version = {spec}\n'
SETUP = '#!/usr/bin/env bash\necho "$(git rev-parse HEAD)" >> ../setup.log\n'
# The "tests": fail when the commit carries a file named BROKEN.
CHECK = "import pathlib, sys\nsys.exit(1 if pathlib.Path('BROKEN').exists() else 0)\n"


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(dev: Path, message: str, files: dict[str, str | None]) -> str:
    for name, text in files.items():
        path = dev / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    git(dev, "add", "-A")
    git(dev, "commit", "--quiet", "-m", message)
    git(dev, "push", "--quiet", "origin", "main")
    return git(dev, "rev-parse", "HEAD")


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path]:
    """(developer clone, node clone) of one bare origin; the node is at the first commit."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(bare))
    dev = tmp_path / "dev"
    git(tmp_path, "clone", "--quiet", str(bare), str(dev))
    git(dev, "checkout", "--quiet", "-b", "main")
    commit(dev, "first", {"pyproject.toml": PYPROJECT.format(spec=2), "scripts/setup.sh": SETUP,
                          "check.py": CHECK})  # fmt: skip
    (tmp_path / "nodes").mkdir()
    node = tmp_path / "nodes" / "node"
    git(tmp_path, "clone", "--quiet", str(bare), str(node))
    return dev, node


def commands(node: Path) -> Commands:
    restart_mark = node.parent / "restarts.log"
    return Commands(
        setup=["bash", "scripts/setup.sh"],
        tests=[sys.executable, "check.py"],
        restart=[sys.executable, "-c", f"open({str(restart_mark)!r}, 'a').write('restart\\n')"],
    )


def restarts(node: Path) -> int:
    mark = node.parent / "restarts.log"
    return len(mark.read_text().splitlines()) if mark.exists() else 0


def setups(node: Path) -> list[str]:
    log = node.parent / "setup.log"
    return log.read_text().split() if log.exists() else []


def test_restarts_only_when_the_spec_version_changed(repos: tuple[Path, Path]) -> None:
    dev, node = repos
    first = git(node, "rev-parse", "HEAD")

    nothing = update(node, commands(node))
    assert (nothing.status, nothing.exit_code) == ("up_to_date", 0)
    assert setups(node) == [] and restarts(node) == 0

    bumped = commit(dev, "bump spec", {"pyproject.toml": PYPROJECT.format(spec=3)})
    outcome = update(node, commands(node))
    assert outcome.status == "restarted", outcome.message
    assert (outcome.old, outcome.new, outcome.old_spec, outcome.new_spec) == (first, bumped, 2, 3)
    assert git(node, "rev-parse", "HEAD") == bumped
    assert setups(node) == [bumped]  # set-up ran on the new code, before the restart
    assert restarts(node) == 1

    same_spec = commit(dev, "code only", {"README": "new docs\n"})
    outcome = update(node, commands(node))
    assert outcome.status == "updated" and "no restart" in outcome.message
    assert git(node, "rev-parse", "HEAD") == same_spec
    assert setups(node) == [bumped, same_spec]
    assert restarts(node) == 1  # unchanged


def test_failing_tests_roll_back_and_the_commit_is_not_retried(repos: tuple[Path, Path]) -> None:
    dev, node = repos
    good = git(node, "rev-parse", "HEAD")
    bad = commit(
        dev, "breaks and bumps", {"BROKEN": "x", "pyproject.toml": PYPROJECT.format(spec=9)}
    )

    outcome = update(node, commands(node))
    assert (outcome.status, outcome.exit_code) == ("failed", 1)
    assert git(node, "rev-parse", "HEAD") == good
    assert not (node / "BROKEN").exists()
    assert setups(node) == [bad, good]  # reinstalled for the new code, then for the old again
    assert restarts(node) == 0

    again = update(node, commands(node))
    assert again.status == "skipped"
    assert setups(node) == [bad, good]

    fixed = commit(dev, "fix", {"BROKEN": None})
    outcome = update(node, commands(node))
    assert outcome.status == "restarted" and git(node, "rev-parse", "HEAD") == fixed
    assert restarts(node) == 1


def test_refuses_local_changes_and_divergence_without_touching_anything(
    repos: tuple[Path, Path],
) -> None:
    dev, node = repos
    start = git(node, "rev-parse", "HEAD")
    commit(dev, "bump", {"pyproject.toml": PYPROJECT.format(spec=3)})

    (node / "check.py").write_text(CHECK + "# local edit\n")
    outcome = update(node, commands(node))
    assert (outcome.status, outcome.exit_code) == ("refused", 3)
    assert "local changes" in outcome.message
    assert git(node, "rev-parse", "HEAD") == start
    git(node, "checkout", "--quiet", "--", "check.py")

    (node / "local.txt").write_text("mine\n")
    git(node, "add", "local.txt")
    git(node, "commit", "--quiet", "-m", "local commit")
    outcome = update(node, commands(node))
    assert outcome.status == "refused" and "diverged" in outcome.message
    assert setups(node) == [] and restarts(node) == 0

    git(node, "checkout", "--quiet", "--detach")
    assert "detached" in update(node, commands(node)).message


def test_cli_says_one_line_for_a_bad_repo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert autoupdate.main(["--repo", str(tmp_path / "missing")]) == autoupdate.USAGE
    assert capsys.readouterr().err.strip().count("\n") == 0
    assert autoupdate.main(["--repo", str(tmp_path)]) == autoupdate.REFUSED
    err = capsys.readouterr().err
    assert "is not a git checkout" in err and "Traceback" not in err
    assert autoupdate.main(["--repo", str(tmp_path), "--remote", "origin"]) == autoupdate.USAGE


def test_default_tests_exist_in_this_checkout() -> None:
    root = Path(__file__).resolve().parents[2]
    assert all((root / path).exists() for path in autoupdate.DEFAULT_TESTS)
