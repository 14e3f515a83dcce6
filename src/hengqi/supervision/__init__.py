"""Field supervision: telemetry ingest, drift and tampering detectors, fleet statistics."""
