"""Exit codes every Mycel command uses, so scripts and supervisors can act on them.

They live at the package root, not in `cli/`, because the miner, the validator, the devnet and
the start-up checks return them too, and those layers never import the command line."""

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILURE = 1  # the command ran and failed (a step, a chain write, a test of the devnet)
    USAGE = 2  # bad flag, bad config value, bad input file (argparse uses 2 as well)
    NOT_REGISTERED = 3  # the wallet's hotkey is not registered on the subnet
    UNAVAILABLE = 4  # a dependency, port, chain or service the command needs is not there
    LOCKED = 5  # another process already runs with this hotkey
    INTERRUPTED = 130  # Ctrl-C / SIGINT, as shells report it
