"""The embedded "sim" chain: SQLite-backed subtensor state behind the SDK's Substrate protocol.

``SimSubstrate`` is passed as ``bt.Subtensor(network, substrate=SimSubstrate(path))`` so the real
bittensor SDK (intents, weight normalisation, metagraph decoding) runs on top of it.
"""

from mycel_subnet.chain.sim.chain import DispatchError, SimChain
from mycel_subnet.chain.sim.substrate import SimSubstrate

__all__ = ["DispatchError", "SimChain", "SimSubstrate"]
