"""A workflow file's YAML read as GitHub reads it: every scalar stays the text written.

A module of its own so that PyYAML (~11 ms of a cold start) loads where workflow files are read
(the worker, `validate`), not on the interactions function's path, which only reads cached results.
"""

from __future__ import annotations

import yaml


class NotWorkflowYaml(ValueError):
    """The text is not valid YAML; the message is the parser's first line."""


def read_workflow_yaml(text: str) -> object:
    try:
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise NotWorkflowYaml(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


class _Loader(getattr(yaml, "CBaseLoader", yaml.BaseLoader)):  # type: ignore[misc]
    """Every scalar as its text (the C loader when libyaml is there)."""
