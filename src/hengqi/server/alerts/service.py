"""Alert services: store detector findings as alerts (idempotently), list and read them in scope, move them through
the workflow, and run the detectors over the field events stored by the ingest.

Alert identity: ``alert_key = SHA-256(device id | detector | UTC day of the finding)``; findings of one instrument
and detector on one day are one alert (an episode), so that replaying the same events, or running the detectors
again over stored events, adds nothing twice (findings inside an alert are kept once per (rule, seqs)).

Workflow: ``open -> acknowledged -> investigating -> closed``; ``closed`` may be reached from any earlier state
and needs a reason: ``confirmed_tampering``, ``false_alarm`` or ``repaired``.  Only the quality manager of the
instrument's organisation and a regulator granted that organisation may move an alert; everyone who may read the
organisation may read its alerts; another organisation's alert is "not found".  Every creation and transition is
an entry in the audit trail, with the old and new state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server import audit
from hengqi.server.alerts.models import FieldAlert
from hengqi.server.audit import Actor
from hengqi.server.db.models import Instrument
from hengqi.server.db.types import utcnow
from hengqi.server.errors import ConflictError, NotFoundError, PermissionDeniedError
from hengqi.server.field.models import FieldDevice, FieldEvent, FieldWorkOrder
from hengqi.server.permissions import Permission, Principal, Role
from hengqi.supervision.detectors import Finding
from hengqi.supervision.detectors.fleet import InstrumentProfile, run_instrument
from hengqi.supervision.detectors.seal import WorkOrderWindow
from hengqi.supervision.telemetry import TelemetryEvent

STATES: Final = ("open", "acknowledged", "investigating", "closed")
REASONS: Final = ("confirmed_tampering", "false_alarm", "repaired")
NEXT: Final[dict[str, frozenset[str]]] = {
    "open": frozenset({"acknowledged", "closed"}),
    "acknowledged": frozenset({"investigating", "closed"}),
    "investigating": frozenset({"closed"}),
    "closed": frozenset(),
}
WORKFLOW_ROLES: Final = frozenset({Role.QUALITY_MANAGER, Role.REGULATOR})
#: Severity by rule: a broken seal, unapproved software or a cheating device is "high"; drift and tare "medium".
HIGH_RULES: Final = frozenset(
    {
        "counter_without_work_order",
        "parameter_change_without_work_order",
        "software_not_approved",
        "case_opened",
        "unlock_without_work_order",
        "cell_step_without_partner",
        "jump_while_stable",
        "check_outside_mpe",
    }
)
ENTITY: Final = "field_alert"


def alert_key(device_id: str, detector: str, day_start: datetime) -> str:
    """The idempotent alert id: SHA-256 of device id, detector and the UTC day.

    >>> alert_key("WB-1", "seal", datetime(2026, 1, 5, tzinfo=UTC))[:12]
    '1de58fe8132c'
    """
    return hashlib.sha256(f"{device_id}|{detector}|{day_start.date().isoformat()}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RecordResult:
    created: int
    updated: int
    unchanged: int
    unknown_devices: tuple[str, ...]


def record_findings(session: Session, findings: Iterable[Finding], *, actor: Actor) -> RecordResult:
    """Store findings as alerts (see the module docstring); the caller commits."""
    created = updated = unchanged = 0
    unknown: set[str] = set()
    devices: dict[str, FieldDevice | None] = {}
    for finding in findings:
        if finding.instrument not in devices:
            devices[finding.instrument] = session.scalar(
                select(FieldDevice).where(FieldDevice.device_id == finding.instrument, FieldDevice.deleted_at.is_(None))
            )
        device = devices[finding.instrument]
        if device is None:
            unknown.add(finding.instrument)
            continue
        when = finding.time.astimezone(UTC)
        day = datetime.combine(when.date(), time(), tzinfo=UTC)
        key = alert_key(device.device_id, finding.detector, day)
        data = finding.to_json()
        alert = session.scalar(select(FieldAlert).where(FieldAlert.alert_key == key))
        if alert is None:
            alert = FieldAlert(
                alert_key=key,
                organisation_id=device.organisation_id,
                device_pk=device.id,
                device_id=device.device_id,
                detector=finding.detector,
                window_start=day,
                window_end=day + timedelta(days=1),
                severity="high" if finding.rule in HIGH_RULES else "medium",
                state="open",
                note="",
                finding_count=1,
                findings=[data],
            )
            session.add(alert)
            session.flush()
            audit.record(
                session,
                actor=actor,
                action="alert.open",
                entity=ENTITY,
                entity_id=alert.id,
                organisation_id=alert.organisation_id,
                new={"key": key, "device": device.device_id, "detector": finding.detector, "rule": finding.rule},
            )
            created += 1
            continue
        known = {(f["rule"], tuple(f["seqs"])) for f in alert.findings}
        if (finding.rule, finding.seqs) in known:
            unchanged += 1
            continue
        alert.findings = [*alert.findings, data]
        alert.finding_count = len(alert.findings)
        if finding.rule in HIGH_RULES:
            alert.severity = "high"
        alert.updated_at = utcnow()
        updated += 1
    session.flush()
    return RecordResult(created, updated, unchanged, tuple(sorted(unknown)))


def _visible(session: Session, principal: Principal, alert_id: int) -> FieldAlert:
    principal.require(Permission.READ)
    alert = session.get(FieldAlert, alert_id)
    if alert is None or not principal.sees(alert.organisation_id):
        raise NotFoundError("alert", alert_id)
    return alert


def get_alert(session: Session, principal: Principal, alert_id: int) -> FieldAlert:
    """One alert in the principal's scope (else :class:`NotFoundError`)."""
    return _visible(session, principal, alert_id)


def list_alerts(
    session: Session, principal: Principal, *, state: str | None = None, limit: int = 100, offset: int = 0
) -> Sequence[FieldAlert]:
    """Alerts in scope, newest first, optionally in one state."""
    principal.require(Permission.READ)
    query = select(FieldAlert).order_by(FieldAlert.window_start.desc(), FieldAlert.id.desc())
    visible = principal.visible_organisations()
    if visible is not None:
        query = query.where(FieldAlert.organisation_id.in_(visible))
    if state is not None:
        if state not in STATES:
            raise InputError("state", f"must be one of {', '.join(STATES)}")
        query = query.where(FieldAlert.state == state)
    return session.scalars(query.limit(limit).offset(offset)).all()


def transition(
    session: Session, principal: Principal, alert_id: int, *, to: str, reason: str | None = None, note: str = ""
) -> FieldAlert:
    """Move an alert to ``to`` (see the module docstring); the caller commits."""
    alert = _visible(session, principal, alert_id)
    if principal.role not in WORKFLOW_ROLES:
        raise PermissionDeniedError(f"role {principal.role} may not work on alerts")
    if to not in STATES:
        raise InputError("state", f"must be one of {', '.join(STATES)}")
    if to not in NEXT[alert.state]:
        raise ConflictError(f"alert {alert.id} is {alert.state}: cannot go to {to}", code="invalid_transition")
    if to == "closed":
        if reason not in REASONS:
            raise InputError("reason", f"closing needs one of {', '.join(REASONS)}")
    elif reason is not None:
        raise InputError("reason", "only a closing transition takes a reason")
    old = {"state": alert.state, "closure_reason": alert.closure_reason}
    alert.state = to
    alert.closure_reason = reason
    if note:
        alert.note = note
    alert.updated_at = utcnow()
    audit.record(
        session,
        actor=principal.actor,
        action=f"alert.{to}",
        entity=ENTITY,
        entity_id=alert.id,
        organisation_id=alert.organisation_id,
        old=old,
        new={"state": to, "closure_reason": reason, "note": note},
    )
    session.flush()
    return alert


def _profile(session: Session, device: FieldDevice) -> InstrumentProfile:
    instrument = session.get(Instrument, device.instrument_id)
    if instrument is None:
        raise NotFoundError("instrument", device.instrument_id)
    orders = session.scalars(select(FieldWorkOrder).where(FieldWorkOrder.device_pk == device.id)).all()
    windows = tuple(
        WorkOrderWindow(w.opened_at, w.closed_at or w.opened_at + timedelta(days=1), w.authorised_by) for w in orders
    )
    return InstrumentProfile(
        device.device_id,
        "weighbridge" if device.site_kind == "weighbridge" else "market",
        str(instrument.max_kg),
        str(instrument.e_kg),
        accuracy_class=instrument.accuracy_class,
        work_orders=windows,
    )


def device_profiles(session: Session, *, organisation_id: int | None = None) -> list[InstrumentProfile]:
    """The detector profile of every registered field device (of one organisation where given): what the
    JetStream detector workers read from their bucket (``hengqi field stream-sync``)."""
    query = select(FieldDevice).where(FieldDevice.deleted_at.is_(None)).order_by(FieldDevice.id)
    if organisation_id is not None:
        query = query.where(FieldDevice.organisation_id == organisation_id)
    return [_profile(session, device) for device in session.scalars(query).all()]


def detect_stored(
    session: Session,
    *,
    actor: Actor,
    device_ids: Sequence[str] | None = None,
    organisation_id: int | None = None,
    batch: int = 5000,
) -> RecordResult:
    """Run every detector over the stored events of each field device (seq order, in batches of ``batch`` events,
    the detector state carried between batches) and record the findings as alerts; the caller commits.
    ``organisation_id`` limits the run to that organisation's devices.

    The run starts from an empty state each time; idempotent alert keys make a second run add nothing.  An open
    work order (no closing time) is taken to cover one day from its opening.
    """
    query = select(FieldDevice).where(FieldDevice.deleted_at.is_(None)).order_by(FieldDevice.id)
    if device_ids is not None:
        query = query.where(FieldDevice.device_id.in_(list(device_ids)))
    if organisation_id is not None:
        query = query.where(FieldDevice.organisation_id == organisation_id)
    totals = RecordResult(0, 0, 0, ())
    for device in session.scalars(query).all():
        profile = _profile(session, device)
        states = None
        after = -1
        while True:
            rows = session.scalars(
                select(FieldEvent)
                .where(FieldEvent.device_pk == device.id, FieldEvent.seq > after)
                .order_by(FieldEvent.seq)
                .limit(batch)
            ).all()
            if not rows:
                break
            after = rows[-1].seq
            events = [
                TelemetryEvent.model_validate(
                    {"instrument": device.device_id, "seq": r.seq, "time": r.event_time, "body": r.body}
                )
                for r in rows
            ]
            states, found = run_instrument(profile, events, states)
            result = record_findings(session, found, actor=actor)
            totals = RecordResult(
                totals.created + result.created,
                totals.updated + result.updated,
                totals.unchanged + result.unchanged,
                totals.unknown_devices,
            )
    return totals
