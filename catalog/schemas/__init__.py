"""Catalogue documents in and out of the API (pydantic v2), split by sub-domain."""
