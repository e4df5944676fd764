"""Transactional outbox: events written with the business change, moved to RQ after commit."""
