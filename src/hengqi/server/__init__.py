"""The platform: app factory, settings, database, services, REST API and web UI."""
