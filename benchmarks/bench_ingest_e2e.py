"""Market data ingestion end to end through the local cloud vs the same work in process.

End to end: `trade2026 ingest --source synthetic`'s replay (localcloud.loader.replay_synthetic) publishes N
SYNTHETIC records to Kinesis (PutRecords, 500 at a time), the local event source mapping delivers batches of
1,000 to the normalizer Lambda (a worker process), which writes DynamoDB, the S3 lake and EventBridge; the
clock runs from the first PutRecords until the replay sees every bar closed (it polls every 0.5 s). Each
run gets a fresh local cloud (a replay into a cloud that already holds the session would only find duplicates).
In process: the same records through bench_normalize's trade2026 path (decode + normalize + 1-minute bars).

    .venv/bin/python benchmarks/bench_ingest_e2e.py [--runs 3] [--ticks 50000] [--malformed 0.0] [--write]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_normalize import ours_columnar, ours_parse, timed
from common import (
    ROOT,
    LocalCloud,
    bench_arguments,
    child_environment,
    markdown_table,
    median,
    provenance,
    ratio,
    spread,
    update_section,
)

SEED = 2026
MINUTES = 60  # the CLI's default session length
_DURATION = re.compile(r"^REPORT RequestId: \S+\s+Duration: ([\d.]+) ms", re.MULTILINE)


@dataclass
class EndToEnd:
    seconds: float  # first PutRecords -> every bar closed
    put_seconds: float  # first -> last PutRecords (the producer's share)
    busy_seconds: float  # sum of the normalizer's invocation durations
    batches: int
    summary: dict[str, Any]  # what replay_synthetic returned

    @property
    def correct(self) -> bool:
        """Every malformed record in the dead-letter queue and nothing else (a valid tick rejected as late)."""
        return bool(self.summary["rejects"] == self.summary["expected_rejects"])


# ---------------------------------------------------------------------------- the local cloud
# ---------------------------------------------------------------------------- end to end
class TimedKinesis:
    """The Kinesis client the replay publishes with, noting when the first and the last PutRecords ran."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.first_put: float | None = None
        self.last_put: float | None = None

    def put_records(self, **kwargs: Any) -> Any:
        if self.first_put is None:
            self.first_put = time.perf_counter()
        result = self._client.put_records(**kwargs)
        self.last_put = time.perf_counter()
        return result


def child_replay(state_dir: Path, ticks: int, seed: int, malformed: float) -> None:
    """In a child process (boto3 clients are cached per process): one replay, its timings as JSON on stdout."""
    import boto3
    from rich.console import Console

    from localcloud import loader
    from localcloud.cloud import use_fake_aws

    state = json.loads((state_dir / "state.json").read_text())
    use_fake_aws(state["aws_endpoint"])
    outputs = next(s["outputs"] for name, s in state["stacks"].items() if name.startswith("trade2026-"))
    kinesis = TimedKinesis(boto3.client("kinesis"))
    summary = loader.replay_synthetic(
        loader.Platform(outputs), kinesis, boto3.client("sqs"), Console(file=io.StringIO()),
        ticks=ticks, seed=seed, malformed=malformed, duplicates=0.0, minutes=MINUTES,
    )  # fmt: skip
    closed = time.perf_counter()
    assert kinesis.first_put is not None and kinesis.last_put is not None
    timings = {"seconds": closed - kinesis.first_put, "put_seconds": kinesis.last_put - kinesis.first_put}
    print(json.dumps({**timings, "summary": summary}))


def run_end_to_end(ticks: int, seed: int, malformed: float) -> EndToEnd:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        cloud = LocalCloud(Path(tmp))
        try:
            command = [
                sys.executable, __file__, "--child", tmp, "--ticks", str(ticks), "--seed", str(seed),
                "--malformed", str(malformed),
            ]  # fmt: skip
            done = subprocess.run(
                command,
                cwd=ROOT,
                env=child_environment(),
                capture_output=True,
                text=True,
                timeout=1800,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"the replay failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            durations = [float(ms) / 1000 for ms in _DURATION.findall(cloud.normalizer_log())]
        finally:
            cloud.stop()
    return EndToEnd(
        seconds=measured["seconds"],
        put_seconds=measured["put_seconds"],
        busy_seconds=sum(durations),
        batches=len(durations),
        summary=measured["summary"],
    )


# ---------------------------------------------------------------------------- in process
def run_in_process(ticks: int, seed: int, malformed: float) -> float:
    """The same records (the loader's synthetic_feed arguments) through bench_normalize's trade2026 path."""
    from localcloud.loader import SYNTHETIC_PREFIX
    from trade2026.domain.marketdata.synthetic import DEFAULT_SYMBOLS, synthetic_feed

    symbols = {f"{SYNTHETIC_PREFIX}{s}": price for s, price in DEFAULT_SYMBOLS.items()}
    feed = synthetic_feed(
        ticks, seed=seed, symbols=symbols, malformed_share=malformed, duplicate_share=0.0,
        duration_ns=MINUTES * 60_000_000_000,
    )  # fmt: skip

    def normalize_and_aggregate() -> Any:
        return ours_columnar(ours_parse(feed.records), feed.now_ns, feed.symbols)

    outcome, wall_s, _cpu_s = timed(normalize_and_aggregate)
    assert outcome.valid == len(feed.truth), (outcome.valid, len(feed.truth))
    return wall_s


# ---------------------------------------------------------------------------- report
def render(ticks: int, malformed: float, e2e: list[EndToEnd], in_process: list[float]) -> str:
    e2e_s = statistics.median(r.seconds for r in e2e)
    local_s = statistics.median(in_process)

    def rate(seconds: float | None) -> str:
        return f"{ticks / seconds:,.0f}" if seconds else "n/a"

    rows = [
        [
            "local cloud: PutRecords -> Kinesis -> normalizer Lambda -> DynamoDB + S3 + EventBridge, all bars closed",
            f"{e2e_s:.1f} s", rate(e2e_s), f"{spread([r.seconds for r in e2e], digits=1)} s",
        ],
        [
            "in process: decode + normalize + 1-minute bars (bench_normalize's trade2026 path)",
            f"{local_s:.3f} s", rate(local_s), f"{spread(in_process, digits=3)} s",
        ],
    ]  # fmt: skip
    table = markdown_table(["path", "median wall", "ticks/s", "min-max"], rows)
    put_s, busy_s = (
        statistics.median(r.put_seconds for r in e2e),
        statistics.median(r.busy_seconds for r in e2e),
    )
    correct = sum(r.correct for r in e2e)
    last = e2e[-1].summary
    seeds = f"{SEED}" if len(e2e) == 1 else f"{SEED}-{SEED + len(e2e) - 1}"
    summary = (
        f"{ticks:,} SYNTHETIC records (seed {seeds}, one per run; {MINUTES}-minute session, 10 symbols, "
        f"{malformed:.0%} malformed) -> {last['valid_ticks']:,} valid ticks. Medians of {len(e2e)} runs, each on "
        f"a fresh `trade2026 up --no-demo-data`, alternating with the in-process run. End to end takes "
        f"**{ratio(e2e_s, local_s)}** the in-process time. Where it goes (medians): publishing {put_s:.1f} s "
        f"(PutRecords of 500 to moto, overlapping with the normalizer), the normalizer's invocations "
        f"{busy_s:.1f} s in total ({median(r.batches for r in e2e):.0f} batches of up to 1,000), the remaining "
        f"{max(e2e_s - busy_s, 0):.1f} s polling, the 1 s batching window and the replay's 0.5 s poll. "
        f"Dead-letter queue as expected (every malformed record, no valid tick rejected as late) in "
        f"{correct}/{len(e2e)} runs."
    )
    return f"### Market data: ingestion end to end\n\n{provenance()}\n\n{summary}\n\n{table}\n"


def main() -> None:
    parser = bench_arguments(__doc__.splitlines()[0], default_runs=3)
    parser.add_argument("--ticks", type=int, default=50_000, help="records per replay (50,000)")
    parser.add_argument("--malformed", type=float, default=0.0, help="share of malformed records (0.0)")
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child_replay(args.child, args.ticks, args.seed, args.malformed)
        return
    e2e: list[EndToEnd] = []
    in_process: list[float] = []
    for run in range(args.runs):
        seed = SEED + run
        e2e.append(run_end_to_end(args.ticks, seed, args.malformed))
        in_process.append(run_in_process(args.ticks, seed, args.malformed))
        last = e2e[-1]
        print(
            f"run {run + 1}/{args.runs}: end to end {last.seconds:.1f} s (put {last.put_seconds:.1f} s, "
            f"normalizer {last.busy_seconds:.1f} s in {last.batches} batches, rejects "
            f"{last.summary['rejects']}/{last.summary['expected_rejects']} expected), "
            f"in process {in_process[-1]:.3f} s",
            flush=True,
        )
    report = render(args.ticks, args.malformed, e2e, in_process)
    print(report)
    if args.write:
        update_section("ingest_e2e", report)


if __name__ == "__main__":
    main()
