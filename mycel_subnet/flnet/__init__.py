"""`mycel fl`: federated learning over a local subnet (embedded chain, miner processes with their
own data shards, an in-process coordinator with the validator's key, the embedded NEAR ledger)."""
