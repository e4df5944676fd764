"""The change feed: every event of an organization, in order, resumable, served from the outbox."""
