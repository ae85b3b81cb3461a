"""The public names of each package are listed in __all__ and importable."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "turnwise.errors",
    "dealer_group.records",
    "dealer_group.schema",
    "dealer_group.demo",
    "forecasting.datasets",
    "forecasting.panel",
    "forecasting.calendar",
    "forecasting.model",
    "forecasting.backend",
    "forecasting.members",
    "forecasting.backtest",
    "forecasting.ensemble",
    "forecasting.forecaster",
    "forecasting.evaluation",
    "forecasting.metrics",
    "forecasting.baselines",
    "forecasting.hierarchy",
    "forecasting.reconciled",
    "forecasting.prophet_model",
    "forecasting.xgb_model",
    "forecasting.xgb_features",
    "forecasting.plot",
    "turnwise.solving",
    "allocation.demand_curve",
    "allocation.highs",
    "allocation.pickup_problem",
    "allocation.pickup_model",
    "allocation.pickup_mix",
    "allocation.pickup_explain",
    "allocation.pickup_kpis",
    "allocation.pickup_baseline",
    "allocation.pickup_network",
    "allocation.pickup_request",
    "allocation.pickup_plan",
    "lead_routing.assignment",
    "lead_routing.assignment_problem",
    "lead_routing.assignment_diagnosis",
    "lead_routing.lap",
    "lead_routing.slot_flow",
    "lead_routing.orlib",
    "serving.config",
    "serving.routing_rules",
    "serving.budget",
    "serving.errors",
    "serving.server",
    "serving.workers",
    "serving.observability",
    "serving.store",
    "serving.store.db",
    "serving.store.network",
    "serving.store.plans",
    "serving.store.jobs",
    "serving.store.upsert",
    "serving.store.sales",
    "serving.convert.common",
    "serving.convert.network",
    "serving.convert.plans",
    "serving.convert.jobs",
    "serving.convert.forecasting",
    "serving.convert.pickup",
    "serving.store.network_tables",
    "serving.services.allocation",
    "serving.cli_plan",
    "serving.jobs",
    "serving.services.jobs",
    "serving.services.forecasting",
    "serving.cli",
    "benchmarks.runner",
    "benchmarks.pickup",
    "benchmarks.transfers",
    "allocation.min_cost_flow",
    "allocation.transfer_problem",
    "allocation.transfer_values",
    "allocation.transfer_moves",
    "allocation.transfer_fast",
    "allocation.transfer_mip",
    "allocation.transfer_vins",
    "allocation.transfer_baseline",
    "allocation.transfer_network",
    "allocation.transfer_plan",
    "serving.convert.transfers",
    "lead_routing.scoring_schema",
    "lead_routing.scoring_prior",
    "lead_routing.scoring_params",
    "lead_routing.scoring_calibration",
    "lead_routing.scoring",
    "lead_routing.features",
    "lead_routing.scoring_eval",
    "lead_routing.sla",
    "lead_routing.sla_state",
    "lead_routing.sla_rules",
    "lead_routing.routing",
    "lead_routing.candidate_scoring",
    "lead_routing.batch",
    "lead_routing.routing_table",
    "lead_routing.identity",
    "lead_routing.replay",
    "lead_routing.replay_inputs",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_importable_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported, f"{name}.__all__ is empty"
    assert len(set(exported)) == len(exported)
    for attr in exported:
        assert not attr.startswith("_")
        assert hasattr(module, attr), f"{name}.__all__ names missing {attr}"


def test_error_tree() -> None:
    from turnwise import errors

    assert set(errors.__all__) == {
        "TurnwiseError",
        "InvalidArgument",
        "NotFound",
        "AlreadyExists",
        "FailedPrecondition",
        "DeadlineExceeded",
        "ResourceExhausted",
        "Unimplemented",
        "DatasetMissing",
    }
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.TurnwiseError)


def test_core_packages_do_not_import_grpc() -> None:
    """Pure core, thin shell: no grpc and none of the contract's protobuf modules in the
    engines (a solver library's own protos, OR-Tools MathOpt's model_pb2, are the solver's
    input format, not the contract)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    offenders = []
    for package in ("forecasting", "allocation", "lead_routing", "dealer_group"):
        for path in (root / package).rglob("*.py"):
            for line in path.read_text().splitlines():
                stripped = line.lstrip()
                if not stripped.startswith(("import ", "from ")):
                    continue
                contract = "_pb2" in line and not stripped.startswith("from ortools.")
                if (
                    "import grpc" in line
                    or "from grpc" in line
                    or "turnwise.v1" in line
                    or contract
                ):
                    offenders.append(f"{path.relative_to(root)}: {line.strip()}")
    assert offenders == []
