"""Bus benchmark, one command: `python bench/bus.py [--repeat 3] [--seconds 10]`.

Runs each scenario `--repeat` times in fresh processes and prints the medians as
the markdown table recorded in docs/benchmarks.md under "## Bus":

* ingest: 1,000 robots at 5 Hz (5,000 states/s offered), plain and CURVE;
* capacity: 1,000 robots at 20 Hz, more than the server can take, so the accepted
  rate is the server's ceiling; compared in the same run with the naive baseline
  server loop that polls once per message (max_batch=1);
* round trip: 200 robots at 2 Hz, each robot getting one order per second, plain
  and CURVE;
* codec: decoding a state from msgpack vs from JSON (validation included).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fleet.bus.bench import BenchParams, codec_baseline, run_bench


def scenarios(seconds: float) -> list[tuple[str, BenchParams]]:
    return [
        ("ingest 1000 x 5 Hz", BenchParams(1000, 5.0, seconds)),
        ("ingest 1000 x 5 Hz CURVE", BenchParams(1000, 5.0, seconds, curve=True)),
        ("capacity 1000 x 20 Hz", BenchParams(1000, 20.0, seconds)),
        ("capacity 1000 x 20 Hz, baseline loop", BenchParams(1000, 20.0, seconds, max_batch=1)),
        ("round trip 200 x 2 Hz", BenchParams(200, 2.0, seconds, order_rate_hz=1.0)),
        ("round trip 200 x 2 Hz CURVE", BenchParams(200, 2.0, seconds, 1.0, curve=True)),
    ]


def median(runs: list[dict[str, Any]], key: str) -> Any:
    values = [r[key] for r in runs if r[key] is not None]
    return round(statistics.median(values), 3) if values else "-"


def spread(runs: list[dict[str, Any]], key: str) -> str:
    """``median (min-max)`` over the runs."""
    values = [r[key] for r in runs if r[key] is not None]
    if not values:
        return "-"
    return f"{statistics.median(values):,.2f} ({min(values):,.2f}-{max(values):,.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--codec-only", action="store_true", help="only the msgpack/JSON table")
    args = parser.parse_args()
    print(
        "| scenario | offered states/s | sent states/s | accepted states/s, median (range) "
        "| lost (max) | order RTT p50 ms | p99 ms, median (range) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, params in [] if args.codec_only else scenarios(args.seconds):
        runs = []
        for i in range(args.repeat):
            print(f"{name}: run {i + 1}/{args.repeat}", file=sys.stderr)
            runs.append(run_bench(params))
        lost = max(r["lost"] for r in runs)
        print(
            f"| {name} | {runs[0]['offered_msgs_per_s']:,.0f} | {median(runs, 'sent_per_s'):,} "
            f"| {spread(runs, 'msgs_per_s')} "
            f"| {lost} | {median(runs, 'rtt_ms_p50')} | {spread(runs, 'rtt_ms_p99')} |",
            flush=True,
        )
    print()
    print(
        "| state | msgpack bytes | JSON bytes | parse msgpack us | parse JSON us "
        "| decode+validate msgpack us | decode+validate JSON us | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, c in codec_baseline(20_000).items():
        print(
            f"| {name} | {c['bytes_msgpack']} | {c['bytes_json']} | {c['unpack_us']} "
            f"| {c['parse_us_json']} | {c['decode_us_msgpack']} | {c['decode_us_json']} "
            f"| {c['json_over_msgpack']}x |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
