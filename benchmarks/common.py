"""Shared helpers of the benchmarks: statistics, markdown, machine facts, docs/benchmarks.md sections.

Every benchmark is a script `benchmarks/bench_<name>.py` that accepts `--runs N` and `--write`; with
`--write` it replaces its own section of docs/benchmarks.md (between `<!-- bench:<name> -->` and
`<!-- /bench:<name> -->`) with its table, the exact command, the date and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = ROOT / "docs" / "benchmarks.md"
VENV_BIN = ROOT / ".venv" / "bin"

# The environment every benchmark child process gets: fake credentials, and the SDK never probes the
# instance metadata address (nothing may leave 127.0.0.1).
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


def bench_arguments(description: str, default_runs: int = 5) -> argparse.ArgumentParser:
    """The options every benchmark accepts (run_all.py relies on them)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=default_runs, help=f"runs per case ({default_runs})")
    parser.add_argument("--write", action="store_true", help="update its section of docs/benchmarks.md")
    return parser


def child_environment(**extra: str) -> dict[str, str]:
    """This process's environment without AWS settings that could reach real AWS, plus fake credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, **FAKE_AWS_ENV, **extra}


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it; never 4566/8080)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------------------- statistics
def median(values: Iterable[float | None]) -> float | None:
    """Median of the measured values (None = not measured); None when nothing was measured."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(numerator: float | None, denominator: float | None) -> str:
    """'3.20x' - how many times the first is of the second (both measured in the same run)."""
    if numerator is None or not denominator:
        return "n/a"
    return f"{numerator / denominator:.2f}x"


def seconds(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def millis(value_s: float | None) -> str:
    return "n/a" if value_s is None else f"{value_s * 1000:.0f}"


def spread(values: Sequence[float | None], scale: float = 1.0, digits: int = 2) -> str:
    """'min-max' of the measured values, to show how much the shared machine drifted."""
    present = [v * scale for v in values if v is not None]
    if not present:
        return "n/a"
    return f"{min(present):.{digits}f}-{max(present):.{digits}f}"


# ---------------------------------------------------------------------------- markdown
def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub markdown table; numbers right-aligned when every cell of a column looks numeric."""
    body = [[str(cell) for cell in row] for row in rows]
    numeric = [all(_looks_numeric(row[i]) for row in body) and bool(body) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if is_number else "---" for is_number in numeric) + "|",
    ]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines)


def _looks_numeric(cell: str) -> bool:
    return re.fullmatch(r"[-+]?[\d.,]+(-[\d.,]+)?(x|%| ms| s)?|n/a|", cell) is not None


# ---------------------------------------------------------------------------- provenance
def machine_info() -> str:
    """'2 cores (AMD EPYC), 23 GiB RAM, Linux 6.1 x86_64, Python 3.11.7' - what absolute numbers depend on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parts = [f"{cores} cores ({_cpu_model()})"]
    memory = _memory_gib()
    if memory:
        parts.append(f"{memory} GiB RAM")
    parts.append(f"{platform.system()} {platform.release().split('-')[0]} {platform.machine()}")
    parts.append(f"Python {platform.python_version()}")
    return ", ".join(parts)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2)
    except OSError:
        pass
    return None


def command_line() -> str:
    """The command that produced these numbers, as someone at the repository root would type it."""
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    return shlex.join([".venv/bin/python", str(shown), *sys.argv[1:]])


def provenance(command: str | None = None) -> str:
    """The lines every section starts with: command, date, machine."""
    now = datetime.now(UTC)
    return (
        f"Command: `{command or command_line()}`  \n"
        f"Date: {now:%Y-%m-%d %H:%M} UTC  \n"
        f"Machine: {machine_info()}; load average {_load_average()} when it started"
    )


def _load_average() -> str:
    """The 1-minute load average: how busy the shared machine was (2 cores: above 2 means queuing)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


# ---------------------------------------------------------------------------- docs/benchmarks.md
def update_section(name: str, content: str, doc_path: Path = DOC_PATH) -> None:
    """Replace the text between <!-- bench:NAME --> and <!-- /bench:NAME --> (appended when missing)."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{content.strip()}\n{end}"
    text = doc_path.read_text(encoding="utf-8") if doc_path.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: block, text, count=1)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    doc_path.write_text(text, encoding="utf-8")


def signed_in(
    state_dir: Path, groups: Sequence[str] = ("trader", "admin")
) -> tuple[dict[str, Any], dict[str, str]]:
    """A running local cloud's state (api_url, aws_endpoint, public_config) and an ID token for the demo user of
    each group (the logins `trade2026 up` wrote), signed in through the local Cognito."""
    import boto3

    state = json.loads((state_dir / "state.json").read_text())
    logins = {e["group"]: e for e in json.loads((state_dir / "demo-logins.json").read_text())}
    cognito = boto3.client("cognito-idp", endpoint_url=state["aws_endpoint"], region_name="us-east-1")
    tokens = {}
    for group in groups:
        auth = cognito.initiate_auth(
            ClientId=state["public_config"]["userPoolClientId"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": logins[group]["username"], "PASSWORD": logins[group]["password"]},
        )  # fmt: skip
        tokens[group] = str(auth["AuthenticationResult"]["IdToken"])
    return state, tokens


class LocalCloud:
    """`trade2026 up --no-demo-data` on free ports with a fresh state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        command = [
            sys.executable, "-m", "localcloud", "up", "--no-demo-data", "--api-port", str(free_port()),
            "--aws-port", str(free_port()), "--state-dir", str(state_dir),
        ]  # fmt: skip
        self._log = (state_dir / "up.log").open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=child_environment(), stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 180
        while not (state_dir / "ready").exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the local cloud did not start:\n{(state_dir / 'up.log').read_text()[-3000:]}"
                )
            time.sleep(0.2)

    def normalizer_log(self) -> str:
        logs = list((self.state_dir / "logs").glob("*marketdata-normalizer*.log"))
        return "".join(path.read_text(errors="replace") for path in logs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
