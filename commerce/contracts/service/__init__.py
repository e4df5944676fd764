"""Contract operations by use case.

- ``terms``: the canonical terms document of a version and its SHA-256 (what the parties sign);
- ``lifecycle``: create (spot or framework), read, amend (new terms version to be signed again);
- ``keys``: each organization's Ed25519 key, kept by the platform (encrypted) or uploaded (public only);
- ``signing``: sign a terms version, become effective when both parties signed, verify;
- ``call_offs``: draw a framework down, never past a cap, even under concurrent call-offs;
- ``publishing``: a framework's prices as the buyer's ``contract`` price list in the catalogue.
"""
