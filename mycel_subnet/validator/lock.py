"""The validator's lock; the lock itself is shared with the miner in mycel_subnet.neuron_lock."""

from mycel_subnet.neuron_lock import AlreadyRunning, ProcessLock, validator_lock

__all__ = ["AlreadyRunning", "ProcessLock", "validator_lock"]
