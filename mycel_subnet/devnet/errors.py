"""The devnet's one error type: a run that cannot go on, with the exit code to leave with."""

from __future__ import annotations

from mycel_subnet.exit_codes import ExitCode


class DevnetError(RuntimeError):
    """A devnet run cannot go on; the message says why and what to do."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILURE) -> None:
        super().__init__(message)
        self.code = code
