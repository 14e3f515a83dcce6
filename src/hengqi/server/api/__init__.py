"""The REST API under ``/api/v1``: routers per resource, typed dependencies, one error handler."""
