"""Re-export of `mycel_subnet.exit_codes` for the CLI modules (the codes live below every layer
that uses them: miner, validator, devnet and the start-up checks)."""

from mycel_subnet.exit_codes import ExitCode

__all__ = ["ExitCode"]
