"""Linear programs given as arrays, solved with HiGHS through OR-Tools MathOpt.

The MIPs are solved through OR-Tools' model builder, but its HiGHS wrapper (OR-Tools 9.15)
returns the row activities where the duals should be, and GLOP is 3-4x slower than HiGHS
on the pick-up LP (10.9 s against 3.0 s on g300). MathOpt's HiGHS interface returns the
true duals, so the LPs whose duals are read (the relaxation's shadow prices, the
infeasibility diagnosis) go through here. The model is written straight into MathOpt's
``ModelProto`` from the sparse matrix and solved by MathOpt's solver core (the function
``mathopt.solve`` calls), which skips building the Python model object of 10^5 columns.
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

__all__ = ["LpResult", "LpStatus", "solve_lp"]


class LpStatus(enum.Enum):
    OPTIMAL = "OPTIMAL"
    INFEASIBLE = "INFEASIBLE"
    NOT_SOLVED = "NOT_SOLVED"
    """Time ran out, or the solver stopped for another reason, without an optimum."""


@dataclass(frozen=True, eq=False)
class LpResult:
    """``values`` per column and ``duals`` per row (the objective's rate of change per unit
    of a row bound, in the objective's sense) when OPTIMAL; empty otherwise."""

    status: LpStatus
    objective: float
    values: np.ndarray
    duals: np.ndarray


def solve_lp(
    lower: np.ndarray,
    upper: np.ndarray,
    objective: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    matrix: sp.csr_matrix,
    seconds: float,
    offset: float = 0.0,
    maximize: bool = True,
) -> LpResult:
    """Optimise ``objective @ x + offset`` subject to ``row_lower <= matrix @ x <=
    row_upper`` and ``lower <= x <= upper`` within ``seconds``."""
    n_cols, n_rows = lower.size, row_lower.size
    proto = model_pb2.ModelProto()
    columns = proto.variables
    columns.ids.extend(range(n_cols))
    columns.lower_bounds.extend(lower.tolist())
    columns.upper_bounds.extend(upper.tolist())
    columns.integers.extend([False] * n_cols)
    proto.objective.maximize = maximize
    proto.objective.offset = offset
    used = np.flatnonzero(objective)
    proto.objective.linear_coefficients.ids.extend(used.tolist())
    proto.objective.linear_coefficients.values.extend(objective[used].tolist())
    rows = proto.linear_constraints
    rows.ids.extend(range(n_rows))
    rows.lower_bounds.extend(row_lower.tolist())
    rows.upper_bounds.extend(row_upper.tolist())
    coo = matrix.tocoo()
    order = np.lexsort((coo.col, coo.row))  # row-major, as the proto requires
    terms = proto.linear_constraint_matrix
    terms.row_ids.extend(coo.row[order].tolist())
    terms.column_ids.extend(coo.col[order].tolist())
    terms.coefficients.extend(coo.data[order].tolist())
    params = parameters.SolveParameters(time_limit=datetime.timedelta(seconds=max(seconds, 0.01)))
    result: result_pb2.SolveResultProto = core.solve(
        proto,
        parameters.SolverType.HIGHS.value,
        init_arguments.StreamableSolverInitArguments().to_proto(),
        params.to_proto(),
        model_parameters.ModelSolveParameters().to_proto(),
        None,
        callback.CallbackRegistration().to_proto(),
        None,
        None,
    )
    reason = result.termination.reason
    if reason == result_pb2.TERMINATION_REASON_INFEASIBLE:
        return LpResult(LpStatus.INFEASIBLE, float("nan"), np.zeros(0), np.zeros(0))
    if reason != result_pb2.TERMINATION_REASON_OPTIMAL or not result.solutions:
        return LpResult(LpStatus.NOT_SOLVED, float("nan"), np.zeros(0), np.zeros(0))
    solution = result.solutions[0]
    values = _dense(solution.primal_solution.variable_values, n_cols)
    duals = _dense(solution.dual_solution.dual_values, n_rows)
    return LpResult(LpStatus.OPTIMAL, solution.primal_solution.objective_value, values, duals)


def _dense(vector: object, size: int) -> np.ndarray:
    out = np.zeros(size)
    ids = np.asarray(vector.ids, dtype=np.int64)  # type: ignore[attr-defined]
    out[ids] = np.asarray(vector.values, dtype=np.float64)  # type: ignore[attr-defined]
    return out
