"""Industrial device ingestion: MQTT/Sparkplug B, Modbus TCP, OPC UA, alarms, commands (built by the IoT issue)."""
