"""Running a node for real: the opt-in auto-updater (deploy/ holds the supervisor files)."""
