"""Configurable tax rates (the platform operator's table) and each material class's default rate."""
