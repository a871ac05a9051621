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
    stacked = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    if stacked.shape[0] == 0:
        empty = np.empty(0, dtype=np.float64)
        return Grouped(tuple(empty for _ in columns), empty, np.empty(0, dtype=np.int64))
    # np.unique(axis=0) sorts rows lexicographically: O(n log n) once, then every likelihood
    # evaluation of the fit works on the distinct rows only.
    unique, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
    return Grouped(
        columns=tuple(np.ascontiguousarray(unique[:, i]) for i in range(unique.shape[1])),
        counts=counts.astype(np.float64),
        inverse=inverse.reshape(-1).astype(np.int64),
    )
