"""Start-up of the local cloud and cold imports of the Lambda handlers.

    .venv/bin/python benchmarks/bench_startup.py [--runs 5] [--write]

Start-up: `trade2026 up` runs as a subprocess on free ports with a fresh state directory; measured are
spawn -> first 200 of GET /v1/health, spawn -> the `ready` file (written once demo data has loaded),
and SIGINT -> exit, and whether any worker process outlives it. Cold import: every function of
template.yaml imported in a fresh interpreter with the environment the template gives it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    FAKE_AWS_ENV,
    ROOT,
    VENV_BIN,
    bench_arguments,
    child_environment,
    free_port,
    markdown_table,
    median,
    millis,
    provenance,
    seconds,
    spread,
    update_section,
)

HEALTHY_BAR_S = 30.0  # foundation issue: `make up` (after install) to healthy under 30 s
MARKETDATA_IMPORT_BAR_S = 0.300  # market data API cold import, provided pandas stays out of it
POLL_INTERVAL_S = 0.05
ORPHAN_GRACE_S = 1.0
HEAVY_MODULES = ("pandas", "pyarrow", "awswrangler", "numpy", "scipy", "boto3", "pydantic")

# Runs in a fresh interpreter: imports the handler module the way localcloud.lambda_worker does (task
# root first on sys.path) and reports the import's own duration and the top-level modules it loaded.
# __import__, not importlib.import_module: only imports through the C entry point show in -X importtime.
IMPORT_PROBE = """
import sys, time
sys.path.insert(0, sys.argv[2])
started = time.perf_counter()
__import__(sys.argv[1])
elapsed = time.perf_counter() - started
import json
print(json.dumps({"import_s": elapsed, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


# ============================================================================ start-up
@dataclass
class StartupRun:
    healthy_s: float | None = None  # spawn -> first 200 of /v1/health
    ready_s: float | None = None  # spawn -> state_dir/ready exists
    ready_in_process_s: float | None = None  # what the CLI wrote into `ready` (from its own start)
    shutdown_s: float | None = None  # SIGINT -> process exited
    exit_code: int | None = None
    exited_early: bool = False  # the process ended on its own before `ready`
    workers: int = 0  # descendant processes alive at ready
    orphans: int = 0  # of those, alive ORPHAN_GRACE_S after the CLI exited
    log_tail: str = ""


def _proc_stat(pid: int) -> tuple[int, int, str] | None:
    """(ppid, start time in clock ticks, state) of a process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may contain spaces
    return int(fields[1]), int(fields[19]), fields[0]


def descendants(root_pid: int) -> dict[int, int]:
    """pid -> start time of every live process below root_pid (workers run in their own sessions)."""
    parent_of: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) and stat[2] != "Z":
            parent_of[int(entry.name)] = (stat[0], stat[1])
    found: dict[int, int] = {}
    frontier = [root_pid]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, started) in parent_of.items():
            if ppid == parent and pid not in found:
                found[pid] = started
                frontier.append(pid)
    return found


def still_alive(processes: dict[int, int]) -> list[int]:
    """The pids of `processes` still running (same start time, so not a reused pid; zombies are gone)."""
    alive = []
    for pid, started in processes.items():
        stat = _proc_stat(pid)
        if stat is not None and stat[1] == started and stat[2] != "Z":
            alive.append(pid)
    return alive


def _healthy(api_url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy
    try:
        with opener.open(f"{api_url}/v1/health", timeout=10) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _watch(
    process: subprocess.Popen[bytes],
    api_url: str,
    ready_file: Path,
    started: float,
    timeout_s: float,
    run: StartupRun,
) -> None:
    """Poll health and the ready file until both are seen, the process exits or the timeout passes."""
    deadline = started + timeout_s
    while time.perf_counter() < deadline and process.poll() is None:
        if run.healthy_s is None and _healthy(api_url):
            run.healthy_s = time.perf_counter() - started
        if run.ready_s is None and ready_file.exists():
            run.ready_s = time.perf_counter() - started
            run.ready_in_process_s = _read_seconds(ready_file)
        if run.healthy_s is not None and run.ready_s is not None:
            return
        time.sleep(POLL_INTERVAL_S)
    run.exited_early = process.poll() is not None


def _read_seconds(path: Path) -> float | None:
    for _ in range(20):  # the CLI may be between creating and writing the file
        try:
            return float(path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            time.sleep(0.01)
    return None


def _stop(process: subprocess.Popen[bytes], run: StartupRun) -> None:
    """SIGINT (what Ctrl-C sends), time the exit, then count worker processes that outlived it."""
    workers = descendants(process.pid)
    run.workers = len(workers)
    if process.poll() is None:
        sent = time.perf_counter()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
            run.shutdown_s = time.perf_counter() - sent
        except subprocess.TimeoutExpired:
            workers |= descendants(process.pid)
            process.kill()
            process.wait()
    run.exit_code = process.returncode
    time.sleep(ORPHAN_GRACE_S)
    orphans = still_alive(workers)
    run.orphans = len(orphans)
    for pid in orphans:  # never leave them running on a shared machine
        os.kill(pid, signal.SIGKILL)


def run_startup(demo_data: bool, timeout_s: float) -> StartupRun:
    """One start -> healthy -> ready -> SIGINT cycle on free ports with a fresh state directory."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    state_dir = workdir / "state"
    api_port, aws_port = free_port(), free_port()
    while aws_port == api_port:
        aws_port = free_port()
    command = [
        str(VENV_BIN / "trade2026"),
        "up",
        "--api-port",
        str(api_port),
        "--aws-port",
        str(aws_port),
        "--state-dir",
        str(state_dir),
        *([] if demo_data else ["--no-demo-data"]),
    ]
    run = StartupRun()
    log_path = workdir / "up.log"
    try:
        with log_path.open("wb") as log:
            started = time.perf_counter()
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=child_environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                _watch(process, f"http://127.0.0.1:{api_port}", state_dir / "ready", started, timeout_s, run)
            finally:
                _stop(process, run)
        run.log_tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return run


def _failure_line(run: StartupRun) -> str:
    """The last meaningful line of the CLI's output (the exception, usually)."""
    lines = [line.strip() for line in run.log_tail.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors or lines or ["no output"])[-1][:200]


# ============================================================================ cold imports
@dataclass
class HandlerImport:
    logical_id: str
    code_uri: str
    module: str
    import_s: list[float] = field(default_factory=list)
    process_s: list[float] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)
    slowest: list[tuple[str, float]] = field(default_factory=list)  # direct imports, cumulative seconds
    error: str | None = None


def template_functions() -> list[HandlerImport]:
    """Every AWS::Serverless::Function of template.yaml: logical id, CodeUri, handler module."""
    from localcloud.template import load_template

    template = load_template(ROOT / "template.yaml")
    default_handler = ((template.get("Globals") or {}).get("Function") or {}).get("Handler")
    functions = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        handler = props.get("Handler") or default_handler
        if not isinstance(handler, str):
            raise SystemExit(f"template.yaml: {logical_id} has no Handler")
        module = handler.rsplit(".", 1)[0].replace("/", ".")
        functions.append(HandlerImport(logical_id, props["CodeUri"].strip("/"), module))
    return functions


def handler_environment(
    function: HandlerImport, variables: dict[str, str], closed_port: int
) -> dict[str, str]:
    """What a Lambda worker of the local cloud gets: fake AWS, the template's variables, Lambda's own."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **FAKE_AWS_ENV,
        # Any call made at import time goes to a closed loopback port, never to AWS.
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}",
        "POWERTOOLS_TRACE_DISABLED": "true",
        **variables,
        "AWS_LAMBDA_FUNCTION_NAME": f"trade2026-dev-{function.logical_id}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(ROOT / function.code_uri),
        "_HANDLER": f"{function.module}.handler",
        "TZ": ":UTC",
    }


def _import_once(function: HandlerImport, env: dict[str, str], importtime: bool = False) -> dict[str, Any]:
    code_dir = ROOT / function.code_uri
    flags = ["-X", "importtime"] if importtime else []
    started = time.perf_counter()
    done = subprocess.run(
        [str(VENV_BIN / "python"), *flags, "-c", IMPORT_PROBE, function.module, str(code_dir)],
        cwd=code_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError((done.stderr.strip().splitlines() or ["import failed"])[-1])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "process_s": wall, "stderr": done.stderr}


def slowest_direct_imports(importtime_log: str, module: str, top: int = 3) -> list[tuple[str, float]]:
    """The handler module's direct imports by cumulative time, from `python -X importtime` output.

    importtime prints children before their parent, indented two spaces per level.
    """
    children: list[tuple[str, float]] = []
    for line in importtime_log.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, raw_name = line.split("|", 2)
        if not cumulative.strip().isdigit():
            continue  # the header line
        level = (len(raw_name) - len(raw_name.lstrip(" ")) - 1) // 2
        name = raw_name.strip()
        if level == 1:
            children.append((name, int(cumulative) / 1e6))
        elif level == 0:
            if name == module:
                return sorted(children, key=lambda item: -item[1])[:top]
            children = []
    return []


def run_imports(runs: int) -> list[HandlerImport]:
    from localcloud.template import function_environments, load_template

    environments = function_environments(load_template(ROOT / "template.yaml"))
    functions = template_functions()
    closed_port = free_port()
    for function in functions:
        env = handler_environment(function, environments.get(function.code_uri, {}), closed_port)
        try:
            _import_once(function, env)  # warm-up: bytecode caches written, files in the page cache
            for _ in range(runs):
                result = _import_once(function, env)
                function.import_s.append(result["import_s"])
                function.process_s.append(result["process_s"])
                function.modules = set(result["modules"])
            traced = _import_once(function, env, importtime=True)
            function.slowest = slowest_direct_imports(traced["stderr"], function.module)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
            function.error = str(exc)
    return functions


def interpreter_baseline(runs: int) -> list[float]:
    """Wall time of `python -c pass` in the same venv: the part of a cold start no handler can remove."""
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        subprocess.run([str(VENV_BIN / "python"), "-c", "pass"], env=child_environment(), check=True)
        times.append(time.perf_counter() - started)
    return times[1:]


# ============================================================================ report
def startup_table(results: dict[str, list[StartupRun]]) -> str:
    rows = []
    for case, runs in results.items():
        measured = [r for r in runs if r.healthy_s is not None]
        rows.append(
            [
                case,
                f"{len(measured)}/{len(runs)}",
                seconds(median(r.healthy_s for r in runs)),
                spread([r.healthy_s for r in runs]),
                seconds(median(r.ready_s for r in runs)),
                seconds(median(r.ready_in_process_s for r in runs)),
                seconds(median(r.shutdown_s for r in runs)),
                str(max((r.workers for r in runs), default=0)),
                str(sum(r.orphans for r in runs)),
            ]
        )
    headers = [
        "case",
        "healthy runs",
        "spawn -> healthy (s)",
        "min-max (s)",
        "spawn -> ready (s)",
        "CLI start -> ready (s)",
        "SIGINT -> exit (s)",
        "worker processes",
        "left running after exit",
    ]
    return markdown_table(headers, rows)


def import_table(functions: list[HandlerImport], baseline: list[float]) -> str:
    rows = []
    for f in functions:
        if f.error:
            failed = [f.logical_id, f"{f.code_uri}/{f.module}.py", "failed", "", "", "", "", f.error[:120]]
            rows.append(failed)
            continue
        heavy = ", ".join(m for m in HEAVY_MODULES if m in f.modules) or "none"
        slowest = ", ".join(f"{name} {secs * 1000:.0f}" for name, secs in f.slowest)
        rows.append(
            [
                f.logical_id,
                f"{f.code_uri}/{f.module}.py",
                millis(median(f.import_s)),
                spread(f.import_s, 1000, 0),
                millis(median(f.process_s)),
                "yes" if "pandas" in f.modules else "no",
                heavy,
                slowest,
            ]
        )
    rows.append(["(interpreter alone: `python -c pass`)", "", "", "", millis(median(baseline)), "no", "", ""])
    headers = [
        "function",
        "handler file",
        "cold import (ms)",
        "min-max (ms)",
        "whole process (ms)",
        "pandas imported",
        "heavy modules loaded",
        "slowest direct imports (ms, -X importtime)",
    ]
    return markdown_table(headers, rows)


def failure_notes(results: dict[str, list[StartupRun]]) -> str:
    """One line per run that did not reach healthy and ready: what it ended with."""
    lines = []
    for case, runs in results.items():
        for number, run in enumerate(runs, start=1):
            if run.healthy_s is not None and run.ready_s is not None:
                continue
            ending = f"exited by itself with code {run.exit_code}" if run.exited_early else "timed out"
            lines.append(
                f"- {case}, run {number}: healthy {seconds(run.healthy_s)} s, "
                f"ready {seconds(run.ready_s)} s, {ending}; last output: `{_failure_line(run)}`"
            )
    return "\n".join(lines)


def verdicts(results: dict[str, list[StartupRun]], functions: list[HandlerImport]) -> list[str]:
    lines = []
    healthy = [r.healthy_s for runs in results.values() for r in runs]
    worst = max((h for h in healthy if h is not None), default=None)
    met = worst is not None and None not in healthy and worst < HEALTHY_BAR_S
    failed = healthy.count(None)
    lines.append(
        f"- Bar: healthy under {HEALTHY_BAR_S:.0f} s after `trade2026 up` starts: "
        f"{'met' if met else 'NOT met'} (slowest healthy run {seconds(worst)} s"
        + (f"; {failed} of {len(healthy)} runs never became healthy)." if failed else ").")
    )
    orphans = sum(r.orphans for runs in results.values() for r in runs)
    lines.append(f"- Worker processes left running after SIGINT: {orphans} over all runs.")
    bars = {"functions/marketdata": "market data API", "functions/orders": "orders", "functions/risk": "risk"}
    for f in functions:
        if f.code_uri in bars and not f.error:
            import_ms = median(f.import_s)
            ok = import_ms is not None and import_ms < MARKETDATA_IMPORT_BAR_S and "pandas" not in f.modules
            lines.append(
                f"- Bar: {bars[f.code_uri]} cold import under {MARKETDATA_IMPORT_BAR_S * 1000:.0f} ms "
                f"without pandas: {'met' if ok else 'NOT met'} ({millis(import_ms)} ms, pandas "
                f"{'imported' if 'pandas' in f.modules else 'not imported'})."
            )
    return lines


def report(
    results: dict[str, list[StartupRun]],
    demo_note: str,
    functions: list[HandlerImport],
    baseline: list[float],
    runs: int,
) -> str:
    parts = [
        "## Local cloud start-up and cold imports",
        provenance(),
        f"`.venv/bin/trade2026 up` on free ports with a fresh `--state-dir`, {runs} runs per case, medians. "
        "*spawn -> healthy*: from starting the process to the first 200 of `GET /v1/health` (polled every "
        f"{POLL_INTERVAL_S * 1000:.0f} ms); *spawn -> ready*: to the `ready` file in the state directory, "
        "written after the demo data has loaded; *CLI start -> ready*: the number the CLI writes into that "
        "file, counted from inside its `up` command, so the difference is interpreter and import time; "
        "*SIGINT -> exit*: Ctrl-C to process exit; *worker processes*: the CLI's descendant processes at "
        "ready (Lambda workers; the CLI polls health too, so two PlatformFunction workers start side by "
        "side); *left running*: descendant processes alive at ready "
        f"that still ran {ORPHAN_GRACE_S:.0f} s after the CLI exited (should be 0).",
        startup_table(results),
        failure_notes(results),
        demo_note,
        "Cold imports: each handler of template.yaml imported in a fresh interpreter with the environment "
        "the template gives it (resource names as placeholders, AWS calls sent to a closed loopback port), "
        f"bytecode caches warm (one untimed import first), {runs} runs, medians. *cold import*: the "
        "`import` of the handler module alone; *whole process*: interpreter start + import + exit; "
        "*slowest direct imports*: the handler module's own imports by cumulative time in one extra run "
        "under `-X importtime` (which slows imports down; a dependency shared by several modules counts "
        "for the first one that imports it).",
        import_table(functions, baseline),
        "\n".join(verdicts(results, functions)),
    ]
    return "\n\n".join(part for part in parts if part)


def main() -> None:
    parser = bench_arguments(__doc__.splitlines()[0] if __doc__ else "start-up benchmark")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for ready, per start")
    args = parser.parse_args()
    os.environ.update(FAKE_AWS_ENV)
    print(f"cold imports ({args.runs} runs per function) ...", file=sys.stderr)
    functions = run_imports(args.runs)
    baseline = interpreter_baseline(args.runs)
    results: dict[str, list[StartupRun]] = {"--no-demo-data": [], "with demo data": []}
    demo_failure: StartupRun | None = None
    for index in range(args.runs):  # the two cases interleaved, so drift of the shared machine hits both
        print(f"start-up run {index + 1}/{args.runs} ...", file=sys.stderr)
        results["--no-demo-data"].append(run_startup(demo_data=False, timeout_s=args.timeout))
        if demo_failure is None:
            run = run_startup(demo_data=True, timeout_s=args.timeout)
            if run.ready_s is None:
                demo_failure = run  # one failure says enough; do not repeat it
            else:
                results["with demo data"].append(run)
    demo_note = ""
    if demo_failure is not None:
        results.pop("with demo data")
        demo_note = (
            "Demo data loading could not be measured: `trade2026 up` with demo data did not reach "
            f"`ready` (exit code {demo_failure.exit_code}; "
            f"last output: `{_failure_line(demo_failure)}`), "
            "so only the `--no-demo-data` case is reported."
        )
    text = report(results, demo_note, functions, baseline, args.runs)
    print(text)
    if args.write:
        update_section("startup", text)
        print("updated docs/benchmarks.md (section startup)", file=sys.stderr)


if __name__ == "__main__":
    main()
