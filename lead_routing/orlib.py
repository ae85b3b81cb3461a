"""Readers of J.E. Beasley's OR-Library assignment instances, as copied to ../shared/data.

- **GAP** (``orlib_gap/instances``): one generalized assignment problem per file, the
  OR-Library format without its leading problem count: ``m n``, the m x n cost matrix (row =
  agent), the m x n resource matrix, the m capacities, all whitespace-separated integers.
  ``cattrysse1994/gapX-k`` are OR-Library gap1..gap12 (5-10 agents, 15-60 jobs), published
  with maximisation optima; ``chu1997/{a,b,c,d}*`` are gapa..gapd, minimisation problems.
  ``orlib_gap/optimal_values.csv`` holds the known optima of both senses.
- **LAP** (``orlib_assign/instances/assign{100..800}.txt``): ``n`` then the n x n integer
  cost matrix row by row, line breaks anywhere; ``orlib_assign/optimal_values.csv`` holds
  the minimum costs.

Every reader returns a frozen dataclass of numpy arrays. A missing file is
``DatasetMissing``; a malformed one is ``InvalidArgument`` whose field is the file's path and
whose hint says what is wrong with it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lead_routing.assignment_problem import AssignmentProblem, Sense
from turnwise.errors import DatasetMissing, InvalidArgument

__all__ = [
    "GapInstance",
    "GapKnownValue",
    "LapInstance",
    "LapKnownValue",
    "read_gap",
    "read_gap_known_values",
    "read_lap",
    "read_lap_known_values",
]


@dataclass(frozen=True, eq=False)
class GapInstance:
    """One GAP: ``cost`` and ``weight`` (m, n), ``capacity`` (m,), all int64."""

    name: str
    cost: np.ndarray
    weight: np.ndarray
    capacity: np.ndarray

    @property
    def agents(self) -> int:
        return int(self.cost.shape[0])

    @property
    def jobs(self) -> int:
        return int(self.cost.shape[1])

    def problem(self, sense: Sense) -> AssignmentProblem:
        """The instance as OR-Library poses it: every job to exactly one agent."""
        return AssignmentProblem(self.cost, self.weight, self.capacity, sense, must_assign=True)


@dataclass(frozen=True, eq=False)
class LapInstance:
    """One linear assignment problem: ``cost`` (n, n) int64, row i = agent i's costs."""

    name: str
    cost: np.ndarray

    @property
    def size(self) -> int:
        return int(self.cost.shape[0])


@dataclass(frozen=True)
class GapKnownValue:
    """A row of ``orlib_gap/optimal_values.csv``; an optimum is None where none is known
    (gap1-12 only have a published maximisation optimum; d20200 is not proven)."""

    instance_file: str
    orlib_file: str
    orlib_problem: str
    agents: int
    jobs: int
    max_optimum: int | None
    min_optimum: int | None

    @property
    def name(self) -> str:
        return Path(self.instance_file).name


@dataclass(frozen=True)
class LapKnownValue:
    """A row of ``orlib_assign/optimal_values.csv``: the minimum total cost of an instance."""

    instance: str
    size: int
    optimal_cost: int


_GAP_COLUMNS = (
    "instance_file",
    "orlib_file",
    "orlib_problem",
    "agents",
    "jobs",
    "max_optimum_orlib",
    "min_optimum",
)


def read_gap(path: Path) -> GapInstance:
    """One GAP file: ``m n``, costs, weights, capacities."""
    numbers = _integers(path)
    if numbers.size < 2 or numbers[0] < 1 or numbers[1] < 1:
        raise InvalidArgument(str(path), "must start with the agent and job counts m n, both >= 1")
    m, n = int(numbers[0]), int(numbers[1])
    expected = 2 * m * n + m
    if numbers.size - 2 != expected:
        raise InvalidArgument(
            str(path),
            f"has {numbers.size - 2} numbers after 'm n' = '{m} {n}', expected 2*m*n + m = "
            f"{expected} (costs, weights, capacities; one problem per file, no leading count)",
        )
    body = numbers[2:]
    cost = body[: m * n].reshape(m, n)
    weight = body[m * n : 2 * m * n].reshape(m, n)
    capacity = body[2 * m * n :]
    if (weight < 0).any():
        agent, job = np.argwhere(weight < 0)[0]
        raise InvalidArgument(str(path), f"weight of agent {agent}, job {job} is negative")
    if (capacity < 0).any():
        raise InvalidArgument(
            str(path), f"capacity of agent {int(np.argmin(capacity))} is negative"
        )
    return GapInstance(path.name, cost, weight, capacity)


def read_lap(path: Path) -> LapInstance:
    """One LAP file: ``n`` then n*n costs."""
    numbers = _integers(path)
    if numbers[0] < 1:
        raise InvalidArgument(str(path), f"must start with the size n >= 1, got {numbers[0]}")
    n = int(numbers[0])
    if numbers.size - 1 != n * n:
        raise InvalidArgument(
            str(path), f"has {numbers.size - 1} costs after n = {n}, expected n*n = {n * n}"
        )
    return LapInstance(path.stem, numbers[1:].reshape(n, n))


def read_gap_known_values(path: Path) -> tuple[GapKnownValue, ...]:
    """The rows of ``orlib_gap/optimal_values.csv``."""
    return tuple(
        GapKnownValue(
            row["instance_file"],
            row["orlib_file"],
            row["orlib_problem"],
            _cell(path, line, row, "agents"),
            _cell(path, line, row, "jobs"),
            _optional_cell(path, line, row, "max_optimum_orlib"),
            _optional_cell(path, line, row, "min_optimum"),
        )
        for line, row in _rows(path, _GAP_COLUMNS)
    )


def read_lap_known_values(path: Path) -> tuple[LapKnownValue, ...]:
    """The rows of ``orlib_assign/optimal_values.csv``."""
    return tuple(
        LapKnownValue(
            row["instance"], _cell(path, line, row, "n"), _cell(path, line, row, "optimal_cost")
        )
        for line, row in _rows(path, ("instance", "n", "optimal_cost"))
    )


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise DatasetMissing(
            str(path), "no such file: check the shared data folder (../shared/data)"
        )
    try:
        return path.read_text(encoding="ascii")
    except UnicodeDecodeError as err:
        raise InvalidArgument(str(path), f"is not a text file of numbers ({err.reason})") from err


def _integers(path: Path) -> np.ndarray:
    """The file's whitespace-separated tokens as int64."""
    tokens = _read_text(path).split()
    if not tokens:
        raise InvalidArgument(str(path), "is empty")
    try:
        return np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        position = next(k for k, token in enumerate(tokens) if not _is_integer(token))
        raise InvalidArgument(
            str(path), f"token {position + 1} is {tokens[position]!r}, not an integer"
        ) from None


def _is_integer(token: str) -> bool:
    try:
        np.int64(int(token))
    except (ValueError, OverflowError):
        return False
    return True


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(_read_text(path).splitlines())
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidArgument(str(path), f"has no column {', '.join(missing)}")
    return [(line, row) for line, row in enumerate(reader, start=2)]


def _cell(path: Path, line: int, row: dict[str, str], column: str) -> int:
    value = _optional_cell(path, line, row, column)
    if value is None:
        raise InvalidArgument(str(path), f"line {line}: column {column} is empty")
    return value


def _optional_cell(path: Path, line: int, row: dict[str, str], column: str) -> int | None:
    text = (row.get(column) or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(
            str(path), f"line {line}: column {column} is {text!r}, not an integer"
        ) from None
