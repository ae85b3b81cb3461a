"""The ``turnwise`` command line.

turnwise serve [--host H] [--port P] [--database-url URL]   run the gRPC server
turnwise demo-data --out DIR [--stores N] [--trims M] [--seed S]   write the demo group
turnwise load --data DIR [--database-url URL]   load a demo-data directory into the store
turnwise bench NAME [--quick]   run a benchmark, write benchmarks/results/NAME.json
turnwise forecast | backtest | plot ...   forecasting (see serving/cli_forecast.py)
turnwise plan-pickup --data DIR --output PLAN.csv   the pick-up mix (serving/cli_plan.py)
turnwise plan-transfers --data DIR --output MOVES.csv   tonight's transfers (serving/cli_plan.py)
turnwise route-leads --data DIR --output ASSIGN.csv   route the leads (serving/cli_leads.py)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from serving import cli_leads, cli_plan
from serving.cli_forecast import add_commands
from serving.config import ServerConfig
from turnwise.errors import TurnwiseError

__all__ = ["main"]

log = logging.getLogger("turnwise.cli")


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Callable[[argparse.Namespace], None]]]:
    parser = argparse.ArgumentParser(prog="turnwise", description=__doc__.split("\n\n")[0])
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gRPC server")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind, 0 = any free port (default 50051)")
    serve.add_argument(
        "--database-url", help="sqlite:///PATH (default) or postgresql+psycopg://..."
    )
    serve.add_argument("--metrics-port", type=int, help="Prometheus port, -1 = off (default 9464)")
    serve.add_argument("--no-demo", action="store_true", help="do not load the demo group")

    demo = sub.add_parser("demo-data", help="write a deterministic demo dealer group as CSV")
    demo.add_argument("--out", type=Path, required=True, help="output directory")
    demo.add_argument("--stores", type=int, default=60)
    demo.add_argument("--trims", type=int, default=120)
    demo.add_argument("--seed", type=int, default=0)

    load = sub.add_parser("load", help="load a demo-data directory into the store")
    load.add_argument("--data", type=Path, required=True, help="directory written by demo-data")
    load.add_argument("--database-url", help="target store (default: the serve default)")

    bench = sub.add_parser("bench", help="run a benchmark against its baselines")
    bench.add_argument("name", help="benchmark name, e.g. grpc")
    bench.add_argument("--quick", action="store_true", help="smaller cases only")
    commands: dict[str, Callable[[argparse.Namespace], None]] = {
        "serve": _serve,
        "demo-data": _demo_data,
        "load": _load,
        "bench": _bench,
    }
    commands.update(add_commands(sub))
    commands.update(cli_plan.add_commands(sub))
    commands.update(cli_leads.add_commands(sub))
    return parser, commands


def _load_demo_if_empty(config: ServerConfig) -> None:
    from dealer_group.demo import DemoSpec, generate
    from serving.store.db import open_database
    from serving.store.demo_load import load_group, store_is_empty

    db = open_database(config.database_url)
    try:
        if not store_is_empty(db):
            return
        start = time.perf_counter()
        spec = DemoSpec(stores=config.demo_stores, trims=config.demo_trims, seed=config.demo_seed)
        counts = load_group(db, generate(spec))
        print(
            f"loaded the demo dealer group ({spec.stores} stores x {spec.trims} trims, seed "
            f"{spec.seed}, {counts['sales'].inserted} weekly sales rows) in "
            f"{time.perf_counter() - start:.1f} s",
            flush=True,
        )
    finally:
        db.close()


def _serve(args: argparse.Namespace) -> None:
    from serving.observability import start_metrics_server
    from serving.server import serve

    config = ServerConfig.from_env(
        host=args.host,
        port=args.port,
        database_url=args.database_url,
        metrics_port=args.metrics_port,
        load_demo=False if args.no_demo else None,
    )
    if config.load_demo:
        _load_demo_if_empty(config)
    metrics_port = start_metrics_server(config.host, config.metrics_port)

    def ready(port: int) -> None:
        address = f"{config.host}:{port}"
        print(f"Turnwise is listening on {address} (store: {config.database_url})", flush=True)
        if metrics_port is not None:
            print(f"metrics: http://{config.host}:{metrics_port}/metrics", flush=True)
        print(
            "try:  .venv/bin/buf curl --protocol grpc --http2-prior-knowledge "
            f"http://{address}/turnwise.v1.NetworkService/GetNetworkSummary",
            flush=True,
        )

    asyncio.run(serve(config, on_ready=ready))


def _demo_data(args: argparse.Namespace) -> None:
    from dealer_group.demo import DemoSpec, generate, write_csv

    start = time.perf_counter()
    spec = DemoSpec(stores=args.stores, trims=args.trims, seed=args.seed)
    paths = write_csv(generate(spec), args.out)
    print(f"wrote {len(paths)} files to {args.out} in {time.perf_counter() - start:.1f} s")


def _load(args: argparse.Namespace) -> None:
    from dealer_group.demo import read_csv
    from serving.store.db import open_database
    from serving.store.demo_load import load_group

    config = ServerConfig.from_env(database_url=args.database_url)
    db = open_database(config.database_url)
    try:
        counts = load_group(db, read_csv(args.data))
    finally:
        db.close()
    for table, c in counts.items():
        print(
            f"{table:10s} inserted {c.inserted:8d}  updated {c.updated:8d}  "
            f"unchanged {c.unchanged:8d}"
        )


def _bench(args: argparse.Namespace) -> None:
    from benchmarks.runner import run_benchmark

    run_benchmark(args.name, quick=args.quick)


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = _parser()
    args = parser.parse_args(argv)
    from serving.observability import configure_logging

    configure_logging(args.log_level)
    try:
        commands[args.command](args)
    except TurnwiseError as err:
        print(f"turnwise {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
