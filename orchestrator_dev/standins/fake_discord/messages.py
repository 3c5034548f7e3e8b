"""Messages as Discord takes and gives them: what it refuses (its limits, as "Invalid Form Body"
errors; empty messages; bodies that are not JSON objects), how it echoes one (embeds typed, components
numbered) and how an edit merges into one."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from orchestrator.discord.wire import ButtonStyle
from orchestrator_dev.standins.form_errors import INVALID_FORM_BODY, FormErrors
from orchestrator_dev.standins.http_standin import Request, Response

LOADING = 1 << 7  # message flag: the deferred "thinking…" state

MAX_CONTENT = 2000

MAX_EMBEDS = 10

MAX_EMBED_TOTAL = 6000

MAX_FIELDS = 25

MAX_ACTION_ROWS = 5

MAX_ROW_WIDTH = 5

MAX_LABEL = 80

CUSTOM_ID_LENGTH = (1, 100)

# (key path inside an embed, limit); all of these count towards the 6000 total.
_EMBED_TEXT_LIMITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("title",), 256),
    (("description",), 4096),
    (("footer", "text"), 2048),
    (("author", "name"), 256),
)

_FIELD_LIMITS = (("name", 256), ("value", 1024))

UNKNOWN_WEBHOOK = {"message": "Unknown Webhook", "code": 10015}

UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}

MISSING_ACCESS = {"message": "Missing Access", "code": 50001}

EMPTY_MESSAGE = {"message": "Cannot send an empty message", "code": 50006}

INVALID_JSON = {"message": "The request body contains invalid JSON.", "code": 50109}

ALREADY_ACKNOWLEDGED = {"message": "Interaction has already been acknowledged.", "code": 40060}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def form_errors(body: Mapping[str, Any]) -> dict[str, Any]:
    """What Discord's "Invalid Form Body" would list for a message body; empty when it is valid."""
    errors = FormErrors()
    content = body.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        errors.too_long(("content",), MAX_CONTENT)
    embeds = body.get("embeds")
    if isinstance(embeds, list):
        if len(embeds) > MAX_EMBEDS:
            errors.too_long(("embeds",), MAX_EMBEDS)
        total = sum(_check_embed(embed, ("embeds", i), errors) for i, embed in enumerate(embeds))
        if total > MAX_EMBED_TOTAL:
            errors.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}")
    components = body.get("components")
    if isinstance(components, list):
        if len(components) > MAX_ACTION_ROWS:
            errors.too_long(("components",), MAX_ACTION_ROWS)
        custom_ids: set[str] = set()
        for i, row in enumerate(components):
            if isinstance(row, dict) and row.get("type") == 1:
                _check_row(row, ("components", i), errors, custom_ids)
    return errors.tree


def _check_embed(embed: Any, path: tuple[str | int, ...], errors: FormErrors) -> int:
    """Record the embed's errors and return how many characters it counts towards the total."""
    if not isinstance(embed, dict):
        errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return 0
    size = 0
    for keys, limit in _EMBED_TEXT_LIMITS:
        value: Any = embed
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            size += len(value)
            if len(value) > limit:
                errors.too_long((*path, *keys), limit)
    fields = embed.get("fields")
    if isinstance(fields, list):
        if len(fields) > MAX_FIELDS:
            errors.too_long((*path, "fields"), MAX_FIELDS)
        for j, item in enumerate(fields):
            for key, limit in _FIELD_LIMITS:
                value = item.get(key) if isinstance(item, dict) else None
                if not isinstance(value, str) or not value.strip():
                    errors.add((*path, "fields", j, key), "BASE_TYPE_REQUIRED", "This field is required")
                    continue
                size += len(value)
                if len(value) > limit:
                    errors.too_long((*path, "fields", j, key), limit)
    return size


def _check_row(row: Mapping[str, Any], path: tuple[str | int, ...], errors: FormErrors, custom_ids: set[str]) -> None:
    children = row.get("components")
    if not isinstance(children, list) or not children:
        errors.bad_length((*path, "components"), 1, MAX_ROW_WIDTH)
        return
    for j, child in enumerate(children):
        child_path = (*path, "components", j)
        if j >= MAX_ROW_WIDTH:
            errors.add(
                child_path, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width"
            )
        if isinstance(child, dict) and child.get("type") == 2:
            _check_button(child, child_path, errors, custom_ids)


def _check_button(
    button: Mapping[str, Any], path: tuple[str | int, ...], errors: FormErrors, custom_ids: set[str]
) -> None:
    label, custom_id = button.get("label"), button.get("custom_id")
    if isinstance(label, str) and len(label) > MAX_LABEL:
        errors.too_long((*path, "label"), MAX_LABEL)
    if button.get("style") == ButtonStyle.LINK:
        if not button.get("url"):
            errors.add((*path, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
        if custom_id is not None:
            errors.add(
                (*path, "custom_id"), "BUTTON_COMPONENT_LINK_HAS_CUSTOM_ID", "Link buttons cannot have a custom_id"
            )
        return
    low, high = CUSTOM_ID_LENGTH
    if custom_id is None:
        errors.add((*path, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id is required")
    elif not isinstance(custom_id, str) or not low <= len(custom_id) <= high:
        errors.bad_length((*path, "custom_id"), low, high)
    elif custom_id in custom_ids:
        errors.add(
            (*path, "custom_id"),
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            f"Component custom id cannot be duplicated: {custom_id}",
        )
    else:
        custom_ids.add(custom_id)


def is_empty(message: Mapping[str, Any]) -> bool:
    return not (message.get("content") or message.get("embeds") or message.get("components"))


def body_problem(request: Request, *, new_message: bool = False) -> Response | None:
    """The 400 Discord would answer for this message body, if any."""
    return message_problem(request.json, new_message=new_message)


def message_problem(body: Any, *, new_message: bool = False) -> Response | None:
    if not isinstance(body, dict):
        return Response(400, INVALID_JSON)
    errors = form_errors(body)
    if errors:
        return Response(400, {**INVALID_FORM_BODY, "errors": errors})
    if new_message and is_empty(body):
        return Response(400, EMPTY_MESSAGE)
    return None


def edited(current: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The message after an edit: the fields the body names replaced, the others kept (None if empty)."""
    merged = copy.deepcopy(dict(current))
    if "content" in body:
        merged["content"] = body["content"] or ""
    if "embeds" in body:
        merged["embeds"] = [rich(embed) for embed in body["embeds"] or []]
    if "components" in body:
        merged["components"] = numbered(body["components"] or [])
    if is_empty(merged):
        return None
    merged["flags"] = current["flags"] & ~LOADING
    merged["edited_timestamp"] = now()
    return merged


def replace_by_id(messages: list[dict[str, Any]], message_id: str, body: Mapping[str, Any]) -> Response:
    for index, message in enumerate(messages):
        if message["id"] == message_id:
            merged = edited(message, body)
            if merged is None:
                return Response(400, EMPTY_MESSAGE)
            messages[index] = merged
            return Response(200, copy.deepcopy(merged))
    return Response(404, {"message": "Unknown Message", "code": 10008})


def int_flags(body: Mapping[str, Any]) -> int:
    flags = body.get("flags")
    return flags if isinstance(flags, int) else 0


def rich(embed: Mapping[str, Any]) -> dict[str, Any]:
    """An embed as Discord echoes it: typed "rich", every field with its `inline` flag."""
    echoed: dict[str, Any] = {"type": "rich", **copy.deepcopy(dict(embed))}
    if isinstance(echoed.get("fields"), list):
        echoed["fields"] = [{"inline": False, **item} for item in echoed["fields"]]
    return echoed


def numbered(components: list[Any]) -> list[Any]:
    """Components as Discord echoes them: each gets a numeric `id`, depth first, unless the bot set one."""
    echoed = copy.deepcopy(components)
    taken: set[int] = set()
    nodes: list[dict[str, Any]] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, dict):
                nodes.append(item)
                if isinstance(item.get("id"), int):
                    taken.add(item["id"])
                walk(item.get("components") or [])

    walk(echoed)
    next_id = 1
    for node in nodes:
        if not isinstance(node.get("id"), int):
            while next_id in taken:
                next_id += 1
            node["id"] = next_id
            taken.add(next_id)
    return echoed
