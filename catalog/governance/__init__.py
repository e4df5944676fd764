"""Data governance of the material library: duplicate detection, merging, and the quality score."""
