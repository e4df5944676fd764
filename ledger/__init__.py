"""Evidence ledger: Merkle tree log, signed checkpoints, evidence bundles and their offline verification."""
