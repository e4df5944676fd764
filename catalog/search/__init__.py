"""Catalogue search: one interface, two backends (PostgreSQL full-text search by default, OpenSearch by URL)."""
