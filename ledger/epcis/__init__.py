"""EPCIS 2.0 traceability events: capture (JSON-LD), CBV 2.0 event hashes, queries and trace graphs."""
