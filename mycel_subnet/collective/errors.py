"""The collective's errors: one line each, with the exit code the CLI returns for it."""

from __future__ import annotations

from mycel_subnet.exit_codes import ExitCode


class CollectiveError(Exception):
    """A command could not do what was asked; `str(exc)` is the one line shown to the user."""

    exit_code: int = ExitCode.FAILURE
    http_status: int = 500


class BadInput(CollectiveError):
    """A missing or malformed file, flag or argument (exit 2, HTTP 400)."""

    exit_code = ExitCode.USAGE
    http_status = 400


class UnknownPatternId(BadInput):
    """No pattern with that id in the local store or on the registry (exit 2, HTTP 404)."""

    http_status = 404


class Refused(CollectiveError):
    """The privacy path or the registry said no; the message is the reason (exit 1, HTTP 422).
    `detail` is the operation's result object, when there is one to show (what was removed)."""

    http_status = 422

    def __init__(self, message: str, detail: object = None) -> None:
        super().__init__(message)
        self.detail = detail


class NotSupported(CollectiveError):
    """Something this version cannot do yet, said plainly (exit 1, HTTP 501)."""

    http_status = 501


class Unavailable(CollectiveError):
    """A store, ledger or RPC endpoint the command needs did not answer (exit 4, HTTP 503)."""

    exit_code = ExitCode.UNAVAILABLE
    http_status = 503
