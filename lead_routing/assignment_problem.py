"""The generalized assignment problem as data: ``AssignmentProblem`` (validated when built,
errors naming the field), its ``Sense``, and what any assignment of it is worth
(``assignment_value``) and uses (``agent_load``).

The solver (``lead_routing.assignment``, CP-SAT or min-cost flow) and the OR-Library readers
(``lead_routing.orlib``) build on it; it imports no solver, so a problem can be built and
checked where OR-Tools is not loaded. CP-SAT needs integer coefficients, hence the limits
below and ``scaled_values``: weights and capacities must be whole numbers, fractional values
are scaled by ``VALUE_SCALE`` and rounded (``lead_routing.assignment`` explains the effect).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from turnwise.errors import InvalidArgument

__all__ = [
    "VALUE_SCALE",
    "AssignmentProblem",
    "Sense",
    "agent_load",
    "assignment_value",
    "scaled_values",
]

VALUE_SCALE = 1_000_000
"""Values are multiplied by this and rounded when any allowed value is not an integer."""

_MAX_ENTRY = 2**53
"""Largest weight, capacity or scaled value: exact in a float and far from int64 overflow."""
_MAX_SUM = 2**62
"""Largest total of a capacity row or of the objective, within CP-SAT's int64 arithmetic."""


class Sense(enum.Enum):
    MINIMISE = "MINIMISE"
    MAXIMISE = "MAXIMISE"


@dataclass(frozen=True, eq=False)
class AssignmentProblem:
    """m agents x n jobs. ``value``, ``weight`` and ``allowed`` are (m, n), ``capacity`` is
    (m,); entries of disallowed pairs are ignored and may be NaN. ``allowed=None`` allows
    every pair (it is stored as an all-True mask). With ``must_assign=False`` a job is only
    assigned when that improves the objective (a positive value when maximising). Validated
    when built: errors name the field."""

    value: np.ndarray
    weight: np.ndarray
    capacity: np.ndarray
    sense: Sense
    must_assign: bool
    allowed: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.sense, Sense):
            raise InvalidArgument(
                "sense", f"must be a Sense (MINIMISE or MAXIMISE), got {self.sense!r}"
            )
        if not isinstance(self.must_assign, bool | np.bool_):
            raise InvalidArgument("must_assign", f"must be True or False, got {self.must_assign!r}")
        object.__setattr__(self, "must_assign", bool(self.must_assign))
        value = np.asarray(self.value, dtype=float)
        if value.ndim != 2 or value.shape[0] < 1:
            raise InvalidArgument(
                "value",
                f"must be an (agents, jobs) matrix with agents >= 1, got shape {value.shape}",
            )
        allowed = _allowed_mask(self.allowed, value.shape)
        weight = _integral("weight", self.weight, value.shape, allowed)
        capacity = _integral("capacity", self.capacity, value.shape[:1], None)
        if not np.isfinite(value[allowed]).all():
            raise InvalidArgument("value", "must be finite on every allowed pair")
        row_sums = np.where(allowed, weight, 0).astype(float).sum(axis=1)
        if (row_sums > _MAX_SUM).any():
            agent = int(np.argmax(row_sums))
            raise InvalidArgument(
                f"weight[{agent}]", "sums past 2**62 over the allowed jobs: use a coarser unit"
            )
        for name, array in (("value", value), ("weight", weight), ("capacity", capacity)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        allowed.setflags(write=False)
        object.__setattr__(self, "allowed", allowed)
        scaled_values(self)  # raises when the values are too large to be scaled

    @property
    def agents(self) -> int:
        return int(self.value.shape[0])

    @property
    def jobs(self) -> int:
        return int(self.value.shape[1])

    @property
    def mask(self) -> np.ndarray:
        """The (m, n) boolean mask of allowed pairs."""
        assert self.allowed is not None  # set in __post_init__
        return self.allowed


def assignment_value(problem: AssignmentProblem, agent_of_job: np.ndarray) -> float:
    """The exact total value (``math.fsum`` of the float values) of an assignment."""
    jobs = np.flatnonzero(agent_of_job >= 0)
    return math.fsum(problem.value[agent_of_job[jobs], jobs].tolist())


def agent_load(problem: AssignmentProblem, agent_of_job: np.ndarray) -> np.ndarray:
    """(m,) int64 capacity each agent uses under an assignment."""
    jobs = np.flatnonzero(agent_of_job >= 0)
    agents = agent_of_job[jobs]
    load = np.zeros(problem.agents, dtype=np.int64)
    np.add.at(load, agents, problem.weight[agents, jobs])
    return load


# --- validation -------------------------------------------------------------------------


def _allowed_mask(allowed: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    if allowed is None:
        return np.ones(shape, dtype=bool)
    mask = np.asarray(allowed)
    if mask.dtype != np.bool_:
        raise InvalidArgument("allowed", f"must be a boolean mask, got dtype {mask.dtype}")
    if mask.shape != shape:
        raise InvalidArgument("allowed", f"must have the shape of value {shape}, got {mask.shape}")
    return mask.copy()


def _integral(
    name: str,
    data: np.ndarray,
    shape: tuple[int, ...],
    where: np.ndarray | None,
) -> np.ndarray:
    """``data`` as int64 of ``shape``: finite integers (on ``where`` when given; 0 elsewhere),
    >= 0 and at most 2**53."""
    array = np.asarray(data)
    if array.shape != shape:
        raise InvalidArgument(name, f"must have shape {shape}, got {array.shape}")
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise InvalidArgument(name, f"must be numbers, got dtype {array.dtype}")
    floats = np.asarray(array, dtype=float)
    if where is not None:
        floats = np.where(where, floats, 0.0)
    if not np.isfinite(floats).all():
        raise InvalidArgument(name, "must be finite")
    if (floats != np.round(floats)).any():
        raise InvalidArgument(name, "must be whole numbers: express it in a smaller unit")
    if (floats < 0).any():
        index = np.unravel_index(int(np.argmin(floats)), shape)
        raise InvalidArgument(
            name, f"must be >= 0, got {floats[index]:g} at {tuple(map(int, index))}"
        )
    if (np.abs(floats) > _MAX_ENTRY).any():
        raise InvalidArgument(name, "must be at most 2**53 in magnitude: use a coarser unit")
    if where is not None or not np.issubdtype(array.dtype, np.integer):
        return floats.astype(np.int64)
    return array.astype(np.int64)


def scaled_values(problem: AssignmentProblem) -> tuple[np.ndarray, int]:
    """(m, n) int64 objective coefficients (0 on disallowed pairs) and their scale."""
    value = np.where(problem.mask, problem.value, 0.0)
    scale = 1 if (value == np.round(value)).all() else VALUE_SCALE
    scaled = np.round(value * scale)
    if (
        float(np.abs(scaled).sum()) > _MAX_SUM
        or float(np.abs(scaled).max(initial=0.0)) > _MAX_ENTRY
    ):
        raise InvalidArgument(
            "value",
            f"is too large in magnitude for CP-SAT at a scale of {scale}: divide it by a power "
            "of ten",
        )
    return scaled.astype(np.int64), scale
