"""Thin entry points for the miner and validator processes (mycel-miner, mycel-validator)."""
