"""The batch assignment core of lead routing (lead_routing.assignment): the model's structure
without solving, tiny instances whose optimum brute force finds, infeasible instances and
their diagnoses, time limits and hints, bad input, Hypothesis invariants, and the LAP."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model
from scipy import sparse
from scipy.optimize import linear_sum_assignment, linprog

from lead_routing.assignment import (
    VALUE_SCALE,
    AssignmentMethod,
    AssignmentProblem,
    Sense,
    add_hint,
    agent_load,
    assignment_value,
    build_model,
    solve,
    solve_lap,
)
from turnwise.errors import InvalidArgument
from turnwise.solving import SolveLimits, SolveStatus

EXACT = SolveLimits(time_limit_seconds=20.0, relative_gap=0.0, workers=1)
"""Limits of the tiny cases: proven optimal."""


def brute_force(problem: AssignmentProblem) -> float | None:
    """The best value over every assignment that meets the constraints; None if none does."""
    choices = range(0 if problem.must_assign else -1, problem.agents)
    best: float | None = None
    for agents in itertools.product(choices, repeat=problem.jobs):
        agent_of_job = np.array(agents, dtype=np.int64)
        jobs = np.flatnonzero(agent_of_job >= 0)
        if not problem.mask[agent_of_job[jobs], jobs].all():
            continue
        if (agent_load(problem, agent_of_job) > problem.capacity).any():
            continue
        value = assignment_value(problem, agent_of_job)
        if best is None or (value > best if problem.sense is Sense.MAXIMISE else value < best):
            best = value
    return best


def check_assignment(problem: AssignmentProblem, agent_of_job: np.ndarray) -> None:
    """The invariants of every assignment: one agent or none per job, allowed pairs only,
    capacities held, every job placed when must_assign."""
    assert agent_of_job.shape == (problem.jobs,)
    assert ((agent_of_job >= -1) & (agent_of_job < problem.agents)).all()
    jobs = np.flatnonzero(agent_of_job >= 0)
    assert problem.mask[agent_of_job[jobs], jobs].all()
    assert (agent_load(problem, agent_of_job) <= problem.capacity).all()
    if problem.must_assign:
        assert jobs.size == problem.jobs


def problem(value, weight, capacity, sense=Sense.MINIMISE, must_assign=True, allowed=None):
    return AssignmentProblem(
        np.asarray(value, dtype=float),
        np.asarray(weight),
        np.asarray(capacity),
        sense,
        must_assign,
        None if allowed is None else np.asarray(allowed, dtype=bool),
    )


# --- the model's structure -----------------------------------------------------------------


def test_variables_only_for_allowed_pairs_that_fit():
    allowed = [[True, False, True, True], [True, True, False, True], [False, True, True, True]]
    weight = [[1, 1, 1, 9], [2, 2, 2, 2], [1, 1, 1, 1]]  # agent 0 cannot hold job 3 (9 > 5)
    p = problem(np.arange(12).reshape(3, 4), weight, [5, 5, 5], allowed=allowed)
    model, variables = build_model(p)
    pairs = set(zip(variables.agent.tolist(), variables.job.tolist(), strict=True))
    assert pairs == {(0, 0), (0, 2), (1, 0), (1, 1), (1, 3), (2, 1), (2, 2), (2, 3)}
    assert len(model.proto.variables) == variables.size == 8
    assert all(list(v.domain) == [0, 1] for v in model.proto.variables)


def test_one_row_per_job_and_per_agent():
    allowed = [[True, True, False], [True, False, True]]
    p = problem([[1, 2, 3], [4, 5, 6]], [[3, 4, 5], [6, 7, 8]], [10, 20], allowed=allowed)
    model, variables = build_model(p)
    rows = list(model.proto.constraints)
    assert len(rows) == p.jobs + p.agents
    for j, row in enumerate(rows[: p.jobs]):
        assert row.has_exactly_one()
        assert sorted(variables.job[list(row.exactly_one.literals)]) == [j] * int(
            p.mask[:, j].sum()
        )
    for i, row in enumerate(rows[p.jobs :]):
        members = list(row.linear.vars)
        assert (variables.agent[members] == i).all()
        assert list(row.linear.coeffs) == p.weight[i, variables.job[members]].tolist()
        assert list(row.linear.domain) == [0, int(p.capacity[i])]


def test_lead_routing_rows_allow_unassigned_jobs():
    p = problem([[1, 2]], [[1, 1]], [1], sense=Sense.MAXIMISE, must_assign=False)
    model, _ = build_model(p)
    rows = list(model.proto.constraints)[: p.jobs]
    assert all(row.has_at_most_one() and not row.has_exactly_one() for row in rows)


def test_integer_values_are_used_as_they_are():
    p = problem([[3, -7], [2.0, 5]], [[1, 1], [1, 1]], [2, 2], sense=Sense.MAXIMISE)
    model, variables = build_model(p)
    assert variables.value_scale == 1
    assert variables.coefficient.tolist() == [3, -7, 2, 5]
    # CP-SAT minimises: a maximisation is stored negated, with a scaling factor of -1
    assert list(model.proto.objective.coeffs) == [-3, 7, -2, -5]
    assert model.proto.objective.scaling_factor == -1.0


def test_fractional_values_are_scaled_to_integers():
    p = problem([[0.1234567, 2.5]], [[1, 1]], [2])
    model, variables = build_model(p)
    assert variables.value_scale == VALUE_SCALE
    assert variables.coefficient.tolist() == [123457, 2_500_000]
    assert list(model.proto.objective.coeffs) == [123457, 2_500_000]


def test_add_hint_sets_every_variable():
    p = problem([[1, 2, 3], [4, 5, 6]], np.ones((2, 3), dtype=int), [3, 3])
    model, variables = build_model(p)
    add_hint(model, p, variables, np.array([1, -1, 0]))
    hint = dict(zip(model.proto.solution_hint.vars, model.proto.solution_hint.values, strict=True))
    chosen = {(int(variables.agent[k]), int(variables.job[k])) for k, v in hint.items() if v == 1}
    assert len(hint) == variables.size
    assert chosen == {(1, 0), (0, 2)}


def lead_routing_batch(advisors: int, leads: int, eligible: int, seed: int) -> AssignmentProblem:
    """Leads with ``eligible`` random advisors each, a random expected value per pair, one
    slot per lead and 5-14 slots per advisor; leads left over go to the pool."""
    rng = np.random.default_rng(seed)
    allowed = np.zeros((advisors, leads), dtype=bool)
    for j in range(leads):
        allowed[rng.choice(advisors, size=eligible, replace=False), j] = True
    value = np.where(allowed, rng.random((advisors, leads)) * 1000.0, np.nan)
    weight = np.ones((advisors, leads), dtype=int)
    capacity = rng.integers(5, 15, size=advisors)
    return AssignmentProblem(value, weight, capacity, Sense.MAXIMISE, False, allowed)


def test_lead_routing_sized_model_stays_sparse():
    p = lead_routing_batch(advisors=200, leads=2000, eligible=20, seed=5)
    model, variables = build_model(p)
    assert len(model.proto.variables) == variables.size == 2000 * 20
    assert len(model.proto.constraints) == p.jobs + p.agents


def test_slot_batch_is_optimal_by_flow_and_matches_the_lp():
    # one slot per lead: a transportation problem, whose LP optimum is integral
    p = lead_routing_batch(advisors=200, leads=2000, eligible=20, seed=5)
    solution = solve(p, SolveLimits(time_limit_seconds=30.0, relative_gap=0.0, workers=2))
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.method is AssignmentMethod.SLOT_FLOW
    check_assignment(p, solution.agent_of_job)
    agent, job = np.nonzero(p.mask)
    k = agent.size
    rows = sparse.vstack(
        [
            sparse.csr_matrix((np.ones(k), (job, np.arange(k))), shape=(p.jobs, k)),
            sparse.csr_matrix((np.ones(k), (agent, np.arange(k))), shape=(p.agents, k)),
        ]
    )
    lp = linprog(
        -p.value[agent, job],
        A_ub=rows,
        b_ub=np.concatenate([np.ones(p.jobs), p.capacity]),
        bounds=(0, 1),
        method="highs",
    )
    assert lp.status == 0
    assert solution.objective == pytest.approx(-lp.fun, rel=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_slot_flow_agrees_with_cp_sat(data):
    p = data.draw(small_problems())
    w = data.draw(st.integers(1, 3))
    p = AssignmentProblem(
        p.value, np.full(p.value.shape, w), p.capacity, p.sense, p.must_assign, p.mask
    )
    flow = solve(p, EXACT)
    model, variables = build_model(p)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20.0
    code = solver.solve(model)
    if code == cp_model.INFEASIBLE:
        assert flow.status is SolveStatus.INFEASIBLE
        assert flow.diagnosis
        return
    assert code == cp_model.OPTIMAL
    if (p.mask & (p.weight <= p.capacity[:, None])).any():  # some pair can be chosen
        assert flow.method is AssignmentMethod.SLOT_FLOW
    assert flow.status is SolveStatus.OPTIMAL
    check_assignment(p, flow.agent_of_job)
    assert flow.bound == pytest.approx(solver.objective_value / variables.value_scale, abs=1e-9)


# --- tiny instances with a known optimum ----------------------------------------------------


def test_minimise_hand_computed():
    # job 0 and job 1 both prefer agent 0, which holds one of them: the cheaper way is
    # job 0 -> agent 1 (4) and job 1 -> agent 0 (1), job 2 -> agent 1 (2): total 7
    p = problem([[1, 1, 9], [4, 6, 2]], [[2, 2, 1], [1, 1, 1]], [2, 3])
    solution = solve(p, EXACT)
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.method is AssignmentMethod.CP_SAT
    assert solution.agent_of_job.tolist() == [1, 0, 1]
    assert solution.objective == solution.bound == 7.0
    assert solution.gap == 0.0
    assert brute_force(p) == 7.0


def test_maximise_leaves_losing_jobs_to_the_pool():
    p = problem([[5, -1, 3], [2, -4, 8]], np.ones((2, 3), dtype=int), [1, 1], Sense.MAXIMISE, False)
    solution = solve(p, EXACT)
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.method is AssignmentMethod.SLOT_FLOW  # one slot per job
    assert solution.agent_of_job.tolist() == [0, -1, 1]
    assert solution.unassigned_jobs.tolist() == [1]
    assert solution.objective == 13.0


def test_fractional_objective_is_exact():
    value = [[0.1, 0.7, 0.3], [0.2, 0.1, 1 / 3]]
    p = problem(value, np.ones((2, 3), dtype=int), [2, 2], Sense.MAXIMISE, False)
    solution = solve(p, EXACT)
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.agent_of_job.tolist() == [1, 0, 1]
    assert solution.objective == math.fsum([0.2, 0.7, 1 / 3])
    assert solution.value_scale == VALUE_SCALE
    assert solution.bound == pytest.approx(solution.objective, abs=2e-6)


def test_values_of_disallowed_pairs_are_ignored():
    value = [[np.nan, 2.0], [1.0, np.inf]]
    allowed = [[False, True], [True, False]]
    p = problem(value, [[np.nan, 1], [1, -5]], [1, 1], allowed=allowed)
    solution = solve(p, EXACT)
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.agent_of_job.tolist() == [1, 0]
    assert solution.objective == 3.0


def test_empty_batch():
    p = problem(np.zeros((3, 0)), np.zeros((3, 0), dtype=int), [1, 1, 1], Sense.MAXIMISE, False)
    solution = solve(p, EXACT)
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.agent_of_job.shape == (0,)
    assert solution.objective == 0.0


# --- infeasible instances -------------------------------------------------------------------


def test_job_without_allowed_agent_is_diagnosed():
    p = problem([[1, 2], [3, 4]], [[1, 1], [1, 1]], [2, 2], allowed=[[True, False], [True, False]])
    solution = solve(p, EXACT)
    assert solution.status is SolveStatus.INFEASIBLE
    assert not solution.has_assignment
    assert (solution.agent_of_job == -1).all() and math.isnan(solution.objective)
    assert "job 1 has no allowed agent" in solution.diagnosis


def test_job_heavier_than_every_allowed_agent_is_diagnosed():
    p = problem([[1, 2, 3], [3, 4, 5]], [[1, 7, 1], [1, 9, 1]], [5, 6])
    solution = solve(p, EXACT)
    assert solution.status is SolveStatus.INFEASIBLE
    assert "job 1 has no allowed agent with the capacity" in solution.diagnosis


def test_total_capacity_shortfall_is_diagnosed():
    p = problem(np.ones((2, 4)), np.full((2, 4), 3), [6, 5])
    solution = solve(p, EXACT)
    assert solution.status is SolveStatus.INFEASIBLE
    assert "need at least 12 capacity units in all" in solution.diagnosis
    assert "the agents have 11" in solution.diagnosis


def test_packing_conflict_names_the_jobs():
    # jobs 1, 2, 3 weigh 2 and only agents 1 and 2 (capacity 3 each) may take them: any
    # two fit, all three do not; job 0 is free to go to agent 0
    allowed = [[True, False, False, False], [False, True, True, True], [False, True, True, True]]
    p = problem(np.ones((3, 4)), np.full((3, 4), 2), [3, 3, 3], allowed=allowed)
    solution = solve(p, EXACT)
    assert solution.status is SolveStatus.INFEASIBLE
    assert "jobs 1, 2, 3 cannot all be assigned at once" in solution.diagnosis
    assert "allowed agents 1, 2 have 6" in solution.diagnosis
    relaxed = solve(
        problem(np.ones((3, 4)), np.full((3, 4), 2), [3, 3, 3], Sense.MAXIMISE, False, allowed),
        EXACT,
    )
    assert relaxed.status is SolveStatus.OPTIMAL
    assert relaxed.objective == 3.0 and relaxed.unassigned_jobs.size == 1


# --- time limits and hints ------------------------------------------------------------------


def planted_packing(agents: int, jobs: int, seed: int) -> tuple[AssignmentProblem, np.ndarray]:
    """Every agent's capacity is exactly the weight of the jobs of a hidden assignment: a
    feasible assignment exists but is hard to find (a subset-sum in each agent)."""
    rng = np.random.default_rng(seed)
    weight = rng.integers(10, 100, size=(agents, jobs))
    planted = rng.integers(0, agents, size=jobs)
    capacity = np.bincount(planted, weights=weight[planted, np.arange(jobs)], minlength=agents)
    value = rng.integers(1, 50, size=(agents, jobs)).astype(float)
    p = AssignmentProblem(value, weight, capacity.astype(np.int64), Sense.MINIMISE, True)
    return p, planted


def test_time_limit_without_an_assignment():
    p, _ = planted_packing(40, 400, seed=1)
    solution = solve(p, SolveLimits(time_limit_seconds=0.2, relative_gap=0.0, workers=2))
    assert solution.status is SolveStatus.TIME_LIMIT
    assert not solution.has_assignment
    assert (solution.agent_of_job == -1).all()
    assert math.isnan(solution.objective) and solution.gap == math.inf
    assert solution.seconds < 5.0


def test_hint_gives_an_assignment_in_time():
    p, planted = planted_packing(20, 200, seed=1)
    solution = solve(p, SolveLimits(time_limit_seconds=3.0, workers=2), hint=planted)
    assert solution.has_assignment
    check_assignment(p, solution.agent_of_job)
    assert solution.objective <= assignment_value(p, planted)


def test_hint_on_a_pair_no_longer_allowed_is_dropped():
    allowed = [[True, False], [True, True]]
    p = problem([[1, 5], [2, 1]], [[1, 2], [2, 1]], [2, 2], allowed=allowed)
    solution = solve(p, EXACT, hint=np.array([1, 0]))  # (0, 1) is not allowed any more
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.method is AssignmentMethod.CP_SAT
    assert solution.agent_of_job.tolist() == [0, 1]


def test_feasible_with_a_gap_when_the_time_runs_out():
    rng = np.random.default_rng(1)
    weight = rng.integers(5, 26, size=(20, 300))
    value = (weight + rng.integers(0, 6, size=weight.shape)).astype(float)  # hard knapsacks
    capacity = (0.3 * weight.sum(axis=1) / 20).astype(np.int64)
    p = AssignmentProblem(value, weight, capacity, Sense.MAXIMISE, False)
    solution = solve(p, SolveLimits(time_limit_seconds=3.0, relative_gap=0.0, workers=2))
    assert solution.status is SolveStatus.TIME_LIMIT and solution.has_assignment
    check_assignment(p, solution.agent_of_job)
    assert solution.bound > solution.objective > 0
    assert solution.gap == pytest.approx((solution.bound - solution.objective) / solution.objective)


# --- bad input ------------------------------------------------------------------------------

GOOD = {
    "value": np.ones((2, 3)),
    "weight": np.ones((2, 3), dtype=int),
    "capacity": np.array([2, 2]),
    "sense": Sense.MINIMISE,
    "must_assign": True,
    "allowed": None,
}


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("value", np.ones(3)),
        ("value", np.ones((0, 3))),
        ("value", np.array([[1.0, np.nan, 1.0], [1.0, 1.0, 1.0]])),
        ("weight", np.ones((3, 2), dtype=int)),
        ("weight", np.array([[1, -1, 1], [1, 1, 1]])),
        ("weight", np.array([[1, 0.5, 1], [1, 1, 1]])),
        ("weight", np.array([["a", "b", "c"], ["a", "b", "c"]])),
        ("capacity", np.array([2, 2, 2])),
        ("capacity", np.array([2, -1])),
        ("capacity", np.array([2.5, 1])),
        ("allowed", np.ones((2, 3), dtype=int)),
        ("allowed", np.ones((3, 2), dtype=bool)),
        ("sense", "MINIMISE"),
        ("must_assign", 1),
    ],
)
def test_bad_input_names_the_field(field, bad):
    with pytest.raises(InvalidArgument) as caught:
        AssignmentProblem(**{**GOOD, field: bad})
    assert caught.value.field == field


def test_values_too_large_to_scale():
    with pytest.raises(InvalidArgument) as caught:
        AssignmentProblem(**{**GOOD, "value": np.full((2, 3), 1e15 + 0.5)})
    assert caught.value.field == "value"


@pytest.mark.parametrize("hint", [np.array([0, 1]), np.array([0, 1, 2]), np.array([0.0, 1.0, 0.0])])
def test_bad_hint_names_the_field(hint):
    with pytest.raises(InvalidArgument) as caught:
        solve(AssignmentProblem(**GOOD), EXACT, hint=hint)
    assert caught.value.field == "hint"


# --- Hypothesis invariants ------------------------------------------------------------------


@st.composite
def small_problems(draw: st.DrawFn) -> AssignmentProblem:
    m, n = draw(st.integers(1, 3)), draw(st.integers(0, 5))

    def matrix(elements: st.SearchStrategy) -> np.ndarray:
        return np.array(draw(st.lists(elements, min_size=m * n, max_size=m * n))).reshape(m, n)

    value = matrix(st.integers(-20, 20)).astype(float) / draw(st.sampled_from([1, 3]))
    weight = matrix(st.integers(0, 6)).astype(np.int64)
    capacity = np.array(draw(st.lists(st.integers(0, 10), min_size=m, max_size=m)), dtype=np.int64)
    allowed = matrix(st.sampled_from([True, True, True, False])).astype(bool)
    sense = draw(st.sampled_from(Sense))
    return AssignmentProblem(value, weight, capacity, sense, draw(st.booleans()), allowed)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_solutions_hold_the_invariants_and_match_brute_force(p):
    solution = solve(p, EXACT)
    best = brute_force(p)
    if best is None:
        assert solution.status is SolveStatus.INFEASIBLE
        assert solution.diagnosis
        assert (solution.agent_of_job == -1).all()
        return
    assert solution.status is SolveStatus.OPTIMAL
    check_assignment(p, solution.agent_of_job)
    assert solution.objective == assignment_value(p, solution.agent_of_job)
    # values k/3 are rounded to 1e-6: the optimum of the rounded model is optimal to 1e-5
    assert solution.objective == pytest.approx(best, abs=1e-5)


@settings(max_examples=30, deadline=None)
@given(small_problems(), st.data())
def test_any_hint_keeps_the_optimum(p, data):
    hint = np.array(
        data.draw(st.lists(st.integers(-1, p.agents - 1), min_size=p.jobs, max_size=p.jobs))
    )
    plain, hinted = solve(p, EXACT), solve(p, EXACT, hint=hint.astype(np.int64))
    assert hinted.status is plain.status
    if plain.has_assignment:
        check_assignment(p, hinted.agent_of_job)
        assert hinted.objective == pytest.approx(plain.objective, abs=1e-5)


# --- the linear assignment problem ----------------------------------------------------------


def test_lap_hand_computed():
    assignment, objective = solve_lap(np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]]))
    assert assignment.tolist() == [1, 0, 2]
    assert objective == 5


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.lists(st.integers(-50, 100), min_size=n * n, max_size=n * n)
    )
)
def test_lap_matches_brute_force_and_scipy(flat):
    n = math.isqrt(len(flat))
    cost = np.array(flat, dtype=np.int64).reshape(n, n)
    assignment, objective = solve_lap(cost)
    assert sorted(assignment.tolist()) == list(range(n))
    assert objective == int(cost[np.arange(n), assignment].sum())
    best = min(int(cost[np.arange(n), list(p)].sum()) for p in itertools.permutations(range(n)))
    rows, cols = linear_sum_assignment(cost)
    assert objective == best == int(cost[rows, cols].sum())


def test_lap_of_nothing():
    assignment, objective = solve_lap(np.zeros((0, 0), dtype=int))
    assert assignment.shape == (0,) and objective == 0


@pytest.mark.parametrize(
    "cost",
    [np.ones((2, 3)), np.ones(4), np.array([[1.5, 1], [1, 1]]), np.array([[np.inf, 1], [1, 1]])],
)
def test_lap_bad_cost_names_the_field(cost):
    with pytest.raises(InvalidArgument) as caught:
        solve_lap(cost)
    assert caught.value.field == "cost"
