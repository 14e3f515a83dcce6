"""Guided verification and calibration runs as generators of steps, and a runner. No UI imports.

- :mod:`~hengqi.procedures.steps`: the frozen steps a plan yields (``Prompt``, ``PlaceLoad``, ``ReadStable``...);
- :mod:`~hengqi.procedures.verification` and :mod:`~hengqi.procedures.calibration`: the plans (OIML R 76 / JJG,
  EURAMET cg-18), whose product is a record file evaluated by :mod:`hengqi.records`;
- :mod:`~hengqi.procedures.session`, :mod:`~hengqi.procedures.state`, :mod:`~hengqi.procedures.runner`: runs
  replayed from a persisted JSON state, idempotent step submission, a runner driving a Scale and an operator;
- :mod:`~hengqi.procedures.channels`: a scripted and a terminal operator channel;
- :mod:`~hengqi.procedures.simulate`: driving plans with canned answers, without threads or UI.

See ``docs/procedures.md``.
"""

from hengqi.procedures.channels import ScriptChannel, StreamChannel
from hengqi.procedures.errors import (
    CancelRequested,
    ConcurrentUpdateError,
    OperatorGoneError,
    ReplayError,
    RunError,
    RunFinishedError,
    ScaleStepError,
    StaleStepError,
    UnknownRunError,
)
from hengqi.procedures.plans import PLANS
from hengqi.procedures.runner import OperatorChannel, Runner, Runs, ScaleLike
from hengqi.procedures.session import PendingStep, PlanDefinition, PlanProduct, Session
from hengqi.procedures.simulate import VirtualBalance, simulate
from hengqi.procedures.state import JsonFileRunStore, JsonStateFile, MemoryRunStore, RunState, RunStore
from hengqi.procedures.steps import (
    AddLoad,
    Decide,
    FindChangeover,
    LiveResult,
    PlaceLoad,
    Prompt,
    ReadStable,
    Record,
    RemoveLoad,
    Substitute,
    ZeroScale,
)

__all__ = [
    "PLANS",
    "AddLoad",
    "CancelRequested",
    "ConcurrentUpdateError",
    "Decide",
    "FindChangeover",
    "JsonFileRunStore",
    "JsonStateFile",
    "LiveResult",
    "MemoryRunStore",
    "OperatorChannel",
    "OperatorGoneError",
    "PendingStep",
    "PlaceLoad",
    "PlanDefinition",
    "PlanProduct",
    "Prompt",
    "ReadStable",
    "Record",
    "RemoveLoad",
    "ReplayError",
    "RunError",
    "RunFinishedError",
    "RunState",
    "RunStore",
    "Runner",
    "Runs",
    "ScaleLike",
    "ScaleStepError",
    "ScriptChannel",
    "Session",
    "StaleStepError",
    "StreamChannel",
    "Substitute",
    "UnknownRunError",
    "VirtualBalance",
    "ZeroScale",
    "simulate",
]
