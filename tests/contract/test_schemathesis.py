"""schemathesis over every operation of docs/openapi.json against a local cloud: 0 server errors, every 4xx
a JSON body with a reason.

Its own local cloud (started like `trade2026 up`, no demo data) so that whatever the fuzzer creates never
reaches the integration tests' cloud. Positive (schema-valid) and negative (schema-violating) cases for each
operation, derandomized (the same cases every run), as the admin (who passes every group check) so that the
code behind the checks is reached. `TRADE2026_FUZZ_EXAMPLES` sets the cases per operation and mode;
`TRADE2026_FUZZ_REPORT=docs/schemathesis.md` writes the report (`make fuzz`).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.localcloud_process import running_local_cloud

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("TRADE2026_FUZZ_EXAMPLES", "6"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@dataclass
class OperationResult:
    label: str
    statuses: Counter[int] = field(default_factory=Counter)
    cases: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Any:
    state_dir = tmp_path_factory.mktemp("fuzzcloud")
    with running_local_cloud(state_dir) as running:
        logins = {e["group"]: e for e in json.loads((state_dir / "demo-logins.json").read_text())}
        config = json.loads((state_dir / "state.json").read_text())["public_config"]
        token = _id_token(running.aws_endpoint, config["userPoolClientId"], logins["admin"])
        yield running.api_url, token


def _id_token(endpoint: str, client_id: str, login: dict[str, str]) -> str:
    import boto3

    result = boto3.client("cognito-idp", endpoint_url=endpoint, region_name="us-east-1").initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": login["username"], "PASSWORD": login["password"]},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def _problem(case: Any, response: requests.Response) -> str | None:
    """None when the answer is acceptable: not a 5xx; a 4xx carries a JSON object with a message."""
    status = response.status_code
    if status >= 500:
        return f"{status} server error"
    if status < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"{status} without a JSON body: {response.text[:200]!r}"
    if not isinstance(body, dict) or not str(body.get("message", "")).strip():
        return f"{status} without a reason (message): {response.text[:200]!r}"
    return None


def _describe(case: Any, response: requests.Response) -> str:
    request = response.request
    body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
    return f"{request.method} {request.url} body={str(body)[:300]!r} -> {response.status_code} {response.text[:300]!r}"


def _fuzz_operation(operation: Any, api_url: str, token: str, session: requests.Session) -> OperationResult:
    result = OperationResult(label=f"{operation.method.upper()} {operation.path}")
    started = time.perf_counter()
    for mode in MODES:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            response = case.call(
                base_url=api_url, session=session, headers={"Authorization": token}, timeout=120
            )
            result.cases += 1
            result.statuses[response.status_code] += 1
            problem = _problem(case, response)
            if problem is not None and len(result.problems) < 5:
                result.problems.append(f"{problem}: {_describe(case, response)}")

        try:
            run()
        except Unsatisfiable:  # no way to violate the schema (an operation without parameters or body)
            result.unsatisfiable.append(mode.value)
    result.seconds = time.perf_counter() - started
    return result


def _report(results: list[OperationResult], elapsed_s: float) -> str:
    statuses: Counter[int] = Counter()
    for r in results:
        statuses.update(r.statuses)
    by_class: dict[str, int] = defaultdict(int)
    for status, count in statuses.items():
        by_class[f"{status // 100}xx"] += count
    lines = [
        "# API fuzzing with schemathesis",
        "",
        "Generated by `make fuzz` (tests/contract/test_schemathesis.py, schemathesis "
        f"{schemathesis.__version__}) against a local cloud started like `trade2026 up` (no demo data), "
        f"as the admin user. {EXAMPLES} positive and {EXAMPLES} negative (schema-violating) cases per "
        "operation, derandomized. Pass condition: no 5xx, every 4xx a JSON body with a `message`.",
        "",
        f"Operations in docs/openapi.json: **{len(results)}**, all exercised. Cases: "
        f"**{sum(r.cases for r in results)}** in {elapsed_s:.0f} s. Server errors: "
        f"**{statuses_5xx(statuses)}**. Problems: **{sum(len(r.problems) for r in results)}**.",
        "",
        "Responses by class: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_class.items())),
        "",
        "| operation | cases | statuses | problems |",
        "|---|---:|---|---:|",
    ]
    for r in sorted(results, key=lambda r: r.label.split(" ", 1)[::-1]):
        counts = ", ".join(f"{s} x{n}" for s, n in sorted(r.statuses.items()))
        note = f" (no {'/'.join(r.unsatisfiable)} case exists)" if r.unsatisfiable else ""
        lines.append(f"| `{r.label}` | {r.cases}{note} | {counts} | {len(r.problems)} |")
    problems = [p for r in results for p in r.problems]
    if problems:
        lines += ["", "## Problems", "", *(f"- {p}" for p in problems)]
    return "\n".join(lines) + "\n"


def statuses_5xx(statuses: Counter[int]) -> int:
    return sum(n for s, n in statuses.items() if s >= 500)


@pytest.mark.timeout(1800)  # ~60 operations x 12 cases; slower on a busy machine
def test_every_operation_fuzzed_without_server_errors(fuzz_target: tuple[str, str]) -> None:
    # Given the committed OpenAPI document and a running local cloud with an admin token
    api_url, token = fuzz_target
    schema = schemathesis.openapi.from_path(str(SPEC))
    operations = [item.ok() for item in schema.get_all_operations()]
    spec = json.loads(SPEC.read_text())
    declared = sum(
        1
        for methods in spec["paths"].values()
        for m in methods
        if m in {"get", "post", "put", "patch", "delete"}
    )
    # When every operation is fuzzed with schema-valid and schema-violating requests
    started = time.perf_counter()
    with requests.Session() as session:
        results = [_fuzz_operation(op, api_url, token, session) for op in operations]
    elapsed_s = time.perf_counter() - started
    report = _report(results, elapsed_s)
    if target := os.environ.get("TRADE2026_FUZZ_REPORT"):
        (ROOT / target).write_text(report)
    # Then every declared operation was called, none answered 5xx, every 4xx gave its reason
    assert len(results) == declared
    assert all(r.cases > 0 for r in results), [r.label for r in results if r.cases == 0]
    problems = [p for r in results for p in r.problems]
    assert not problems, "\n".join(problems)
