"""Per-stage parameters: infra/params/<stage>.json and samconfig.toml say the same, and template.yaml has them."""

from __future__ import annotations

import json
import shlex
import tomllib
from pathlib import Path

import pytest

from localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_stage_parameters_agree_and_exist(stage: str):
    # Given the parameter file and the samconfig environment of a stage
    from_file = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in json.loads((ROOT / f"infra/params/{stage}.json").read_text())
    }
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())[stage]["deploy"]["parameters"]
    from_samconfig = dict(item.split("=", 1) for item in shlex.split(config["parameter_overrides"]))
    # Then they are equal, name the stage itself, and every key is a parameter of the template
    assert from_file == from_samconfig
    assert from_file["Stage"] == stage and config["stack_name"] == f"trade2026-{stage}"
    template_parameters = load_template(ROOT / "template.yaml")["Parameters"]
    assert set(from_file) <= set(template_parameters)
    for key, value in from_file.items():
        spec = template_parameters[key]
        allowed = spec.get("AllowedValues")  # compared as text: CloudFormation passes every value as a string
        assert allowed is None or value in [str(a) for a in allowed], (
            f"{stage}: {key}={value} not in {allowed}"
        )
        if spec.get("Type") == "Number":
            number = float(value)
            assert spec.get("MinValue") is None or number >= float(spec["MinValue"]), (
                f"{stage}: {key}={value}"
            )
            assert spec.get("MaxValue") is None or number <= float(spec["MaxValue"]), (
                f"{stage}: {key}={value}"
            )
