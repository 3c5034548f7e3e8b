"""Run again…: a failed run's command, started anew with its options, as a new command.

The button opens a form prefilled with the original options (a Discord modal holds at most 5
text inputs); its submission comes back as typed option values and goes through exactly the
checks and the path of a typed slash command (allow list, options, rate limit, confirm, the
exactly-once worker), with a new interaction id and trace id. A command with more options than
a form holds, or none, skips the form: the same values, behind a Confirm step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from orchestrator.commands.model import DISCORD_OPTION_TYPES, CommandSet, CommandSpec, OptionType, OptionValue
from orchestrator.discord.components import MAX_PLACEHOLDER, MAX_TEXT_INPUT_LABEL, TextInput
from orchestrator.discord.outbound import MAX_MODAL_TITLE, modal
from orchestrator.discord.wire import TextInputStyle
from orchestrator.interactions.buttons import ButtonRejected, ButtonSigner
from orchestrator.interactions.payload import MAX_FORM_ROWS, Interaction, InvokedOption
from orchestrator.messages.limits import clip
from orchestrator.state.jobs import JobStore

FORM_WINDOW_SECONDS = 15 * 60
BUTTON_ACTION, FORM_ACTION = "again", "again-form"
MAX_INPUT_VALUE = 4000
_TRUE, _FALSE = frozenset({"true", "yes", "1"}), frozenset({"false", "no", "0"})


class RunAgain:
    def __init__(
        self,
        signer: Callable[[], ButtonSigner],
        jobs: JobStore,
        commands: CommandSet,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._signer = signer
        self._jobs = jobs
        self._commands = commands
        self._clock = clock

    def pressed(self, interaction: Interaction) -> tuple[CommandSpec, dict[str, OptionValue]] | str:
        """The command and options of the run whose Run again… was pressed, or why not."""
        try:
            button = self._signer().read(interaction.custom_id or "", now=self._clock())
        except ButtonRejected as exc:
            return f"This button can no longer be used ({exc.reason}). Run the command again."
        record = self._jobs.get(button.ref)
        if record is None:
            return "This run is not known to the bot (any more). Run the command again."
        spec = self._commands.get(record.invocation.command)
        if spec is None:
            return f"/{record.invocation.command} was removed from the bot's commands."
        values = {k: v for k, v in record.invocation.options.items() if isinstance(v, OptionValue)}
        return spec, values

    def form(self, spec: CommandSpec, values: dict[str, OptionValue]) -> dict[str, Any] | None:
        """The prefilled form, or None when the command's options do not fit one (0 or more than 5)."""
        if not 0 < len(spec.options) <= MAX_FORM_ROWS:
            return None
        custom_id = self._signer().make(FORM_ACTION, spec.name, expires_at=self._clock() + FORM_WINDOW_SECONDS)
        fields = [
            TextInput(
                custom_id=option.name,
                label=clip(option.name, MAX_TEXT_INPUT_LABEL),
                style=TextInputStyle.SHORT if option.type != "string" else TextInputStyle.PARAGRAPH,
                required=option.required,
                placeholder=clip(_hint(option.type, option.choices), MAX_PLACEHOLDER),
                max_length=MAX_INPUT_VALUE,
                value=None if values.get(option.name) is None else _text(values[option.name])[:MAX_INPUT_VALUE],
            )
            for option in spec.options
        ]
        return modal(custom_id, clip(f"Run /{spec.name} again", MAX_MODAL_TITLE), fields)

    def submitted(self, interaction: Interaction) -> CommandSpec | str:
        """The command a submitted form is for, from its signed custom_id; or why it is refused."""
        try:
            form = self._signer().read(interaction.custom_id or "", now=self._clock())
        except ButtonRejected as exc:
            return f"This form can no longer be used ({exc.reason}). Press Run again… once more."
        spec = self._commands.get(form.ref) if form.action == FORM_ACTION else None
        return spec or "This form is not one this bot understands."


def typed_options(spec: CommandSpec, fields: tuple[InvokedOption, ...]) -> tuple[InvokedOption, ...]:
    """A form's text, as the options a slash command would have sent: typed where the text reads as
    the option's type, left as text (for the usual checks to refuse, saying why) where it does not;
    an empty field is an option left out."""
    typed = []
    for field in fields:
        text = str(field.value).strip()
        option = spec.option(field.name)
        if option is None or not text:
            if option is None:
                typed.append(field)
            continue
        typed.append(InvokedOption(field.name, *_typed(option.type, text)))
    return tuple(typed)


def _typed(kind: OptionType, text: str) -> tuple[int, object]:
    try:
        if kind == "integer":
            return DISCORD_OPTION_TYPES[kind], int(text)
        if kind == "number":
            number = float(text)
            if math.isfinite(number):
                return DISCORD_OPTION_TYPES[kind], number
        if kind == "boolean" and text.lower() in _TRUE | _FALSE:
            return DISCORD_OPTION_TYPES[kind], text.lower() in _TRUE
    except ValueError:
        pass
    return DISCORD_OPTION_TYPES["string"], text


def _text(value: OptionValue) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _hint(kind: str, choices: tuple[OptionValue, ...] | None) -> str:
    if choices:
        return "one of: " + ", ".join(_text(choice) for choice in choices)
    return {"integer": "a whole number", "number": "a number", "boolean": "true or false"}.get(kind, "")
