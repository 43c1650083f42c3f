"""Run every benchmarks/bench_*.py with --write, so docs/benchmarks.md gets all sections fresh (`make bench`).

    .venv/bin/python benchmarks/run_all.py [--runs N] [--only startup] [--no-write]

The benchmarks run one after the other (the machine has 2 cores: running them side by side would
measure each other). Each one's table is printed when it finishes; the exit code is non-zero when any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common import child_environment
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

HERE = Path(__file__).resolve().parent
console = Console()


@dataclass
class Outcome:
    name: str
    exit_code: int
    seconds: float
    output: str
    errors: str


def discover(only: list[str] | None = None) -> list[Path]:
    """benchmarks/bench_<name>.py, sorted by name; `only` keeps the given names (with or without bench_)."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        wanted = {name.removeprefix("bench_").removesuffix(".py") for name in only}
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    return scripts


def run_one(script: Path, runs: int | None, write: bool) -> Outcome:
    command = [
        sys.executable,
        str(script),
        *(["--runs", str(runs)] if runs else []),
        *(["--write"] if write else []),
    ]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=HERE.parent, env=child_environment(), capture_output=True, text=True, check=False
    )
    return Outcome(script.stem, done.returncode, time.perf_counter() - started, done.stdout, done.stderr)


def show(console: Console, text: str) -> None:
    """Printed as is: soft_wrap keeps markdown tables unbroken, to be copied from the terminal."""
    console.print(text.rstrip(), markup=False, highlight=False, soft_wrap=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run every benchmark and update docs/benchmarks.md.")
    parser.add_argument("--runs", type=int, default=None, help="runs per case for every benchmark")
    parser.add_argument("--only", nargs="+", default=None, help="benchmark names, e.g. startup")
    parser.add_argument("--no-write", dest="write", action="store_false", help="print, leave the docs alone")
    args = parser.parse_args()
    scripts = discover(args.only)
    if not scripts:
        console.print("[red]No benchmarks/bench_*.py matched.[/]")
        return 2
    outcomes = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("benchmarks", total=len(scripts))
        for script in scripts:
            progress.update(task, description=f"{script.stem} (runs {args.runs or 'default'})")
            outcome = run_one(script, args.runs, args.write)
            outcomes.append(outcome)
            progress.console.rule(f"{outcome.name}: {'ok' if outcome.exit_code == 0 else 'FAILED'}")
            show(progress.console, outcome.output)
            if outcome.exit_code != 0:
                show(progress.console, outcome.errors[-3000:])
            progress.advance(task)
    failed = [o.name for o in outcomes if o.exit_code != 0]
    total = sum(o.seconds for o in outcomes)
    summary = f"{len(outcomes) - len(failed)}/{len(outcomes)} benchmarks ok in {total:.0f} s"
    where = "; docs/benchmarks.md updated" if args.write else ""
    console.print(
        f"[{'red' if failed else 'green'}]{summary}{where}[/]" + (f" - failed: {failed}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
