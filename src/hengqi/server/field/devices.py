"""Onboarding field devices: a registry instrument gets a device id, a group and an HTTP token.

The device id is the Sparkplug B device id of its messages, the MQTT user name the broker knows it by and the
``instrument`` of its events.  Only the SHA-256 of the HTTP token is stored (like API tokens).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server.db.models import Instrument
from hengqi.server.errors import NotFoundError
from hengqi.server.field.models import SITE_KINDS, FieldDevice, FieldStatus
from hengqi.supervision.sparkplug import check_id


def token_digest(token: str) -> str:
    """SHA-256 (hex) of a device token."""
    return hashlib.sha256(token.encode()).hexdigest()


def register_device(
    session: Session,
    *,
    organisation_id: int,
    instrument_id: int,
    device_id: str,
    group_id: str,
    site_kind: str = "market",
    region_code: str = "",
) -> tuple[FieldDevice, str]:
    """Register a field device for an instrument of the organisation; returns it and its HTTP token (shown once)."""
    try:
        check_id(device_id, "device_id")
        check_id(group_id, "group_id")
    except InputError as err:
        raise InputError(err.path, err.reason) from None
    if site_kind not in SITE_KINDS:
        raise InputError("site_kind", f"must be one of {', '.join(SITE_KINDS)}")
    if len(region_code) > 12 or (not region_code.isalnum() and region_code):
        raise InputError("region_code", "at most 12 letters or digits")
    instrument = session.get(Instrument, instrument_id)
    if instrument is None or instrument.organisation_id != organisation_id or instrument.deleted_at is not None:
        raise NotFoundError("instrument", instrument_id)
    if session.scalar(select(FieldDevice.id).where(FieldDevice.device_id == device_id)) is not None:
        raise InputError("device_id", f"{device_id!r} is already registered")
    token = "hqd_" + secrets.token_urlsafe(32)
    device = FieldDevice(
        organisation_id=organisation_id,
        instrument_id=instrument_id,
        device_id=device_id,
        group_id=group_id,
        site_kind=site_kind,
        region_code=region_code,
        token_sha256=token_digest(token),
    )
    session.add(device)
    session.flush()
    session.add(FieldStatus(device_pk=device.id))
    session.flush()
    return device, token


def device_for_token(session: Session, token: str) -> FieldDevice | None:
    """The (not deleted) device whose HTTP token this is, or None."""
    device = session.scalar(select(FieldDevice).where(FieldDevice.token_sha256 == token_digest(token)))
    if device is None or device.deleted_at is not None:
        return None
    return device
