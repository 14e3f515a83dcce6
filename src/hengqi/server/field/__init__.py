"""The field context of the platform: field devices, telemetry ingest (MQTT and HTTP), storage and field pages.

It owns its tables (:mod:`.models`), services (:mod:`.ingest`, :mod:`.devices`, :mod:`.curves`), the MQTT
adapter (:mod:`.mqtt`), routes (:mod:`.routes`) and pages (:mod:`.pages`); the telemetry format and the pure rules
come from :mod:`hengqi.supervision`.
"""
