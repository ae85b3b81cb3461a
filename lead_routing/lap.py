"""The linear assignment problem (LAP): n agents, n jobs, each agent exactly one job and each
job exactly one agent, minimum total integer cost.

Solved by OR-Tools' ``SimpleLinearSumAssignment`` (Goldberg-Kennedy cost-scaling
push-relabel on the complete bipartite graph): exact and polynomial, so it takes no time
limit; 800 x 800 (OR-Library assign800) takes about half a second. It needs integer costs:
a cost matrix that is not integral is refused rather than rounded.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import linear_sum_assignment

from turnwise.errors import InvalidArgument

__all__ = ["solve_lap"]

_MAX_COST = 2**40
"""Largest cost magnitude: the algorithm scales costs by n + 1 in int64 arithmetic."""


def solve_lap(cost: np.ndarray) -> tuple[np.ndarray, int]:
    """The minimum-cost one-to-one assignment of a square integer ``cost`` matrix (row i =
    agent i's cost for each job): ``assignment[i]`` is agent i's job, ``objective`` the
    total cost."""
    matrix = np.asarray(cost)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InvalidArgument("cost", f"must be a square (n, n) matrix, got shape {matrix.shape}")
    if matrix.dtype == np.bool_ or not np.issubdtype(matrix.dtype, np.number):
        raise InvalidArgument("cost", f"must be numbers, got dtype {matrix.dtype}")
    floats = matrix.astype(float)
    if not np.isfinite(floats).all() or (floats != np.round(floats)).any():
        raise InvalidArgument("cost", "must be finite whole numbers: scale it to integers first")
    if (np.abs(floats) > _MAX_COST).any():
        raise InvalidArgument("cost", "must be at most 2**40 in magnitude: use a coarser unit")
    n = matrix.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    lap = linear_sum_assignment.SimpleLinearSumAssignment()
    rows, cols = np.indices((n, n), dtype=np.int32).reshape(2, -1)
    lap.add_arcs_with_cost(rows, cols, matrix.astype(np.int64).ravel())
    status = lap.solve()
    if status == lap.POSSIBLE_OVERFLOW:
        raise InvalidArgument("cost", "is too large in magnitude for int64 arithmetic: rescale it")
    if status != lap.OPTIMAL:  # a complete bipartite graph always has a perfect matching
        raise InvalidArgument("cost", f"SimpleLinearSumAssignment ended with status {status}")
    assignment = np.array([lap.right_mate(i) for i in range(n)], dtype=np.int64)
    return assignment, int(lap.optimal_cost())
