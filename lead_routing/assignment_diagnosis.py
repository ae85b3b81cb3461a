"""Why a batch assignment with ``must_assign=True`` has no solution: the diagnosis that
``lead_routing.assignment.solve`` returns with an INFEASIBLE status.

Cheap checks first, each naming the jobs at fault: a job with no allowed agent, a job heavier
than the capacity of every agent allowed to take it, more weight in all (each job at its
lightest agent) than capacity in all. When none of those holds the conflict is a packing
one: CP-SAT is asked once more, on the model without objective in which each job's row is
enforced by its own assumption literal, for a set of jobs that cannot all be assigned
together (its sufficient assumptions for infeasibility; not necessarily minimal), and the
diagnosis names those jobs, their allowed agents and the capacity those agents have.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from lead_routing.assignment import AssignmentProblem, build_conflict_model

__all__ = ["diagnose"]

_LISTED = 10
"""How many job or agent indices a diagnosis lists before it says 'and k more'."""


def diagnose(problem: AssignmentProblem, seconds: float) -> str:
    """Why no assignment gives every job an agent within the capacities; ``seconds`` bounds
    the CP-SAT search for a packing conflict."""
    fits = problem.mask & (problem.weight <= problem.capacity[:, None])
    lonely = np.flatnonzero(~problem.mask.any(axis=0))
    if lonely.size:
        return (
            f"{_jobs(lonely)} no allowed agent: allow at least one agent for each, or solve "
            "with must_assign=False to leave such jobs unassigned"
        )
    heavy = np.flatnonzero(~fits.any(axis=0))
    if heavy.size:
        return (
            f"{_jobs(heavy)} no allowed agent with the capacity for them: each weighs more than "
            "the capacity of every agent allowed to take it"
        )
    need = _least_weight(problem, fits, np.arange(problem.jobs))
    have = int(problem.capacity.sum())
    if need > have:
        return (
            f"the jobs need at least {need} capacity units in all (each at its lightest allowed "
            f"agent) and the agents have {have}: add capacity or allow unassigned jobs"
        )
    core = _conflict(problem, seconds)
    if core.size == 0:
        return (
            "the capacities cannot hold every job at once, although each job fits some allowed "
            "agent and the total capacity suffices (the weights do not pack)"
        )
    agents = np.flatnonzero(problem.mask[:, core].any(axis=1))
    return (
        f"jobs {_listed(core)} cannot all be assigned at once: they need at least "
        f"{_least_weight(problem, fits, core)} capacity units and their allowed agents "
        f"{_listed(agents)} have {int(problem.capacity[agents].sum())} in all, which their "
        "weights do not pack into"
    )


def _conflict(problem: AssignmentProblem, seconds: float) -> np.ndarray:
    """Jobs that cannot all be assigned together (CP-SAT's sufficient assumptions for
    infeasibility, one literal per job); empty when it found none within ``seconds``."""
    if seconds <= 0.01 or problem.jobs == 0:
        return np.zeros(0, dtype=np.int64)
    model, literals = build_conflict_model(problem)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 1  # the core comes from the single search
    if solver.solve(model) != cp_model.INFEASIBLE:
        return np.zeros(0, dtype=np.int64)
    core = np.asarray(solver.sufficient_assumptions_for_infeasibility(), dtype=np.int64)
    return np.sort(core[np.isin(core, literals)] - int(literals[0]))


def _least_weight(problem: AssignmentProblem, fits: np.ndarray, jobs: np.ndarray) -> int:
    """Total weight of ``jobs``, each at its lightest agent that it fits."""
    lightest = np.where(fits[:, jobs], problem.weight[:, jobs], np.iinfo(np.int64).max).min(axis=0)
    return int(lightest.sum())


def _jobs(jobs: np.ndarray) -> str:
    return f"job {jobs[0]} has" if jobs.size == 1 else f"jobs {_listed(jobs)} have"


def _listed(indices: np.ndarray) -> str:
    shown = ", ".join(str(int(k)) for k in indices[:_LISTED])
    more = indices.size - _LISTED
    return f"{shown} and {more} more" if more > 0 else shown
