"""Batch assignment of leads to advisors: the generalized assignment problem (GAP), by CP-SAT.

**Formulation.** m agents (advisors) and n jobs (leads). Giving job j to agent i is worth
``value[i, j]`` and uses ``weight[i, j]`` of agent i's ``capacity[i]``; ``allowed[i, j]`` says
whether agent i may take job j at all. With one 0-1 variable x_ij per allowed pair::

    minimise or maximise   sum_ij value[i, j] x_ij
    subject to             sum_i x_ij  = 1   for each job j     (must_assign=True: OR-Library)
                           sum_i x_ij <= 1   for each job j     (must_assign=False: lead routing;
                                                                 jobs left over go to the pool)
                           sum_j weight[i, j] x_ij <= capacity[i]   for each agent i

**Choices.**

- *Sparse*: variables exist only for allowed pairs whose weight fits the agent's capacity
  (the others can never be chosen), so 10,000 leads x 1,000 advisors with 20-50 eligible
  advisors per lead is a model of 200,000-500,000 Booleans, not 10 million. The model is
  written straight into its protocol buffer with array operations (one ``extend`` per
  constraint) rather than one Python object per variable, which would cost seconds.
- *Integers*: CP-SAT needs integer coefficients. Weights and capacities must be integral
  (whole slots, minutes, leads: express them in a unit that makes them so). Values are used
  as they are when every allowed value is an integer; otherwise they are multiplied by
  ``VALUE_SCALE`` (1e6) and rounded, i.e. the solver optimises values rounded to 1e-6, which
  moves the value of any assignment by at most ``n * 0.5e-6``. ``objective`` is always
  recomputed exactly (``math.fsum``) from the float matrix; ``bound`` and ``gap`` are those of
  the rounded model (exact when the values are integers).
- *Limits*: the time limit, the relative gap and the worker count come from ``SolveLimits``;
  the time spent building the model counts against the limit.
- *Status is data* (as ``turnwise.solving`` defines it): OPTIMAL (proven within
  ``limits.relative_gap``), TIME_LIMIT (the time ran out: the best assignment found and its
  gap, or, when none was found, ``agent_of_job`` all -1, ``objective`` NaN and
  ``has_assignment`` False) and INFEASIBLE (with a ``diagnosis``). Only a problem with
  ``must_assign=True`` can be infeasible.
- *Slots*: when every candidate pair uses the same capacity (a lead takes one slot), the
  problem is a transportation problem, which ``slot_flow`` solves exactly by min-cost flow
  in about a second at 10,000 x 1,000 (CP-SAT's presolve alone takes half a minute there);
  the result is OPTIMAL with ``method`` SLOT_FLOW. Every other problem goes to CP-SAT.
- *Diagnosis*: ``assignment_diagnosis`` names the jobs that cannot be placed and why.

The problem itself (``AssignmentProblem``, ``Sense``, ``assignment_value``, ``agent_load``) is
``lead_routing.assignment_problem``'s, re-exported here; ``solve_lap`` (``lead_routing.lap``,
re-exported too) is the one-to-one special case.
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model, cp_model_helper

from lead_routing.assignment_problem import (
    VALUE_SCALE,
    AssignmentProblem,
    Sense,
    agent_load,
    assignment_value,
    scaled_values,
)
from lead_routing.lap import solve_lap
from lead_routing.slot_flow import common_weight, solve_slot_flow
from turnwise.errors import InvalidArgument
from turnwise.solving import SolveLimits, SolveStatus, relative_gap

__all__ = [
    "VALUE_SCALE",
    "AssignmentMethod",
    "AssignmentProblem",
    "AssignmentSolution",
    "AssignmentVariables",
    "Sense",
    "add_hint",
    "agent_load",
    "assignment_value",
    "build_conflict_model",
    "build_model",
    "solve",
    "solve_lap",
]


class AssignmentMethod(enum.Enum):
    CP_SAT = "CP_SAT"
    """The generalized assignment model, by CP-SAT within the limits."""
    SLOT_FLOW = "SLOT_FLOW"
    """Every candidate pair uses the same capacity: an exact min-cost flow (``slot_flow``)."""


@dataclass(frozen=True, eq=False)
class AssignmentVariables:
    """Variable k of the model is x[agent[k], job[k]] (its index in the model's protocol
    buffer is k) with objective coefficient ``coefficient[k]`` = value x ``value_scale``."""

    agent: np.ndarray
    job: np.ndarray
    coefficient: np.ndarray
    value_scale: int

    @property
    def size(self) -> int:
        return int(self.agent.size)


@dataclass(frozen=True, eq=False)
class AssignmentSolution:
    """How the solve ended and the assignment: ``agent_of_job[j]`` is the agent of job j, -1
    when job j is left unassigned (or when there is no assignment: INFEASIBLE, or TIME_LIMIT
    with nothing found).
    ``objective`` is exact from the float values; ``bound`` and ``gap`` are those of the
    values as the solver saw them (``value_scale``)."""

    status: SolveStatus
    agent_of_job: np.ndarray
    objective: float
    bound: float
    gap: float
    seconds: float
    diagnosis: str = ""
    value_scale: int = 1
    method: AssignmentMethod = AssignmentMethod.CP_SAT

    @property
    def has_assignment(self) -> bool:
        if self.status is SolveStatus.TIME_LIMIT:
            return bool((self.agent_of_job >= 0).any()) or not math.isnan(self.objective)
        return self.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)

    @property
    def unassigned_jobs(self) -> np.ndarray:
        return np.flatnonzero(self.agent_of_job < 0)


def build_model(problem: AssignmentProblem) -> tuple[cp_model.CpModel, AssignmentVariables]:
    """The CP-SAT model of ``problem``: data -> variables -> constraints -> objective."""
    variables = _pairs(problem)
    return _build(problem, variables, enforce_jobs=False), variables


def build_conflict_model(problem: AssignmentProblem) -> tuple[cp_model.CpModel, np.ndarray]:
    """The model without objective in which job j's row holds only when literal
    ``literals[j]`` (an assumption of the model) is true: CP-SAT's sufficient assumptions for
    infeasibility then name jobs that cannot all be assigned (``assignment_diagnosis``)."""
    variables = _pairs(problem)
    model = _build(problem, variables, enforce_jobs=True)
    return model, np.arange(variables.size, variables.size + problem.jobs)


def solve(
    problem: AssignmentProblem, limits: SolveLimits, hint: np.ndarray | None = None
) -> AssignmentSolution:
    """Solve ``problem`` within ``limits`` (time limit, relative gap and CP-SAT workers).
    ``hint`` is a previous assignment, (n,) agent per job or -1, from which the search
    starts; its entries on pairs that are no longer allowed are read as -1. The status is
    OPTIMAL, TIME_LIMIT (the best assignment found in time with its gap, or none),
    INFEASIBLE (with a diagnosis). When every candidate pair uses the same capacity the problem
    is a transportation problem, solved exactly by min-cost flow (no hint needed: it is
    exact, and polynomial)."""
    start = time.perf_counter()
    variables = _pairs(problem)
    checked = None if hint is None else _checked_hint(problem, hint)
    weight = common_weight(problem.weight[variables.agent, variables.job])
    if weight is not None:
        found = _solve_slots(problem, variables, weight, limits, start)
        if found is not None:
            return found
    model = _build(problem, variables, enforce_jobs=False)
    if checked is not None:
        add_hint(model, problem, variables, checked)
    left = limits.time_limit_seconds - (time.perf_counter() - start)
    scale = variables.value_scale
    if left <= 0:
        return _no_assignment(problem, SolveStatus.TIME_LIMIT, start, scale)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = left
    solver.parameters.num_workers = limits.workers
    solver.parameters.relative_gap_limit = limits.relative_gap
    code = solver.solve(model)
    if code == cp_model.OPTIMAL:
        return _extract(problem, variables, solver, SolveStatus.OPTIMAL, start)
    if code == cp_model.FEASIBLE:
        return _extract(problem, variables, solver, SolveStatus.TIME_LIMIT, start, limits)
    if code == cp_model.INFEASIBLE:
        return _infeasible(problem, limits, start, scale, AssignmentMethod.CP_SAT)
    if code == cp_model.UNKNOWN:  # the time ran out before any assignment was found
        bound = solver.best_objective_bound / scale
        return _no_assignment(problem, SolveStatus.TIME_LIMIT, start, scale, bound=bound)
    raise InvalidArgument("problem", f"CP-SAT rejected the model: {model.validate()}")


def _checked_hint(problem: AssignmentProblem, hint: np.ndarray) -> np.ndarray:
    agents = np.asarray(hint)
    if agents.shape != (problem.jobs,) or not np.issubdtype(agents.dtype, np.integer):
        raise InvalidArgument(
            "hint",
            f"must be ({problem.jobs},) integer agents per job (-1: none), got {agents.shape}",
        )
    if ((agents < -1) | (agents >= problem.agents)).any():
        raise InvalidArgument("hint", f"agents must be within [-1, {problem.agents - 1}]")
    return agents.astype(np.int64)


# --- the model ---------------------------------------------------------------------------


def _pairs(problem: AssignmentProblem) -> AssignmentVariables:
    """The data step: the pairs that can be chosen (allowed, and fitting the agent's
    capacity), grouped by agent, with their integer objective coefficients."""
    scaled, scale = scaled_values(problem)
    usable = problem.mask & (problem.weight <= problem.capacity[:, None])
    agent, job = np.nonzero(usable)  # row-major: grouped by agent
    return AssignmentVariables(agent, job, scaled[agent, job], scale)


def _build(
    problem: AssignmentProblem, variables: AssignmentVariables, *, enforce_jobs: bool
) -> cp_model.CpModel:
    """The model of the pairs ``variables``; with ``enforce_jobs`` each job's row is enforced
    by its own literal (an assumption) and there is no objective: the conflict model."""
    agent, job = variables.agent, variables.job
    model = cp_model.CpModel()
    proto = model.proto
    # variables: x_k in {0, 1}
    boolean = cp_model_helper.IntegerVariableProto()
    boolean.domain.extend([0, 1])
    proto.variables.extend([boolean] * variables.size)
    # constraints: each job at most (exactly) once, each agent within its capacity
    by_job = np.argsort(job, kind="stable")
    job_starts = np.searchsorted(job[by_job], np.arange(problem.jobs + 1))
    literals = np.arange(variables.size, variables.size + problem.jobs) if enforce_jobs else None
    if literals is not None:
        proto.variables.extend([boolean] * problem.jobs)
    for j in range(problem.jobs):
        row = proto.constraints.add()
        members = by_job[job_starts[j] : job_starts[j + 1]].tolist()
        if problem.must_assign:
            row.exactly_one.literals.extend(members)
        else:
            row.at_most_one.literals.extend(members)
        if literals is not None:
            row.enforcement_literal.append(int(literals[j]))
    agent_starts = np.searchsorted(agent, np.arange(problem.agents + 1))
    weights = problem.weight[agent, job]
    for i in range(problem.agents):
        lo, hi = int(agent_starts[i]), int(agent_starts[i + 1])
        row = proto.constraints.add()
        row.linear.vars.extend(range(lo, hi))
        row.linear.coeffs.extend(weights[lo:hi].tolist())
        row.linear.domain.extend([0, int(problem.capacity[i])])
    # objective
    if literals is None:
        sign = 1 if problem.sense is Sense.MINIMISE else -1
        proto.objective.vars.extend(range(variables.size))
        proto.objective.coeffs.extend((sign * variables.coefficient).tolist())
        proto.objective.scaling_factor = float(sign)
    else:
        proto.assumptions.extend(literals.tolist())
    return model


def add_hint(
    model: cp_model.CpModel,
    problem: AssignmentProblem,
    variables: AssignmentVariables,
    hint: np.ndarray,
) -> None:
    """Hint every variable of a built model from a previous assignment ``hint`` ((n,) agent
    per job, -1: none): 1 where it chose the pair, else 0. A pair it chose that has no
    variable (no longer allowed, or heavier than the capacity) is hinted as unassigned."""
    chosen = _checked_hint(problem, hint)[variables.job] == variables.agent
    model.proto.solution_hint.vars.extend(range(variables.size))
    model.proto.solution_hint.values.extend(chosen.astype(np.int64).tolist())


# --- extraction --------------------------------------------------------------------------


def _extract(
    problem: AssignmentProblem,
    variables: AssignmentVariables,
    solver: cp_model.CpSolver,
    status: SolveStatus,
    start: float,
    limits: SolveLimits | None = None,
) -> AssignmentSolution:
    """The assignment CP-SAT found, its exact value, and the bound and gap it proved."""
    solution = np.asarray(solver.response_proto.solution, dtype=np.int64)[: variables.size]
    chosen = np.flatnonzero(solution == 1)
    agent_of_job = np.full(problem.jobs, -1, dtype=np.int64)
    agent_of_job[variables.job[chosen]] = variables.agent[chosen]
    scale = variables.value_scale
    rounded = float(variables.coefficient[chosen].sum()) / scale
    bound = solver.best_objective_bound / scale
    gap = relative_gap(rounded, bound)
    if limits is not None and gap <= limits.relative_gap:
        status = SolveStatus.OPTIMAL  # stopped at the time limit right after closing the gap
    return AssignmentSolution(
        status,
        agent_of_job,
        assignment_value(problem, agent_of_job),
        bound,
        gap,
        time.perf_counter() - start,
        value_scale=scale,
    )


def _solve_slots(
    problem: AssignmentProblem,
    variables: AssignmentVariables,
    weight: int,
    limits: SolveLimits,
    start: float,
) -> AssignmentSolution | None:
    """Every candidate pair uses ``weight``: agent i has ``capacity[i] // weight`` slots and
    the min-cost flow is exact (None when its costs are out of range: use CP-SAT)."""
    sign = 1 if problem.sense is Sense.MINIMISE else -1
    result = solve_slot_flow(
        variables.agent,
        variables.job,
        sign * variables.coefficient,
        problem.capacity // weight,
        problem.jobs,
        must_assign=problem.must_assign,
    )
    scale = variables.value_scale
    if not result.supported:
        return None
    if not result.feasible:
        return _infeasible(problem, limits, start, scale, AssignmentMethod.SLOT_FLOW)
    agent_of_job = np.full(problem.jobs, -1, dtype=np.int64)
    agent_of_job[variables.job[result.chosen]] = variables.agent[result.chosen]
    bound = float(variables.coefficient[result.chosen].sum()) / scale  # proven by the flow
    return AssignmentSolution(
        SolveStatus.OPTIMAL,
        agent_of_job,
        assignment_value(problem, agent_of_job),
        bound,
        0.0,
        time.perf_counter() - start,
        value_scale=scale,
        method=AssignmentMethod.SLOT_FLOW,
    )


def _infeasible(
    problem: AssignmentProblem,
    limits: SolveLimits,
    start: float,
    scale: int,
    method: AssignmentMethod,
) -> AssignmentSolution:
    """No assignment places every job: none, with the diagnosis (searched for with what
    time is left)."""
    from lead_routing.assignment_diagnosis import diagnose

    left = limits.time_limit_seconds - (time.perf_counter() - start)
    diagnosis = diagnose(problem, left)
    return _no_assignment(problem, SolveStatus.INFEASIBLE, start, scale, diagnosis, method=method)


def _no_assignment(
    problem: AssignmentProblem,
    status: SolveStatus,
    start: float,
    scale: int,
    diagnosis: str = "",
    bound: float = float("nan"),
    method: AssignmentMethod = AssignmentMethod.CP_SAT,
) -> AssignmentSolution:
    gap = float("inf") if status is SolveStatus.TIME_LIMIT else float("nan")
    return AssignmentSolution(
        status,
        np.full(problem.jobs, -1, dtype=np.int64),
        float("nan"),
        bound,
        gap,
        time.perf_counter() - start,
        diagnosis=diagnosis,
        value_scale=scale,
        method=method,
    )
