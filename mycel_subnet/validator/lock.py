"""One validator per hotkey: an exclusive fcntl lock held for the life of the process.

The lock is taken in the state dir and in the wallet's folder (keyed by the hotkey address), so
a second validator is refused whether it shares the state dir or only the hotkey. The kernel
drops the lock when the process dies, even by kill -9: no stale lock files to clean up.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class AlreadyRunning(RuntimeError):
    """Another process holds the lock; the message says which file and which pid."""


class ProcessLock:
    def __init__(self, paths: list[Path]) -> None:
        self.paths = [Path(p) for p in paths]
        self._fds: list[int] = []

    def acquire(self) -> None:
        for path in self.paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                self.release()
                raise AlreadyRunning(
                    f"another validator (pid {holder}) already runs with this hotkey "
                    f"(lock {path}); stop it first"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            self._fds.append(fd)

    def release(self) -> None:
        for fd in self._fds:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        self._fds = []

    def __enter__(self) -> ProcessLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def validator_lock(state_dir: Path, wallet_dir: Path, hotkey_ss58: str) -> ProcessLock:
    return ProcessLock(
        [Path(state_dir) / "validator.lock", Path(wallet_dir) / f".validator-{hotkey_ss58}.lock"]
    )
