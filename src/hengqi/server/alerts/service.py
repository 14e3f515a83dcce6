"""Alert services: store detector findings as alerts (idempotently), list and read them in scope, move them through
the workflow, and run the detectors over the field events stored by the ingest.

Alert identity: ``alert_key = SHA-256(device id | detector | UTC day of the finding)``; findings of one instrument
and detector on one day are one alert (an episode), so that replaying the same events, or running the detectors
again over stored events, adds nothing twice (findings inside an alert are kept once per (rule, seqs)).

Workflow: ``new -> acknowledged -> inspection_ordered -> closed``; ``closed`` may be reached from any earlier state
and needs a finding: ``confirmed_fraud``, ``fault`` or ``false_alarm``.  Ordering an inspection opens a verification
run on the alert's instrument (status ``open``, in the instrument's organisation, for its technicians to record;
``performed_by`` is who ordered it until then) and links it to the alert.  Only the quality manager of the
instrument's organisation and a regulator granted that organisation may move an alert; everyone who may read the
organisation may read its alerts; another organisation's alert is "not found".  Every creation and transition is
an entry in the audit trail, with the old and new state (and the run an inspection order opened).

Closed alerts measure each detector: :func:`precision` counts, per detector, the alerts closed as confirmed fraud
or fault (the detector was right that something was wrong) against those closed as false alarms.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server import audit
from hengqi.server.alerts.models import FieldAlert
from hengqi.server.audit import Actor
from hengqi.server.db.models import Instrument, Run
from hengqi.server.db.types import utcnow
from hengqi.server.errors import ConflictError, NotFoundError, PermissionDeniedError
from hengqi.server.field.curves import CurveStore
from hengqi.server.field.models import FieldDevice, FieldEvent, FieldWorkOrder
from hengqi.server.permissions import Permission, Principal, Role
from hengqi.supervision.detectors import Finding
from hengqi.supervision.detectors.fleet import InstrumentProfile, run_instrument
from hengqi.supervision.detectors.seal import WorkOrderWindow
from hengqi.supervision.telemetry import TelemetryEvent

STATES: Final = ("new", "acknowledged", "inspection_ordered", "closed")
REASONS: Final = ("confirmed_fraud", "fault", "false_alarm")
SEVERITIES: Final = ("high", "medium")
NEXT: Final[dict[str, frozenset[str]]] = {
    "new": frozenset({"acknowledged", "closed"}),
    "acknowledged": frozenset({"inspection_ordered", "closed"}),
    "inspection_ordered": frozenset({"closed"}),
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
        "axle_side_imbalance",
        "not_at_rest",
        "weight_added_on_key",
        "zero_offset_step",
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
                state="new",
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


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """What the queue is narrowed to (None: any)."""

    state: str | None = None
    region: str | None = None
    site: str | None = None
    detector: str | None = None
    severity: str | None = None


def list_alerts(
    session: Session,
    principal: Principal,
    *,
    state: str | None = None,
    where: AlertFilter | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[FieldAlert]:
    """Alerts in scope, newest first, narrowed by ``where`` (state, region code, site = the device's group,
    detector, severity)."""
    principal.require(Permission.READ)
    f = where or AlertFilter(state=state)
    if state is not None and f.state is None:
        f = AlertFilter(state, f.region, f.site, f.detector, f.severity)
    query = (
        select(FieldAlert)
        .join(FieldDevice, FieldDevice.id == FieldAlert.device_pk)
        .order_by(FieldAlert.window_start.desc(), FieldAlert.id.desc())
    )
    visible = principal.visible_organisations()
    if visible is not None:
        query = query.where(FieldAlert.organisation_id.in_(visible))
    if f.state is not None:
        if f.state not in STATES:
            raise InputError("state", f"must be one of {', '.join(STATES)}")
        query = query.where(FieldAlert.state == f.state)
    if f.severity is not None:
        if f.severity not in SEVERITIES:
            raise InputError("severity", f"must be one of {', '.join(SEVERITIES)}")
        query = query.where(FieldAlert.severity == f.severity)
    if f.detector is not None:
        query = query.where(FieldAlert.detector == f.detector)
    if f.region is not None:
        query = query.where(FieldDevice.region_code == f.region)
    if f.site is not None:
        query = query.where(FieldDevice.group_id == f.site)
    return session.scalars(query.limit(limit).offset(offset)).all()


@dataclass(frozen=True, slots=True)
class Precision:
    """Closed alerts of one detector by finding, and the precision they measure (None before any is closed)."""

    detector: str
    confirmed_fraud: int
    fault: int
    false_alarm: int

    @property
    def closed(self) -> int:
        return self.confirmed_fraud + self.fault + self.false_alarm

    @property
    def precision(self) -> float | None:
        return (self.confirmed_fraud + self.fault) / self.closed if self.closed else None


def precision(session: Session, principal: Principal) -> tuple[Precision, ...]:
    """Per detector, the closed alerts in the principal's scope by finding: precision = (confirmed fraud + fault) /
    closed.  A fault is a true alarm: the instrument was wrong, though nobody cheated."""
    principal.require(Permission.READ)
    query = (
        select(FieldAlert.detector, FieldAlert.closure_reason, func.count())
        .where(FieldAlert.state == "closed")
        .group_by(FieldAlert.detector, FieldAlert.closure_reason)
    )
    visible = principal.visible_organisations()
    if visible is not None:
        query = query.where(FieldAlert.organisation_id.in_(visible))
    counts: dict[str, dict[str, int]] = {}
    for detector, reason, n in session.execute(query).all():
        counts.setdefault(detector, {})[str(reason)] = int(n)
    return tuple(
        Precision(d, c.get("confirmed_fraud", 0), c.get("fault", 0), c.get("false_alarm", 0))
        for d, c in sorted(counts.items())
    )


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
    new: dict[str, object] = {"state": to, "closure_reason": reason, "note": note}
    if to == "inspection_ordered":
        run = _order_inspection(session, principal, alert, note)
        alert.inspection_run_id = run.id
        new["inspection_run_id"] = run.id
    alert.state = to
    alert.closure_reason = reason
    if note:
        alert.note = note
    alert.updated_at = utcnow()
    audit.record(
        session,
        actor=principal.actor,
        action="alert.inspect" if to == "inspection_ordered" else f"alert.{to}",  # actions are at most 20 chars
        entity=ENTITY,
        entity_id=alert.id,
        organisation_id=alert.organisation_id,
        old=old,
        new=new,
    )
    session.flush()
    return alert


def _order_inspection(session: Session, principal: Principal, alert: FieldAlert, note: str) -> Run:
    """An open verification run on the alert's instrument, in the instrument's organisation, audited."""
    device = session.get(FieldDevice, alert.device_pk)
    instrument = session.get(Instrument, device.instrument_id) if device is not None else None
    if device is None or instrument is None:
        raise NotFoundError("instrument of alert", alert.id)
    run = Run(
        organisation_id=instrument.organisation_id,
        instrument_id=instrument.id,
        kind="verification",
        status="open",
        performed_by_id=principal.user_id,
        performed_on=utcnow().date(),
        raw_data={},
        results={},
        weight_ids=[],
        flags=[],
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="run.inspection_order",
        entity="run",
        entity_id=run.id,
        organisation_id=run.organisation_id,
        new={"kind": "verification", "status": "open", "instrument_id": instrument.id, "alert_id": alert.id,
             "note": note},
    )  # fmt: skip
    return run


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


def _body(row: FieldEvent, device: FieldDevice, curves: CurveStore | None) -> dict[str, object]:
    """The stored body, with a passage's samples back in place of the Parquet reference the ingest left."""
    body = dict(row.body)
    if body.get("kind") != "passage" or "curve_file" not in body:
        return body
    reference = body.pop("curve_file")
    body.pop("samples", None)
    curve = curves.curve(str(reference), device.device_id, row.seq) if curves is not None else None
    if curve is None:
        body["curve_kg"] = [float(body.get("gross_kg", 0))]
        body["cells_kg"] = []
    else:
        body["curve_kg"] = list(curve.weight_kg)
        body["cells_kg"] = [list(c) for c in curve.cells_kg]
    return body


def detect_stored(
    session: Session,
    *,
    actor: Actor,
    device_ids: Sequence[str] | None = None,
    organisation_id: int | None = None,
    batch: int = 5000,
    curves: CurveStore | None = None,
) -> RecordResult:
    """Run every detector over the stored events of each field device (seq order, in batches of ``batch`` events,
    the detector state carried between batches) and record the findings as alerts; the caller commits.
    ``organisation_id`` limits the run to that organisation's devices.

    The run starts from an empty state each time; idempotent alert keys make a second run add nothing.  An open
    work order (no closing time) is taken to cover one day from its opening.  Passages whose samples the ingest
    moved to Parquet are read back from ``curves``; without it, or where the file is gone (retention), the passage
    keeps only its registered weights (a one-sample curve: the curve rules cannot fire on it, the tare rule can).
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
                    {
                        "instrument": device.device_id,
                        "seq": r.seq,
                        "time": r.event_time,
                        "body": _body(r, device, curves),
                    }
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
