"""The commands file as the Lambda artifact holds it, for what runs the functions outside one."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestrator.commands.compiled import compile_commands
from orchestrator.commands.loader import PROMPTS_FOLDER
from orchestrator.settings import DEFAULT_COMMANDS_FILE


def deployed_commands_file(folder: Path) -> Path:
    """The repository's commands.yaml copied into `folder` with its prompts, and compiled, as
    `make build-…` leaves them (Makefile)."""
    commands_file = folder / DEFAULT_COMMANDS_FILE.name
    shutil.copy(DEFAULT_COMMANDS_FILE, commands_file)
    shutil.copytree(DEFAULT_COMMANDS_FILE.parent / PROMPTS_FOLDER, folder / PROMPTS_FOLDER)
    compile_commands(commands_file)
    return commands_file
