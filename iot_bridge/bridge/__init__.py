"""The host application: MQTT (Sparkplug B and JSON) ingestion, state, alarms, commands."""
