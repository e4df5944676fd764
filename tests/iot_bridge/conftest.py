"""The bridge tests' ``world`` fixture."""

from tests.iot_bridge.bridge_world import world  # noqa: F401
