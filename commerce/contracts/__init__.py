"""Contracts (合同): spot contracts and framework agreements, two-party Ed25519 signatures, call-offs."""
