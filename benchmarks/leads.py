"""Benchmark ``leads``: lead routing against the rules CRMs route by, in one run.

Cases (full size; ``--quick`` in brackets):

- ``latency``, ``latency/region-scope``, ``latency/grpc-1``, ``latency/grpc-100``: RouteLead
  on 1,000 advisors [300], in process (``routing.route``; leads for a store, or for a region
  of 100 [30] advisors) and over gRPC on 127.0.0.1 with 1 and 100 concurrent callers
  (``benchmarks.leads_latency``); ``baseline-least-loaded``: the least-loaded choice alone.
  Targets: p99 < 2 ms in process, < 10 ms over gRPC with 100 callers.
- ``batch``: 10,000 [3,000] leads x 1,000 [300] advisors by ``batch.route_batch`` (time,
  gap, expected conversions) against the least-loaded greedy rule. Target: < 5 s.
- ``orlib/<file>-<sense>``: every OR-Library GAP problem of gap1-12 (maximisation, as
  OR-Library publishes them, and minimisation) and gapa-c (minimisation) by
  ``assignment.solve`` (2 workers, gap 0, 10 s [5 s] each; gapd is left out: CP-SAT does
  not prove it in minutes), aggregated per file: mean and max seconds per problem, largest
  proven gap, problems solved to the known optimum; ``orlib/assign<n>``: the LAPs
  assign100-800 by ``assignment.solve_lap`` against ``scipy.optimize.linear_sum_assignment``
  [gap1, gap12, gapa, assign100-200].
- ``stream/g60`` [g12]: the leads of the second half of the demo group's 28 days (seed 0),
  replayed in arrival order (``lead_routing.replay``, default ``HandlingModel``: 72 h
  holding, 2 min first-contact work growing with load, 24 h wait at most) through
  ``turnwise`` (``route`` scored by a ``LeadScorer`` fitted on the closed leads of the first
  half, via ``PairScores``), ``turnwise-prior`` (the prior fallback instead),
  ``baseline-round-robin`` and ``baseline-least-loaded``, all judged by the generator's own
  probability (``DemoGeneratorScorer``), which none of them sees; ``stream/g60/draws``:
  ``turnwise`` against least-loaded under 8 [3] handling draws (``HandlingModel.seed``
  0..7), the mean and range of the gain and of the extra breaches. Target: at least 10%
  more expected conversions than least-loaded, with no more SLA breaches (read on the
  draws' means: one draw's breaches move by about ten leads either way).
- ``scoring/x-education`` [3,000-row stratified sample], ``scoring/demo-g60`` [g12]: 5-fold
  AUC and Brier of the calibrated scorer (``turnwise``) and ``logistic-regression``
  (``scoring_eval.cross_validate``, seed 0).

A missing ../shared/data folder skips its case with a printed reason.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.runner import Row

__all__ = ["DATA", "FULL", "QUICK", "Sizes", "StreamInputs", "run", "stream_inputs"]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class Sizes:
    latency_stores: int
    """x 10 advisors."""
    inproc_calls: int
    grpc_calls: tuple[tuple[int, int], ...]
    grpc_open: tuple[float, int]
    """(calls per second, calls) of the open-loop gRPC case."""
    """(callers, calls) per gRPC case."""
    grpc_warmup: int
    batch_stores: int
    batch_leads: int
    gap_files: tuple[str, ...] | None
    """OR-Library files (gap1..gap12, gapa..gapc); None: all of them."""
    lap_sizes: tuple[int, ...]
    gap_seconds: float
    stream_stores: int
    stream_trims: int
    x_education_rows: int | None
    """None: all 9,240."""
    model_batch_leads: int = 300
    """Leads of the ``batch-model`` case."""
    stream_draws: int = 8
    """Handling draws (``HandlingModel.seed`` 0..k-1) of the ``stream/.../draws`` case."""


FULL = Sizes(
    latency_stores=100,
    inproc_calls=20_000,
    grpc_calls=((1, 2000), (100, 10_000)),
    grpc_open=(100.0, 3000),
    grpc_warmup=300,
    batch_stores=100,
    batch_leads=10_000,
    gap_files=None,
    lap_sizes=(100, 200, 300, 400, 500, 600, 700, 800),
    gap_seconds=10.0,
    stream_stores=60,
    stream_trims=120,
    x_education_rows=None,
)
QUICK = Sizes(
    latency_stores=30,
    inproc_calls=2000,
    grpc_calls=((1, 200), (100, 1000)),
    grpc_open=(100.0, 300),
    grpc_warmup=50,
    batch_stores=30,
    batch_leads=3000,
    gap_files=("gap1", "gap12", "gapa"),
    lap_sizes=(100, 200),
    gap_seconds=5.0,
    stream_stores=12,
    stream_trims=24,
    x_education_rows=3000,
    model_batch_leads=60,
    stream_draws=3,
)


def run(quick: bool) -> list[Row]:
    sizes = QUICK if quick else FULL
    cases: list[tuple[str, Callable[[Sizes], list[Row]]]] = [
        ("latency", _latency),
        ("batch", _batch),
        ("orlib", _orlib),
        ("stream", _stream),
        ("scoring", _scoring),
    ]
    rows: list[Row] = []
    for name, case in cases:
        start = time.perf_counter()
        _say(f"{name} ...")
        rows += case(sizes)
        _say(f"{name} done in {time.perf_counter() - start:.0f} s")
    return rows


def _say(text: str) -> None:
    print(f"leads benchmark: {text}", file=sys.stderr, flush=True)


def _latency(sizes: Sizes) -> list[Row]:
    from benchmarks import leads_latency as lat

    network = lat.synthetic_network(sizes.latency_stores, 10, lat.UNLIMITED_OPEN_LEADS)
    rows = lat.inproc_rows(network, sizes.inproc_calls)
    rows += lat.inproc_rows(network, sizes.inproc_calls, region_scope=True)
    grpc = lat.grpc_rows(network, dict(sizes.grpc_calls), sizes.grpc_open, sizes.grpc_warmup)
    return rows + grpc


def _batch(sizes: Sizes) -> list[Row]:
    from benchmarks import leads_latency as lat

    network = lat.synthetic_network(sizes.batch_stores, 10, None, seed=4)
    return lat.batch_rows(network, sizes.batch_leads)


class _PerLead:
    """A scorer with the plain per-lead protocol only (``routing.ModelCandidateScorer``
    without its ``score_many``): one frame and one predict per lead, as before batching."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, table: Any, lead: Any, rows: Any, open_leads: Any) -> Any:
        return self.inner(table, lead, rows, open_leads)


def _model_batch(
    case: str, table: Any, requests: Sequence[Any], model: Any, sizes: Sizes
) -> list[Row]:
    """``route_batch`` of the first leads of the stream, scored by the fitted model in one
    frame (``turnwise``) and lead by lead (``per-lead``): same decisions, time."""
    from lead_routing.batch import BatchLead, route_batch
    from lead_routing.routing import ModelCandidateScorer
    from turnwise.solving import SolveLimits

    leads = [BatchLead(x) for x in requests[: sizes.model_batch_leads]]
    now = leads[-1].lead.created_at
    zeros = np.zeros(table.n_advisors, dtype=np.int64)
    limits = SolveLimits(time_limit_seconds=30.0)
    rows: list[Row] = []
    results = []
    scorer = ModelCandidateScorer(model)
    for method, use in (("turnwise", scorer), ("per-lead", _PerLead(scorer))):
        start = time.perf_counter()
        result = route_batch(table, leads, zeros, now, limits, scorer=use)
        seconds = time.perf_counter() - start
        results.append(result)
        rows += [
            Row(case, method, "solve_seconds", seconds, "s"),
            Row(case, method, "expected_conversions", result.expected_conversions, "conversions"),
        ]
    if results[0].decisions != results[1].decisions:
        raise RuntimeError(f"{case}: batched and per-lead scoring routed differently")
    return [*rows, Row(case, "turnwise", "leads", float(len(leads)), "leads")]


# ---- OR-Library ------------------------------------------------------------------------


def _orlib(sizes: Sizes) -> list[Row]:
    rows: list[Row] = []
    gap, lap = DATA / "orlib_gap", DATA / "orlib_assign"
    if (gap / "optimal_values.csv").is_file():
        rows += _gap(gap, sizes)
    else:
        _say(f"{gap} is absent; the GAP instances are skipped")
    if (lap / "optimal_values.csv").is_file():
        rows += _lap(lap, sizes)
    else:
        _say(f"{lap} is absent; the LAP instances are skipped")
    return rows


def _gap(folder: Path, sizes: Sizes) -> list[Row]:
    from lead_routing.assignment import Sense, solve
    from lead_routing.orlib import read_gap, read_gap_known_values
    from turnwise.solving import SolveLimits

    limits = SolveLimits(time_limit_seconds=sizes.gap_seconds, relative_gap=0.0, workers=2)
    runs: dict[str, list[tuple[float, float, bool]]] = {}
    for known in read_gap_known_values(folder / "optimal_values.csv"):
        if known.orlib_file == "gapd":
            continue  # not proven by CP-SAT in minutes (module docstring)
        if sizes.gap_files is not None and known.orlib_file not in sizes.gap_files:
            continue
        instance = read_gap(folder / known.instance_file)
        for sense, optimum in (
            (Sense.MAXIMISE, known.max_optimum),
            (Sense.MINIMISE, known.min_optimum),
        ):
            if optimum is None:
                continue
            start = time.perf_counter()
            solution = solve(instance.problem(sense), limits)
            seconds = time.perf_counter() - start
            reached = solution.has_assignment and solution.objective == optimum
            key = f"orlib/{known.orlib_file}-{'max' if sense is Sense.MAXIMISE else 'min'}"
            runs.setdefault(key, []).append((seconds, solution.gap, reached))
    rows: list[Row] = []
    for case, results in runs.items():
        times = [r[0] for r in results]
        rows += [
            Row(case, "turnwise", "instances", float(len(results)), "instances"),
            Row(case, "turnwise", "solve_seconds", float(np.mean(times)), "s"),
            Row(case, "turnwise", "solve_seconds_max", max(times), "s"),
            Row(case, "turnwise", "gap", max(r[1] for r in results), "ratio"),
            Row(
                case, "turnwise", "optimum_reached", float(sum(r[2] for r in results)), "instances"
            ),
        ]
    return rows


def _lap(folder: Path, sizes: Sizes) -> list[Row]:
    from scipy.optimize import linear_sum_assignment

    from lead_routing.assignment import solve_lap
    from lead_routing.orlib import read_lap, read_lap_known_values

    known = {
        row.instance: row.optimal_cost
        for row in read_lap_known_values(folder / "optimal_values.csv")
    }
    rows: list[Row] = []
    for n in sizes.lap_sizes:
        name = f"assign{n}"
        instance = read_lap(folder / "instances" / f"{name}.txt")
        start = time.perf_counter()
        _, objective = solve_lap(instance.cost)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        r, c = linear_sum_assignment(instance.cost)
        scipy_seconds = time.perf_counter() - start
        scipy_objective = int(instance.cost[r, c].sum())
        optimum = known[name]
        case = f"orlib/{name}"
        rows += [
            Row(case, "turnwise", "solve_seconds", seconds, "s"),
            Row(case, "turnwise", "gap", abs(objective - optimum) / optimum, "ratio"),
            Row(case, "turnwise", "optimum_reached", float(objective == optimum), "instances"),
            Row(case, "scipy", "solve_seconds", scipy_seconds, "s"),
            Row(case, "scipy", "optimum_reached", float(scipy_objective == optimum), "instances"),
        ]
    return rows


# ---- the replayed stream -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StreamInputs:
    """A demo group's replayable stream: its routing table, the leads of the second half of
    its days as requests, and a fitted model's scores of them (``PairScores``)."""

    table: Any
    requests: Sequence[Any]
    pairs: Any
    model: Any
    training_leads: int
    fit_seconds: float


def stream_inputs(stores: int, trims: int, seed: int) -> StreamInputs:
    """The demo group ``DemoSpec(stores, trims, seed)``: a ``LeadScorer`` fitted on the
    closed leads of the first half of its days scores the leads of the second half."""
    from dealer_group.demo import DemoSpec, generate
    from lead_routing.features import demo_lead_features
    from lead_routing.replay_inputs import PairScores, lead_requests
    from lead_routing.routing import RoutingTable
    from lead_routing.scoring import fit_scorer

    spec = DemoSpec(stores=stores, trims=trims, seed=seed)
    group = generate(spec)
    table = RoutingTable.from_frames(group.advisors, group.stores, group.brands)
    leads = group.leads
    stamps = pd.to_datetime(leads["created_at"], utc=True)
    cut = stamps.min() + pd.Timedelta(days=spec.lead_days / 2)
    closed = leads["converted"].isin(["0", "1"]) & (leads["advisor_id"] != "")
    train = leads[(stamps < cut) & closed].reset_index(drop=True)
    later = leads[stamps >= cut].reset_index(drop=True)
    start = time.perf_counter()
    frame = demo_lead_features(train, group.advisors, group.stores)
    model = fit_scorer(frame, train["converted"].eq("1").to_numpy().astype(np.int64))
    pairs = PairScores.of(table, later, group.advisors, group.stores, model)
    seconds = time.perf_counter() - start
    return StreamInputs(table, lead_requests(later), pairs, model, len(train), seconds)


def _stream(sizes: Sizes) -> list[Row]:
    from lead_routing.replay import HandlingModel, ReplayPolicy, ReplayReport, replay
    from lead_routing.replay_inputs import DemoGeneratorScorer
    from lead_routing.routing import CandidateScorer, PriorCandidateScorer

    inputs = stream_inputs(sizes.stream_stores, sizes.stream_trims, seed=0)
    table, requests, pairs, model = inputs.table, inputs.requests, inputs.pairs, inputs.model
    handling = HandlingModel()
    truth = DemoGeneratorScorer()
    runs: dict[str, tuple[ReplayPolicy, CandidateScorer]] = {
        "turnwise": (ReplayPolicy.TURNWISE, pairs),
        "turnwise-prior": (ReplayPolicy.TURNWISE, PriorCandidateScorer()),
        "baseline-round-robin": (ReplayPolicy.ROUND_ROBIN, pairs),
        "baseline-least-loaded": (ReplayPolicy.LEAST_LOADED, pairs),
    }
    case = f"stream/g{sizes.stream_stores}"
    rows = [
        Row(case, "turnwise", "leads", float(len(requests)), "leads"),
        Row(case, "turnwise", "training_leads", float(inputs.training_leads), "leads"),
        Row(case, "turnwise", "fit_seconds", inputs.fit_seconds, "s"),
    ]
    reports: dict[str, ReplayReport] = {}
    for method, (policy, scorer) in runs.items():
        start = time.perf_counter()
        report = replay(table, requests, policy, model=handling, scorer=scorer, evaluation=truth)
        reports[method] = report
        rows += [
            Row(case, method, "expected_conversions", report.expected_conversions, "conversions"),
            Row(case, method, "sla_breaches", float(report.sla_breaches), "leads"),
            Row(case, method, "late_first_contacts", float(report.late_first_contacts), "leads"),
            Row(case, method, "waited", float(report.waited), "leads"),
            Row(case, method, "unassigned", float(report.unassigned), "leads"),
            Row(case, method, "load_cv", report.load_cv, "ratio"),
            Row(case, method, "load_max_over_mean", report.load_max_over_mean, "x"),
            Row(case, method, "replay_seconds", time.perf_counter() - start, "s"),
        ]
    rows += _model_batch(f"batch-model/g{sizes.stream_stores}", table, requests, model, sizes)
    base = reports["baseline-least-loaded"]
    for method in ("turnwise", "turnwise-prior"):
        ours = reports[method]
        gain = ours.expected_conversions / base.expected_conversions - 1.0
        extra = float(ours.sla_breaches - base.sla_breaches)
        rows += [
            Row(case, method, "conversion_gain_vs_least_loaded", gain, "ratio"),
            Row(case, method, "extra_sla_breaches_vs_least_loaded", extra, "leads"),
        ]
    rows += _stream_draws(f"{case}/draws", inputs, sizes.stream_draws)
    return rows


def _stream_draws(case: str, inputs: StreamInputs, draws: int) -> list[Row]:
    """Turnwise against least-loaded over ``draws`` handling draws of the same stream
    (``routing_defaults.evaluate``, the tool that chose the defaults).

    One draw's SLA breaches move by about ten leads either way with the contact times it
    deals, as much as the policies differ (on this stream the defaults' extra breaches
    range from -22 to +7 over eight draws), so the target is read on the mean over the
    draws, with the range. Each draw uses common random numbers for both policies."""
    from benchmarks.routing_defaults import evaluate
    from lead_routing.routing import RoutingPolicy

    ((got,),) = evaluate([RoutingPolicy()], {0: inputs}, draws)
    values = [
        ("draws", float(draws), "draws"),
        ("conversion_gain_vs_least_loaded", got.gain, "ratio"),
        ("conversion_gain_min", min(got.gains), "ratio"),
        ("extra_sla_breaches_vs_least_loaded", got.extra_breaches, "leads"),
        ("extra_sla_breaches_min", float(min(got.draws)), "leads"),
        ("extra_sla_breaches_max", float(max(got.draws)), "leads"),
    ]
    return [Row(case, "turnwise", metric, value, unit) for metric, value, unit in values]


# ---- scoring -----------------------------------------------------------------------------


def _scoring(sizes: Sizes) -> list[Row]:
    from dealer_group.demo import DemoSpec, generate
    from lead_routing.features import demo_training_set, x_education_training_set
    from lead_routing.scoring_eval import cross_validate

    sets: list[tuple[str, pd.DataFrame, np.ndarray]] = []
    folder = DATA / "x_education_leads"
    if (folder / "Leads.csv").is_file():
        x = x_education_training_set(folder)
        keep = _stratified(x.target, sizes.x_education_rows)
        sets.append(("scoring/x-education", x.frame.iloc[keep], x.target[keep]))
    else:
        _say(f"{folder / 'Leads.csv'} is absent; scoring/x-education is skipped")
    demo = demo_training_set(
        generate(DemoSpec(stores=sizes.stream_stores, trims=sizes.stream_trims))
    )
    sets.append((f"scoring/demo-g{sizes.stream_stores}", demo.frame, demo.target))
    rows: list[Row] = []
    for case, frame, target in sets:
        start = time.perf_counter()
        report = cross_validate(frame.reset_index(drop=True), target, folds=5, seed=0)
        seconds = time.perf_counter() - start
        rows += [
            Row(case, "turnwise", "auc", report.xgboost.mean_auc, "ratio"),
            Row(case, "turnwise", "brier", report.xgboost.mean_brier, "ratio"),
            Row(case, "logistic-regression", "auc", report.logistic.mean_auc, "ratio"),
            Row(case, "logistic-regression", "brier", report.logistic.mean_brier, "ratio"),
            Row(case, "turnwise", "rows", float(report.rows), "leads"),
            Row(case, "turnwise", "cv_seconds", seconds, "s"),
        ]
    return rows


def _stratified(target: np.ndarray, rows: int | None) -> np.ndarray:
    """Row indices: all, or a stratified sample of ``rows`` (seed 0), in order."""
    if rows is None or rows >= len(target):
        return np.arange(len(target))
    rng = np.random.default_rng(0)
    keep = []
    for label in (0, 1):
        where = np.flatnonzero(target == label)
        keep.append(rng.choice(where, size=round(rows * len(where) / len(target)), replace=False))
    return np.sort(np.concatenate(keep))
