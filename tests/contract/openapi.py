"""Contract checks against the vendors' own OpenAPI descriptions, on openapi-core.

Fakes and stand-ins only prove that our code agrees with *our idea* of Discord and GitHub.
These helpers check the requests we send (and the answers we give Discord) against what
the vendors publish, so a typo in a field name or an over-long message fails a test
instead of a production call.

* Discord: ``shared/reference/discord-openapi.json`` (OpenAPI 3.1, JSON Schema 2020-12),
  read in place from beside the repository checkout.
* GitHub: ``tests/contract/data/github-openapi-subset.json`` (OpenAPI 3.0.3), the few
  operations we call, cut out of ``@octokit/openapi`` (see ``data/README.md``).

Each description is loaded, corrected by the reviewed errata (``errata.py``), and handed to
openapi-core, which finds the operation (servers' base path included), validates path and
query parameters and bodies (3.0's ``nullable`` and 3.1's JSON Schema alike) and picks the
response by status. What is left here: the errata, the formats the vendors use that
openapi-core does not check, two rules it does not enforce (no undeclared query parameter, no
body where none is declared), and a readable report of its errors.

Discord's unions: where its branches overlap (``{"content": "hi"}`` is both kinds of webhook
message body) the description says ``anyOf`` plus ``x-discord-union: oneOf``, a hint for code
generators; the ``anyOf`` is validated as written, since "exactly one" would reject ordinary
bodies. Every ``oneOf`` is a tagged union, a nullable or disjoint JSON types.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import pytest
from jsonschema.exceptions import ValidationError, best_match
from jsonschema_path import SchemaPath
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.templating.responses.finders import ResponseFinder
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import MissingRequestBody, ParameterValidationError
from openapi_core.validation.request.validators import (
    V30RequestBodyValidator,
    V30RequestParametersValidator,
    V31RequestBodyValidator,
    V31RequestParametersValidator,
)
from openapi_core.validation.response.validators import V30ResponseDataValidator, V31ResponseDataValidator

from .errata import DISCORD_ERRATA, GITHUB_ERRATA, Erratum, apply_errata


def _repo_root() -> Path:
    """The directory holding pyproject.toml (the checkout is ``<somewhere>/main``)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    raise RuntimeError(f"no pyproject.toml above {__file__}")


# Discord's file is shared between projects and is never copied into the repo: it lives
# in shared/ next to the checkout.
DISCORD_SPEC_PATH: Final = _repo_root().parent / "shared" / "reference" / "discord-openapi.json"
GITHUB_SPEC_PATH: Final = Path(__file__).resolve().parent / "data" / "github-openapi-subset.json"

# Error reports stay readable even when a body has hundreds of problems or a huge value.
_MAX_ERRORS: Final = 15
_MAX_MESSAGE: Final = 240


class ContractViolation(AssertionError):
    """A request or response does not match the vendor's OpenAPI description.

    An ``AssertionError`` so pytest shows it like a failed ``assert``.
    """


class UnknownOperation(ContractViolation):
    """No operation in the description matches the method and path (a wrong URL is a violation too)."""


# Formats the vendors use beyond openapi-core's own (int32/int64/float/double) and jsonschema's
# (date-time with rfc3339-validator, which openapi-schema-validator brings; email). `uri` passes
# silently in jsonschema without the optional rfc3987, and `snowflake` is Discord's own.
_URI_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f]*$")
FORMATS: Final[dict[str, Callable[[Any], bool]]] = {
    # RFC 3986 absolute URI: a scheme, then no whitespace/control characters.
    "uri": lambda value: not isinstance(value, str) or bool(_URI_RE.match(value)),
    # Unsigned 64-bit ids sent as decimal strings.
    "snowflake": lambda value: (
        not isinstance(value, str) or (value.isascii() and value.isdigit() and int(value) < 2**64)
    ),
}


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


@functools.cache
def discord_contract() -> OpenApiContract:
    """Discord v10 (base path ``/api/v10``, from the description's ``servers``).

    The description lives in the shared/ folder beside a checkout, never in the repository: a plain
    clone (a contributor's, GitHub's runners) skips the tests that need it, each saying why. A run
    that must check it (``.ci/run``, which has the folder) says ``DISCORD_OPENAPI_REQUIRED=1``, and
    a missing file then fails them.
    """
    if os.environ.get("DISCORD_OPENAPI_REQUIRED") != "1" and not DISCORD_SPEC_PATH.is_file():
        pytest.skip(
            f"Discord contract check skipped: no OpenAPI description at {DISCORD_SPEC_PATH} "
            "(it comes with the shared/ folder beside the checkout; DISCORD_OPENAPI_REQUIRED=1 makes this a failure)"
        )
    return OpenApiContract(DISCORD_SPEC_PATH, errata=DISCORD_ERRATA)


@functools.cache
def github_contract() -> OpenApiContract:
    """The vendored GitHub subset (servers: ``https://api.github.com``, no base path)."""
    return OpenApiContract(GITHUB_SPEC_PATH, errata=GITHUB_ERRATA)


def validate_interaction_response(body: object) -> None:
    """Check an HTTP answer body our interactions endpoint gives Discord.

    Discord documents that answer as the request body of
    ``POST /interactions/{interaction_id}/{interaction_token}/callback`` (the same payload
    may be sent either way), so that is the schema used.
    """
    contract = discord_contract()
    contract.validate_body(contract.operation("create_interaction_response"), body)


# ---------------------------------------------------------------------------------------
# The facade
# ---------------------------------------------------------------------------------------

# openapi-core's validators by OpenAPI minor version: parameters and body, not security (the
# tests send no credentials), and response bodies, not headers (the fakes set no rate-limit ones).
_VALIDATORS: Final = {
    "3.0": (V30RequestParametersValidator, V30RequestBodyValidator, V30ResponseDataValidator),
    "3.1": (V31RequestParametersValidator, V31RequestBodyValidator, V31ResponseDataValidator),
}


@dataclass(frozen=True)
class Operation:
    """One matched operation: what ``find_operation`` returns."""

    method: str  # upper case, e.g. "PATCH"
    template: str  # templated path as in the description
    operation_id: str | None
    path_params: Mapping[str, str]  # concrete values, empty for ``operation(operation_id)``

    def describe(self) -> str:
        suffix = f" ({self.operation_id})" if self.operation_id else ""
        return f"{self.method} {self.template}{suffix}"


class OpenApiContract:
    """One description (3.0 or 3.1), corrected by its errata, validated through openapi-core."""

    def __init__(self, path: Path, *, errata: Iterable[Erratum] = ()) -> None:
        document = json.loads(path.read_text(encoding="utf-8"))
        self.errata_applied = apply_errata(document, errata)
        self.openapi_version = str(document["openapi"])
        self.title = str(document["info"]["title"])
        server = urlsplit(str(document["servers"][0]["url"]))
        self.host_url = f"{server.scheme}://{server.netloc}"
        self.base_path = server.path.rstrip("/")
        # No spec validation (openapi-spec-validator): it takes ~5 s on Discord's 1.2 MB file, once
        # per test process, and the vendors' own tooling already checks their descriptions.
        self.document: Mapping[str, Any] = document
        self.spec = SchemaPath.from_dict(document)
        parameters_cls, body_cls, response_cls = _VALIDATORS[self.openapi_version[:3]]
        self._parameters = parameters_cls(self.spec, extra_format_validators=FORMATS)
        self._body = body_cls(self.spec, extra_format_validators=FORMATS)
        self._response = response_cls(self.spec, extra_format_validators=FORMATS)
        self._finder = APICallPathFinder(self.spec)
        # openapi-core matches one segment per path parameter; GitHub's file `path` may hold slashes
        # (it says `x-multi-segment`), so those templates are matched here and handed over as matched.
        self._multi_segment = [
            (template, regex)
            for template, item in document["paths"].items()
            if (regex := _multi_segment_regex(template, item))
        ]

    def _request(self, method: str, url: str, body: object | None, query: Mapping[str, str] | None) -> MockRequest:
        """A request as openapi-core reads it; a path without the servers' base path gets it."""
        parts = urlsplit(url)
        if query is not None and parts.query:
            raise ValueError("give the query either inside url_path or as query=, not both")
        path = parts.path if parts.path.startswith(self.base_path + "/") else self.base_path + parts.path
        args = dict(parse_qsl(parts.query, keep_blank_values=True)) if query is None else dict(query)
        data = None if body is None else json.dumps(body).encode()
        for template, regex in self._multi_segment:
            if match := regex.fullmatch(path.removeprefix(self.base_path)):
                pattern, view_args = self.base_path + template, match.groupdict()
                return MockRequest(self.host_url, method, path, pattern, args, view_args, data=data)
        return MockRequest(self.host_url, method, path, args=args, data=data)

    def find_operation(self, method: str, url_path: str) -> Operation:
        """The operation a concrete request (base path, host and query string optional) is for."""
        request = self._request(method, url_path, None, None)
        try:
            found = self._finder.find(request.method, request.host_url + (request.path_pattern or request.path))
        except PathError as error:
            raise UnknownOperation(f"{method.upper()} {url_path}: {error} in {self.title}") from None
        return self._operation(method, found.path.name, request.view_args or found.path_result.variables)

    def operation(self, operation_id: str) -> Operation:
        """The operation with this ``operationId`` (path parameters left empty)."""
        for template, item in self.document["paths"].items():
            for method, definition in item.items():
                if isinstance(definition, dict) and definition.get("operationId") == operation_id:
                    return self._operation(method, template, {})
        raise UnknownOperation(f"no operationId {operation_id!r} in {self.title}")

    def _operation(self, method: str, template: str, path_params: Mapping[str, str]) -> Operation:
        definition = self.document["paths"][template][method.lower()]
        return Operation(method.upper(), template, definition.get("operationId"), dict(path_params))

    def validate_request(
        self, method: str, url_path: str, *, body: object | None, query: Mapping[str, str] | None = None
    ) -> Operation:
        """Check path and query parameters and the JSON body (``None``: no body) of a request we send."""
        operation = self.find_operation(method, url_path)
        request = self._request(method, url_path, body, query)
        problems = [*self._parameters.iter_errors(request), *self._body_errors(operation, request)]
        declared = {p["name"] for p in self._parameters_of(operation) if p["in"] == "query"}
        problems += [
            f"query parameter {name!r} is not declared (declared: {', '.join(sorted(declared)) or 'none'})"
            for name in sorted(set(request.parameters.query) - declared)
        ]
        _raise_if(problems, f"{operation.describe()} request violates {self.title}")
        return operation

    def validate_body(self, operation: Operation, body: object | None) -> None:
        """Check only the JSON request body of an operation found by ``operation()``."""
        path = self.base_path + operation.template
        request = MockRequest(self.host_url, operation.method, path, path_pattern=path, data=json.dumps(body).encode())
        _raise_if(self._body_errors(operation, request), f"{operation.describe()} request violates {self.title}")

    def _body_errors(self, operation: Operation, request: MockRequest) -> list[object]:
        definition = self.document["paths"][operation.template][operation.method.lower()]
        if "requestBody" not in definition:
            return ["a body was given but the operation declares no requestBody"] if request.body else []
        return [error for error in self._body.iter_errors(request) if not isinstance(error, MissingRequestBody)]

    def _parameters_of(self, operation: Operation) -> list[Mapping[str, Any]]:
        """The path item's and the operation's parameters, ``$ref``s resolved by jsonschema-path."""
        item = self.spec / "paths" / operation.template
        holders = [item, item / operation.method.lower()]
        return [p.read_value() for h in holders if "parameters" in h for p in h / "parameters"]

    def validate_response(self, method: str, url_path: str, status: int, body: object | None) -> Operation:
        """Check a response body (a fake's answer, or ours) against the declared response."""
        operation = self.find_operation(method, url_path)
        response = MockResponse(b"" if body is None else json.dumps(body).encode(), status_code=status)
        problems: list[object] = list(self._response.iter_errors(self._request(method, url_path, None, None), response))
        if body is not None and not self._declares_content(operation, status):  # openapi-core lets it pass
            problems.append("a body was given but the response declares none")
        _raise_if(problems, f"{operation.describe()} response {status} violates {self.title}")
        return operation

    def _declares_content(self, operation: Operation, status: int) -> bool:
        """Whether the response openapi-core picks for `status` has a body."""
        responses = self.spec / "paths" / operation.template / operation.method.lower() / "responses"
        try:
            return "content" in ResponseFinder(responses).find(str(status))
        except ResponseNotFound:
            return True  # an undeclared status: openapi-core reports that

    def response_example(self, method: str, url_path: str, status: int, name: str = "default") -> Any:
        """The vendor's own example body for a response (a fresh copy: callers may edit it).

        Handy for stand-in fakes: they answer with what the vendor documents, not a guess.
        """
        operation = self.find_operation(method, url_path)
        media = self.spec / "paths" / operation.template / method.lower() / "responses" / str(status)
        media = media / "content" / "application/json"
        example = media / "examples" / name / "value" if "examples" in media else media / "example"
        return json.loads(json.dumps(example.read_value()))


def _multi_segment_regex(template: str, path_item: Mapping[str, Any]) -> re.Pattern[str] | None:
    """The template as a regex if one of its parameters is marked ``x-multi-segment`` (slashes allowed)."""
    operations = [op for op in path_item.values() if isinstance(op, dict)]
    multi = {p["name"] for op in operations for p in op.get("parameters", []) if p.get("x-multi-segment")}
    if not multi:
        return None
    param = r"\\\{(\w+)\\\}"  # as re.escape writes `{name}`
    return re.compile(re.sub(param, lambda m: f"(?P<{m[1]}>{'.+' if m[1] in multi else '[^/]+'})", re.escape(template)))


# ---------------------------------------------------------------------------------------
# Reporting: openapi-core raises one exception per parameter or body, whose __cause__ holds
# jsonschema's errors; each is listed with its JSON path. A union's "not valid under any of the
# given schemas" says nothing, and jsonschema's best_match often explains it through a branch
# that merely has another tag: Discord's unions are tagged by a ``type`` enum/const (nullables are
# ``oneOf: [{"type": "null"}, ...]``), so the reason given is the one of the branch whose tag
# matched, or the tag values accepted when none did.
# ---------------------------------------------------------------------------------------


def _raise_if(problems: Iterable[object], headline: str) -> None:
    lines = [line for problem in problems for line in _describe(problem)]
    if not lines:
        return
    report = [f"{headline}: {len(lines)} problem(s)", *(f"  - {line}" for line in lines[:_MAX_ERRORS])]
    if len(lines) > _MAX_ERRORS:
        report.append(f"  … and {len(lines) - _MAX_ERRORS} more")
    raise ContractViolation("\n".join(report))


def _describe(problem: object) -> Iterator[str]:
    cause = getattr(problem, "__cause__", None)
    if isinstance(problem, ParameterValidationError):
        # Name the parameter and the value sent: its schema errors are about "$".
        value = getattr(cause, "value", None)
        where = f"{problem.location} parameter {problem.name}" + ("" if value is None else f"={value!r}")
        messages = [e.message for e in getattr(cause, "schema_errors", ())] or [str(cause or problem)]
        yield from (f"{where}: {_short(message)}" for message in messages)
        return
    schema_errors: tuple[ValidationError, ...] = getattr(cause, "schema_errors", ())
    if not schema_errors:
        yield _short(str(problem))
    for error in schema_errors:
        yield f"{error.json_path}: {_short(error.message)}" + "".join(
            f"\n      because {reason}" for reason in _union_reasons(error)[:4]
        )


def _is_tag_mismatch(error: ValidationError) -> bool:
    """Did this branch reject the value on its tag (a direct property's enum/const, or the JSON type)?"""
    depth = len(error.relative_path)
    return (error.validator in ("enum", "const") and depth <= 1) or (error.validator == "type" and depth == 0)


def _union_reasons(error: ValidationError) -> list[str]:
    """Explain an anyOf/oneOf failure through the branch(es) whose tag matched."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return []
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    plausible = [errors for errors in branches.values() if not any(_is_tag_mismatch(e) for e in errors)]
    if plausible:
        return [
            reason
            for sub in min(plausible, key=len)
            for reason in (_union_reasons(sub) or [f"{sub.json_path}: {_short(sub.message)}"])
        ]
    # Every branch rejected the tag: say which tag values would have been accepted.
    accepted: dict[str, list[object]] = {}
    for sub in error.context:
        if sub.validator in ("enum", "const") and len(sub.relative_path) <= 1:
            values = sub.validator_value if sub.validator == "enum" else [sub.validator_value]
            accepted.setdefault(sub.json_path, [])
            accepted[sub.json_path] += [v for v in values if v not in accepted[sub.json_path]]
    if accepted:
        return [f"{path}: must be one of {_sorted(values)!r}" for path, values in accepted.items()]
    best = best_match(error.context)
    return [f"{best.json_path}: {_short(best.message)}"]


def _sorted(values: list[object]) -> list[object]:
    try:
        return sorted(values)  # type: ignore[type-var]  # mixed types fall through
    except TypeError:
        return values


def _short(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Middle-ellipsize: keeps the start (the value) and the end (what is wrong with it)."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    return f"{text[:head]}…{text[-(limit - head - 1) :]}"
