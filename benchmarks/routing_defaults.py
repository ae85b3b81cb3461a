"""How the routing defaults are chosen: ``python -m benchmarks.routing_defaults``.

Replays the demo streams of ``--seeds`` (default 1, 2 and 3: not the ``leads`` benchmark's
seed 0) under ``--draws`` handling draws each (``HandlingModel.seed`` 0..k-1, common random
numbers for both policies), through Turnwise at every setting of ``GRID`` and through
least-loaded, all judged by the generator's own probability. It prints, per setting and
seed, the mean gain in expected conversions over least-loaded and the mean extra SLA
breaches, then the setting the rule picks: of the settings whose mean extra breaches are
<= 0 on every seed, the one of highest mean gain over the seeds (``choose``).

The full grid (45 settings x 3 seeds x 6 draws) replays about 800 streams of 9,000-11,000
leads: about 25 minutes on the 2-core development machine. ``--quick`` runs two settings on
12-store groups, one draw, in under a minute.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.leads import StreamInputs, stream_inputs
from lead_routing.replay import HandlingModel, ReplayPolicy, ReplayReport, replay
from lead_routing.replay_inputs import DemoGeneratorScorer
from lead_routing.routing import RoutingPolicy

__all__ = ["GRID", "Outcome", "choose", "evaluate", "main"]

_URGENCY = (
    (6.0, 3.5, 1.5, 0.5),
    (8.0, 4.0, 0.5, 0.01),
    (8.0, 4.0, 0.5, -0.5),
    (8.0, 5.0, 1.0, -1.0),
    (6.0, 3.5, 1.0, 0.01),
)


def _policy(load: float, pending: float, urgency: Sequence[float]) -> RoutingPolicy:
    return RoutingPolicy(
        grade_urgency=tuple(zip("HABC", urgency, strict=True)),
        load_weight=load,
        pending_weight=pending,
    )


def _grid() -> tuple[RoutingPolicy, ...]:
    first = [
        _policy(load, pending, u)
        for load, pending, u in itertools.product((3.0, 4.0, 5.0), (1.0, 2.0), _URGENCY)
    ]
    second = [
        _policy(load, 1.0, (h, 5.0, b, c))
        for load, h, b, c in itertools.product((5.0, 6.0), (8.0, 10.0), (1.0, 1.5), (-1.0, -2.0))
    ]
    return tuple(dict.fromkeys(first + second))  # one (5, 1, 8/5/1/-1) is in both


GRID = _grid()
"""The 45 settings stop 15 chose the defaults among (share weight 0.05, floor 0.2)."""


@dataclass(frozen=True)
class Outcome:
    """One setting on one seed: the means over the draws, and each draw's figures."""

    seed: int
    gain: float
    extra_breaches: float
    draws: tuple[int, ...]
    """The extra breaches of each draw."""
    gains: tuple[float, ...] = ()
    """The gain of each draw."""


def evaluate(
    policies: Sequence[RoutingPolicy], inputs: dict[int, StreamInputs], draws: int
) -> list[list[Outcome]]:
    """Per policy, per seed of ``inputs``: Turnwise against least-loaded over ``draws``."""
    truth = DemoGeneratorScorer()

    def run(x: StreamInputs, policy: ReplayPolicy, h: int, routing: RoutingPolicy) -> ReplayReport:
        return replay(
            x.table, x.requests, policy, model=HandlingModel(seed=h), scorer=x.pairs,
            evaluation=truth, routing=routing,
        )  # fmt: skip

    default = RoutingPolicy()
    base = {
        (s, h): run(x, ReplayPolicy.LEAST_LOADED, h, default)
        for s, x in inputs.items()
        for h in range(draws)
    }
    out: list[list[Outcome]] = []
    for routing in policies:
        row = []
        for s, x in inputs.items():
            ours = [run(x, ReplayPolicy.TURNWISE, h, routing) for h in range(draws)]
            paired = [(o, base[s, h]) for h, o in enumerate(ours)]
            gains = [o.expected_conversions / b.expected_conversions - 1.0 for o, b in paired]
            extra = tuple(o.sla_breaches - b.sla_breaches for o, b in paired)
            row.append(
                Outcome(s, float(np.mean(gains)), float(np.mean(extra)), extra, tuple(gains))
            )
        out.append(row)
    return out


def choose(outcomes: Sequence[Sequence[Outcome]]) -> int | None:
    """The index of the setting of highest mean gain among those with mean extra breaches
    <= 0 on every seed; None when no setting qualifies."""
    ok = [i for i, row in enumerate(outcomes) if all(o.extra_breaches <= 0 for o in row)]
    if not ok:
        return None
    return max(ok, key=lambda i: float(np.mean([o.gain for o in outcomes[i]])))


def _describe(policy: RoutingPolicy) -> str:
    urgency = "/".join(f"{policy.urgency(g):g}" for g in "HABC")
    return f"load {policy.load_weight:g} pending {policy.pending_weight:g} HABC {urgency}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.routing_defaults")
    parser.add_argument("--seeds", default="1,2,3", help="demo seeds (default 1,2,3)")
    parser.add_argument("--draws", type=int, default=6, help="handling draws per seed")
    parser.add_argument("--quick", action="store_true", help="2 settings, 12 stores, 1 draw")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    stores, trims, draws, grid = 60, 120, args.draws, GRID
    if args.quick:
        stores, trims, draws, grid = 12, 24, 1, (RoutingPolicy(), GRID[0])
    inputs = {s: stream_inputs(stores, trims, s) for s in seeds}
    outcomes = evaluate(grid, inputs, draws)
    for policy, row in zip(grid, outcomes, strict=True):
        cells = "  ".join(f"s{o.seed} {o.gain:+.2%} / {o.extra_breaches:+.1f}" for o in row)
        print(f"{_describe(policy):40s} {cells}")
    best = choose(outcomes)
    if best is None:
        print("no setting has no more breaches than least-loaded on every seed")
    else:
        print(f"chosen: {_describe(grid[best])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
