"""Sufficient statistics: customers who share a value of the statistics a likelihood depends on are
evaluated once and weighted by their count.

The BG/NBD likelihood depends on a customer only through (x, t_x, T). In whole days, one million
customers of a few years' history share far fewer distinct triples (x is small, t_x ≤ T ≤ the age
of the business), so every likelihood evaluation costs the distinct triples, not the customers.
This is what Fader, Hardie & Lee (2005, §4) do with the CDNOW data, and what keeps the nightly fit
within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Grouped:
    """Distinct rows of the statistics, how many customers have each, and for each customer the
    index of its row (so per-customer values are `values_per_row[inverse]`)."""

    columns: tuple[FloatArray, ...]
    counts: FloatArray
    inverse: IntArray

    @property
    def rows(self) -> int:
        return int(self.counts.size)


def group(*columns: FloatArray) -> Grouped:
    """Group customers by the tuple of their values in `columns` (equal-length 1-d arrays)."""
    cols = [np.asarray(c, dtype=np.float64).reshape(-1) for c in columns]
    n = cols[0].size if cols else 0
    if n == 0:
        empty = np.empty(0, dtype=np.float64)
        return Grouped(tuple(empty for _ in cols), empty, np.empty(0, dtype=np.int64))
    key = _integer_key(cols)
    if key is not None:
        # whole days (the warehouse's case): one int64 per row, sorted once
        order = np.argsort(key, kind="stable")
        starts = np.ones(n, dtype=bool)
        starts[1:] = np.diff(key[order]) != 0
    else:
        # np.lexsort: the last key is the primary one; a new group wherever any column changes
        order = np.lexsort(cols[::-1])
        starts = np.ones(n, dtype=bool)
        starts[1:] = np.any([np.diff(c[order]) != 0 for c in cols], axis=0)
    ordered = [c[order] for c in cols]
    row_of_sorted = np.cumsum(starts) - 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = row_of_sorted
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, n)).astype(np.float64)
    return Grouped(tuple(np.ascontiguousarray(c[first]) for c in ordered), counts, inverse)


def _integer_key(cols: list[FloatArray]) -> IntArray | None:
    """One int64 per row that orders rows as the tuple of their values, when every value is a whole
    number ≥ 0 and the mixed-radix number fits in 62 bits; else None. (np.unique(axis=0) sorts rows
    through a bytes view: 8.7 s for 1M rows here; np.lexsort of three float columns about 3 s under
    load; one int64 sort a fraction of a second.)"""
    key = np.zeros(cols[0].size, dtype=np.int64)
    span = 1
    for c in cols:
        if not (np.all(c >= 0) and np.all(c == np.floor(c))):
            return None
        radix = int(c.max()) + 1
        span *= radix
        if span >= 2**62:
            return None
        key = key * radix + c.astype(np.int64)
    return key


def weighted_sum(weight: FloatArray, values: FloatArray) -> float:
    """Σ weight·values. Not np.dot: that goes to multithreaded BLAS, whose threads wait on each
    other when the cores are busy — measured 10 ms for 20,000 values on this shared 2-core machine
    under load, against 11 µs for a multiply and a sum."""
    return float((weight * values).sum())
