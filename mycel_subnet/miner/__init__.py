"""The miner: an authenticated HTTP service (app.py, run.py) in front of a pluggable engine."""
