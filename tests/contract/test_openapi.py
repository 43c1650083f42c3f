import json
from pathlib import Path

from localcloud.openapi import build_openapi

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_matches_the_handlers():
    # Given the handlers and template, When the spec is generated, Then it equals docs/openapi.json (`make openapi`)
    assert json.loads((ROOT / "docs" / "openapi.json").read_text()) == build_openapi(ROOT)


def test_every_protected_operation_declares_the_cognito_scheme():
    spec = build_openapi(ROOT)
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            assert "security" in operation, f"{method.upper()} {path}"
