"""Typed errors of guided runs, all under :class:`hengqi.errors.HengqiError`.

Each error names the run and, where one is concerned, the step (``step_id``), so that a web form, a terminal
or a log can say exactly which submission was refused and why.

>>> err = StaleStepError("run-1", "3:ab12cd34ef", "4:0011223344", "step already recorded")
>>> err.code, err.step_id, str(err)
('stale_step', '3:ab12cd34ef', "run 'run-1': step '3:ab12cd34ef' refused (step already recorded); the run waits at \
'4:0011223344'")
"""

from __future__ import annotations

from hengqi.errors import HengqiError, InputError


class RunError(HengqiError):
    """Anything that went wrong with a guided run ``run_id``."""

    code = "run_error"

    def __init__(self, run_id: str, message: str, **details: object) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id!r}: {message}", details={"run_id": run_id, **details})


class UnknownRunError(RunError, KeyError):
    """No run with that id is stored."""

    code = "unknown_run"

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id, "no such run")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class RunExistsError(RunError):
    """A new run was started with the id of a stored run."""

    code = "run_exists"

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id, "a run with this id exists already")


class StaleStepError(RunError):
    """A step submission that does not answer the step the run waits at.

    Raised for a step id the run has not reached, a step id from another plan, and a second, *different*
    answer to a step already recorded (two technicians on one run).  ``expected`` is the id of the step the
    run waits at (``None`` when the run has ended).
    """

    code = "stale_step"

    def __init__(self, run_id: str, step_id: str, expected: str | None, reason: str) -> None:
        self.step_id = step_id
        self.expected = expected
        where = f"the run waits at {expected!r}" if expected else "the run has ended"
        super().__init__(
            run_id, f"step {step_id!r} refused ({reason}); {where}", step_id=step_id, expected=expected, reason=reason
        )


class ConcurrentUpdateError(RunError):
    """The stored run changed between loading and saving (another submission won); reload and retry."""

    code = "concurrent_update"

    def __init__(self, run_id: str, expected_version: int, found_version: int) -> None:
        self.expected_version = expected_version
        self.found_version = found_version
        super().__init__(
            run_id,
            f"stored state is at version {found_version}, expected {expected_version} (another submission won)",
            expected_version=expected_version,
            found_version=found_version,
        )


class RunFinishedError(RunError):
    """A submission or cancellation for a run that has already ended."""

    code = "run_finished"

    def __init__(self, run_id: str, status: str) -> None:
        self.status = status
        super().__init__(run_id, f"the run has ended ({status})", status=status)


class ReplayError(RunError):
    """A stored run whose recorded steps no longer match the plan (the plan or its parameters changed)."""

    code = "replay_mismatch"


class ScaleStepError(RunError):
    """The instrument failed during a step (timeout, disconnected, unstable, overload...).

    Nothing was recorded: the run waits at the same step and can be resumed once the cause is removed.
    ``cause`` is the instrument's typed error (also chained as ``__cause__``).
    """

    code = "scale_step_error"

    def __init__(self, run_id: str, step_id: str, cause: BaseException) -> None:
        self.step_id = step_id
        self.cause = cause
        cause_code = getattr(cause, "code", type(cause).__name__)
        super().__init__(
            run_id,
            f"instrument error at step {step_id!r}: {cause}; nothing recorded, the run can resume at this step",
            step_id=step_id,
            cause=cause_code,
        )


class ScriptExhaustedError(HengqiError):
    """A scripted operator channel was asked for more answers than its script holds."""

    code = "script_exhausted"


class RunStateError(InputError):
    """A stored run state (JSON) that cannot be read: names the field and the reason."""

    code = "invalid_run_state"


class CancelRequested(HengqiError):
    """Raised by an operator channel when the operator asks to stop in the middle of a step.

    The runner records nothing for that step, cancels the run, and goes on with the shutdown steps.
    """

    code = "cancel_requested"

    def __init__(self) -> None:
        super().__init__("the operator asked to stop the run")


class OperatorGoneError(HengqiError):
    """The operator channel cannot answer any more (end of input, closed page): the run stays resumable."""

    code = "operator_gone"
