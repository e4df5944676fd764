"""Unified material code library: classes, attributes, units, codes, normalization and duplicate scoring."""
