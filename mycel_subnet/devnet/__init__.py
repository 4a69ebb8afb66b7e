"""`mycel devnet`: the whole subnet on one machine (chain, miners, validator, report)."""
