"""Propagation of distributions by the Monte Carlo method (JCGM 101:2008, clause 7).

Fixed number of trials M (7.2) or the adaptive procedure (7.9).  Trials are evaluated in chunks, and only the
tails needed for the coverage intervals are kept (:mod:`hengqi.metrology.gum.intervals`), so 10^8 trials run in
bounded memory; results for a given seed do not depend on the chunk size or the number of threads.

Random numbers (the design, and why; JCGM 101:2008, C.3 asks for a generator that passes standard tests of
randomness, SECONDARY: the clause is recalled, not read here):

- Each input distribution gets its own stream: numpy's SFC64 bit generator seeded by
  ``SeedSequence(seed).spawn(n)`` (:func:`random_streams`).  The seed and the generator's name
  (:data:`GENERATOR`) are recorded in the result; the seed is drawn from :mod:`secrets` when not given.  SFC64
  passes PractRand and TestU01 BigCrush (numpy's documentation); on the benchmark machine it draws uniforms
  about 1.3x faster than numpy's default PCG64, and Philox and MT19937 were slower still.
- Normal inputs are drawn by the Box-Muller transform (:func:`~hengqi.metrology.gum.distributions.standard_normal`),
  which is exact in distribution and, with numpy's vectorised log, sqrt and float32 sin/cos, about twice as fast
  as numpy's scalar ziggurat (which made about 80 % of the run time before).  Drawing the normal variates
  themselves in float32 (``standard_normal(dtype=float32)``) was measured and gave less than 10 %, so it was not
  kept.  Shifts and scales are in float64.
- Normal draws come in pairs, so inputs are drawn for an even number of trials; an odd trial left over is kept
  for the next request.  Each stream is used in trial order whatever the chunking.

Time (bench/README.md has the measurements): one draw task per input and chunk may run in a background thread
while the main thread evaluates and summarises the previous chunk (:func:`monte_carlo`, ``workers``); the
tails' thresholds start from a guess checked at the end (:mod:`~hengqi.metrology.gum.intervals`); and the C
allocator is told to keep freed chunk memory (:func:`_keep_freed_chunks`).

>>> from hengqi.metrology.gum.distributions import Normal
>>> from hengqi.metrology.gum.model import MeasurementModel
>>> model = MeasurementModel.from_callable(lambda a, b: a + b)
>>> r = monte_carlo(model, [Normal("a", 0.0, 1.0), Normal("b", 0.0, 1.0)], trials=100_000, seed=1)
>>> round(r.u, 1), r.seed, r.trials
(1.4, 1, 100000)
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hengqi.metrology.gum.distributions import Distribution
from hengqi.metrology.gum.errors import ModelError, MonteCarloError
from hengqi.metrology.gum.inputs import InputSet
from hengqi.metrology.gum.intervals import BLOCK, Accumulator, Histogram, Summary, TailsLost
from hengqi.metrology.gum.model import MeasurementModel
from hengqi.metrology.gum.validation import numerical_tolerance

__all__ = [
    "DEFAULT_CHUNK",
    "GENERATOR",
    "McmResult",
    "default_workers",
    "monte_carlo",
    "monte_carlo_adaptive",
    "random_streams",
]

FloatArray = NDArray[np.float64]
DEFAULT_CHUNK = 4 * BLOCK
"""Trials per chunk (65 536): the arrays of one chunk (512 KiB each) stay in the processor's cache while the
inputs are drawn, the model evaluated and the values summarised, which is faster than whole-array passes."""

GENERATOR = "SFC64"
"""The bit generator of every input's random stream (recorded in :class:`McmResult` with the seed)."""

Progress = Callable[[int, int], None]
"""Called after each chunk with (trials done, trials planned)."""


@dataclass(frozen=True, slots=True)
class McmResult:
    """Result of the Monte Carlo method (JCGM 101:2008, 7.5-7.7, 7.9).

    ``tolerance`` is the numerical tolerance δ of u(y) (7.9.2) for the adaptive procedure, with ``n_dig``;
    ``converged`` is False when the adaptive procedure hit ``max_trials`` first.
    """

    measurand: str
    value: float
    u: float
    interval_symmetric: tuple[float, float]
    interval_shortest: tuple[float, float]
    p: float
    trials: int
    seed: int
    adaptive: bool
    n_dig: int | None
    tolerance: float | None
    converged: bool
    histogram: Histogram | None
    generator: str = GENERATOR


def random_streams(seed: int, count: int) -> list[np.random.Generator]:
    """``count`` independent streams for ``seed``: numpy's SFC64 seeded by ``SeedSequence(seed).spawn(count)``.

    >>> a, b = random_streams(7, 2)
    >>> float(a.random()) == float(random_streams(7, 2)[0].random()) != float(b.random())
    True
    """
    return [np.random.Generator(np.random.SFC64(child)) for child in np.random.SeedSequence(seed).spawn(count)]


def _seed(seed: int | None) -> int:
    if seed is None:
        return secrets.randbits(63)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise MonteCarloError("seed", f"seed must be a non-negative integer, got {seed!r}")
    return seed


Sample = dict[str, FloatArray]
_Task = tuple["Future[Sample]", Distribution, np.random.Generator, int]


class _Trials:
    """Draws inputs and evaluates the model for successive trials.

    Each input is drawn from its own stream, one draw task per input and chunk; tasks may run in any thread, as
    long as the tasks of one input run in chunk order (:meth:`submit` is called after :meth:`collect`).
    """

    def __init__(self, model: MeasurementModel, distributions: Sequence[Distribution], seed: int) -> None:
        self.model = model
        self.inputs = InputSet.create(model.inputs, distributions)
        self.generators = random_streams(seed, len(self.inputs.distributions))
        estimates = dict(zip(self.inputs.names, self.inputs.estimates, strict=True))
        shift = np.asarray(model.evaluate(estimates), dtype=np.float64)
        self.shift = float(shift.reshape(-1)[0]) if shift.size and np.isfinite(shift.reshape(-1)[0]) else 0.0
        self.spare: FloatArray = np.empty(0)

    def next(self, size: int) -> FloatArray:
        """Model values of the next ``size`` trials, drawn in this thread.

        Inputs are drawn for an even number of trials (normal draws come in Box-Muller pairs); the value of an
        odd trial left over is kept for the next call, so the values do not depend on how trials are requested.
        """
        spare, self.spare = self.spare, np.empty(0)
        need = size - spare.size
        if need <= 0:  # only when size is 0 (a spare holds one value)
            self.spare = spare[size:]
            return spare[:size]
        drawn = self.evaluate(self.inputs.sample(self.generators, need + need % 2), need + need % 2)
        if need % 2:
            self.spare = drawn[need:].copy()
            drawn = drawn[:need]
        return np.concatenate((spare, drawn)) if spare.size else drawn

    def submit(self, size: int, pool: ThreadPoolExecutor) -> list[_Task]:
        """Queue one draw task per input for ``size`` trials (rounded up to even) in ``pool``."""
        size += size % 2
        return [
            (pool.submit(InputSet.sample_from, (dist,), (rng,), size), dist, rng, size)
            for dist, rng in zip(self.inputs.distributions, self.generators, strict=True)
        ]

    @staticmethod
    def collect(tasks: list[_Task]) -> Sample:
        """The draws of ``tasks``; tasks not yet started are taken back and run in this thread (work sharing)."""
        sample: Sample = {}
        for task, dist, rng, size in reversed(tasks):
            if task.cancel():
                sample.update(InputSet.sample_from((dist,), (rng,), size))
        for task, *_ in tasks:
            if not task.cancelled():
                sample.update(task.result())
        return sample

    def evaluate(self, sample: Sample, size: int) -> FloatArray:
        values = np.asarray(self.model.evaluate(sample), dtype=np.float64)
        if values.shape != (size,):
            try:
                values = np.ascontiguousarray(np.broadcast_to(values, (size,)))
            except ValueError as err:
                raise ModelError("model", f"the model returned shape {values.shape} for {size} trials") from err
        return values


def _summarise(values: FloatArray, p: float, shift: float, bins: int, *, guess: bool) -> Summary:
    acc = Accumulator(values.size, p, shift, bins, guess=guess)
    for start in range(0, values.size, DEFAULT_CHUNK):
        acc.add(values[start : start + DEFAULT_CHUNK])
    return acc.finish()


def default_workers() -> int:
    """2 (one background thread) when the machine seems to have an idle core, else 1.

    An idle core: the one-minute load average is at most the number of cores less one.  The choice never
    changes a result, only the time.
    """
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - platforms without a load average
        return 2 if cores >= 2 else 1
    return 2 if cores >= 2 and load <= cores - 1 else 1


def _keep_freed_chunks() -> None:
    """Let the C allocator keep freed chunk arrays instead of returning them to the system each chunk.

    Each chunk allocates and frees a few MB of temporaries (draws, model values).  glibc serves blocks above its
    mmap threshold (128 KiB at start) with fresh pages and trims the heap once more than twice that threshold is
    free, so every chunk page-faults its memory in again: measured 77 000 page faults and +90 % run time for the
    first run of 10^7 trials in a process, 3 200 for the next runs.  Freeing one block of 16 MiB raises the
    dynamic threshold to 16 MiB and the trim threshold to 32 MiB (glibc mallopt(3), "M_MMAP_THRESHOLD": the
    threshold follows the size of freed mmapped blocks up to 32 MiB), so the process keeps up to 32 MiB of freed
    memory for reuse.  Other allocators ignore this; it changes no result.
    """
    block = np.empty(1 << 21)  # 16 MiB, above the initial threshold: mmapped, then unmapped on release
    del block


def _check_chunk(chunk_size: int) -> int:
    if chunk_size < BLOCK or chunk_size % BLOCK:
        raise MonteCarloError("chunk_size", f"chunk size must be a positive multiple of {BLOCK}")
    return chunk_size


def _result(
    model: MeasurementModel,
    s: Summary,
    p: float,
    seed: int,
    *,
    adaptive: bool = False,
    n_dig: int | None = None,
    tolerance: float | None = None,
    converged: bool = True,
) -> McmResult:
    return McmResult(
        measurand=model.name,
        value=s.value,
        u=s.u,
        interval_symmetric=s.interval_symmetric,
        interval_shortest=s.interval_shortest,
        p=p,
        trials=s.trials,
        seed=seed,
        adaptive=adaptive,
        n_dig=n_dig,
        tolerance=tolerance,
        converged=converged,
        histogram=s.histogram,
    )


def monte_carlo(
    model: MeasurementModel,
    distributions: Sequence[Distribution],
    *,
    trials: int = 1_000_000,
    p: float = 0.9545,
    seed: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    bins: int = 0,
    progress: Progress | None = None,
    workers: int | None = None,
) -> McmResult:
    """MCM with a fixed number of trials M (JCGM 101:2008, 7.2-7.7); memory at most 6(1-p)M values + two chunks.

    With ``workers`` >= 2, the inputs of the next chunk are drawn by ``workers - 1`` background threads (one
    task per input) while this thread evaluates the model and summarises the current chunk; then this thread
    takes back the draw tasks not yet started and runs them itself, so a busy machine (no idle core for the
    background thread) costs little.  numpy releases the GIL while it draws and computes.  Each input's stream is
    used in trial order, so the result is the same for any ``workers`` and ``chunk_size``.

    ``workers=None`` chooses (:func:`default_workers`): a background thread helps only when a core is idle.
    Measured on the shared two-core machine at M = 10^7: up to 20 % faster with a load average of 1.5 to 2.3,
    and from 20 % faster to 27 % slower at 2.7 to 3.2 (the background thread then rarely gets a core, and a
    draw it has started must be waited for).
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 2:
        raise MonteCarloError("trials", f"number of trials must be an integer >= 2, got {trials!r}")
    seed = _seed(seed)
    _check_chunk(chunk_size)
    settings = _Settings(trials, p, seed, chunk_size, bins, default_workers() if workers is None else workers)
    _keep_freed_chunks()
    try:
        summary = _run(model, distributions, settings, progress, guess=True)
    except TailsLost:  # pragma: no cover - probability below 1e-18 (intervals.py); tested on the accumulator
        summary = _run(model, distributions, settings, progress, guess=False)
    return _result(model, summary, p, seed)


@dataclass(frozen=True, slots=True)
class _Settings:
    trials: int
    p: float
    seed: int
    chunk_size: int
    bins: int
    workers: int


def _run(
    model: MeasurementModel,
    distributions: Sequence[Distribution],
    settings: _Settings,
    progress: Progress | None,
    *,
    guess: bool,
) -> Summary:
    trials, p, chunk_size, bins, workers = (
        settings.trials,
        settings.p,
        settings.chunk_size,
        settings.bins,
        settings.workers,
    )
    source = _Trials(model, distributions, settings.seed)
    acc = Accumulator(trials, p, source.shift, bins, guess=guess)
    sizes = [min(chunk_size, trials - start) for start in range(0, trials, chunk_size)]
    done = 0
    if workers < 2 or len(sizes) == 1:
        for size in sizes:
            acc.add(source.next(size))
            done += size
            if progress is not None:
                progress(done, trials)
        return acc.finish()
    with ThreadPoolExecutor(workers - 1) as pool:
        tasks = source.submit(sizes[0], pool)
        for index, size in enumerate(sizes):
            sample = source.collect(tasks)
            if index + 1 < len(sizes):
                tasks = source.submit(sizes[index + 1], pool)  # drawn while this chunk is evaluated
            values = source.evaluate(sample, size + size % 2)
            acc.add(values[:size])
            done += size
            if progress is not None:
                progress(done, trials)
    return acc.finish()


def monte_carlo_adaptive(
    model: MeasurementModel,
    distributions: Sequence[Distribution],
    *,
    n_dig: int = 2,
    p: float = 0.9545,
    seed: int | None = None,
    max_trials: int = 10_000_000,
    bins: int = 0,
    progress: Progress | None = None,
) -> McmResult:
    """The adaptive Monte Carlo procedure (JCGM 101:2008, 7.9.4).

    Batches of M = max(J, 10^4) trials, J = ceil(100/(1 - p)) (7.9.4 b); after each batch h >= 2, the standard
    deviations of the batch values of y, u(y) and of the endpoints of the probabilistically symmetric and of
    the shortest coverage interval (7.9.4 f) are compared with the numerical tolerance δ of u(y) from all hM
    values (7.9.2, 7.9.4 g-h); stop when twice each is at most δ (7.9.4 i), then summarise all hM values
    (7.9.4 j).  All model values are kept (8 bytes per trial), so ``max_trials`` bounds memory; when it is
    reached first the result says ``converged=False``.
    """
    if not isinstance(n_dig, int) or not 1 <= n_dig <= 6:
        raise MonteCarloError("n_dig", f"number of significant digits must be 1..6, got {n_dig!r}")
    if not 0.0 < p < 1.0:
        raise MonteCarloError("p", f"coverage probability must lie in (0, 1), got {p!r}")
    seed = _seed(seed)
    batch = max(math.ceil(100.0 / (1.0 - p)), 10_000)
    _keep_freed_chunks()
    if max_trials < 2 * batch:
        raise MonteCarloError("max_trials", f"must be at least two batches ({2 * batch} trials)")
    source = _Trials(model, distributions, seed)
    batches: list[FloatArray] = []
    stats: list[tuple[float, float, float, float, float, float]] = []
    sums = [0.0, 0.0]
    converged = False
    while len(batches) * batch + batch <= max_trials:
        values = source.next(batch)
        acc = Accumulator(batch, p, source.shift)
        acc.add(values)
        s = acc.finish()
        batches.append(values)
        stats.append((s.value, s.u, *s.interval_symmetric, *s.interval_shortest))
        d = values - source.shift
        sums[0] += math.fsum(d)
        sums[1] += math.fsum(d * d)
        h = len(batches)
        if progress is not None:
            progress(h * batch, max_trials)
        if h < 2:
            continue
        m = h * batch
        u_all = math.sqrt(max(sums[1] - sums[0] ** 2 / m, 0.0) / (m - 1))
        if u_all == 0.0:  # every model value equal: nothing left to stabilise
            converged = True
            break
        tolerance = numerical_tolerance(u_all, n_dig)
        spread = np.std(np.asarray(stats), axis=0, ddof=1) / math.sqrt(h)  # 7.9.4 f: s_y etc.
        if np.all(2.0 * spread <= tolerance):
            converged = True
            break
    everything = np.concatenate(batches)
    batches.clear()
    try:
        summary = _summarise(everything, p, source.shift, bins, guess=True)
    except TailsLost:  # pragma: no cover - probability below 1e-18 (intervals.py)
        summary = _summarise(everything, p, source.shift, bins, guess=False)
    final_tolerance = numerical_tolerance(summary.u, n_dig) if summary.u > 0.0 else None
    return _result(model, summary, p, seed, adaptive=True, n_dig=n_dig, tolerance=final_tolerance, converged=converged)
