"""``turnwise route-leads``: route the leads of a dealer-group directory, from the shell.

turnwise route-leads --data DIR --output ASSIGN.csv [--mode stream|batch]
    [--policy turnwise|round-robin|least-loaded] [--scorer PATH]
    [--holding-hours 72] [--contact-minutes 2] [--max-wait-hours 24] [--seed 0]
    [--at TIME] [--time-limit 10] [--gap 0.0001]

DIR is what ``turnwise demo-data`` writes; every lead of its ``leads.csv`` is routed to the
advisors of ``advisors.csv`` as if none were assigned yet.

- ``--mode stream`` (default) replays the leads in arrival order through ``--policy``
  (``lead_routing.replay``: each lead holds a slot for a drawn holding time, first contacts
  queue per advisor, a lead nobody can take waits for a slot or a shift; ``--holding-hours``,
  ``--contact-minutes``, ``--max-wait-hours`` and ``--seed`` set that model).
- ``--mode batch`` assigns them all at once (``lead_routing.batch.route_batch``, the
  RouteLeads core) at ``--at`` (ISO 8601 with a zone; default noon, local time, of the day
  after the last lead, when every demo shift is on) within ``--time-limit`` seconds and
  ``--gap``; only the Turnwise policy has a batch form.

Scores come from the scorer saved at ``--scorer`` (``LeadScorer.save``), else from the prior
fallback (``PriorScorer``). Expected conversions, of the routing and of the historical
assignment in ``leads.csv`` alike, are that scorer's P(convert | lead, advisor) summed: an
estimate by the same model that made the Turnwise decisions, so it favours them; the
``leads`` benchmark measures the policies against the demo generator's own probabilities.
ASSIGN.csv gets one row per lead: ``lead_id, advisor_id`` (empty when unassigned),
``score, reason, first_contact_due, historical_advisor_id, assigned_at,
first_contact_at, sla_breached`` (the last two in stream mode only).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from turnwise.errors import InvalidArgument

if TYPE_CHECKING:
    from dealer_group.demo import DemoGroup
    from lead_routing.replay_inputs import PairScores
    from lead_routing.routing import LeadRequest, RoutingTable
    from lead_routing.scoring import ConversionScorer

__all__ = ["COLUMNS", "add_commands"]

COLUMNS = (
    "lead_id",
    "advisor_id",
    "score",
    "reason",
    "first_contact_due",
    "historical_advisor_id",
    "assigned_at",
    "first_contact_at",
    "sla_breached",
)
_BUSIEST = 5


def add_commands(sub: Any) -> dict[str, Any]:
    leads = sub.add_parser("route-leads", help="route a group's leads to its advisors")
    leads.add_argument("--data", type=Path, required=True, help="directory written by demo-data")
    leads.add_argument("--output", type=Path, required=True, help="assignments CSV to write")
    leads.add_argument("--mode", choices=("stream", "batch"), default="stream")
    leads.add_argument(
        "--policy", choices=("turnwise", "round-robin", "least-loaded"), default="turnwise"
    )
    leads.add_argument("--scorer", type=Path, help="saved LeadScorer directory (default: prior)")
    leads.add_argument("--holding-hours", type=float, default=72.0, help="mean (72)")
    leads.add_argument("--contact-minutes", type=float, default=2.0, help="mean (2)")
    leads.add_argument("--max-wait-hours", type=float, default=24.0, help="(24)")
    leads.add_argument("--seed", type=int, default=0, help="seed of the handling draws (0)")
    leads.add_argument("--at", help="batch mode: when to route, ISO 8601 with a zone")
    leads.add_argument("--time-limit", type=float, default=10.0, help="batch solve seconds (10)")
    leads.add_argument("--gap", type=float, default=1e-4, help="batch relative gap (0.0001)")
    return {"route-leads": _route_leads}


def _route_leads(args: argparse.Namespace) -> None:
    from dealer_group.demo import read_csv
    from lead_routing.replay_inputs import PairScores, lead_requests
    from lead_routing.routing import RoutingTable

    start = time.perf_counter()
    if args.mode == "batch" and args.policy != "turnwise":
        raise InvalidArgument(
            "--policy", f"{args.policy} has no batch form; use --mode stream or --policy turnwise"
        )
    model, scorer_name = _scorer(args.scorer)
    group = read_csv(args.data)
    table = RoutingTable.from_frames(group.advisors, group.stores, group.brands)
    leads = group.leads.reset_index(drop=True)
    requests = lead_requests(leads)
    pairs = PairScores.of(table, leads, group.advisors, group.stores, model)
    if args.mode == "stream":
        frame, breaches = _stream(args, table, requests, pairs)
    else:
        frame, breaches = _batch(args, table, requests, pairs), None
    frame.insert(5, "historical_advisor_id", leads["advisor_id"].fillna("").astype(str))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    frame.loc[:, list(COLUMNS)].to_csv(
        args.output, index=False, lineterminator="\n", float_format="%.6f"
    )
    _summary(args, group, table, frame, model, scorer_name, breaches)
    print(f"wrote {len(frame)} rows to {args.output} in {time.perf_counter() - start:.1f} s")


def _scorer(path: Path | None) -> tuple[ConversionScorer, str]:
    from lead_routing.scoring import load_scorer
    from lead_routing.scoring_prior import PriorScorer

    if path is None:
        return PriorScorer(), "the prior fallback (no --scorer)"
    scorer = load_scorer(path)
    return scorer, f"model {scorer.model_version} ({scorer.summary.rows} training leads)"


def _stream(
    args: argparse.Namespace,
    table: RoutingTable,
    requests: Sequence[LeadRequest],
    pairs: PairScores,
) -> tuple[pd.DataFrame, tuple[int, int, int]]:
    from lead_routing.replay import HandlingModel, ReplayPolicy, replay

    flags = {
        "mean_holding_hours": ("--holding-hours", args.holding_hours),
        "mean_contact_minutes": ("--contact-minutes", args.contact_minutes),
        "max_wait_hours": ("--max-wait-hours", args.max_wait_hours),
        "seed": ("--seed", args.seed),
    }
    try:
        model = HandlingModel(**{name: value for name, (_, value) in flags.items()})
    except InvalidArgument as err:
        raise InvalidArgument(flags[err.field][0], err.hint) from None
    report = replay(table, requests, ReplayPolicy(args.policy), model=model, scorer=pairs)
    frame = pd.DataFrame(
        {
            "lead_id": [o.lead_id for o in report.outcomes],
            "advisor_id": [o.advisor_id for o in report.outcomes],
            "score": [o.score for o in report.outcomes],
            "reason": [o.reason for o in report.outcomes],
            "first_contact_due": [_iso(o.first_contact_due) for o in report.outcomes],
            "assigned_at": [_iso(o.assigned_at) for o in report.outcomes],
            "first_contact_at": [_iso(o.first_contact_at) for o in report.outcomes],
            "sla_breached": [int(o.sla_breached) for o in report.outcomes],
        }
    )
    return frame, (report.sla_breaches, report.late_first_contacts, report.waited)


def _batch(
    args: argparse.Namespace,
    table: RoutingTable,
    requests: Sequence[LeadRequest],
    pairs: PairScores,
) -> pd.DataFrame:
    from lead_routing.batch import BatchLead, route_batch
    from turnwise.solving import SolveLimits

    now = _batch_time(args.at, table, requests)
    limits = SolveLimits(time_limit_seconds=args.time_limit, relative_gap=args.gap)
    batch = [BatchLead(r) for r in requests]
    solved = route_batch(
        table, batch, np.zeros(table.n_advisors, dtype=np.int64), now, limits, scorer=pairs
    )
    print(
        f"batch at {_iso(now)}: {solved.status.value} by {solved.method}, objective "
        f"{solved.objective:,.2f}, gap {solved.gap:.4%}, solve {solved.solve_seconds:.2f} s"
    )
    chosen = {d.lead_id: d for d in solved.decisions}
    why = dict(solved.unassigned)
    rows = []
    for r in requests:
        d = chosen.get(r.lead_id)
        rows.append(
            (r.lead_id, d.advisor_id, d.score, d.reason, _iso(d.first_contact_due), _iso(now))
            if d is not None
            else (r.lead_id, "", math.nan, f"unassigned: {why.get(r.lead_id, '')}", "", "")
        )
    frame = pd.DataFrame(
        rows,
        columns=["lead_id", "advisor_id", "score", "reason", "first_contact_due", "assigned_at"],
    )
    frame["first_contact_at"] = ""
    frame["sla_breached"] = ""
    return frame


def _batch_time(at: str | None, table: RoutingTable, requests: Sequence[LeadRequest]) -> datetime:
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise InvalidArgument("--at", f"{at!r} is not an ISO 8601 time") from None
        if moment.utcoffset() is None:
            raise InvalidArgument("--at", f"{at!r} has no time zone; add one, e.g. +08:00")
        return moment
    if not requests:
        raise InvalidArgument("--at", "the directory holds no leads; give a time")
    last = max(r.created_at for r in requests).astimezone(table.zone)
    return (last + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def _summary(
    args: argparse.Namespace,
    group: DemoGroup,
    table: RoutingTable,
    frame: pd.DataFrame,
    model: ConversionScorer,
    scorer_name: str,
    breaches: tuple[int, int, int] | None,
) -> None:
    from lead_routing.features import demo_lead_features

    routed = frame["advisor_id"] != ""
    label = args.mode if args.mode == "batch" else f"stream, {args.policy}"
    print(
        f"routed {len(frame)} leads ({label}): {int(routed.sum())} assigned, "
        f"{int((~routed).sum())} unassigned; scores by {scorer_name}"
    )
    history = group.leads.reset_index(drop=True)
    had = (history["advisor_id"].fillna("") != "").to_numpy()
    past = history[had]
    p_past = model.predict_proba(demo_lead_features(past, group.advisors, group.stores))
    score = frame["score"].fillna(0.0).to_numpy(dtype=np.float64)
    print(
        f"expected conversions (by the same scorer): {score.sum():,.1f} routed "
        f"({score[had].sum():,.1f} on the {int(had.sum())} leads the history assigned) vs "
        f"{float(np.sum(p_past)):,.1f} by the historical assignment"
    )
    if breaches is not None:
        total, late, waited = breaches
        print(
            f"SLA breaches: {total} ({late} first contacts later than due, {waited} leads "
            "found no eligible advisor on arrival)"
        )
    else:
        print("SLA: not simulated in batch mode (first contact due 5 min after --at)")
    counts = frame.loc[routed, "advisor_id"].value_counts()
    print("busiest advisors:")
    for advisor, n in counts.head(_BUSIEST).items():
        cap = int(table.max_open_leads[table.advisor_index[str(advisor)]])
        print(f"  {advisor}: {n} leads (max {cap} open at once)")


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return pd.Timestamp(moment).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
