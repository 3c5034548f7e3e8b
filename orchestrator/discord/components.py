"""The message components the bot builds, as frozen values that refuse what Discord would refuse
(https://discord.com/developers/docs/interactions/message-components); `to_dict()` is the JSON
that goes on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.discord.wire import MAX_CUSTOM_ID, ButtonStyle, ComponentType, TextInputStyle

MAX_ROW_BUTTONS = 5
MAX_LABEL = 80  # a button's label
MAX_TEXT_INPUT_LABEL = 45
MAX_PLACEHOLDER = 100
MAX_URL = 512  # a link button's


def is_linkable(url: str | None) -> bool:
    """Whether a link button may open `url` (GitHub's answers are checked, not trusted)."""
    return url is not None and url.startswith(("https://", "http://")) and len(url) <= MAX_URL


def _custom_id(custom_id: str) -> None:
    if not 0 < len(custom_id) <= MAX_CUSTOM_ID:
        raise ValueError(f"a custom_id has 1 to {MAX_CUSTOM_ID} characters, got {len(custom_id)}")


def _at_most(what: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise ValueError(f"a {what} has at most {limit} characters, got {len(text)}")


@dataclass(frozen=True)
class Button:
    """A button whose press comes back to the bot with `custom_id`."""

    label: str
    custom_id: str
    style: ButtonStyle

    def __post_init__(self) -> None:
        _custom_id(self.custom_id)
        _at_most("button label", self.label, MAX_LABEL)
        if self.style is ButtonStyle.LINK:
            raise ValueError("a link button has a URL, not a custom_id: use LinkButton")

    def to_dict(self) -> dict[str, Any]:
        return {"type": ComponentType.BUTTON, "style": self.style, "label": self.label, "custom_id": self.custom_id}


@dataclass(frozen=True)
class LinkButton:
    """A button that opens `url`; pressing it never reaches the bot."""

    label: str
    url: str

    def __post_init__(self) -> None:
        _at_most("button label", self.label, MAX_LABEL)
        if not is_linkable(self.url):
            raise ValueError(f"a link button opens an http(s) URL of at most {MAX_URL} characters")

    def to_dict(self) -> dict[str, Any]:
        return {"type": ComponentType.BUTTON, "style": ButtonStyle.LINK, "label": self.label, "url": self.url}


@dataclass(frozen=True)
class TextInput:
    """One field of a modal form; its answer comes back under `custom_id`."""

    custom_id: str
    label: str
    style: TextInputStyle
    required: bool
    placeholder: str
    max_length: int
    value: str | None = None  # prefilled

    def __post_init__(self) -> None:
        _custom_id(self.custom_id)
        _at_most("text input label", self.label, MAX_TEXT_INPUT_LABEL)
        _at_most("placeholder", self.placeholder, MAX_PLACEHOLDER)
        if self.value is not None:
            _at_most("prefilled value", self.value, self.max_length)

    def to_dict(self) -> dict[str, Any]:
        field: dict[str, Any] = {
            "type": ComponentType.TEXT_INPUT,
            "custom_id": self.custom_id,
            "label": self.label,
            "style": self.style,
            "required": self.required,
            "placeholder": self.placeholder,
            "max_length": self.max_length,
        }
        if self.value is not None:
            field["value"] = self.value
        return field


@dataclass(frozen=True)
class ActionRow:
    """Up to five buttons, or one text input (in a modal)."""

    components: tuple[Button | LinkButton, ...] | tuple[TextInput]

    def __post_init__(self) -> None:
        if not self.components:
            raise ValueError("an action row holds at least one component")
        inputs = sum(isinstance(component, TextInput) for component in self.components)
        if inputs and len(self.components) > 1:
            raise ValueError("a text input fills its action row alone")
        if len(self.components) > MAX_ROW_BUTTONS:
            raise ValueError(f"an action row holds at most {MAX_ROW_BUTTONS} buttons, got {len(self.components)}")

    def to_dict(self) -> dict[str, Any]:
        return {"type": ComponentType.ACTION_ROW, "components": [c.to_dict() for c in self.components]}
