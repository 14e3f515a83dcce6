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

Time (bench/README.md has the measurements): with several threads, each chunk is shared: every thread draws
the next chunk of some inputs' streams (uniforms only, for normal and rectangular inputs) and then transforms,
evaluates and summarises its own run of blocks of the current chunk, while this thread merges the runs in order
(:func:`monte_carlo`, ``workers``); the tails' thresholds start from a guess checked at the end
(:mod:`~hengqi.metrology.gum.intervals`); and the C allocator is told to keep freed chunk memory
(:func:`_keep_freed_chunks`).

>>> from hengqi.metrology.gum.distributions import Normal
>>> from hengqi.metrology.gum.model import MeasurementModel
>>> model = MeasurementModel.from_callable(lambda a, b: a + b)
>>> r = monte_carlo(model, [Normal("a", 0.0, 1.0), Normal("b", 0.0, 1.0)], trials=100_000, seed=1)
>>> round(r.u, 1), r.seed, r.trials
(1.4, 1, 100000)
"""

from __future__ import annotations

import itertools
import math
import os
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hengqi.metrology.gum.distributions import Distribution, Normal, Rectangular, box_muller
from hengqi.metrology.gum.errors import ModelError, MonteCarloError
from hengqi.metrology.gum.inputs import InputSet
from hengqi.metrology.gum.intervals import BLOCK, Accumulator, Histogram, Part, Summary, TailsLost
from hengqi.metrology.gum.model import MeasurementModel
from hengqi.metrology.gum.validation import numerical_tolerance

__all__ = [
    "DEFAULT_CHUNK",
    "GENERATOR",
    "PARALLEL_PART",
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

PARALLEL_PART = 8 * BLOCK
"""Trials per thread and chunk (131 072) when several threads share each chunk (:func:`_parallel`).

Larger than :data:`DEFAULT_CHUNK` because every numpy call is a point where the threads may wait for each
other's global interpreter lock: measured at M = 10^7 on the two-core benchmark machine, parts of 2, 4, 6, 8 and
16 blocks took 0.23, 0.18, 0.16, 0.14-0.15 and 0.18 s (4 300, 1 800, 900, 500 and 150 waits)."""

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
Job = tuple[int, "Future[Part | None]"]


class _Stream:
    """One input's distribution and random stream, sampled in two steps for the threads of :func:`_parallel`.

    :meth:`draw` takes the next numbers from the stream (so the draws of one stream run in trial order);
    :meth:`values` turns any slice of them into values of the input, in any thread.  For normal and rectangular
    inputs the draw holds only the uniforms and the transform is done by slices (the same arithmetic as their
    ``sample``, element by element); other distributions are sampled whole in :meth:`draw`.
    """

    __slots__ = ("dist", "kind", "rng")

    def __init__(self, dist: Distribution, rng: np.random.Generator) -> None:
        self.dist = dist
        self.rng = rng
        self.kind = "normal" if type(dist) is Normal else "rectangular" if type(dist) is Rectangular else ""

    def draw(self, size: int) -> Sample:
        """The stream's numbers for the next ``size`` trials (``size`` even)."""
        if self.kind:
            return {"": self.rng.random(size)}
        return InputSet.sample_from((self.dist,), (self.rng,), size)

    def values(self, drawn: Sample, start: int, stop: int) -> Sample:
        """Values of trials ``start`` to ``stop`` of a :meth:`draw` (``start`` and ``stop`` even)."""
        dist = self.dist
        if self.kind == "normal" and isinstance(dist, Normal):
            x = box_muller(drawn[""][start:stop], dist.u)  # Normal.sample: standard_normal, then + mean
            x += dist.mean
            return {dist.name: x}
        if self.kind == "rectangular" and isinstance(dist, Rectangular):
            x = drawn[""][start:stop]  # Rectangular.sample: scaled and shifted in place
            x *= dist.upper - dist.lower
            x += dist.lower
            return {dist.name: x}
        return {name: column[start:stop] for name, column in drawn.items()}


class _Trials:
    """Draws inputs and evaluates the model for successive trials (in this thread, or in :func:`_parallel`).

    Each input is drawn from its own stream, in trial order.
    """

    def __init__(self, model: MeasurementModel, distributions: Sequence[Distribution], seed: int) -> None:
        self.model = model
        self.inputs = InputSet.create(model.inputs, distributions)
        self.generators = random_streams(seed, len(self.inputs.distributions))
        self.streams = [_Stream(d, g) for d, g in zip(self.inputs.distributions, self.generators, strict=True)]
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
    """2 (a second thread) when the machine seems to have an idle core, else 1.

    An idle core: the one-minute load average is at most the number of cores less one.  The choice never
    changes a result, only the time.  Measured at M = 10^7 on the two-core benchmark machine: 0.14-0.16 s with 2
    threads against 0.21-0.24 s with 1 on a quiet machine, but about 20 % slower than 1 thread with a busy-loop
    process on the other core (bench/README.md).
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
    chunk_size: int | None = None,
    bins: int = 0,
    progress: Progress | None = None,
    workers: int | None = None,
) -> McmResult:
    """MCM with a fixed number of trials M (JCGM 101:2008, 7.2-7.7); memory at most 6(1-p)M values + two chunks.

    With ``workers`` >= 2, ``workers`` threads (this one and a pool) share every chunk: each draws the next
    chunk of some inputs' streams, then transforms, evaluates and summarises its own part of the current chunk
    (:func:`_parallel`); numpy releases the global interpreter lock while it draws and computes.  Each input's
    stream is used in trial order and the parts are merged in trial order, so the result is the same for any
    ``workers`` and ``chunk_size``.  ``chunk_size=None`` takes :data:`DEFAULT_CHUNK` for one thread and
    ``workers`` x :data:`PARALLEL_PART` for several.  The model is then called from several threads at once, on
    different trials, so it must not keep state between calls (numpy expressions and equation models do not).

    ``workers=None`` chooses (:func:`default_workers`): a second thread helps only when a core is idle.
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 2:
        raise MonteCarloError("trials", f"number of trials must be an integer >= 2, got {trials!r}")
    seed = _seed(seed)
    if workers is None:
        workers = default_workers()
    elif isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise MonteCarloError("workers", f"number of threads must be a positive integer, got {workers!r}")
    if chunk_size is None:
        chunk_size = DEFAULT_CHUNK if workers < 2 else workers * PARALLEL_PART
    _check_chunk(chunk_size)
    settings = _Settings(trials, p, seed, chunk_size, bins, workers)
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
    return _parallel(source, acc, sizes, workers, progress)


def _bounds(size: int, parts: int) -> list[tuple[int, int]]:
    """Split ``size`` trials into up to ``parts`` runs of whole blocks (the last run takes the rest)."""
    blocks = -(-size // BLOCK)
    cuts = sorted({min(size, (blocks * i // parts) * BLOCK) for i in range(parts + 1)})
    return list(itertools.pairwise(cuts))


def _parallel(source: _Trials, acc: Accumulator, sizes: list[int], workers: int, progress: Progress | None) -> Summary:
    """The chunks in ``workers`` threads (this one and ``workers - 1`` in a pool); same result as one thread.

    While chunk k is evaluated, chunk k + 1 is drawn: in step k, thread t draws chunk k + 1 of the streams
    t, t + workers, ... and then transforms, evaluates and summarises part t of chunk k (runs of whole blocks,
    :meth:`Accumulator.part`); this thread merges the parts in trial order, after handing the pool its next
    step.  Every stream is drawn in trial order and each part takes its own trials' numbers, so the result is
    that of one thread.  A step not yet started by the pool when this thread has done its own is taken back and
    run here, so a busy machine loses little.
    """
    trials = acc.trials
    lanes = [source.streams[t::workers] for t in range(workers)]

    def step(lane: int, index: int, current: dict[int, Sample], following: dict[int, Sample]) -> Part | None:
        if index + 1 < len(sizes):
            for stream in lanes[lane]:
                following[id(stream)] = stream.draw(sizes[index + 1] + sizes[index + 1] % 2)
        bounds = _bounds(sizes[index], workers)
        if lane >= len(bounds):
            return None
        start, stop = bounds[lane]
        end = stop + stop % 2  # the odd last trial of a run is drawn in a pair and dropped
        sample: Sample = {}
        for stream in source.streams:
            sample.update(stream.values(current[id(stream)], start, end))
        values = source.evaluate(sample, end - start)
        return acc.part(values[: stop - start])

    done = 0
    with ThreadPoolExecutor(workers - 1) as pool:

        def submit(index: int, current: dict[int, Sample]) -> tuple[int, dict[int, Sample], list[Job]]:
            following: dict[int, Sample] = {}
            return index, following, [(t, pool.submit(step, t, index, current, following)) for t in range(1, workers)]

        drawn: dict[int, Sample] = {id(s): s.draw(sizes[0] + sizes[0] % 2) for s in source.streams}
        index, following, jobs = submit(0, drawn)
        while True:
            parts = [step(0, index, drawn, following)]
            parts += [step(lane, index, drawn, following) if job.cancel() else job.result() for lane, job in jobs]
            size = sizes[index]
            if index + 1 < len(sizes):
                drawn = following
                index, following, jobs = submit(index + 1, drawn)  # the pool starts on the next step
            for part in parts:
                if part is not None:
                    acc.merge(part)
            done += size
            if progress is not None:
                progress(done, trials)
            if done == trials:
                return acc.finish(pool)


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
