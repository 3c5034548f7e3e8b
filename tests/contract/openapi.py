"""Contract checks against the vendors' own OpenAPI descriptions.

Fakes and stand-ins only prove that our code agrees with *our idea* of Discord and GitHub.
These helpers check the requests we send (and the answers we give Discord) against what
the vendors publish, so a typo in a field name or an over-long message fails a test
instead of a production call.

* Discord: ``shared/reference/discord-openapi.json`` (OpenAPI 3.1, JSON Schema 2020-12),
  read in place from beside the repository checkout.
* GitHub: ``tests/contract/data/github-openapi-subset.json`` (OpenAPI 3.0.3), the few
  operations we call, cut out of ``@octokit/openapi`` (see ``data/README.md``).

``$ref`` resolution is done by the ``referencing`` library: each document is one resource
in a ``Registry`` and every validator is built on that registry, so refs resolve exactly
as JSON Schema says and nothing here re-implements a resolver.

Why ``oneOf`` is trusted as written: every ``oneOf`` in Discord's description was checked
for branches that can accept the same value.  They are tagged unions (distinct ``enum``/
``const`` on a required ``type``), ``[{"type": "null"}, X]`` nullables, or disjoint JSON
types, so a valid body matches exactly one branch.  Where Discord's branches really do
overlap (``{"content": "hi"}`` is both kinds of webhook message body; an integer choice is
also a number choice) the description says ``anyOf`` plus ``x-discord-union: oneOf``, a
hint for code generators; we validate the ``anyOf`` as written, since enforcing "exactly
one" there would reject ordinary bodies.  The false failures we did meet came from wrong
leaf schemas reached through a ``oneOf`` (Discord's field-error codes), handled as errata.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import jsonschema
import pytest
import referencing
import referencing.jsonschema
from jsonschema.exceptions import ValidationError, best_match

__all__ = [
    "DISCORD_ERRATA",
    "DISCORD_SPEC_PATH",
    "FORMAT_CHECKER",
    "GITHUB_ERRATA",
    "GITHUB_SPEC_PATH",
    "ContractViolation",
    "Erratum",
    "OpenApiContract",
    "Operation",
    "Parameter",
    "UnknownOperation",
    "discord_contract",
    "github_contract",
    "load_contract",
    "validate_interaction_response",
]


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

_HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


class ContractViolation(AssertionError):
    """A request or response does not match the vendor's OpenAPI description.

    An ``AssertionError`` so pytest shows it like a failed ``assert``.
    """


class UnknownOperation(ContractViolation):
    """No operation in the description matches the method and path (a wrong URL is a violation too)."""


# ---------------------------------------------------------------------------------------
# Formats
#
# JSON Schema treats ``format`` as an annotation unless a FormatChecker is passed, and
# jsonschema's stock checker only covers formats whose optional packages happen to be
# installed (``uri`` silently passes without ``rfc3987``).  The vendors lean on formats
# (Discord: int32/int64/snowflake/uri/date-time; GitHub: uri/date-time/int64/email), so we
# register explicit, dependency-free checks.  Formats not listed (``double``, Discord's
# ``nonce``) are pure annotations: the schema's type/length keywords already say it all.
# ---------------------------------------------------------------------------------------

FORMAT_CHECKER: Final = jsonschema.FormatChecker(formats=())

_URI_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f]*$")
_RFC3339_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+$")


def _is_int(instance: object) -> bool:
    # bool is an int subclass in Python but never a JSON integer.
    return isinstance(instance, int) and not isinstance(instance, bool)


def _check_int32(instance: object) -> bool:
    return not _is_int(instance) or -(2**31) <= cast(int, instance) < 2**31


def _check_int64(instance: object) -> bool:
    return not _is_int(instance) or -(2**63) <= cast(int, instance) < 2**63


def _check_snowflake(instance: object) -> bool:
    # Snowflakes are unsigned 64-bit ids sent as decimal strings.
    if not isinstance(instance, str):
        return True
    return instance.isascii() and instance.isdigit() and int(instance) < 2**64


def _check_uri(instance: object) -> bool:
    # RFC 3986 absolute URI: a scheme, then no whitespace/control characters.
    return not isinstance(instance, str) or bool(_URI_RE.match(instance))


def _check_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not _RFC3339_RE.match(instance):
        return False
    # Fractions dropped: fromisoformat only takes up to 6 digits, RFC 3339 allows any number.
    datetime.fromisoformat(re.sub(r"\.\d+", "", instance.upper()).replace("Z", "+00:00"))  # month 13 etc.
    return True


def _check_email(instance: object) -> bool:
    return not isinstance(instance, str) or bool(_EMAIL_RE.match(instance))


# Registered by call rather than as decorators: jsonschema ships no type hints, and an
# untyped decorator would erase these functions' signatures for mypy.
for _name, _check in {
    "int32": _check_int32,
    "int64": _check_int64,
    "snowflake": _check_snowflake,
    "uri": _check_uri,
    "email": _check_email,
}.items():
    FORMAT_CHECKER.checks(_name)(_check)
FORMAT_CHECKER.checks("date-time", raises=ValueError)(_check_date_time)


# ---------------------------------------------------------------------------------------
# OpenAPI 3.0 -> JSON Schema
#
# OpenAPI 3.0 schemas are "extended Draft 4 subset" (boolean exclusiveMinimum, $ref
# siblings ignored), so Draft4Validator is the closest stock validator.  The one keyword
# it cannot know is ``nullable: true``, which GitHub uses everywhere a field may be null
# (``conclusion``, ``completed_at``, ...).  We rewrite it once at load time:
#   * with ``type``: ``type: [T, "null"]``, and ``null`` added to any ``enum``
#     (GitHub's ``job.conclusion`` is a nullable enum without ``null`` listed, and the
#     API really returns null there while a job runs);
#   * without ``type`` (allOf/oneOf/$ref wrappers): ``anyOf: [{"type": "null"}, <schema>]``.
# Only schema positions are rewritten; examples are data and stay untouched.
# ---------------------------------------------------------------------------------------

_SCHEMA_MAP_KEYWORDS: Final = ("properties", "patternProperties")
_SCHEMA_KEYWORDS: Final = ("items", "additionalProperties", "not")
_SCHEMA_LIST_KEYWORDS: Final = ("allOf", "anyOf", "oneOf")


def _nullable_schema(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = dict(schema)
    for key in _SCHEMA_MAP_KEYWORDS:
        if isinstance(out.get(key), dict):
            out[key] = {name: _nullable_schema(sub) for name, sub in out[key].items()}
    for key in _SCHEMA_KEYWORDS:
        if key in out:
            out[key] = _nullable_schema(out[key])
    for key in _SCHEMA_LIST_KEYWORDS:
        if isinstance(out.get(key), list):
            out[key] = [_nullable_schema(sub) for sub in out[key]]
    if out.pop("nullable", False) is not True:
        return out
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [{"type": "null"}, out]}


def _openapi30_to_jsonschema(node: Any, key: str | None = None) -> Any:
    """Copy of an OpenAPI 3.0 document with every schema passed through ``_nullable_schema``."""
    if isinstance(node, list):
        return [_openapi30_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if key in ("example", "examples", "value"):
        return node  # payload data, not schemas
    out: dict[str, Any] = {}
    for name, value in node.items():
        if name == "schema" or key == "schemas":  # a schema, or an entry of components/schemas
            out[name] = _nullable_schema(value)
        else:
            out[name] = _openapi30_to_jsonschema(value, name)
    return out


# ---------------------------------------------------------------------------------------
# Errata
#
# Places where a vendor's description contradicts what the vendor documents and really
# sends, so that a faithful stand-in would be rejected.  Each erratum replaces one node,
# and only if that node is still exactly the upstream text we reviewed: once the vendor
# fixes it, the erratum stops applying and test_openapi_helper's errata test says so.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erratum:
    pointer: str  # JSON pointer into the raw document
    expected: Any  # the upstream node we reviewed
    replacement: Any
    reason: str


_DISCORD_FIELD_ERROR: Final = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    "required": ["code", "message"],
}

DISCORD_ERRATA: Final[tuple[Erratum, ...]] = (
    Erratum(
        pointer="/components/schemas/InnerErrors/properties/_errors/items",
        expected={"$ref": "#/components/schemas/Error"},
        replacement=_DISCORD_FIELD_ERROR,
        reason=(
            "per-field errors in a 50035 'Invalid Form Body' carry string codes "
            '({"code": "BASE_TYPE_MAX_LENGTH", ...}, see discord-api-docs issue 1313); the '
            "description reuses Error, whose code is an integer, so every real 400 body fails"
        ),
    ),
    Erratum(
        pointer="/components/schemas/RatelimitedResponse/allOf/0",
        expected={"$ref": "#/components/schemas/Error"},
        replacement={
            "type": "object",
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
            "required": ["message"],
        },
        reason=(
            "the rate-limit docs give `code` only 'for some limits' and their example 429 body "
            "has none (discord-api-spec issue 24); Error makes it required"
        ),
    ),
)

GITHUB_ERRATA: Final[tuple[Erratum, ...]] = (
    Erratum(
        pointer="/components/parameters/created/schema",
        expected={"format": "date-time", "type": "string"},
        replacement={"type": "string"},
        reason=(
            "`created` takes GitHub's date *range* search syntax (`>=2026-01-01`, "
            "`2026-01-01..2026-01-31`, as its own description says), not one RFC 3339 date-time"
        ),
    ),
)


def _apply_errata(document: Mapping[str, Any], errata: Iterable[Erratum]) -> tuple[Any, tuple[str, ...]]:
    """Return a patched copy (only the nodes on each patched path are copied) and the pointers applied.

    The parsed document is shared through the lru_cache, so it is never modified in place.
    """
    patched: Any = document
    applied: list[str] = []
    for erratum in errata:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in erratum.pointer.split("/")[1:]]
        if _node_at(patched, tokens) != erratum.expected:
            continue
        patched = _replace_at(patched, tokens, erratum.replacement)
        applied.append(erratum.pointer)
    return patched, tuple(applied)


def _node_at(node: Any, tokens: list[str]) -> Any:
    """The node at a JSON pointer, or None when the path no longer exists upstream."""
    for token in tokens:
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return node


def _replace_at(node: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    head, rest = tokens[0], tokens[1:]
    if isinstance(node, list):
        copy_list = list(node)
        copy_list[int(head)] = _replace_at(node[int(head)], rest, value)
        return copy_list
    copy_dict = dict(node)
    copy_dict[head] = _replace_at(node[head], rest, value)
    return copy_dict


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _load_document(path: Path) -> Mapping[str, Any]:
    """Parse a description once per process: Discord's is 1.2 MB and many tests use it.

    Callers must treat the result as read-only: it is shared by every test.
    """
    if not path.is_file():
        raise FileNotFoundError(
            f"OpenAPI description not found at {path}; contract tests expect the shared/ "
            "folder beside the repository checkout (see tests/contract/data/README.md)"
        )
    return cast(Mapping[str, Any], json.loads(path.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=8)
def load_contract(path: Path, base_path: str | None = None) -> OpenApiContract:
    """A contract for any description file, built once per (path, base_path), without errata."""
    return OpenApiContract(path, base_path=base_path)


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
    """The vendored GitHub subset (base path empty; for GHES pass ``/api/v3`` to OpenApiContract)."""
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
# Operations and paths
# ---------------------------------------------------------------------------------------


def _escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _PathTemplate:
    template: str
    pointer: str  # JSON pointer to the path item
    regex: re.Pattern[str]
    # Lower sorts first: per segment 0 = literal, 1 = mixed ("{name}.json"), 2 = "{param}".
    # Comparing these tuples prefers `messages/@original` over `messages/{message_id}`.
    rank: tuple[int, ...]
    segments: int


def _compile_template(template: str, multi_segment: frozenset[str] = frozenset()) -> _PathTemplate:
    """`multi_segment`: parameters GitHub marks `x-multi-segment` (a file path: slashes allowed)."""
    parts = template.strip("/").split("/") if template.strip("/") else []
    regex_parts: list[str] = []
    rank: list[int] = []
    for part in parts:
        pieces = re.split(r"\{([^{}]+)\}", part)
        # re.split alternates literal text and parameter names.
        regex = "".join(
            re.escape(piece)
            if i % 2 == 0
            else f"(?P<{_group_name(piece)}>{'.+' if piece in multi_segment else '[^/]+'})"
            for i, piece in enumerate(pieces)
        )
        regex_parts.append(regex)
        if len(pieces) == 1:
            rank.append(0)
        elif pieces[0] == "" and pieces[-1] == "" and len(pieces) == 3:
            rank.append(2)
        else:
            rank.append(1)
    return _PathTemplate(
        template=template,
        pointer="/paths/" + _escape_pointer_token(template),
        regex=re.compile("^/" + "/".join(regex_parts) + "$"),
        rank=tuple(rank),
        segments=-1 if multi_segment else len(parts),  # -1: any number
    )


def _multi_segment_parameters(path_item: Mapping[str, Any]) -> frozenset[str]:
    operations = [op for method, op in path_item.items() if method in _HTTP_METHODS and isinstance(op, dict)]
    return frozenset(
        parameter["name"]
        for holder in (path_item, *operations)
        for parameter in holder.get("parameters") or []
        if isinstance(parameter, dict) and parameter.get("in") == "path" and parameter.get("x-multi-segment")
    )


def _group_name(param: str) -> str:
    # Regex group names must be identifiers; OpenAPI names may contain '-' or '.'.
    return "p_" + "".join(c if c.isalnum() else f"_{ord(c):x}_" for c in param)


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" | "query" | "header" | "cookie"
    required: bool
    schema_pointer: str | None  # JSON pointer to the parameter's schema, if any


@dataclass(frozen=True)
class Operation:
    """One matched operation: what ``find_operation`` returns."""

    method: str  # upper case, e.g. "PATCH"
    template: str  # templated path as in the description
    operation_id: str | None
    pointer: str  # JSON pointer to the operation object inside the document
    definition: Mapping[str, Any] = field(repr=False)
    parameters: tuple[Parameter, ...] = field(repr=False)
    path_params: Mapping[str, str] = field(default_factory=dict)  # concrete, percent-decoded

    def describe(self) -> str:
        suffix = f" ({self.operation_id})" if self.operation_id else ""
        return f"{self.method} {self.template}{suffix}"


class OpenApiContract:
    """One loaded OpenAPI description (3.0 or 3.1) and validators built on it."""

    def __init__(self, path: Path, *, base_path: str | None = None, errata: Iterable[Erratum] = ()) -> None:
        self.path = path.resolve()
        raw, self.errata_applied = _apply_errata(_load_document(self.path), errata)
        self.openapi_version = str(raw.get("openapi", ""))
        self.title = str(raw.get("info", {}).get("title", self.path.name))
        if self.openapi_version.startswith("3.0"):
            # See the OpenAPI 3.0 notes above: Draft 4 plus the `nullable` rewrite.
            self.document: Mapping[str, Any] = _openapi30_to_jsonschema(raw)
            specification = referencing.jsonschema.DRAFT4
            self._validator_cls: Any = jsonschema.Draft4Validator
        elif self.openapi_version.startswith("3.1"):
            # OpenAPI 3.1 schemas are JSON Schema 2020-12 (the OAS dialect only adds
            # annotations such as `discriminator`/`example`, which validators ignore).
            self.document = raw
            specification = referencing.jsonschema.DRAFT202012
            self._validator_cls = jsonschema.Draft202012Validator
        else:
            raise ValueError(f"{self.path}: unsupported OpenAPI version {self.openapi_version!r}")

        if base_path is None:
            servers = self.document.get("servers") or [{"url": ""}]
            base_path = urlsplit(str(servers[0].get("url", ""))).path
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""

        # The whole document is one resource under its file URI; schemas are validated
        # through `{"$ref": "<uri>#<pointer>"}`, so refs inside them ("#/components/...")
        # resolve against the document.
        self._uri = self.path.as_uri()
        resource = specification.create_resource(self.document)
        self._registry: referencing.Registry[Any] = referencing.Registry().with_resource(self._uri, resource)
        self._resolver = self._registry.resolver(base_uri=self._uri)
        self._validators: dict[str, Any] = {}
        self._templates = sorted(
            (
                _compile_template(t, _multi_segment_parameters(item))
                for t, item in self.document.get("paths", {}).items()
            ),
            key=lambda t: t.rank,
        )
        self._by_operation_id: dict[str, tuple[str, str]] = {
            op["operationId"]: (t.template, method)
            for t in self._templates
            for method, op in self.document["paths"][t.template].items()
            if method in _HTTP_METHODS and isinstance(op, dict) and "operationId" in op
        }

    def __repr__(self) -> str:
        return f"OpenApiContract({self.title!r}, openapi={self.openapi_version}, base={self.base_path!r})"

    # -- refs ---------------------------------------------------------------------------

    def _deref(self, pointer: str, node: Any) -> tuple[str, Any]:
        """Follow ``$ref`` objects (parameters, responses, request bodies) via the registry.

        Returns the pointer of the final target too, because schemas below it are later
        validated through a ref to that location.
        """
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = str(node["$ref"])
            if not ref.startswith("#"):
                raise ValueError(f"{self.path.name}: only same-document refs are supported, got {ref!r}")
            if ref in seen:
                raise ValueError(f"{self.path.name}: $ref cycle at {ref!r}")
            seen.add(ref)
            node = self._resolver.lookup(ref).contents
            pointer = unquote(ref[1:])
        return pointer, node

    def _validator(self, schema_pointer: str) -> Any:
        validator = self._validators.get(schema_pointer)
        if validator is None:
            ref = f"{self._uri}#{quote(schema_pointer, safe='/~')}"
            validator = self._validator_cls({"$ref": ref}, registry=self._registry, format_checker=FORMAT_CHECKER)
            self._validators[schema_pointer] = validator
        return validator

    def _schema_errors(self, schema_pointer: str, instance: object) -> list[ValidationError]:
        return list(self._validator(schema_pointer).iter_errors(instance))

    # -- operations ---------------------------------------------------------------------

    def _split_url(self, url_path: str) -> tuple[str, dict[str, str]]:
        parts = urlsplit(url_path)  # full URLs work too (httpx's request.url)
        path = parts.path or "/"
        if self.base_path and (path == self.base_path or path.startswith(self.base_path + "/")):
            path = path[len(self.base_path) :] or "/"
        return path, dict(parse_qsl(parts.query, keep_blank_values=True))

    def find_operation(self, method: str, url_path: str) -> Operation:
        """Match a concrete request path (base prefix, query string optional) to an operation.

        A template parameter matches exactly one path segment (any number for one marked
        `x-multi-segment`); when several templates match, literal segments win over
        parameters, left to right.
        """
        path, _ = self._split_url(url_path)
        method_lc = method.lower()
        segments = len(path.strip("/").split("/")) if path.strip("/") else 0
        candidates: list[tuple[_PathTemplate, re.Match[str]]] = []
        for template in self._templates:  # sorted by rank: first match is most literal
            if template.segments not in (segments, -1):
                continue
            match = template.regex.match(path)
            if match:
                candidates.append((template, match))
        if not candidates:
            raise UnknownOperation(
                f"{method.upper()} {url_path}: no path in {self.title} matches {path!r} "
                f"(base path {self.base_path or '/'!r} stripped)"
            )
        for template, match in candidates:
            item = self.document["paths"][template.template]
            if method_lc in item:
                return self._operation(template, method_lc, match)
        allowed = sorted(
            {m.upper() for t, _ in candidates for m in self.document["paths"][t.template] if m in _HTTP_METHODS}
        )
        raise UnknownOperation(
            f"{method.upper()} {url_path}: {candidates[0][0].template} exists in {self.title} "
            f"but only for {', '.join(allowed)}"
        )

    def operation(self, operation_id: str) -> Operation:
        """The operation with this ``operationId`` (path parameters left empty)."""
        try:
            template_str, method = self._by_operation_id[operation_id]
        except KeyError:
            raise UnknownOperation(f"no operationId {operation_id!r} in {self.title}") from None
        template = next(t for t in self._templates if t.template == template_str)
        return self._operation(template, method, None)

    def _operation(self, template: _PathTemplate, method: str, match: re.Match[str] | None) -> Operation:
        item = self.document["paths"][template.template]
        definition = item[method]
        # Operation-level parameters override path-item ones with the same name+location.
        params: dict[tuple[str, str], Parameter] = {}
        for pointer, raw_params in (
            (template.pointer + "/parameters", item.get("parameters", [])),
            (f"{template.pointer}/{method}/parameters", definition.get("parameters", [])),
        ):
            for index, raw in enumerate(raw_params):
                param_pointer, param = self._deref(f"{pointer}/{index}", raw)
                parameter = Parameter(
                    name=str(param["name"]),
                    location=str(param["in"]),
                    required=bool(param.get("required", param["in"] == "path")),
                    schema_pointer=param_pointer + "/schema" if "schema" in param else None,
                )
                params[(parameter.name, parameter.location)] = parameter
        path_params: dict[str, str] = {}
        if match is not None:
            names = re.findall(r"\{([^{}]+)\}", template.template)
            path_params = {name: unquote(match.group(_group_name(name))) for name in names}
        return Operation(
            method=method.upper(),
            template=template.template,
            operation_id=definition.get("operationId"),
            pointer=f"{template.pointer}/{method}",
            definition=definition,
            parameters=tuple(params.values()),
            path_params=path_params,
        )

    # -- validation ---------------------------------------------------------------------

    def validate_request(
        self,
        method: str,
        url_path: str,
        *,
        body: object | None,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Operation:
        """Check path parameters, query parameters and the body of a request we send.

        ``body=None`` means "no body".  A query string inside ``url_path`` is used when
        ``query`` is not given.  Raises ``ContractViolation`` listing every problem.
        """
        operation = self.find_operation(method, url_path)
        _, url_query = self._split_url(url_path)
        if query is not None and url_query:
            raise ValueError("give the query either inside url_path or as query=, not both")
        problems = self._parameter_problems(operation, query if query is not None else url_query)
        problems += self._body_problems(operation, body, content_type)
        if problems:
            raise ContractViolation(_report(f"{operation.describe()} request", self.title, problems))
        return operation

    def validate_body(self, operation: Operation, body: object | None, content_type: str = "application/json") -> None:
        """Check only the request body of an already-found operation."""
        problems = self._body_problems(operation, body, content_type)
        if problems:
            raise ContractViolation(_report(f"{operation.describe()} request", self.title, problems))

    def validate_response(
        self,
        method: str,
        url_path: str,
        status: int,
        body: object | None,
        *,
        content_type: str = "application/json",
    ) -> Operation:
        """Check a response body (a fake's answer, or ours) against the declared response."""
        operation = self.find_operation(method, url_path)
        responses: Mapping[str, Any] = operation.definition.get("responses", {})
        # Exact code first, then the 4XX-style range, then `default` (OpenAPI's precedence).
        key = next(
            (k for k in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default") if k in responses),
            None,
        )
        where = f"{operation.describe()} response {status}"
        if key is None:
            raise ContractViolation(
                f"{where}: status not declared by {self.title} (declared: {', '.join(sorted(responses))})"
            )
        pointer, response = self._deref(f"{operation.pointer}/responses/{_escape_pointer_token(key)}", responses[key])
        problems = self._content_problems(pointer, response, body, content_type, is_response=True)
        if problems:
            raise ContractViolation(_report(where, self.title, problems))
        return operation

    def response_example(
        self,
        method: str,
        url_path: str,
        status: int,
        name: str = "default",
        *,
        content_type: str = "application/json",
    ) -> Any:
        """The vendor's own example body for a response (a fresh copy: callers may edit it).

        Handy for stand-in fakes: they answer with what the vendor documents, not a guess.
        """
        operation = self.find_operation(method, url_path)
        _, response = self._deref("", operation.definition["responses"][str(status)])
        media = response["content"][content_type]
        if "examples" in media:
            _, example = self._deref("", media["examples"][name])
            return copy.deepcopy(example["value"])
        return copy.deepcopy(media["example"])

    def _parameter_problems(self, operation: Operation, query: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        for param in operation.parameters:
            if param.location == "path":
                value: str | None = operation.path_params.get(param.name)
            elif param.location == "query":
                value = query.get(param.name)
            else:
                continue  # headers/cookies are set by the HTTP client, not by our code
            if value is None:
                if param.required and param.location == "query":
                    problems.append(f"query parameter {param.name!r} is required")
                continue
            if param.schema_pointer is not None:
                problems += [
                    f"{param.location} parameter {param.name}={_short(repr(value))}: {message}"
                    for message in self._parameter_value_errors(param.schema_pointer, value)
                ]
        declared = {p.name for p in operation.parameters if p.location == "query"}
        problems += [
            f"query parameter {name!r} is not declared (declared: {', '.join(sorted(declared)) or 'none'})"
            for name in sorted(set(query) - declared)
        ]
        return problems

    def _parameter_value_errors(self, schema_pointer: str, value: str) -> list[str]:
        """Validate a wire string against a parameter schema.

        Path and query values are always strings on the wire; the schema says whether
        they mean an integer (GitHub's ``run_id``), a boolean (Discord's
        ``with_components``) or a string.  Accept the value if the raw string or its
        natural conversion validates; otherwise report against the most specific
        conversion, which gives the most useful message ("0 is less than the minimum").
        """
        candidates: list[object] = [value]
        if value in ("true", "false"):
            candidates.append(value == "true")
        if re.fullmatch(r"-?\d+", value):
            candidates.append(int(value))
        elif re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", value):
            candidates.append(float(value))
        errors: list[ValidationError] = []
        for candidate in candidates:
            errors = self._schema_errors(schema_pointer, candidate)
            if not errors:
                return []
        # "$" (the whole value) says nothing here: the caller already names the parameter.
        return [_format_error(error).removeprefix("$: ") for error in errors]

    def _body_problems(self, operation: Operation, body: object | None, content_type: str) -> list[str]:
        raw = operation.definition.get("requestBody")
        if raw is None:
            return [] if body is None else ["a body was given but the operation declares no requestBody"]
        pointer, request_body = self._deref(operation.pointer + "/requestBody", raw)
        if body is None and not request_body.get("required", False):
            return []  # an optional body may be left out
        return self._content_problems(pointer, request_body, body, content_type, is_response=False)

    def _content_problems(
        self,
        pointer: str,
        container: Mapping[str, Any],
        body: object | None,
        content_type: str,
        *,
        is_response: bool,
    ) -> list[str]:
        """Shared by request bodies and responses: both are ``{content: {media type: {schema}}}``."""
        content: Mapping[str, Any] = container.get("content") or {}
        if body is None:
            if not content:
                return []  # e.g. a 204 response
            what = "the response declares a body" if is_response else "a body is required"
            return [f"no body given but {what} ({', '.join(sorted(content))})"]
        if not content:
            return ["a body was given but none is declared"]
        media = content_type.split(";", 1)[0].strip().lower()
        if media not in content:
            return [f"content type {media!r} not declared (declared: {', '.join(sorted(content))})"]
        if "schema" not in content[media]:
            return []  # declared as "anything of this media type"
        schema_pointer = f"{pointer}/content/{_escape_pointer_token(media)}/schema"
        return [_format_error(error) for error in self._schema_errors(schema_pointer, body)]


# ---------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------


def _short(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Middle-ellipsize: keeps the start (the value) and the end (what is wrong with it)."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head - 1
    return f"{text[:head]}…{text[-tail:]}"


def _format_error(error: ValidationError) -> str:
    message = f"{error.json_path}: {_short(error.message)}"
    reasons = _union_reasons(error)
    if reasons:
        # anyOf/oneOf only say "not valid under any of the given schemas"; what a reader
        # needs is why the branch they meant (the one whose `type` tag matches) failed.
        message += "".join(f"\n      because {reason}" for reason in reasons[:4])
    return message


def _is_tag_mismatch(error: ValidationError) -> bool:
    """Did this branch reject the instance on its tag, i.e. is it plainly not the intended branch?

    Discord's unions are tagged by a ``type``-like property with ``enum``/``const`` (and
    nullable fields are ``oneOf: [{"type": "null"}, {...}]``), so an enum/const miss on a
    direct property, or a JSON type miss on the instance itself, rules the branch out.
    """
    depth = len(error.relative_path)
    return (error.validator in ("enum", "const") and depth <= 1) or (error.validator == "type" and depth == 0)


def _union_reasons(error: ValidationError) -> list[str]:
    """Explain an anyOf/oneOf failure through the branch(es) whose tag matched."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return []
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    plausible = [errs for errs in branches.values() if not any(_is_tag_mismatch(e) for e in errs)]
    if not plausible:
        # Every branch rejected the tag: say which tag values would have been accepted.
        accepted: dict[str, list[object]] = {}
        for sub in error.context:
            if sub.validator in ("enum", "const") and len(sub.relative_path) <= 1:
                values = sub.validator_value if sub.validator == "enum" else [sub.validator_value]
                accepted.setdefault(sub.json_path, []).extend(
                    v for v in values if v not in accepted.get(sub.json_path, [])
                )
        if accepted:
            return [f"{path}: must be one of {_sorted(values)!r}" for path, values in accepted.items()]
        return [f"{best.json_path}: {_short(best.message)}" for best in [best_match(error.context)]]
    reasons: list[str] = []
    for sub in min(plausible, key=len):
        nested = _union_reasons(sub)
        reasons += nested or [f"{sub.json_path}: {_short(sub.message)}"]
    return reasons


def _sorted(values: list[object]) -> list[object]:
    try:
        return sorted(values)  # type: ignore[type-var]  # mixed types fall through
    except TypeError:
        return values


def _report(where: str, title: str, problems: Iterable[str]) -> str:
    problems = list(problems)
    lines = [f"{where} violates {title}: {len(problems)} problem(s)"]
    lines += [f"  - {problem}" for problem in problems[:_MAX_ERRORS]]
    if len(problems) > _MAX_ERRORS:
        lines.append(f"  … and {len(problems) - _MAX_ERRORS} more")
    return "\n".join(lines)
