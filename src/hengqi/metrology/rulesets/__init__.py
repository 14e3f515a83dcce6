"""The registry of MPE rule sets: ``oiml-r76`` and ``jjg539`` ship; others are added as data.

>>> [rule_set.id for rule_set in rule_sets()]
['jjg539', 'oiml-r76']
>>> get_rule_set("hb44")
Traceback (most recent call last):
...
hengqi.errors.RuleSetError: rules: unknown rule set 'hb44' (known: jjg539, oiml-r76)

A national set is added without touching the engine::

    register_rule_set(rule_set_from_mapping(yaml.safe_load(text)))
"""

from __future__ import annotations

from typing import Final

from hengqi.errors import RuleSetError
from hengqi.metrology.rulesets.jjg539 import JJG_539
from hengqi.metrology.rulesets.model import (
    Band,
    ClassBands,
    EdgeConvention,
    RuleSet,
    Stage,
    parse_stage,
    rule_set_from_mapping,
)
from hengqi.metrology.rulesets.oiml_r76 import OIML_R76

__all__ = [
    "BUILT_IN",
    "DEFAULT_RULE_SET",
    "JJG_539",
    "OIML_R76",
    "Band",
    "ClassBands",
    "EdgeConvention",
    "RuleSet",
    "Stage",
    "get_rule_set",
    "parse_stage",
    "register_rule_set",
    "resolve_rule_set",
    "rule_set_from_mapping",
    "rule_sets",
    "unregister_rule_set",
]

DEFAULT_RULE_SET: Final = "oiml-r76"
#: The ids of the rule sets shipped with hengqi (cannot be replaced or removed).
BUILT_IN: Final = frozenset({OIML_R76.id, JJG_539.id})
_REGISTRY: dict[str, RuleSet] = {OIML_R76.id: OIML_R76, JJG_539.id: JJG_539}


def rule_sets() -> tuple[RuleSet, ...]:
    """Every registered rule set, sorted by id."""
    return tuple(_REGISTRY[key] for key in sorted(_REGISTRY))


def get_rule_set(rule_set_id: str) -> RuleSet:
    """The rule set with this id; :class:`RuleSetError` listing the known ids otherwise."""
    key = str(rule_set_id).strip().lower()
    if key in _REGISTRY:
        return _REGISTRY[key]
    known = ", ".join(sorted(_REGISTRY))
    raise RuleSetError("rules", f"unknown rule set {rule_set_id!r} (known: {known})")


def resolve_rule_set(rules: str | RuleSet) -> RuleSet:
    """A :class:`RuleSet` given itself or by id."""
    return rules if isinstance(rules, RuleSet) else get_rule_set(rules)


def register_rule_set(rule_set: RuleSet, *, replace: bool = False) -> RuleSet:
    """Add a rule set to the registry (``replace=True`` to replace a registered one; built-ins stay)."""
    if not isinstance(rule_set, RuleSet):
        raise RuleSetError("rule_set", f"expected a RuleSet, got {type(rule_set).__name__}")
    if rule_set.id in BUILT_IN:
        raise RuleSetError("id", f"{rule_set.id!r} is a built-in rule set and cannot be replaced")
    if rule_set.id in _REGISTRY and not replace:
        raise RuleSetError("id", f"a rule set {rule_set.id!r} is already registered")
    _REGISTRY[rule_set.id] = rule_set
    return rule_set


def unregister_rule_set(rule_set_id: str) -> None:
    """Remove a registered rule set (not a built-in one)."""
    if rule_set_id in BUILT_IN:
        raise RuleSetError("id", f"{rule_set_id!r} is a built-in rule set and cannot be removed")
    if rule_set_id not in _REGISTRY:
        raise RuleSetError("id", f"no rule set {rule_set_id!r} is registered")
    del _REGISTRY[rule_set_id]
