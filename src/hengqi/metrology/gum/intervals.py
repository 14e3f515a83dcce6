"""Streamed summaries of Monte Carlo model values: estimate, standard uncertainty, coverage intervals.

JCGM 101:2008, 7.5-7.7: y = mean of the M model values (7.6, eq. 12), u²(y) = Σ(y_r - y)²/(M - 1) (eq. 13);
with q = pM (or the integer part of pM + 1/2) (7.7.1), the probabilistically symmetric interval is
[y_(r), y_(r+q)] with r = (M - q)/2 (or the integer part of (M - q + 1)/2) (7.7.2), and the shortest interval is
[y_(r*), y_(r*+q)] with r* minimising y_(r+q) - y_(r), r = 1, ..., M - q (7.7.3).

Both intervals need only the M - q smallest and the M - q largest order statistics, so the values are streamed
in chunks and only those two tails are kept (exact, not approximated): each tail is kept in a buffer of at most
3 (1 - p) M values (partitioned in place when full), at most 27 % of M for p = 95.45 %, instead of M.  Sums
are formed per fixed block of :data:`BLOCK` values and added with :func:`math.fsum`, so the results do not depend
on the chunk size.

>>> import numpy as np
>>> acc = Accumulator(trials=10_000, p=0.95, shift=0.0)
>>> values = np.random.default_rng(1).standard_normal(10_000)
>>> acc.add(values)
>>> s = acc.finish()
>>> y = np.sort(values)                      # q = 9500, r = 250: [y_(250), y_(9750)]
>>> s.interval_symmetric == (y[249], y[9749])
True
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hengqi.metrology.gum.errors import ModelError, MonteCarloError

__all__ = ["BLOCK", "Accumulator", "Histogram", "Part", "Summary", "TailsLost", "coverage_index"]

FloatArray = NDArray[np.float64]


class TailsLost(MonteCarloError):
    """A guessed tail threshold dropped needed values (probability below 1e-18); the run must be repeated."""


BLOCK = 1 << 14
"""Values per summation block; chunks are multiples of it."""


def coverage_index(trials: int, p: float) -> int:
    """q of JCGM 101:2008, 7.7.1: pM when an integer, else the integer part of pM + 1/2.

    >>> coverage_index(10_000, 0.95), coverage_index(10_001, 0.95)
    (9500, 9501)
    """
    pm = p * trials
    nearest = round(pm)
    if abs(pm - nearest) <= 1e-9 * max(1.0, pm):
        return int(nearest)
    return math.floor(pm + 0.5)


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts of model values in equal bins, plus values below/above the bin range (for plots)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    underflow: int
    overflow: int


@dataclass(frozen=True, slots=True)
class Part:
    """What :meth:`Accumulator.part` keeps of some consecutive model values: their count, the sums and sums
    of squares of each block (after the shift), the candidates for the tails, and the values themselves."""

    count: int
    sums: list[float]
    squares: list[float]
    candidates: FloatArray
    values: FloatArray


@dataclass(frozen=True, slots=True)
class Summary:
    """Statistics of M model values (JCGM 101:2008, 7.6, 7.7)."""

    trials: int
    value: float
    u: float
    interval_symmetric: tuple[float, float]
    interval_shortest: tuple[float, float]
    histogram: Histogram | None


class _Tail:
    """The k smallest (or, with ``upper``, the k largest) of the values added so far, exactly.

    Candidates are written into one preallocated buffer of ``capacity`` values; when it is full it is
    partitioned in place (:meth:`numpy.ndarray.partition`, O(n)) and only the k values that can still be order
    statistics y_(1)..y_(k) (or the k largest) stay.  The k-th value then becomes the threshold: later values
    beyond it cannot be among the k and are dropped on arrival (values equal to it neither, as equal values are
    interchangeable).  Each compaction discards capacity - k >= 2k values, so each value is partitioned about
    1.5 times at most; the buffer is 3k values (24k bytes).
    """

    def __init__(self, k: int, trials: int, *, upper: bool = False) -> None:
        self.k = k
        self.upper = upper
        self.capacity = min(trials, max(3 * k, k + BLOCK))
        self.buffer: FloatArray = np.empty(self.capacity)
        self.size = 0
        self.threshold = math.inf if not upper else -math.inf
        self.guessed = False

    def add(self, values: FloatArray) -> None:
        if math.isfinite(self.threshold):
            mask = np.greater(values, self.threshold) if self.upper else np.less(values, self.threshold)
            values = np.compress(mask, values)
        start = 0
        while start < values.size:
            if self.size == self.capacity:
                self._compact()
            take = min(values.size - start, self.capacity - self.size)
            self.buffer[self.size : self.size + take] = values[start : start + take]
            self.size += take
            start += take

    def guess(self, values: FloatArray, trials: int) -> None:
        """Start with a threshold from the first ``values`` (a random sample of all ``trials`` values).

        The threshold is their quantile at level f + 10 sigma, f = k/trials, sigma = sqrt(f(1-f)/n).  The
        number of all values beyond it falls below k only if the sample quantile's error plus the binomial
        noise of all trials (together at most 1.12 sigma, as trials >= 4n) exceed 10 sigma: 8.9 standard
        deviations, probability below 1e-18.  If it happens, :attr:`lost` says so and the caller starts again
        without a guess, so the kept values are always exact.
        This avoids partitioning the early, loosely filtered candidates.
        """
        n = values.size
        f = self.k / trials
        level = f + 10.0 * math.sqrt(f * (1.0 - f) / n)
        if level >= 0.5:
            return
        j = math.ceil(level * n)
        ordered = np.partition(values, n - 1 - j if self.upper else j)
        threshold = float(ordered[n - 1 - j] if self.upper else ordered[j])
        if threshold > self.threshold if self.upper else threshold < self.threshold:
            self.threshold = threshold
            self.guessed = True

    @property
    def lost(self) -> bool:
        """True when a guessed threshold dropped values that belong to the k kept ones."""
        return self.guessed and self.size < self.k

    def _compact(self) -> None:
        k, size = self.k, self.size
        if size <= k:
            return
        live = self.buffer[:size]
        if self.upper:
            live.partition(size - k)
            self.buffer[:k] = live[size - k :]
            self.threshold = float(self.buffer[0])
        else:
            live.partition(k - 1)
            self.threshold = float(self.buffer[k - 1])
        self.size = k

    def sorted(self) -> FloatArray:
        """The kept values in ascending order."""
        self._compact()
        kept = self.buffer[: self.size].copy()
        kept.sort()
        return kept


class Accumulator:
    """Streams exactly ``trials`` model values (in any chunking) into a :class:`Summary`.

    ``shift`` (e.g. the GUF estimate) is subtracted before summing, for an accurate variance.  ``bins`` > 0
    keeps a histogram whose range is set by the first block of values.
    """

    def __init__(self, trials: int, p: float, shift: float, bins: int = 0, *, guess: bool = True) -> None:
        if not 0.0 < p < 1.0:
            raise MonteCarloError("p", f"coverage probability must lie in (0, 1), got {p!r}")
        q = coverage_index(trials, p)
        if trials < 2 or q >= trials or q < 1:
            need = math.ceil(1.0 / (1.0 - p)) + 1
            raise MonteCarloError("trials", f"{trials} trials are too few for p = {p} (need at least {need})")
        self.trials = trials
        self.q = q
        self.shift = shift
        self.bins = bins
        self.count = 0
        self.sums: list[float] = []
        self.squares: list[float] = []
        self.lower = _Tail(trials - q, trials)
        self.upper = _Tail(trials - q, trials, upper=True)
        self.guess = guess and trials >= 16 * BLOCK
        self.edges: FloatArray | None = None
        self.counts: NDArray[np.int64] | None = None

    def add(self, values: FloatArray) -> None:
        """Add the next chunk; every chunk but the last must hold a multiple of :data:`BLOCK` values."""
        self.merge(self.part(values))

    def part(self, values: FloatArray) -> Part:
        """The sums and tail candidates of consecutive ``values``, to :meth:`merge` in order.

        Reads the tails' thresholds but changes nothing, so parts may be computed in other threads while
        earlier parts are merged: a threshold read before a merge is looser than one read after, which keeps
        more candidates but never drops a needed value.
        """
        n = int(values.size)
        d = values - self.shift
        full = (n // BLOCK) * BLOCK
        rows = [d[:full].reshape(-1, BLOCK)] if full else []
        if full < n:
            rows.append(d[full:].reshape(1, -1))
        sums: list[float] = []
        squares: list[float] = []
        for row in rows:
            s = row.sum(axis=1)
            if not np.all(np.isfinite(s)):
                raise ModelError("model", "the model gave non-finite values for some Monte Carlo trials")
            sums.extend(s.tolist())
            squares.extend(np.square(row).sum(axis=1).tolist())  # per row: independent of chunking
        candidates = values
        low, high = self.lower.threshold, self.upper.threshold
        if math.isfinite(low) and math.isfinite(high) and low <= high:  # one pass keeps candidates of both tails
            keep = np.less(values, low)
            keep |= np.greater(values, high)
            candidates = np.compress(keep, values)
        return Part(n, sums, squares, candidates, values)

    def merge(self, part: Part) -> None:
        """Add a :meth:`part`; parts come in the order of their values, all but the last of whole blocks."""
        n = part.count
        if self.count + n > self.trials:
            raise MonteCarloError("trials", "more model values than trials")
        if self.count % BLOCK:
            raise MonteCarloError("chunk_size", f"chunks must be multiples of {BLOCK} values")
        self.count += n
        self.sums.extend(part.sums)
        self.squares.extend(part.squares)
        if self.bins > 0:
            self._histogram(part.values)
        self.lower.add(part.candidates)
        self.upper.add(part.candidates)
        if self.guess and self.count == n and BLOCK <= n <= self.trials // 4:  # first part: a sample to guess from
            self.lower.guess(part.values, self.trials)
            self.upper.guess(part.values, self.trials)

    @property
    def lost(self) -> bool:
        """True when a guessed threshold was too tight (probability below 1e-18): run again with ``guess=False``."""
        return self.lower.lost or self.upper.lost

    def _histogram(self, values: FloatArray) -> None:
        if self.edges is None:
            first = values[:BLOCK]
            lo, hi = float(first.min()), float(first.max())
            span = hi - lo if hi > lo else max(abs(lo), 1.0) * 1e-9
            self.edges = np.linspace(lo - 0.05 * span, hi + 0.05 * span, self.bins + 1)
            self.counts = np.zeros(self.bins + 2, dtype=np.int64)
        if self.counts is None:  # pragma: no cover - set together with edges
            return
        width = (self.edges[-1] - self.edges[0]) / self.bins
        index = np.floor((values - self.edges[0]) / width)
        np.clip(index, -1, self.bins, out=index)
        self.counts += np.bincount(index.astype(np.intp) + 1, minlength=self.bins + 2)

    def finish(self, pool: Executor | None = None) -> Summary:
        """The summary of all values; with ``pool``, the upper tail is sorted there while this thread sorts the
        lower one (the same values either way)."""
        if self.count != self.trials:
            raise MonteCarloError("trials", f"got {self.count} model values, expected {self.trials}")
        if self.lost:
            raise TailsLost("model", "a guessed tail threshold was too tight; run again with guess=False")
        m = self.trials
        s1 = math.fsum(self.sums)
        s2 = math.fsum(self.squares)
        value = self.shift + s1 / m
        u = math.sqrt(max(s2 - s1 * s1 / m, 0.0) / (m - 1))
        upper = pool.submit(self.upper.sorted) if pool is not None else None
        low = self.lower.sorted()  # y_(1) .. y_(M-q)
        high = upper.result() if upper is not None else self.upper.sorted()  # y_(q+1) .. y_(M)
        r = (m - self.q + 1) // 2  # 7.7.2 (both cases)
        widths = high - low
        best = int(np.argmin(widths))  # 7.7.3: first r* of minimum length
        histogram = None
        if self.edges is not None and self.counts is not None:
            histogram = Histogram(
                tuple(float(e) for e in self.edges),
                tuple(int(c) for c in self.counts[1:-1]),
                int(self.counts[0]),
                int(self.counts[-1]),
            )
        return Summary(
            trials=m,
            value=value,
            u=u,
            interval_symmetric=(float(low[r - 1]), float(high[r - 1])),
            interval_shortest=(float(low[best]), float(high[best])),
            histogram=histogram,
        )
