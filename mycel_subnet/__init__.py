"""Mycel subnet: the collective-intelligence layer of Mycel OS as a Bittensor subnet."""

__version__ = "0.1.0"
