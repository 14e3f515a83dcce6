"""Demonstration data for ``hengqi serve --demo``: an organisation, one user per role, instruments and weights.

Passwords are random and printed once by the command line.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from hengqi.server.db.engine import Database
from hengqi.server.db.models import Organisation, User
from hengqi.server.permissions import Principal, Role
from hengqi.server.schemas.accounts import UserCreate
from hengqi.server.schemas.registry import (
    InstrumentCreate,
    LaboratoryCreate,
    OrganisationCreate,
    RangeIn,
    SiteCreate,
    WeightCreate,
    WeightSetCreate,
)
from hengqi.server.services import accounts, registry

DEMO_ORGANISATION = "Demo Weighing Services"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role
    password: str


def seed(database: Database) -> list[DemoAccount]:
    """Add the demo data unless present; returns the accounts made (empty if the demo exists already)."""
    with database.write_session() as session:
        if session.scalar(select(Organisation.id).where(Organisation.name == DEMO_ORGANISATION)) is not None:
            return []
        org = accounts.create_organisation(
            session,
            accounts.SYSTEM,
            OrganisationCreate(
                name=DEMO_ORGANISATION,
                instrument_hosts=["127.0.0.1"],
                name_zh="演示衡器服务",
                street="Wensan Road",
                street_no="90",
                post_code="310012",
                city="Hangzhou",
                country="CN",
            ),
        )
        made = []
        for role in Role:
            name = f"demo-{role.value}"
            password = secrets.token_urlsafe(12)
            accounts.create_user(
                session,
                accounts.SYSTEM,
                UserCreate(
                    username=name, password=password, role=role, full_name=f"Demo {role.value}", organisation_id=org.id
                ),
            )
            made.append(DemoAccount(name, role, password))
        admin = session.scalar(select(User).where(User.username == "demo-admin"))
        if admin is None:  # pragma: no cover - made just above
            raise RuntimeError("demo admin missing")
        actor = Principal(admin.id, admin.username, Role.ADMIN, org.id)
        site = registry.create_site(
            session,
            actor,
            SiteCreate(
                name="Main laboratory",
                address="1 Scale Street",
                latitude=Decimal("31.2304"),
                longitude=Decimal("121.4737"),
            ),
        )
        specs = [
            ("Acme", "Counter 15", "III", {"max": Decimal("15"), "e": Decimal("0.005")}),
            ("Acme", "Lab 220", "II", {"max": Decimal("0.220"), "e": Decimal("0.00001"), "d": Decimal("0.000001")}),
            (
                "Acme",
                "Dual 6/15",
                "III",
                {
                    "kind": "multi-interval",
                    "ranges": [
                        RangeIn(max=Decimal(6), e=Decimal("0.002")),
                        RangeIn(max=Decimal(15), e=Decimal("0.005")),
                    ],
                },
            ),
        ]
        today = date.today()
        for index, (make, model, klass, spec) in enumerate(specs):
            registry.create_instrument(
                session,
                actor,
                InstrumentCreate(
                    make=make,
                    model=model,
                    serial=f"DEMO-{index + 1:04d}",
                    accuracy_class=klass,  # type: ignore[arg-type]
                    site_id=site.id,
                    verification_due=today + timedelta(days=30 * (index - 1)),
                    **spec,
                ),
            )
        lab = registry.create_laboratory(
            session, actor, LaboratoryCreate(name="National metrology institute (demo)", accreditation="CIPM MRA")
        )
        cal_lab = registry.create_laboratory(
            session,
            actor,
            LaboratoryCreate(
                name="Accredited mass laboratory (demo)", accreditation="ISO/IEC 17025", traceable_to_id=lab.id
            ),
        )
        weight_set = registry.create_weight_set(
            session,
            actor,
            WeightSetCreate(
                name="F1 set 1 mg - 5 kg",
                weight_class="F1",
                laboratory_id=cal_lab.id,
                certificate_number="DEMO-CAL-1",
                due_date=today + timedelta(days=180),
            ),
        )
        for nominal in ("5", "2", "1", "0.5"):
            registry.create_weight(
                session,
                actor,
                weight_set.id,
                WeightCreate(identifier=f"{nominal} kg", nominal=Decimal(nominal), u=Decimal("0.000008")),
            )
        session.commit()
        return made
