"""template.yaml through the transforms CloudFormation runs on it: AWS::LanguageExtensions, then SAM's."""

from __future__ import annotations

from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from tests.conftest import REPO_ROOT

TEMPLATE = REPO_ROOT / "template.yaml"

# The conditions whose !If SAM must find resolved (it accepts only a string or a Ref in
# AutoPublishAlias); AWS::LanguageExtensions resolves them from the stack's parameters first.
RESOLVED_BEFORE_SAM = {"InteractionsSnapStartEnabled": ("InteractionsSnapStart", "true")}


class NoManagedPolicies:
    """The transform asks for AWS managed policy ARNs by name; the template names none."""

    def load(self) -> dict[str, str]:
        return {}


def parsed_template() -> dict[str, Any]:
    template: dict[str, Any] = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    return template


def translate(
    template: dict[str, Any], parameters: dict[str, str] | None = None, *, code: str = "s3://artifacts/orchestrator.zip"
) -> dict[str, Any]:
    """As CloudFormation deploys it with these parameter values (the others at their defaults)."""
    values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    values.update(parameters or {})
    conditions = {
        name: values[parameter] == value
        for name, (parameter, value) in RESOLVED_BEFORE_SAM.items()
        if parameter in values
    }
    resolved = _resolve_if(template, conditions)
    for name in conditions:  # nothing refers to them once resolved
        del resolved["Conditions"][name]
    # `sam package` replaces the local CodeUri with the uploaded artifact; do the same here.
    resolved["Globals"]["Function"]["CodeUri"] = code
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        result: dict[str, Any] = transform(resolved, parameters or {}, NoManagedPolicies())
    return result


_NO_VALUE = object()


def _resolve_if(node: Any, conditions: dict[str, bool]) -> Any:
    """`Fn::If` on the given conditions replaced by the branch taken (`AWS::NoValue`: by nothing)."""
    if isinstance(node, dict):
        if list(node) == ["Fn::If"] and node["Fn::If"][0] in conditions:
            name, when_true, when_false = node["Fn::If"]
            taken = when_true if conditions[name] else when_false
            return _NO_VALUE if taken == {"Ref": "AWS::NoValue"} else _resolve_if(taken, conditions)
        resolved = {key: _resolve_if(value, conditions) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}
    if isinstance(node, list):
        return [value for value in (_resolve_if(item, conditions) for item in node) if value is not _NO_VALUE]
    return node
