"""Min-cost flow on a network given as arrays, solved with OR-Tools ``SimpleMinCostFlow``.

The flow core of the transfer solver (``transfer_fast``), and of any other transshipment
the engine needs: ``FlowNetwork`` (arc tails, heads, capacities, integer unit costs and node
supplies, validated when built) -> ``solve`` -> ``FlowSolution`` (status, cost, flow per
arc). ``read_dimacs`` reads a DIMACS ``p min`` file (the format of the NETGEN instances),
so the core is checked against instances with known optima.

Costs and capacities are integers (the network simplex of OR-Tools is exact on integers);
callers with money in CNY round to whole yuan, as ``transfer_fast`` does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ortools.graph.python import min_cost_flow

from turnwise.errors import InvalidArgument

__all__ = ["FlowNetwork", "FlowSolution", "FlowStatus", "read_dimacs", "solve"]


class FlowStatus(enum.Enum):
    OPTIMAL = "OPTIMAL"
    INFEASIBLE = "INFEASIBLE"
    """The supplies cannot be routed within the capacities."""
    UNBALANCED = "UNBALANCED"
    """Supplies and demands do not sum to zero (``solve`` checks this before OR-Tools)."""
    BAD_COST_RANGE = "BAD_COST_RANGE"
    """Costs times capacities overflow OR-Tools' 64-bit arithmetic."""


@dataclass(frozen=True, eq=False)
class FlowNetwork:
    """Nodes ``0..nodes-1``; arc ``a`` goes ``tails[a] -> heads[a]`` with ``capacities[a]``
    units at ``costs[a]`` per unit; ``supplies[n] > 0`` is a source, ``< 0`` a sink."""

    nodes: int
    tails: np.ndarray
    heads: np.ndarray
    capacities: np.ndarray
    costs: np.ndarray
    supplies: np.ndarray
    validate: bool = field(default=True, repr=False)
    """False skips the checks, for networks built from checked ones (``replace``)."""

    def __post_init__(self) -> None:
        if not self.validate:
            return
        if self.nodes < 1:
            raise InvalidArgument("nodes", f"must be >= 1, got {self.nodes}")
        arcs = np.asarray(self.tails).shape
        for name in ("tails", "heads", "capacities", "costs"):
            value = np.asarray(getattr(self, name))
            if value.ndim != 1 or value.shape != arcs:
                raise InvalidArgument(name, f"needs shape {arcs} (one per arc), got {value.shape}")
            if not np.issubdtype(value.dtype, np.integer) and value.size:
                raise InvalidArgument(name, "must hold integers")
        if np.asarray(self.supplies).shape != (self.nodes,):
            raise InvalidArgument(
                "supplies", f"needs shape ({self.nodes},), got {np.asarray(self.supplies).shape}"
            )
        for name in ("tails", "heads"):
            value = np.asarray(getattr(self, name))
            bad = np.flatnonzero((value < 0) | (value >= self.nodes))
            if bad.size:
                raise InvalidArgument(
                    f"{name}[{bad[0]}]", f"node {value[bad[0]]} is outside 0..{self.nodes - 1}"
                )
        bad = np.flatnonzero(np.asarray(self.capacities) < 0)
        if bad.size:
            raise InvalidArgument(f"capacities[{bad[0]}]", "must be >= 0")

    @property
    def arcs(self) -> int:
        return int(np.asarray(self.tails).size)


@dataclass(frozen=True, eq=False)
class FlowSolution:
    status: FlowStatus
    cost: int
    """Total cost of the flow (0 unless OPTIMAL)."""
    flows: np.ndarray
    """Units on each arc, in the network's arc order (zeros unless OPTIMAL)."""
    diagnosis: str = ""


def solve(network: FlowNetwork) -> FlowSolution:
    """The min-cost flow that meets every supply and demand exactly."""
    zeros = np.zeros(network.arcs, dtype=np.int64)
    total = int(np.asarray(network.supplies, dtype=np.int64).sum())
    if total != 0:
        return FlowSolution(
            FlowStatus.UNBALANCED,
            0,
            zeros,
            f"supplies sum to {total}, not 0: add a sink (or source) for the difference",
        )
    smcf = min_cost_flow.SimpleMinCostFlow()
    if network.arcs:
        arcs = smcf.add_arcs_with_capacity_and_unit_cost(
            np.asarray(network.tails, dtype=np.int32),
            np.asarray(network.heads, dtype=np.int32),
            np.asarray(network.capacities, dtype=np.int64),
            np.asarray(network.costs, dtype=np.int64),
        )
    else:
        arcs = np.zeros(0, dtype=np.int64)
    smcf.set_nodes_supplies(
        np.arange(network.nodes, dtype=np.int32), np.asarray(network.supplies, dtype=np.int64)
    )
    status = smcf.solve()
    if status == smcf.OPTIMAL:
        flows = np.asarray(smcf.flows(arcs), dtype=np.int64) if network.arcs else zeros
        return FlowSolution(FlowStatus.OPTIMAL, int(smcf.optimal_cost()), flows)
    if status == smcf.INFEASIBLE:
        return FlowSolution(
            FlowStatus.INFEASIBLE,
            0,
            zeros,
            "the supplies cannot reach the demands within the arc capacities",
        )
    if status == smcf.UNBALANCED:
        return FlowSolution(FlowStatus.UNBALANCED, 0, zeros, "supplies and demands differ")
    return FlowSolution(
        FlowStatus.BAD_COST_RANGE,
        0,
        zeros,
        f"OR-Tools answered status {status}: costs x capacities overflow 64 bits; scale "
        "the costs down",
    )


def read_dimacs(path: Path) -> FlowNetwork:
    """A DIMACS min-cost-flow file: ``p min N M``, ``n id supply`` lines, ``a u v low cap
    cost`` lines (1-based node ids; ``low`` must be 0), ``c`` comments."""
    path = Path(path)
    nodes = arcs_declared = -1
    supplies: dict[int, int] = {}
    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    with path.open(encoding="ascii") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.split()
            if not parts or parts[0] == "c":
                continue
            where = f"{path.name}:{number}"
            try:
                if parts[0] == "p":
                    if len(parts) != 4 or parts[1] != "min":
                        raise InvalidArgument(where, "expected 'p min NODES ARCS'")
                    nodes, arcs_declared = int(parts[2]), int(parts[3])
                elif parts[0] == "n":
                    supplies[int(parts[1]) - 1] = int(parts[2])
                elif parts[0] == "a":
                    u, v, low, cap, cost = (int(x) for x in parts[1:6])
                    if low != 0:
                        raise InvalidArgument(where, f"lower bound {low} is not supported")
                    if cap < 0:
                        raise InvalidArgument(where, "uncapacitated arcs (cap -1) unsupported")
                    tails.append(u - 1)
                    heads.append(v - 1)
                    caps.append(cap)
                    costs.append(cost)
                else:
                    raise InvalidArgument(where, f"unknown line type {parts[0]!r}")
            except ValueError as err:
                raise InvalidArgument(where, f"not a number: {err}") from err
    if nodes < 1:
        raise InvalidArgument(path.name, "has no 'p min NODES ARCS' line")
    if len(tails) != arcs_declared:
        raise InvalidArgument(path.name, f"declares {arcs_declared} arcs but holds {len(tails)}")
    supply = np.zeros(nodes, dtype=np.int64)
    for node, value in supplies.items():
        if not 0 <= node < nodes:
            raise InvalidArgument(path.name, f"supply of node {node + 1} outside 1..{nodes}")
        supply[node] = value
    return FlowNetwork(
        nodes,
        np.asarray(tails, dtype=np.int64),
        np.asarray(heads, dtype=np.int64),
        np.asarray(caps, dtype=np.int64),
        np.asarray(costs, dtype=np.int64),
        supply,
    )
