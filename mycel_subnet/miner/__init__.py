"""The miner: an authenticated HTTP service (service/) in front of a pluggable engine."""
