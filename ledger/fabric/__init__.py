"""Hyperledger Fabric backend: a Gateway client and the chaincode that anchors the log's signed checkpoints."""
