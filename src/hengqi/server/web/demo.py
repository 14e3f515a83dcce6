"""The demo fleet of ``hengqi serve --demo``: simulated instruments served in-process on loopback, connected.

:func:`hengqi.server.demo.seed` makes the demo organisation, its users and a few instruments; this adds (once)
three instruments that answer on the wire, each simulated by :mod:`hengqi.instruments.simulator`:

* an analytical balance, class I, Max 220 g, e = 1 mg, d = 0.1 mg (MT-SICS), with an E2 weight set 10 g ... 200 g;
* a retail scale, class III, Max 15 kg, e = 5 g (Sartorius SBI), with an M1 set 100 g ... 10 kg;
* a truck scale, class III, Max 60 t, e = 20 kg (Toledo continuous output), with an M1 weighbridge test set
  10 kg ... 1 t (13.1 t: larger loads by substitution);

and at every start serves them on free loopback ports and records their URLs (and the simulators' control
channels, which put the loads on them when the technician confirms a step).  A test signing key for the
laboratory is made in ``DATA_DIR/signing/`` (a TEST key: not for real certificates).
The weights' corrections and uncertainties are illustrative values, not data of real weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hengqi.instruments.fleet import InstrumentConfig, start_instrument
from hengqi.instruments.simulator import Simulator
from hengqi.server.db.engine import Database
from hengqi.server.db.models import Customer, Instrument, Organisation, User
from hengqi.server.demo import DEMO_ORGANISATION
from hengqi.server.permissions import Principal, Role
from hengqi.server.schemas.registry import CustomerCreate, InstrumentCreate, WeightCreate, WeightSetCreate
from hengqi.server.services import guided_runs, registry


@dataclass(frozen=True, slots=True)
class DemoInstrument:
    serial: str
    make: str
    model: str
    accuracy_class: str
    spec: dict[str, Decimal]
    simulator: dict[str, Any]
    weight_set: str
    weight_class: str
    weights: tuple[tuple[str, Decimal, Decimal, Decimal], ...]  # identifier, nominal kg, correction kg, U kg


def _g(text: str) -> Decimal:
    return Decimal(text) / 1000


#: The truck scale's weighbridge test set (M1, OIML R 111-1:2004): 12 x 1 t and 500, 200, 200, 100, 50, 20, 20,
#: 10 kg, 13.1 t in all.  It makes up Min (400 kg), 10 e (200 kg) and the discrimination loads; the loads above
#: 13.1 t (>= Max/5) are built by substitution.  Corrections within the R 111 M1 MPEs (1 t: 50 g, 500 kg: 25 g,
#: 200 kg: 10 g, 100 kg: 5 g, 50 kg: 2.5 g, 20 kg: 1 g, 10 kg: 0.5 g) and U about a third of them: illustrative.
_WEIGHBRIDGE_SET: tuple[tuple[str, Decimal, Decimal, Decimal], ...] = (
    *((f"M1-1t-{n:02d}", Decimal(1000), Decimal("0.005") * (n % 7 - 3), Decimal("0.015")) for n in range(1, 13)),
    ("M1-500kg", Decimal(500), Decimal("0.008"), Decimal("0.008")),
    ("M1-200kg", Decimal(200), Decimal("-0.003"), Decimal("0.003")),
    ("M1-200kg*", Decimal(200), Decimal("0.002"), Decimal("0.003")),
    ("M1-100kg", Decimal(100), Decimal("0.0015"), Decimal("0.0015")),
    ("M1-50kg", Decimal(50), Decimal("-0.0008"), Decimal("0.0008")),
    ("M1-20kg", Decimal(20), Decimal("0.0003"), Decimal("0.0003")),
    ("M1-20kg*", Decimal(20), Decimal("-0.0002"), Decimal("0.0003")),
    ("M1-10kg", Decimal(10), Decimal("0.0001"), Decimal("0.00015")),
)

FLEET: tuple[DemoInstrument, ...] = (
    DemoInstrument(
        "SIM-BAL-0001",
        "Hengqi Sim",
        "Analytical balance AB 220",
        "I",
        {"max": _g("220"), "e": _g("0.001"), "d": _g("0.0001")},
        {
            "protocol": "mt-sics",
            "unit": "g",
            "seed": 11,
            "imperfections": {
                "span_error": 2.0e-6,
                "linearity": "0.15 mg",
                "repeatability": "0.05 mg",
                "eccentricity": [1.0e-6, -2.0e-6],
                "settling_s": 0.5,
                "stability_timeout_s": 6,
            },
        },
        "E2 set 10 g - 200 g (demo)",
        "E2",
        (
            ("E2-200g", _g("200"), _g("0.00006"), _g("0.0001")),
            ("E2-100g", _g("100"), _g("-0.0001"), _g("0.00005")),
            ("E2-50g", _g("50"), _g("0.00002"), _g("0.00003")),
            ("E2-20g", _g("20"), _g("-0.00001"), _g("0.000025")),
            ("E2-20g*", _g("20"), _g("0.00001"), _g("0.000025")),
            ("E2-10g", _g("10"), _g("0.000005"), _g("0.00002")),
        ),
    ),
    DemoInstrument(
        "SIM-RET-0001",
        "Hengqi Sim",
        "Retail scale RS 15",
        "III",
        {"max": Decimal("15"), "e": _g("5")},
        {
            "protocol": "sbi",
            "unit": "kg",
            "seed": 12,
            "imperfections": {
                "linearity": "1 g",
                "repeatability": "0.5 g",
                "eccentricity": [2.0e-4, 1.0e-4],
                "settling_s": 0.4,
            },
        },
        "M1 set 100 g - 10 kg (demo)",
        "M1",
        (
            ("M1-10kg", Decimal("10"), _g("0.2"), _g("0.5")),
            ("M1-5kg", Decimal("5"), _g("-0.1"), _g("0.25")),
            ("M1-2kg", Decimal("2"), _g("0.05"), _g("0.1")),
            ("M1-2kg*", Decimal("2"), _g("-0.05"), _g("0.1")),
            ("M1-1kg", Decimal("1"), _g("0.02"), _g("0.05")),
            ("M1-500g", _g("500"), _g("0.01"), _g("0.025")),
            ("M1-200g", _g("200"), _g("0.005"), _g("0.01")),
            ("M1-200g*", _g("200"), _g("-0.005"), _g("0.01")),
            ("M1-100g", _g("100"), _g("0.002"), _g("0.005")),
        ),
    ),
    DemoInstrument(
        "SIM-TRK-0001",
        "Hengqi Sim",
        "Truck scale TS 60",
        "III",
        {"max": Decimal("60000"), "e": Decimal("20")},
        {
            "protocol": "toledo-continuous",
            "unit": "kg",
            "seed": 13,
            "imperfections": {"span_error": -1.0e-4, "eccentricity": [5.0e-4, 2.0e-4], "settling_s": 0.8},
        },
        "M1 test weights 10 kg - 1 t, 13.1 t (demo)",
        "M1",
        _WEIGHBRIDGE_SET,
    ),
)


@dataclass(slots=True)
class DemoFleet:
    """The running simulators of the demo (kept alive as long as this object)."""

    simulators: list[tuple[str, Simulator]]
    signing_dir: Path | None

    def describe(self) -> list[str]:
        lines = [f"demo instrument: {label:<40} {sim.url}" for label, sim in self.simulators]
        if self.signing_dir is not None:
            lines.append(f"demo signing key (TEST only): {self.signing_dir}")
        return lines

    def stop(self) -> None:
        for _label, simulator in self.simulators:
            simulator.stop()


def _demo_actor(session: Any) -> tuple[int, Principal] | None:
    org = session.scalar(select(Organisation).where(Organisation.name == DEMO_ORGANISATION))
    if org is None:
        return None
    admin = session.scalar(select(User).where(User.organisation_id == org.id, User.role == Role.ADMIN.value))
    if admin is None:
        return None
    return org.id, Principal(admin.id, admin.username, Role.ADMIN, org.id)


#: The demo instruments' owner, named on their certificates.
DEMO_CUSTOMER = CustomerCreate(
    name="Demo Pharma Co., Ltd., QC laboratory",
    name_zh="示例制药有限公司质量控制实验室",
    street="Zhangjiang Road",
    street_no="1",
    post_code="201203",
    city="Shanghai",
    country="CN",
)


def _ensure_customer(session: Any, actor: Principal, org_id: int) -> int:
    found = session.scalar(
        select(Customer.id).where(Customer.organisation_id == org_id, Customer.name == DEMO_CUSTOMER.name)
    )
    if found is not None:
        return int(found)
    return int(registry.create_customer(session, actor, DEMO_CUSTOMER).id)


def _ensure_instrument(session: Any, actor: Principal, org_id: int, item: DemoInstrument) -> int:
    found = session.scalar(
        select(Instrument.id).where(Instrument.organisation_id == org_id, Instrument.serial == item.serial)
    )
    if found is not None:
        return int(found)
    today = date.today()
    owner_id = _ensure_customer(session, actor, org_id)
    instrument = registry.create_instrument(
        session,
        actor,
        InstrumentCreate(
            make=item.make,
            model=item.model,
            serial=item.serial,
            accuracy_class=item.accuracy_class,
            owner_id=owner_id,
            verification_due=today + timedelta(days=12),
            calibration_due=today - timedelta(days=3) if item.accuracy_class == "I" else today + timedelta(days=90),
            **item.spec,
        ),
    )
    weight_set = registry.create_weight_set(
        session,
        actor,
        WeightSetCreate(
            name=item.weight_set,
            weight_class=item.weight_class,
            certificate_number=f"DEMO-{item.weight_class}-{item.serial[-4:]}",
            calibrated_on=today - timedelta(days=200),
            due_date=today + timedelta(days=165),
        ),
    )
    for identifier, nominal, correction, u in item.weights:
        registry.create_weight(
            session,
            actor,
            weight_set.id,
            WeightCreate(identifier=identifier, nominal=nominal, correction=correction, u=u, k=Decimal(2)),
        )
    return int(instrument.id)


def _simulator_config(item: DemoInstrument) -> InstrumentConfig:
    data: dict[str, Any] = {
        "name": item.serial,
        "class": item.accuracy_class,
        "max": f"{item.spec['max']} kg",
        "e": f"{item.spec['e']} kg",
        "serial": item.serial,
        "model": item.model,
        **item.simulator,
    }
    if "d" in item.spec:
        data["d"] = f"{item.spec['d']} kg"
    return InstrumentConfig.model_validate(data)


def _signing_keys(data_dir: Path) -> Path | None:
    from hengqi.certificates.signing import make_test_keys

    folder = data_dir / "signing"
    if (folder / "signer-key.pem").is_file():
        return folder
    make_test_keys(folder, cn="Demo authorised signatory (TEST)", org=DEMO_ORGANISATION)
    return folder


def start_demo_fleet(database: Database, data_dir: Path, *, sign: bool = True) -> DemoFleet:
    """Seed the simulated instruments of the demo organisation (once), start their simulators, connect them."""
    started: list[tuple[str, Simulator]] = []
    with database.write_session() as session:
        found = _demo_actor(session)
        if found is None:
            return DemoFleet([], None)
        org_id, actor = found
        org = session.get(Organisation, org_id)
        if org is not None and not org.instrument_hosts:  # a demo store made before host allow-lists existed
            org.instrument_hosts = "127.0.0.1"  # the simulators listen on the loopback interface
        try:
            for item in FLEET:
                instrument_id = _ensure_instrument(session, actor, org_id, item)
                simulator = start_instrument(_simulator_config(item))
                started.append((f"{item.model} ({item.serial})", simulator))
                guided_runs.set_connection(session, actor, instrument_id, simulator.url, simulator.control_url or "")
            session.commit()
        except BaseException:
            for _label, simulator in started:
                simulator.stop()
            raise
    return DemoFleet(started, _signing_keys(data_dir) if sign else None)
