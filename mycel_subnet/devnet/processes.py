"""Child processes for the devnet: started in their own process groups, always stopped.

Each neuron runs as a separate OS process (like on a real subnet). A supervisor must leave no
orphans and free every port, also when the user presses Ctrl-C or a child dies early.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port (a bind test, as the child would do it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def taken_ports(ports: list[int], host: str = "127.0.0.1") -> list[int]:
    return [p for p in ports if not port_is_free(p, host)]


def wait_for_port(port: int, timeout_s: float, host: str = "127.0.0.1") -> bool:
    """Poll until something accepts connections on host:port, or the timeout passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class ProcessGroup:
    """Starts children with their output in log files and stops them all, in reverse order."""

    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: list[str]) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        child = Child(name=name, argv=argv, log_path=self.log_dir / f"{name}.log")
        handle = child.log_path.open("ab")
        try:
            child.process = subprocess.Popen(
                argv,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,  # own process group: Ctrl-C reaches only us, we stop it
            )
        finally:
            handle.close()
        self.children.append(child)
        log.debug("started %s (pid %s)", name, child.process.pid)
        return child

    def dead(self) -> list[Child]:
        """Children that exited on their own."""
        return [c for c in self.children if c.process is not None and not c.alive]

    def stop_all(self, grace_s: float = 10.0) -> None:
        """SIGTERM every group (so in-flight work can finish), then SIGKILL what is left."""
        for child in reversed(self.children):
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in reversed(self.children):
            if child.process is None:
                continue
            remaining = max(0.0, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s; killing it", child.name, grace_s)
                _signal_group(child, signal.SIGKILL)
                child.process.wait(timeout=5)
            # Reap any grandchildren left in the group (sandbox workers and the like).
            _signal_group(child, signal.SIGKILL)


def _signal_group(child: Child, sig: signal.Signals) -> None:
    if child.process is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.process.pid, sig)
