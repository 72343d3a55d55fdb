"""Imports point one way (README, Layout): handlers → views and domain → models. Checked in
fresh interpreters, where nothing else has loaded the upper layers first."""

from __future__ import annotations

import subprocess
import sys

import pytest

ABOVE = {
    "models": ("bot.domain", "bot.views", "bot.webapp", "handlers", "aiogram"),
    "bot.domain.cases": ("bot.views", "bot.webapp", "handlers", "aiogram"),
    "bot.domain.evidence": ("bot.views", "bot.webapp", "handlers", "aiogram"),
}


@pytest.mark.parametrize("module", list(ABOVE))
def test_a_layer_loads_nothing_above_it(module: str) -> None:
    code = (
        "import sys\n"
        f"import {module}\n"
        f"above = {ABOVE[module]!r}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in above or "
        "any(m == a or m.startswith(a + '.') for a in above))\n"
        "print(loaded); sys.exit(bool(loaded))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_handlers_hold_no_words() -> None:
    """What a person reads is written in the view layer; a handler passes the facts on."""
    import ast
    from pathlib import Path

    translating = {"_", "_n", "tr", "ntr", "N_"}
    found = []
    for path in sorted(Path(__file__).resolve().parents[2].joinpath("handlers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in translating:
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
