"""The edge agent: reads a scale through the instruments layer and publishes telemetry over MQTT/Sparkplug B,
with a bounded store-and-forward queue in SQLite (:mod:`.queue`, :mod:`.publisher`, :mod:`.agent`)."""
