"""CloudFormation's condition functions and `Fn::If`, evaluated as CloudFormation would, for the tests.

Strict on purpose: only the intrinsics template.yaml's conditions use are known (Fn::Equals, Fn::Not,
Fn::And, Fn::Or, Condition, Ref to a parameter, Fn::Select, Fn::Split, plain strings and numbers);
anything else raises `NotEvaluated` rather than passing silently. Parameter values are strings, as
CloudFormation passes them: the given ones, else the parameter's Default.
"""

from __future__ import annotations

import re
from typing import Any, Final, TypeVar

PSEUDO_PARAMETERS: Final = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)


T = TypeVar("T")


class NotEvaluated(Exception):
    """An intrinsic this evaluator does not know, or one CloudFormation itself would refuse."""


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Final = _NoValue()
"""What `resolve` gives for a value that resolved to AWS::NoValue (a property or item left out)."""


def parameter_values(template: dict[str, Any], **given: Any) -> dict[str, str]:
    """Each parameter's value: `given` (names must be the template's), else its Default; as strings."""
    declared: dict[str, Any] = template["Parameters"]
    unknown = set(given) - set(declared)
    if unknown:
        raise NotEvaluated(f"not parameters of the template: {sorted(unknown)}")
    values = {name: _scalar(spec["Default"]) for name, spec in declared.items() if "Default" in spec}
    values.update({name: _scalar(value) for name, value in given.items()})
    return values


def condition(template: dict[str, Any], name: str, values: dict[str, str]) -> bool:
    """The template's condition `name` with these parameter values."""
    conditions: dict[str, Any] = template.get("Conditions", {})
    if name not in conditions:
        raise NotEvaluated(f"no condition {name!r}")
    result = _evaluate(conditions[name], template, values)
    if not isinstance(result, bool):
        raise NotEvaluated(f"condition {name!r} is {result!r}, not a condition function")
    return result


def _scalar(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise NotEvaluated(f"{value!r} is not a string or a number")
    return str(value)


def _intrinsic(node: Any) -> tuple[str, Any] | None:
    if isinstance(node, dict) and len(node) == 1:
        [(key, argument)] = node.items()
        if key == "Ref" or key == "Condition" or key.startswith("Fn::"):
            return key, argument
    return None


def _arguments(argument: Any, function: str, low: int, high: int) -> list[Any]:
    if not isinstance(argument, list) or not low <= len(argument) <= high:
        raise NotEvaluated(f"{function} takes a list of {low} to {high} items, not {argument!r}")
    return argument


def _evaluated_as(kind: type[T], what: str, node: Any, template: dict[str, Any], values: dict[str, str]) -> T:
    """`node` evaluated, which must give a `kind` (`what` names it in the error)."""
    result = _evaluate(node, template, values)
    if not isinstance(result, kind):
        raise NotEvaluated(f"{node!r} is not {what}")
    return result


def _boolean(node: Any, template: dict[str, Any], values: dict[str, str]) -> bool:
    return _evaluated_as(bool, "a condition", node, template, values)


def _evaluate(node: Any, template: dict[str, Any], values: dict[str, str]) -> Any:
    """A condition expression: a bool for a condition function, else a string or a list of strings."""
    if isinstance(node, str | int | float) and not isinstance(node, bool):
        return str(node)
    if isinstance(node, list):
        return [_string(item, template, values) for item in node]
    found = _intrinsic(node)
    if found is None:
        raise NotEvaluated(f"{node!r} is not a condition expression")
    function, argument = found
    if function == "Ref":
        if not isinstance(argument, str) or argument not in template["Parameters"]:
            raise NotEvaluated(f"Ref {argument!r} is not a parameter")
        if argument not in values:
            raise NotEvaluated(f"parameter {argument!r} has no value and no Default")
        return values[argument]
    if function == "Condition":
        if not isinstance(argument, str):
            raise NotEvaluated(f"Condition {argument!r}")
        return condition(template, argument, values)
    if function == "Fn::Equals":
        left, right = _arguments(argument, function, 2, 2)
        return _string(left, template, values) == _string(right, template, values)
    if function == "Fn::Not":
        [operand] = _arguments(argument, function, 1, 1)
        return not _boolean(operand, template, values)
    if function in ("Fn::And", "Fn::Or"):
        operands = [_boolean(item, template, values) for item in _arguments(argument, function, 2, 10)]
        return all(operands) if function == "Fn::And" else any(operands)
    if function == "Fn::Select":
        index, items = _arguments(argument, function, 2, 2)
        position = _string(index, template, values)
        chosen = _evaluate(items, template, values)
        if not position.isdigit() or not isinstance(chosen, list):
            raise NotEvaluated(f"Fn::Select {argument!r}")
        if int(position) >= len(chosen):
            raise NotEvaluated(f"Fn::Select index {position} is out of range of {chosen!r}")
        return chosen[int(position)]
    if function == "Fn::Split":
        delimiter, source = _arguments(argument, function, 2, 2)
        if not isinstance(delimiter, str) or not delimiter:
            raise NotEvaluated(f"Fn::Split delimiter {delimiter!r}")
        return _string(source, template, values).split(delimiter)
    raise NotEvaluated(f"{function} is not evaluated here")


def _string(node: Any, template: dict[str, Any], values: dict[str, str]) -> str:
    return _evaluated_as(str, "a string", node, template, values)


def resolve(node: Any, template: dict[str, Any], values: dict[str, str]) -> Any:
    """`node` with every Fn::If replaced by the branch its condition takes and AWS::NoValue left out
    (of a mapping or a list; `NO_VALUE` if it is the whole node). Other intrinsics are kept as written."""
    if isinstance(node, list):
        items = [resolve(item, template, values) for item in node]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    found = _intrinsic(node)
    if found == ("Ref", "AWS::NoValue"):
        return NO_VALUE
    if found is not None and found[0] == "Fn::If":
        name, when_true, when_false = _arguments(found[1], "Fn::If", 3, 3)
        return resolve(when_true if condition(template, name, values) else when_false, template, values)
    entries = {key: resolve(value, template, values) for key, value in node.items()}
    return {key: value for key, value in entries.items() if value is not NO_VALUE}


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def text(node: Any, values: dict[str, str], pseudo: dict[str, str] | None = None) -> str:
    """A resolved string value: Ref, Fn::Sub (its string form) and Fn::Join of parameters and pseudo
    parameters. A pseudo parameter not in `pseudo` stays a placeholder, `${AWS::Region}`; a resource
    or attribute raises (its value is known only at deploy time)."""
    pseudo = pseudo or {}

    def variable(name: str) -> str:
        if name in values:
            return values[name]
        if name in pseudo:
            return pseudo[name]
        if name in PSEUDO_PARAMETERS:
            return "${" + name + "}"
        raise NotEvaluated(f"{name!r} is neither a parameter with a value nor a pseudo parameter")

    if isinstance(node, str | int | float) and not isinstance(node, bool):
        return str(node)
    found = _intrinsic(node)
    if found is None:
        raise NotEvaluated(f"{node!r} is not a string value")
    function, argument = found
    if function == "Ref" and isinstance(argument, str):
        return variable(argument)
    if function == "Fn::Sub" and isinstance(argument, str):
        return _SUB_VARIABLE.sub(lambda m: "${" + m[1][1:] + "}" if m[1].startswith("!") else variable(m[1]), argument)
    if function == "Fn::Join":
        delimiter, parts = _arguments(argument, function, 2, 2)
        if not isinstance(delimiter, str) or not isinstance(parts, list):
            raise NotEvaluated(f"Fn::Join {argument!r}")
        return delimiter.join(text(part, values, pseudo) for part in parts)
    raise NotEvaluated(f"{function} {argument!r} is not resolved to a string here")


def concrete(node: Any, values: dict[str, str], pseudo: dict[str, str] | None = None) -> Any:
    """A resolved value (see `resolve`) with each string-valued intrinsic in it replaced by its `text`."""
    if isinstance(node, list):
        return [concrete(item, values, pseudo) for item in node]
    if isinstance(node, dict):
        if _intrinsic(node) is not None:
            return text(node, values, pseudo)
        return {key: concrete(value, values, pseudo) for key, value in node.items()}
    return node
