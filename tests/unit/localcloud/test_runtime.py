"""The local Lambda runtime: real worker processes running the handlers in tests/fixtures/lambdas, and moto's
Lambda and Step Functions APIs routed to them (moto's server runs in-process on a free loopback port)."""

import io
import json
import os
import threading
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from localcloud.runtime import InvokeResult, LambdaRuntime, install_moto_lambda_patch, local_client
from localcloud.specs import ACCOUNT_ID, REGION, FunctionSpec
from tests.unit.localcloud.conftest import FAKE_AWS_ENV

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lambdas"
BASIC = FIXTURES / "basic"


@pytest.fixture(scope="module")
def runtime(endpoint, tmp_path_factory):
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_ENDPOINT_URL": endpoint,
        "PLATFORM_STAGE": "test",
        **FAKE_AWS_ENV,
    }
    local = LambdaRuntime(base_env, tmp_path_factory.mktemp("lambda-logs"), async_retry_delays_s=(0.1, 0.2))
    install_moto_lambda_patch(local)
    yield local
    local.close()


def spec(
    name: str, handler: str, code_dir: Path = BASIC, timeout_s: int = 3, **environment: str
) -> FunctionSpec:
    return FunctionSpec(
        logical_id=name.title().replace("-", ""),
        name=name,
        arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
        handler=handler,
        code_dir=code_dir,
        environment=environment,
        timeout_s=timeout_s,
        memory_mb=256,
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def registered(runtime: LambdaRuntime, name_prefix: str, handler: str, **kwargs) -> str:
    name = unique(name_prefix)
    runtime.register(spec(name, handler, **kwargs))
    return name


def invoke(runtime: LambdaRuntime, name: str, event: object) -> tuple[InvokeResult, dict]:
    result = runtime.invoke(name, json.dumps(event).encode())
    return result, json.loads(result.payload)


# -- the runtime on its own ------------------------------------------------------------------------------


def test_success_returns_the_handler_payload_and_a_lambda_context(runtime):
    # Given a function whose handler echoes its event and context
    name = registered(runtime, "echo", "handlers.echo")

    # When it is invoked by ARN
    result, body = invoke(runtime, f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}", {"order": 7})

    # Then the payload is the handler's return value and the context is Lambda's
    assert result.function_error is None
    assert body["event"] == {"order": 7}
    assert body["function_name"] == name
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"].endswith(f":function:{name}")
    assert body["memory_limit_in_mb"] == 256
    assert str(uuid.UUID(body["aws_request_id"])) == body["aws_request_id"]
    assert body["log_group_name"] == f"/aws/lambda/{name}"
    assert 0 < body["remaining_ms"] <= 3000
    assert Path(body["cwd"]) == BASIC
    assert result.duration_ms > 0


def test_warm_worker_serves_later_invocations_without_importing_again(runtime):
    # Given a function invoked once (cold start)
    name = registered(runtime, "warm", "handlers.echo")
    _, first = invoke(runtime, name, {})

    # When it is invoked again
    _, second = invoke(runtime, name, {})

    # Then the same process answers and the module was imported only once
    assert second["pid"] == first["pid"]
    assert second["imported_at"] == first["imported_at"]
    assert second["aws_request_id"] != first["aws_request_id"]


def test_handler_exception_becomes_an_unhandled_error_named_after_its_class(runtime):
    # Given a handler that raises ValidationFailedError
    name = registered(runtime, "fail", "handlers.fail")

    # When it is invoked
    result, error = invoke(runtime, name, {"quantity": -5})

    # Then the error object is AWS's: class name, message, stack trace of the handler's frames
    assert result.function_error == "Unhandled"
    assert error["errorType"] == "ValidationFailedError"
    assert error["errorMessage"] == "quantity must be positive, got -5"
    assert any("handlers.py" in frame and "in fail" in frame for frame in error["stackTrace"])
    assert not any("lambda_worker" in frame for frame in error["stackTrace"])


def test_handler_running_past_its_timeout_is_killed(runtime):
    # Given a function with a 1 s timeout whose handler sleeps 5 s
    name = registered(runtime, "slow", "handlers.sleep", timeout_s=1)

    # When it is invoked
    started = time.monotonic()
    result, error = invoke(runtime, name, {"seconds": 5})
    elapsed = time.monotonic() - started

    # Then it fails with Lambda's timeout error after about 1 s, and a new worker serves the next call
    assert result.function_error == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"] == "Task timed out after 1.00 seconds"
    assert 0.9 < elapsed < 3
    after, body = invoke(runtime, name, {"seconds": 0})
    assert after.function_error is None
    assert body["slept"] == 0


def test_environment_is_base_then_function_then_lambda_reserved_variables(runtime):
    # Given a function whose Variables override a base variable and try to override a reserved one
    name = registered(
        runtime,
        "env",
        "handlers.environment",
        PLATFORM_STAGE="unit",
        TABLE_NAME="orders",
        AWS_REGION="eu-west-1",
    )
    names = [
        "PLATFORM_STAGE", "TABLE_NAME", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_TIMEOUT", "_HANDLER", "LAMBDA_TASK_ROOT",
    ]  # fmt: skip

    # When the handler reports its environment
    _, seen = invoke(runtime, name, {"names": names})

    # Then function variables beat base ones, and Lambda's reserved variables beat both
    assert seen["PLATFORM_STAGE"] == "unit"
    assert seen["TABLE_NAME"] == "orders"
    assert seen["AWS_ENDPOINT_URL"] == runtime._base_env["AWS_ENDPOINT_URL"]
    assert seen["AWS_REGION"] == REGION
    assert seen["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert seen["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert seen["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "3"
    assert seen["_HANDLER"] == "handlers.environment"
    assert seen["LAMBDA_TASK_ROOT"] == str(BASIC)


def test_two_functions_with_a_module_named_app_do_not_collide(runtime):
    # Given two functions whose handlers are both app.handler, in different code dirs
    alpha = registered(runtime, "alpha", "app.handler", code_dir=FIXTURES / "alpha")
    beta = registered(runtime, "beta", "app.handler", code_dir=FIXTURES / "beta")

    # When both are invoked, alternately
    answers = [invoke(runtime, name, {})[1]["module"] for name in (alpha, beta, alpha, beta)]

    # Then each runs its own module
    assert answers == ["alpha", "beta", "alpha", "beta"]


def test_import_error_and_a_dying_worker_are_lambda_runtime_errors(runtime):
    # Given a function whose module cannot be imported and one whose handler exits the process
    broken = registered(runtime, "broken", "app.handler", code_dir=FIXTURES / "broken")
    crash = registered(runtime, "crash", "handlers.crash")

    # When they are invoked
    broken_result, import_error = invoke(runtime, broken, {})
    crash_result, exit_error = invoke(runtime, crash, {})

    # Then they fail with the runtime's error types
    assert broken_result.function_error == crash_result.function_error == "Unhandled"
    assert import_error["errorType"] == "Runtime.ImportModuleError"
    assert "trade2026_module_that_does_not_exist" in import_error["errorMessage"]
    assert exit_error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in exit_error["errorMessage"]


def test_unserializable_result_is_a_marshal_error(runtime):
    # Given a handler returning a set
    name = registered(runtime, "unserializable", "handlers.unserializable")

    # When it is invoked
    result, error = invoke(runtime, name, {})

    # Then the runtime reports it as AWS does
    assert result.function_error == "Unhandled"
    assert error["errorType"] == "Runtime.MarshalError"


def test_handler_output_goes_to_the_function_log_not_the_protocol(runtime):
    # Given a handler printing to stdout and stderr
    name = registered(runtime, "chatty", "handlers.chatty")
    marker = uuid.uuid4().hex

    # When it is invoked
    result, body = invoke(runtime, name, {"marker": marker})

    # Then the payload is intact and both lines are in <log_dir>/<name>.log
    assert result.function_error is None
    assert body == {"said": marker}
    log = runtime.log_path(name).read_text()
    assert f"stdout line {marker}" in log
    assert f"stderr line {marker}" in log


def test_concurrent_invocations_of_one_function_run_in_parallel_workers(runtime):
    # Given a function whose handler sleeps 0.6 s
    name = registered(runtime, "parallel", "handlers.sleep")
    results: list[dict] = []

    # When three threads invoke it at once
    def call() -> None:
        results.append(invoke(runtime, name, {"seconds": 0.6})[1])

    threads = [threading.Thread(target=call) for _ in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    # Then they ran side by side, in three worker processes
    assert len({result["pid"] for result in results}) == 3
    assert elapsed < 1.5


def test_unknown_function_is_a_clear_error(runtime):
    # Given a runtime without a function named "nope"
    # When it is invoked / Then the error names it
    with pytest.raises(KeyError, match="Function not found: nope"):
        runtime.invoke("nope", b"{}")


def test_async_invocation_is_retried_twice_on_error(runtime, tmp_path):
    # Given a function failing on its first two calls
    name = registered(runtime, "async-flaky", "handlers.flaky")
    counter = tmp_path / "calls"

    # When it is invoked asynchronously
    runtime.invoke_async(
        name, json.dumps({"counter_file": str(counter), "failures": 2, "order_id": "o1"}).encode()
    )

    # Then the runtime retries it twice, and the third call succeeds
    assert runtime.wait_async_idle(10)
    assert counter.read_text() == "3"


# -- through moto's Lambda API --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def role_arn(endpoint):
    iam = local_client("iam", endpoint)
    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
    }
    return iam.create_role(RoleName=unique("lambda-role"), AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handlers.py", "# the local runtime runs the code dir, not this zip\n")
    return buffer.getvalue()


def deployed(runtime: LambdaRuntime, endpoint: str, role_arn: str, prefix: str, handler: str) -> str:
    """Register a function with the runtime and create it in moto (as the provisioner does)."""
    name = registered(runtime, prefix, handler)
    local_client("lambda", endpoint).create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler=handler,
        Code={"ZipFile": _dummy_zip()},
    )
    return name


def test_boto3_lambda_invoke_through_moto_runs_the_handler(runtime, endpoint, role_arn):
    # Given functions created in moto and registered with the runtime
    echo = deployed(runtime, endpoint, role_arn, "api-echo", "handlers.echo")
    fail = deployed(runtime, endpoint, role_arn, "api-fail", "handlers.fail")
    client = local_client("lambda", endpoint)

    # When they are invoked through the Lambda API
    ok = client.invoke(FunctionName=echo, Payload=json.dumps({"symbol": "SPY"}))
    failed = client.invoke(FunctionName=fail, Payload=json.dumps({"quantity": 0}))

    # Then the API returns the handler's payload, and FunctionError with the error object on failure
    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read())["event"] == {"symbol": "SPY"}
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "ValidationFailedError"


def test_motos_private_invoke_lambda_runs_the_handler(runtime, endpoint, role_arn):
    # Given a function deployed in moto (this pins the private moto 5.2.5 method the patch replaces)
    from moto.awslambda.models import lambda_backends

    name = deployed(runtime, endpoint, role_arn, "private", "handlers.fail")
    moto_function = lambda_backends[ACCOUNT_ID][REGION].get_function(name)

    # When moto's own notification paths call _invoke_lambda with an already-parsed event
    body, errored, logs = moto_function._invoke_lambda(event={"quantity": -1})

    # Then the handler ran locally (no Docker) and moto sees the error
    assert errored is True
    assert json.loads(body)["errorMessage"] == "quantity must be positive, got -1"
    assert logs == ""


def test_event_invocation_type_through_moto_is_asynchronous(runtime, endpoint, role_arn, tmp_path):
    # Given a function that records its events
    name = registered(runtime, "api-record", "handlers.record", RECORD_FILE=str(tmp_path / "events.jsonl"))
    local_client("lambda", endpoint).create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler="handlers.record",
        Code={"ZipFile": _dummy_zip()},
    )

    # When it is invoked with InvocationType=Event
    response = local_client("lambda", endpoint).invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": 1})
    )

    # Then the API answers 202 at once and the handler runs in the background
    assert response["StatusCode"] == 202
    assert runtime.wait_async_idle(10)
    assert [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()] == [{"n": 1}]


def test_a_handler_can_invoke_another_function_synchronously(runtime, endpoint, role_arn):
    # Given a function that calls another one through the Lambda API of the local cloud
    inner = deployed(runtime, endpoint, role_arn, "inner", "handlers.echo")
    outer = deployed(runtime, endpoint, role_arn, "outer", "handlers.call_other")

    # When the outer one is invoked
    result, body = invoke(runtime, outer, {"target": inner, "payload": {"depth": 2}})

    # Then the inner call completes (no lock held across the nested request)
    assert result.function_error is None
    assert body["inner"]["event"] == {"depth": 2}
    assert body["inner_error"] is None


# -- through moto's Step Functions interpreter ------------------------------------------------------------

RETRY_AND_CATCH = {
    "Retry": [{"ErrorEquals": ["FlakyError"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 1.0}],
    "Catch": [{"ErrorEquals": ["FatalError"], "ResultPath": "$.error", "Next": "Fallback"}],
}
FALLBACK = {"Type": "Pass", "Result": "priced by fallback", "ResultPath": "$.outcome", "End": True}


def _run_state_machine(
    endpoint: str, role_arn: str, definition: dict, execution_input: dict
) -> tuple[dict, list]:
    sfn = local_client("stepfunctions", endpoint)
    machine = sfn.create_state_machine(
        name=unique("pricing"), definition=json.dumps(definition), roleArn=role_arn
    )
    execution_arn = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], input=json.dumps(execution_input)
    )["executionArn"]
    deadline = time.monotonic() + 30
    while (execution := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "state machine still running after 30 s"
        time.sleep(0.1)
    return execution, sfn.get_execution_history(executionArn=execution_arn)["events"]


def _task_errors(history: list) -> list[str]:
    return [
        details["error"]
        for event in history
        for key, details in event.items()
        if key.endswith("FailedEventDetails") and "error" in details
    ]


def test_step_functions_retries_a_lambda_task_on_the_handlers_error_name(
    runtime, endpoint, role_arn, tmp_path
):
    # Given a task (lambda:invoke integration) whose handler raises FlakyError twice, retried up to 3 times
    flaky = deployed(runtime, endpoint, role_arn, "sfn-flaky", "handlers.flaky")
    definition = {
        "StartAt": "Price",
        "States": {
            "Price": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": flaky, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                **RETRY_AND_CATCH,
                "End": True,
            },
            "Fallback": FALLBACK,
        },
    }
    order = {"counter_file": str(tmp_path / "calls"), "failures": 2, "order_id": "o-42"}

    # When the state machine runs
    execution, history = _run_state_machine(endpoint, role_arn, definition, order)

    # Then the two FlakyErrors were retried and the third call's result is the output
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"calls": 3, "order_id": "o-42"}
    assert _task_errors(history) == ["FlakyError", "FlakyError"]


def test_step_functions_catches_a_lambda_tasks_fatal_error_into_a_fallback(runtime, endpoint, role_arn):
    # Given a task (direct Lambda ARN) whose handler always raises FatalError, caught into a fallback state
    fatal = deployed(runtime, endpoint, role_arn, "sfn-fatal", "handlers.fatal")
    definition = {
        "StartAt": "Price",
        "States": {
            "Price": {
                "Type": "Task",
                "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{fatal}",
                **RETRY_AND_CATCH,
                "End": True,
            },
            "Fallback": FALLBACK,
        },
    }

    # When the state machine runs
    execution, history = _run_state_machine(endpoint, role_arn, definition, {"order_id": "o-13"})

    # Then the error was not retried, the Catch matched it, and the fallback state produced the output
    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["outcome"] == "priced by fallback"
    assert output["error"]["Error"] == "FatalError"
    assert json.loads(output["error"]["Cause"])["errorMessage"] == "order o-13 cannot be priced"
    assert _task_errors(history) == ["FatalError"]
    assert any(event["type"] == "PassStateEntered" for event in history)
