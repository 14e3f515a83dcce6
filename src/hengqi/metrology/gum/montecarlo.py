"""Propagation of distributions by the Monte Carlo method (JCGM 101:2008, clause 7).

Fixed number of trials M (7.2) or the adaptive procedure (7.9).  Each input distribution gets its own random
stream, spawned from ``numpy.random.default_rng(seed)``; the seed is recorded in the result (drawn from
:mod:`secrets` when not given).  Trials are evaluated in chunks, and only the tails needed for the coverage
intervals are kept (:mod:`hengqi.metrology.gum.intervals`), so 10^8 trials run in bounded memory; results for a
given seed do not depend on the chunk size.

>>> from hengqi.metrology.gum.distributions import Normal
>>> from hengqi.metrology.gum.model import MeasurementModel
>>> model = MeasurementModel.from_callable(lambda a, b: a + b)
>>> r = monte_carlo(model, [Normal("a", 0.0, 1.0), Normal("b", 0.0, 1.0)], trials=100_000, seed=1)
>>> round(r.u, 1), r.seed, r.trials
(1.4, 1, 100000)
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hengqi.metrology.gum.distributions import Distribution
from hengqi.metrology.gum.errors import ModelError, MonteCarloError
from hengqi.metrology.gum.inputs import InputSet
from hengqi.metrology.gum.intervals import BLOCK, Accumulator, Histogram, Summary
from hengqi.metrology.gum.model import MeasurementModel
from hengqi.metrology.gum.validation import numerical_tolerance

__all__ = ["DEFAULT_CHUNK", "GENERATOR", "McmResult", "monte_carlo", "monte_carlo_adaptive", "random_streams"]

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


class _Trials:
    """Draws inputs and evaluates the model for successive trials."""

    def __init__(self, model: MeasurementModel, distributions: Sequence[Distribution], seed: int) -> None:
        self.model = model
        self.inputs = InputSet.create(model.inputs, distributions)
        self.generators = random_streams(seed, len(self.inputs.distributions))
        estimates = dict(zip(self.inputs.names, self.inputs.estimates, strict=True))
        shift = np.asarray(model.evaluate(estimates), dtype=np.float64)
        self.shift = float(shift.reshape(-1)[0]) if shift.size and np.isfinite(shift.reshape(-1)[0]) else 0.0
        self.spare: FloatArray = np.empty(0)

    def next(self, size: int, drawer: ThreadPoolExecutor | None = None) -> FloatArray:
        """Model values of the next ``size`` trials; with ``drawer``, half of the inputs are drawn there.

        Inputs are drawn for an even number of trials (normal draws come in Box-Muller pairs); the value of an
        odd trial left over is kept for the next call, so the values do not depend on how trials are requested.
        """
        spare, self.spare = self.spare, np.empty(0)
        need = size - spare.size
        if need <= 0:  # only when size is 0 (a spare holds one value)
            self.spare = spare[size:]
            return spare[:size]
        drawn = self._evaluate(need + need % 2, drawer)
        if need % 2:
            self.spare = drawn[need:].copy()
            drawn = drawn[:need]
        return np.concatenate((spare, drawn)) if spare.size else drawn

    def _evaluate(self, size: int, drawer: ThreadPoolExecutor | None) -> FloatArray:
        dists, gens = self.inputs.distributions, self.generators
        if drawer is None or len(dists) < 2:
            sample = self.inputs.sample(gens, size)
        else:
            half = len(dists) // 2
            other = drawer.submit(InputSet.sample_from, dists[half:], gens[half:], size)
            sample = InputSet.sample_from(dists[:half], gens[:half], size)
            sample.update(other.result())
        values = np.asarray(self.model.evaluate(sample), dtype=np.float64)
        if values.shape != (size,):
            try:
                values = np.ascontiguousarray(np.broadcast_to(values, (size,)))
            except ValueError as err:
                raise ModelError("model", f"the model returned shape {values.shape} for {size} trials") from err
        return values


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
    workers: int = 2,
) -> McmResult:
    """MCM with a fixed number of trials M (JCGM 101:2008, 7.2-7.7); memory about 2(1-p)M values + two chunks.

    With ``workers`` >= 2 the next chunk is drawn and evaluated in a background thread (its inputs split over
    two threads) while the current one is summarised; numpy releases the GIL in both, and each random stream
    is still used in trial order, so the result is the same for any ``workers`` and ``chunk_size``.
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 2:
        raise MonteCarloError("trials", f"number of trials must be an integer >= 2, got {trials!r}")
    seed = _seed(seed)
    _check_chunk(chunk_size)
    source = _Trials(model, distributions, seed)
    acc = Accumulator(trials, p, source.shift, bins)
    sizes = [min(chunk_size, trials - start) for start in range(0, trials, chunk_size)]
    done = 0
    if workers < 2 or len(sizes) == 1:
        for size in sizes:
            acc.add(source.next(size))
            done += size
            if progress is not None:
                progress(done, trials)
        return _result(model, acc.finish(), p, seed)
    with ThreadPoolExecutor(1) as producer, ThreadPoolExecutor(workers - 1) as drawer:
        pending = producer.submit(source.next, sizes[0], drawer)
        for index, size in enumerate(sizes):
            values = pending.result()
            if index + 1 < len(sizes):
                pending = producer.submit(source.next, sizes[index + 1], drawer)
            acc.add(values)
            done += size
            if progress is not None:
                progress(done, trials)
    return _result(model, acc.finish(), p, seed)


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
    total = len(batches) * batch
    acc = Accumulator(total, p, source.shift, bins)
    everything = np.concatenate(batches)
    batches.clear()
    for start in range(0, total, DEFAULT_CHUNK):
        acc.add(everything[start : start + DEFAULT_CHUNK])
    summary = acc.finish()
    final_tolerance = numerical_tolerance(summary.u, n_dig) if summary.u > 0.0 else None
    return _result(model, summary, p, seed, adaptive=True, n_dig=n_dig, tolerance=final_tolerance, converged=converged)
