"""Read template.yaml and translate its SAM resources to plain CloudFormation, offline.

The same aws-sam-translator that `sam deploy` uses does the work, so the local cloud provisions
exactly the roles, permissions, API definition and event source mappings AWS would get. Local
code paths (CodeUri, ContentUri, DefinitionUri) become ``s3://<LOCAL_CODE_BUCKET>/<path>`` for the
translator, and :func:`local_path` maps them back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import yaml

from localcloud.specs import FAKE_CREDENTIALS, REGION

LOCAL_CODE_BUCKET = "trade2026-local-code"
_SHORT_FORMS = (
    "Ref", "Condition", "Base64", "Cidr", "FindInMap", "GetAZs", "GetAtt", "ImportValue",
    "Join", "Select", "Split", "Sub", "And", "Equals", "If", "Not", "Or", "Transform",
)  # fmt: skip
_LOCAL_PATH_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}


class TemplateError(Exception):
    """The template cannot be read or translated; the message says where."""


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that understands CloudFormation short forms (!Ref, !Sub, ...)."""


def _construct_short_form(name: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        key = name if name in ("Ref", "Condition") else f"Fn::{name}"
        return {key: value}

    return construct


for _name in _SHORT_FORMS:
    _CfnLoader.add_constructor(f"!{_name}", _construct_short_form(_name))


def load_template(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path} has no Resources section")
    return data


def _point_local_paths_at_code_bucket(template: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(template)
    for resource in result["Resources"].values():
        prop = _LOCAL_PATH_PROPERTIES.get(resource.get("Type", ""))
        props = resource.get("Properties") or {}
        value = props.get(prop) if prop else None
        if isinstance(value, str) and not value.startswith("s3://"):
            props[prop] = f"s3://{LOCAL_CODE_BUCKET}/{value.strip('/')}"
    return result


def translate(template: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """SAM -> CloudFormation with the translator `sam deploy` uses (no network: policies are inline)."""
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    session = boto3.Session(**FAKE_CREDENTIALS, region_name=REGION)
    translator = Translator(managed_policy_map=None, sam_parser=Parser(), boto_session=session)
    try:
        return translator.translate(
            sam_template=_point_local_paths_at_code_bucket(template),
            parameter_values=dict(parameters or {}),
            get_managed_policy_map=dict,
        )
    except InvalidDocumentException as exc:
        reasons = "; ".join(str(cause) for cause in exc.causes)
        raise TemplateError(f"SAM translation failed: {reasons}") from exc


def local_path(root: Path, bucket: object, key: object) -> Path | None:
    """The project directory a translated Code/Content/DefinitionS3Location refers to, if local."""
    if bucket != LOCAL_CODE_BUCKET or not isinstance(key, str):
        return None
    return root / key


class _Placeholders(dict[str, object]):
    """Ref/GetAtt of any resource resolve to a readable placeholder ("<LogicalId>", "<LogicalId.Arn>")."""

    def __init__(self, attribute: bool) -> None:
        super().__init__()
        self._attribute = attribute

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> object:
        if self._attribute:
            return _AttributePlaceholders(key)
        return f"<{key}>"


class _AttributePlaceholders(dict[str, str]):
    def __init__(self, logical_id: str) -> None:
        super().__init__()
        self._logical_id = logical_id

    def __missing__(self, attribute: str) -> str:
        return f"<{self._logical_id}.{attribute}>"


def function_environments(
    template: dict[str, Any], parameters: dict[str, str] | None = None
) -> dict[str, dict]:
    """CodeUri -> the environment a function gets (Globals merged), resources as placeholders.

    Lets tools import a handler outside the cloud (OpenAPI generation, import checks) with the same
    variable names the template gives it.
    """
    from localcloud.intrinsics import Resolver

    cfn = translate(template, parameters)
    params = {name: str(spec.get("Default", "")) for name, spec in (cfn.get("Parameters") or {}).items()}
    params |= parameters or {}
    refs: Any = _Placeholders(False)
    attrs: Any = _Placeholders(True)
    resolver = Resolver("local", params, refs, attrs, cfn.get("Mappings"), cfn.get("Conditions"))
    environments: dict[str, dict] = {}
    for resource in cfn["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        variables = resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
        environments[props["Code"]["S3Key"]] = {k: str(v) for k, v in variables.items()}
    return environments
