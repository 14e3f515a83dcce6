"""The field context of the platform: field devices, telemetry ingest (MQTT and HTTP), storage and field pages.

It owns its tables (:mod:`.models`), services (:mod:`.ingest`, :mod:`.devices`, :mod:`.curves`), the MQTT
adapter (:mod:`.mqtt`), routes (:mod:`.routes`) and pages (:mod:`.pages`); the telemetry format and the pure rules
come from :mod:`hengqi.supervision`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fastapi is imported by the app, not by the ingest or stream workers
    from fastapi import FastAPI


def install_field(app: FastAPI, *, api_prefix: str) -> None:
    """Mount the field routes (API under ``api_prefix``) and pages on an app made by ``create_app``."""
    from hengqi.server.field import alert_pages, pages, routes

    app.include_router(routes.router, prefix=api_prefix)
    app.include_router(alert_pages.router)
    app.include_router(pages.router)
