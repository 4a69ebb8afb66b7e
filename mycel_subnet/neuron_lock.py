"""One neuron per hotkey: an exclusive fcntl lock held for the life of the process.

Both neurons take it. The lock files sit where a second copy would look (the wallet's folder,
keyed by the hotkey address, and for the validator its state dir), so a second process is
refused whether it shares the state dir or only the hotkey. The kernel drops the lock when the
process dies, even by kill -9: no stale lock files to clean up.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class AlreadyRunning(RuntimeError):
    """Another process holds the lock; the message says which file and which pid."""


class ProcessLock:
    def __init__(self, paths: list[Path], role: str = "validator") -> None:
        self.paths = [Path(p) for p in paths]
        self.role = role
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
                    f"another {self.role} (pid {holder}) already runs with this hotkey "
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


def miner_lock(wallet_dir: Path, hotkey_ss58: str) -> ProcessLock:
    """A miner keeps no state dir: its lock lives beside the hotkey it serves with."""
    return ProcessLock([Path(wallet_dir) / f".miner-{hotkey_ss58}.lock"], role="miner")
