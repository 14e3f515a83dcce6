"""Administrative data of a calibration certificate, as a laboratory writes it in ``ADMIN.yaml``.

The fields follow what ISO/IEC 17025:2017, 7.8.2.1 and 7.8.4.1 require a calibration certificate to state
(title, laboratory name and address, a unique identification, customer, item identification, dates of
performance and issue, method, conditions, traceability, the persons authorising the certificate), mapped onto the
DCC 3.3.0 ``administrativeData`` (PTB ``dcc.xsd`` 3.3.0: ``coreData``, ``items``, ``calibrationLaboratory``,
``respPersons``, ``customer``, ``statements``).  ISO/IEC 17025's text was read only through secondary summaries
(SECONDARY).

Texts may be a plain string (English) or a mapping of ISO 639-1 language codes to strings; English is required,
Chinese (``zh``) is written wherever the schema allows a language (``dcc:content/@lang``).

>>> admin = AdministrativeData.model_validate(EXAMPLE)
>>> admin.item.max_kg, admin.item.d_kg, admin.laboratory.name.get("zh")
(Decimal('0.220'), Decimal('1E-7'), '衡器校准实验室')
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from hengqi.errors import InputError, RecordError
from hengqi.metrology.quantities import parse_mass
from hengqi.records.fields import refuse_unwritable_text
from hengqi.records.loading import field_path, parse_yaml_text

__all__ = [
    "EXAMPLE",
    "Address",
    "AdministrativeData",
    "CertificateInfo",
    "ConformityRequest",
    "Identification",
    "InfluenceConditionText",
    "Item",
    "Laboratory",
    "Method",
    "Party",
    "Person",
    "Statement",
    "Text",
    "load_admin",
]


def _to_text(value: object) -> object:
    if isinstance(value, str):
        return {"en": value}
    return value


def _check_text(value: dict[str, str]) -> dict[str, str]:
    if "en" not in value:
        raise ValueError("an English text ('en') is required")
    for lang, text in value.items():
        if len(lang) != 2 or not lang.isalpha() or not lang.islower():
            raise ValueError(f"language {lang!r} is not a two-letter lowercase ISO 639-1 code")
        if not text.strip():
            raise ValueError(f"text for {lang!r} is empty")
    return value


#: A text in one or more languages: ``"Balance"`` or ``{"en": "Balance", "zh": "天平"}``.
Text = Annotated[dict[str, str], BeforeValidator(_to_text)]


def _mass(value: object) -> Decimal:
    try:
        return parse_mass(value)
    except InputError as err:
        raise ValueError(err.reason) from err


Mass = Annotated[Decimal, BeforeValidator(_mass)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    _text = field_validator("*", mode="after")(refuse_unwritable_text)  # texts go into DCC XML

    @field_validator("*", mode="after")
    @classmethod
    def _no_empty_items(cls, value: Any) -> Any:
        if isinstance(value, tuple) and any(isinstance(item, str) and not item for item in value):
            raise ValueError("an entry of this list is empty")
        return value


class Address(_Model):
    """A postal address (DCC ``locationType``)."""

    street: str | None = None
    street_no: str | None = None
    post_code: str | None = None
    city: str
    state: str | None = None
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code")


class Party(_Model):
    """A customer or owner (DCC ``contactType``: name and location required)."""

    name: Text
    email: str | None = None
    phone: str | None = None
    address: Address

    _v = field_validator("name")(_check_text)


class Laboratory(Party):
    """The calibration laboratory; ``accreditation`` is its accreditation code (``calibrationLaboratoryCode``)."""

    accreditation: str | None = None
    accreditation_body: str | None = None
    link: str | None = None


class Identification(_Model):
    """One identification of the item (DCC ``identificationType``)."""

    issuer: Literal["manufacturer", "calibrationLaboratory", "customer", "owner", "other"]
    value: str = Field(min_length=1)
    name: Text

    _v = field_validator("name")(_check_text)


class Item(_Model):
    """The instrument calibrated: name, manufacturer, model, identifications and its metrological characteristics
    (Max, d, e, accuracy class as marked; OIML R 76-1:2006, 7.1)."""

    name: Text = Field(default_factory=lambda: {"en": "Non-automatic weighing instrument", "zh": "非自动衡器"})
    manufacturer: str | None = None
    model: str | None = None
    serial_number: str | None = None
    identifications: tuple[Identification, ...] = ()
    max_kg: Mass = Field(alias="max")
    d_kg: Mass = Field(alias="d")
    e_kg: Mass | None = Field(default=None, alias="e")
    min_kg: Mass | None = Field(default=None, alias="min")
    accuracy_class: Literal["I", "II", "III", "IIII"] | None = Field(default=None, alias="class")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    _v = field_validator("name")(_check_text)

    @model_validator(mode="after")
    def _identified(self) -> Item:
        if not self.serial_number and not self.identifications:
            raise ValueError("give serial_number or at least one identification (DCC requires an identification)")
        if self.d_kg <= 0 or self.max_kg <= 0:
            raise ValueError("max and d must be positive")
        if self.d_kg > self.max_kg:
            raise ValueError("d must not exceed max")
        return self


class Person(_Model):
    """A person responsible for the certificate (``respPerson``); exactly one is the main signer."""

    name: str = Field(min_length=1)
    role: Text | None = None
    email: str | None = None
    main_signer: bool = False


class Method(_Model):
    """A method used (``usedMethod``) with the normative documents it follows."""

    name: Text
    norms: tuple[str, ...] = ()
    description: Text | None = None

    _v = field_validator("name")(_check_text)


class InfluenceConditionText(_Model):
    """A condition stated in words (e.g. the place of installation); measured environment comes from the record."""

    name: Text
    text: Text


class Statement(_Model):
    """A statement on the certificate (``statement``); ``conformity`` makes it a conformity statement."""

    text: Text
    norms: tuple[str, ...] = ()
    conformity: Literal["pass", "fail", "conditionalPass", "conditionalFail", "noPass", "noFail"] | None = None
    traceable: bool | None = None
    ref_type: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")

    _v = field_validator("text")(_check_text)


class ConformityRequest(_Model):
    """Ask for a statement of conformity of the errors of indication with the MPE (see
    :mod:`hengqi.certificates.conformity`): the verification stage and the rule set."""

    stage: Literal["initial", "subsequent", "in-service"] = "initial"
    rules: str = "oiml-r76"


class CertificateInfo(_Model):
    """Core data: the unique identifier, dates, place, country and languages."""

    number: str = Field(min_length=1, pattern=r"^\S(.*\S)?$")
    issue_date: date
    receipt_date: date | None = None
    begin_date: date | None = None
    end_date: date | None = None
    performance_location: Literal["laboratory", "customer", "laboratoryBranch", "customerBranch", "other"] = "customer"
    country: str = Field(default="CN", pattern=r"^[A-Z]{2}$")
    languages: tuple[str, ...] = ("en", "zh")
    mandatory_languages: tuple[str, ...] = ("en",)
    title: Text = Field(default_factory=lambda: {"en": "Calibration Certificate", "zh": "校准证书"})

    @model_validator(mode="after")
    def _dates(self) -> CertificateInfo:
        if self.begin_date and self.end_date and self.end_date < self.begin_date:
            raise ValueError("end_date is before begin_date")
        if self.end_date and self.issue_date < self.end_date:
            raise ValueError("issue_date is before the end of the calibration")
        if not set(self.mandatory_languages) <= set(self.languages):
            raise ValueError("mandatory_languages must be among languages")
        return self


class AdministrativeData(_Model):
    """Everything a certificate states besides the results (``ADMIN.yaml``)."""

    certificate: CertificateInfo
    laboratory: Laboratory
    customer: Party
    item: Item
    persons: tuple[Person, ...] = Field(min_length=1)
    methods: tuple[Method, ...] = ()
    conditions: tuple[InfluenceConditionText, ...] = ()
    statements: tuple[Statement, ...] = ()
    conformity: ConformityRequest | None = None
    traceability: Text = Field(
        default_factory=lambda: {
            "en": "The results are traceable to the SI through the reference weights used, which are calibrated "
            "against national standards.",
            "zh": "测量结果通过所用参考砝码溯源至国际单位制（SI），砝码已由国家计量基准校准。",
        }
    )

    @field_validator("persons")
    @classmethod
    def _one_main_signer(cls, persons: tuple[Person, ...]) -> tuple[Person, ...]:
        signers = [p for p in persons if p.main_signer]
        if len(signers) != 1:
            raise ValueError(f"exactly one person must be main_signer (found {len(signers)})")
        return persons

    @property
    def main_signer(self) -> Person:
        return next(p for p in self.persons if p.main_signer)


def admin_from_mapping(data: Any, *, source: str = "admin") -> AdministrativeData:
    """Validate a parsed ``ADMIN.yaml`` mapping; :class:`RecordError` names the first bad field's path."""
    if not isinstance(data, dict):
        raise RecordError(source, "expected a mapping at the top level")
    try:
        return AdministrativeData.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        path = field_path(tuple(first["loc"])) or source
        message = first["msg"].replace("\r", "\\r").replace("\n", "\\n")  # one line, whatever the input held
        message = message.removeprefix("Value error, ")
        raise RecordError(path, message, details={"errors": len(err.errors()), "file": source}) from err


def load_admin(path: str | os.PathLike[str]) -> AdministrativeData:
    """Read and validate ``ADMIN.yaml``; :class:`RecordError` for a missing file, bad YAML or a bad field.

    The YAML is parsed like every record file (:func:`hengqi.records.loading.parse_yaml_text`): duplicate keys,
    alias bombs and over-deep nesting are refused, and a syntax error names its line and column on one line.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise RecordError(str(file), "no such file") from err
    except UnicodeDecodeError as err:
        raise RecordError(str(file), f"cannot read: not UTF-8 text (byte {err.start})") from err
    except OSError as err:
        raise RecordError(str(file), f"cannot read: {err.strerror or err}") from err
    try:
        data = parse_yaml_text(text, source=str(file))
    except RecordError as err:
        raise RecordError(str(file), f"not valid YAML: {err.reason}") from err
    return admin_from_mapping(data, source=str(file))


#: A complete example (also ``examples/certificates/ADMIN.yaml``).
EXAMPLE: dict[str, Any] = {
    "certificate": {"number": "HQ-2026-0001", "issue_date": "2026-11-20"},
    "laboratory": {
        "name": {"en": "Hengqi Weighing Calibration Laboratory", "zh": "衡器校准实验室"},
        "accreditation": "CNAS L0000",
        "address": {"city": "Hangzhou", "country": "CN"},
    },
    "customer": {"name": "Example Pharma Co., Ltd.", "address": {"city": "Shanghai", "country": "CN"}},
    "item": {"serial_number": "SN-1", "max": "220 g", "d": "0.1 mg"},
    "persons": [{"name": "Li Wei", "main_signer": True}],
}
