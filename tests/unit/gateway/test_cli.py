"""Without the `gateway` extra (a plain `pip install -e .`), `gateway` and `demo --gateway` say what
to install, with status 2 and no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

WITHOUT_THE_EXTRA = (
    "import sys; sys.modules['discord'] = None; sys.modules['aiohttp'] = None;"
    "from orchestrator.cli import main; raise SystemExit(main(sys.argv[1:]))"
)


@pytest.mark.parametrize("arguments", [["gateway"], ["demo", "--gateway"]])
def test_without_discord_py_it_says_what_to_install(arguments: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_THE_EXTRA, *arguments], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 2
    assert "needs discord.py" in done.stderr and "[gateway]" in done.stderr
    assert "Traceback" not in done.stderr
