"""Linear and mixed-integer programs given as arrays, solved with HiGHS through OR-Tools
MathOpt.

Why MathOpt and not OR-Tools' model builder, whose HiGHS wrapper (OR-Tools 9.15) is the
obvious route: that wrapper returns the row activities where the duals should be,
segfaults on solution hints, and answers a MIP that hits its time limit with no solution at
all, dropping the best plan found. MathOpt's HiGHS interface returns true duals, takes
hints and keeps the incumbent. (GLOP has true duals too but is 3-4x slower than HiGHS on
the pick-up LP: 10.9 s against 3.0 s on g300.)

The model is written straight into MathOpt's ``ModelProto`` from the sparse matrix
(``model_proto``) and solved by MathOpt's solver core, the function that ``mathopt.solve``
calls, which skips building a Python object per column (10^5 of them on g300).
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.math_opt import model_pb2, result_pb2
from ortools.math_opt.core.python import solver as core
from ortools.math_opt.python import callback, init_arguments, model_parameters, parameters

__all__ = ["HighsResult", "HighsStatus", "model_proto", "solve_highs", "solve_lp"]


class HighsStatus(enum.Enum):
    OPTIMAL = "OPTIMAL"
    """Optimal (a MIP: within the requested relative gap)."""
    FEASIBLE = "FEASIBLE"
    """A limit stopped the solve with a solution: ``values`` is the best one found."""
    INFEASIBLE = "INFEASIBLE"
    NOT_SOLVED = "NOT_SOLVED"
    """A limit (or another reason) stopped the solve without a solution."""


@dataclass(frozen=True, eq=False)
class HighsResult:
    """``values`` per column when there is a solution; ``duals`` per row for an LP solved to
    optimality (the objective's rate of change per unit of a row bound); ``bound`` the
    proven bound on the objective (the optimum of an LP)."""

    status: HighsStatus
    objective: float
    bound: float
    values: np.ndarray
    duals: np.ndarray

    @property
    def has_solution(self) -> bool:
        return self.status in (HighsStatus.OPTIMAL, HighsStatus.FEASIBLE)


def model_proto(
    lower: np.ndarray,
    upper: np.ndarray,
    objective: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    matrix: sp.csr_matrix,
    integers: int = 0,
    offset: float = 0.0,
    maximize: bool = True,
) -> model_pb2.ModelProto:
    """``objective @ x + offset`` over ``row_lower <= matrix @ x <= row_upper`` and
    ``lower <= x <= upper``; the first ``integers`` columns are integer."""
    n_cols, n_rows = lower.size, row_lower.size
    proto = model_pb2.ModelProto()
    columns = proto.variables
    columns.ids.extend(range(n_cols))
    columns.lower_bounds.extend(np.asarray(lower, dtype=np.float64).tolist())
    columns.upper_bounds.extend(np.asarray(upper, dtype=np.float64).tolist())
    columns.integers.extend([True] * integers + [False] * (n_cols - integers))
    proto.objective.maximize = maximize
    proto.objective.offset = offset
    used = np.flatnonzero(objective)
    proto.objective.linear_coefficients.ids.extend(used.tolist())
    proto.objective.linear_coefficients.values.extend(objective[used].tolist())
    rows = proto.linear_constraints
    rows.ids.extend(range(n_rows))
    rows.lower_bounds.extend(np.asarray(row_lower, dtype=np.float64).tolist())
    rows.upper_bounds.extend(np.asarray(row_upper, dtype=np.float64).tolist())
    coo = sp.csr_matrix(matrix).tocoo()
    order = np.lexsort((coo.col, coo.row))  # row-major, as the proto requires
    terms = proto.linear_constraint_matrix
    terms.row_ids.extend(coo.row[order].tolist())
    terms.column_ids.extend(coo.col[order].tolist())
    terms.coefficients.extend(coo.data[order].tolist())
    return proto


def solve_highs(
    proto: model_pb2.ModelProto,
    seconds: float,
    relative_gap: float = 1e-4,
    hint: np.ndarray | None = None,
) -> HighsResult:
    """Solve within ``seconds``; a MIP stops at ``relative_gap``; ``hint`` (values of the
    first columns, in order) is a solution to start from. (MathOpt sets no thread count
    for HiGHS; its branch and cut runs on one thread.)"""
    n_cols, n_rows = len(proto.variables.ids), len(proto.linear_constraints.ids)
    params = parameters.SolveParameters(
        time_limit=datetime.timedelta(seconds=max(seconds, 0.01)),
        relative_gap_tolerance=relative_gap,
    )
    model_params = model_parameters.ModelSolveParameters().to_proto()
    if hint is not None and hint.size:
        values = model_params.solution_hints.add().variable_values
        values.ids.extend(range(hint.size))
        values.values.extend(np.asarray(hint, dtype=np.float64).tolist())
    result: result_pb2.SolveResultProto = core.solve(
        proto,
        parameters.SolverType.HIGHS.value,
        init_arguments.StreamableSolverInitArguments().to_proto(),
        params.to_proto(),
        model_params,
        None,
        callback.CallbackRegistration().to_proto(),
        None,
        None,
    )
    reason = result.termination.reason
    bound = result.termination.objective_bounds.dual_bound
    if reason == result_pb2.TERMINATION_REASON_INFEASIBLE:
        return HighsResult(HighsStatus.INFEASIBLE, float("nan"), bound, np.zeros(0), np.zeros(0))
    feasible = [s for s in result.solutions if s.HasField("primal_solution")]
    if not feasible:
        return HighsResult(HighsStatus.NOT_SOLVED, float("nan"), bound, np.zeros(0), np.zeros(0))
    best = feasible[0]
    values = _dense(best.primal_solution.variable_values, n_cols)
    optimal = reason == result_pb2.TERMINATION_REASON_OPTIMAL
    duals = np.zeros(0)
    if optimal and not any(proto.variables.integers) and best.HasField("dual_solution"):
        duals = _dense(best.dual_solution.dual_values, n_rows)
    status = HighsStatus.OPTIMAL if optimal else HighsStatus.FEASIBLE
    return HighsResult(status, best.primal_solution.objective_value, bound, values, duals)


def solve_lp(
    lower: np.ndarray,
    upper: np.ndarray,
    objective: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    matrix: sp.csr_matrix,
    seconds: float,
    offset: float = 0.0,
) -> HighsResult:
    """Maximise an LP given as arrays (see ``model_proto``) within ``seconds``."""
    proto = model_proto(lower, upper, objective, row_lower, row_upper, matrix, 0, offset)
    return solve_highs(proto, seconds)


def _dense(vector: object, size: int) -> np.ndarray:
    out = np.zeros(size)
    ids = np.asarray(vector.ids, dtype=np.int64)  # type: ignore[attr-defined]
    out[ids] = np.asarray(vector.values, dtype=np.float64)  # type: ignore[attr-defined]
    return out
