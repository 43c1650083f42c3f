"""CloudFormation intrinsic functions, resolved against what the provisioner has created so far."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from localcloud.specs import ACCOUNT_ID, REGION

NO_VALUE = object()  # AWS::NoValue: the property disappears
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class IntrinsicError(Exception):
    pass


class Resolver:
    """Resolves Ref/GetAtt/Sub/Join/If/... given parameters, conditions and created resources."""

    def __init__(
        self,
        stack_name: str,
        parameters: Mapping[str, str],
        refs: Mapping[str, str],
        attrs: Mapping[str, Mapping[str, Any]],
        mappings: Mapping[str, Any] | None = None,
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self.parameters = dict(parameters)
        self.refs = refs
        self.attrs = attrs
        self.mappings = mappings or {}
        self._condition_defs = conditions or {}
        self._condition_cache: dict[str, bool] = {}
        self.pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda v: str(self.resolve(v[0])).join(str(x) for x in self._list(v[1])),
            "Fn::Select": lambda v: self._list(v[1])[int(self.resolve(v[0]))],
            "Fn::Split": lambda v: str(self.resolve(v[1])).split(str(self.resolve(v[0]))),
            "Fn::If": self._if,
            "Fn::Equals": lambda v: self.resolve(v[0]) == self.resolve(v[1]),
            "Fn::Not": lambda v: not self._truth(v[0]),
            "Fn::And": lambda v: all(self._truth(x) for x in v),
            "Fn::Or": lambda v: any(self._truth(x) for x in v),
            "Condition": self.condition,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda v: base64.b64encode(str(self.resolve(v)).encode()).decode(),
            "Fn::GetAZs": lambda _v: [f"{REGION}{zone}" for zone in "abc"],
            "Fn::ToJsonString": lambda v: json.dumps(self.resolve(v)),
        }

    # ------------------------------------------------------------------ public
    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key in self._functions:
                    return self._functions[key](arg)
            out = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            if name not in self._condition_defs:
                raise IntrinsicError(f"Unknown condition {name!r}")
            self._condition_cache[name] = self._truth(self._condition_defs[name])
        return self._condition_cache[name]

    # ------------------------------------------------------------------ functions
    def _truth(self, value: Any) -> bool:
        return bool(self.resolve(value))

    def _list(self, value: Any) -> list[Any]:
        resolved = self.resolve(value)
        if not isinstance(resolved, list):
            raise IntrinsicError(f"Expected a list, got {resolved!r}")
        return resolved

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise IntrinsicError(f"Ref to unknown or not yet created resource {name!r}")

    def _get_att(self, value: Any) -> Any:
        logical_id, attribute = value if isinstance(value, list) else str(value).split(".", 1)
        attribute = self.resolve(attribute)
        try:
            return self.attrs[logical_id][attribute]
        except KeyError:
            raise IntrinsicError(f"GetAtt {logical_id}.{attribute} is not available") from None

    def _sub(self, value: Any) -> str:
        template, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
        local = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if "." in name and name.split(".", 1)[0] not in self.parameters:
                return str(self._get_att(name))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, template).replace("${!", "${")

    def _if(self, value: list[Any]) -> Any:
        name, when_true, when_false = value
        return self.resolve(when_true if self.condition(name) else when_false)

    def _find_in_map(self, value: list[Any]) -> Any:
        map_name, top, second = (self.resolve(v) for v in value)
        return self.mappings[map_name][top][second]


def references(value: Any) -> set[str]:
    """Logical ids a property value depends on (Ref, GetAtt, ${X} and ${X.Attr} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0])
            elif key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                found.update(m.split(".", 1)[0] for m in _SUB_VARIABLE.findall(text) if m not in variables)
                found |= references(variables)
            else:
                found |= references(arg)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found
