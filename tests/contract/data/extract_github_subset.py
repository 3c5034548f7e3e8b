"""Cut the few GitHub operations the orchestrator uses out of octokit's OpenAPI description.

Run by hand (the tests only read the output)::

    python tests/contract/data/extract_github_subset.py \\
        <unpacked @octokit/openapi>/package/generated/api.github.com.json

The full description is ~13 MB, far too big to vendor, so we keep only the operations in
``OPERATIONS`` plus every ``components`` entry they reach through ``$ref`` (followed
transitively).  References stay references: the subset keeps the upstream shape, so a
diff against a newer upstream is readable and the helper resolves refs exactly as it
would for the whole document.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# (method, templated path) exactly as spelled in GitHub's description.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("post", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"),
    ("get", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs"),
    ("get", "/repos/{owner}/{repo}/actions/runs/{run_id}"),
    ("get", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs"),
    ("post", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel"),
    ("post", "/repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs"),
    ("get", "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs"),
    ("get", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations"),
    ("get", "/repos/{owner}/{repo}/contents/{path}"),
    ("get", "/repos/{owner}/{repo}/branches"),
    ("get", "/repos/{owner}/{repo}/tags"),
    ("get", "/repos/{owner}/{repo}/environments"),
    ("get", "/repos/{owner}/{repo}/activity"),
)

# Top-level keys copied verbatim: `servers` tells the helper the base path ("" for GitHub).
KEPT_TOP_LEVEL = ("openapi", "info", "servers", "externalDocs")

# Path-item keys that are not operations but apply to all of them.
PATH_ITEM_SHARED = ("parameters", "servers", "summary", "description")

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "github-openapi-subset.json"


def _iter_refs(node: Any) -> list[str]:
    """Every ``$ref`` string anywhere below ``node`` (schemas, examples, extensions alike)."""
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


def _component_key(ref: str) -> tuple[str, str]:
    """``#/components/schemas/foo[/deeper...]`` -> ("schemas", "foo").

    A ref that points *inside* a component still needs the whole component copied.
    """
    if not ref.startswith("#/components/"):
        raise ValueError(f"only local component refs are supported, got {ref!r}")
    parts = ref[len("#/") :].split("/")
    if len(parts) < 3:
        raise ValueError(f"ref does not name a component: {ref!r}")
    # JSON Pointer unescaping (~1 is '/', ~0 is '~'); component names rarely need it.
    kind, name = (p.replace("~1", "/").replace("~0", "~") for p in parts[1:3])
    return kind, name


def extract(document: dict[str, Any]) -> dict[str, Any]:
    """Return the subset document: chosen operations plus the transitive closure of their refs."""
    subset: dict[str, Any] = {k: document[k] for k in KEPT_TOP_LEVEL if k in document}
    paths: dict[str, Any] = {}
    for method, template in OPERATIONS:
        item = document["paths"][template]
        if method not in item:
            raise KeyError(f"{method.upper()} {template} is not in the source document")
        kept = paths.setdefault(template, {k: item[k] for k in PATH_ITEM_SHARED if k in item})
        kept[method] = item[method]
    subset["paths"] = paths

    components: dict[str, dict[str, Any]] = {}
    pending = _iter_refs(paths)
    seen: set[tuple[str, str]] = set()
    while pending:
        key = _component_key(pending.pop())
        if key in seen:
            continue
        seen.add(key)
        kind, name = key
        value = document["components"][kind][name]
        components.setdefault(kind, {})[name] = value
        pending.extend(_iter_refs(value))
    subset["components"] = components
    return subset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="octokit's generated/api.github.com.json")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    document = json.loads(args.source.read_text(encoding="utf-8"))
    subset = extract(document)
    # Sorted keys + fixed indent: regenerating after an upstream bump gives a reviewable diff.
    text = json.dumps(subset, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    args.output.write_text(text, encoding="utf-8")
    counts = {kind: len(entries) for kind, entries in sorted(subset["components"].items())}
    sys.stderr.write(
        f"wrote {args.output} ({len(text.encode())} bytes); info.version={subset['info'].get('version')}; "
        f"components: {counts}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
