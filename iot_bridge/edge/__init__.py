"""The edge agent: polls Modbus TCP and subscribes OPC UA next to the machines, speaks Sparkplug B upstream."""
