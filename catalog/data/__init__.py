"""Seed data of the catalogue: class tree, units of measure, search synonyms (shipped as package data)."""
