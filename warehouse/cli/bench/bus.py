"""``warehouse bench bus``: state ingestion rate and order round trip on loopback."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fleet.bus.bench import BenchParams, run_bench
from warehouse.cli.common import add_json, emit, float_in, int_in


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bus", help="bus throughput (states/s) and order->ack round trip with N simulated robots"
    )
    # ZeroMQ opens at most 1023 sockets per context; each simulated robot holds one.
    parser.add_argument("--robots", type=int_in(1, 1000), default=200)
    parser.add_argument(
        "--rate", type=float_in(0.01, 1000.0), default=2.0, help="states per robot per s"
    )
    parser.add_argument("--seconds", type=float_in(0.1, 3600.0), default=10.0)
    parser.add_argument(
        "--order-rate",
        type=float_in(0.0, 1000.0),
        default=1.0,
        metavar="HZ",
        help="orders per robot per second (0: ingestion only; default 1)",
    )
    parser.add_argument("--curve", action="store_true", help="CURVE-encrypted sockets")
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    params = BenchParams(args.robots, args.rate, args.seconds, args.order_rate, args.curve)
    result = run_bench(params, progress=not args.json and sys.stderr.isatty())
    emit(
        result,
        args.json,
        lambda r: (
            f"{r['robots']} robots at {r['rate_hz']} Hz ({'CURVE' if r['curve'] else 'plain'}): "
            f"{r['msgs_per_s']} states/s ingested, lost {r['lost']} of {r['sent']}; "
            f"order round trip p50 {r['rtt_ms_p50']} ms, p99 {r['rtt_ms_p99']} ms "
            f"({r['acks']} acks of {r['orders']} orders); state decode "
            f"{r['codec']['typical']['decode_us_msgpack']} us msgpack vs "
            f"{r['codec']['typical']['decode_us_json']} us JSON (median)"
        ),
    )
    return 0
