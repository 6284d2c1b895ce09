"""What ``import automate_lite`` loads, checked in a fresh interpreter: the standard
library only (no ``dataclasses``: the settings and clients load on first use), and none
of the optional libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NEVER = ["globus_sdk", "requests", "aiohttp", "httpx", "jsonschema", "click", "typer", "asyncio"]


def loaded_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_loads_no_dataclasses_and_no_optional_library() -> None:
    modules = loaded_after("import automate_lite")
    assert "automate_lite" in modules
    assert "dataclasses" not in modules
    assert "automate_lite._core.session" not in modules
    assert "urllib3" not in modules  # loaded with the first sync client
    for name in NEVER:
        assert name not in modules, name


def test_exceptions_and_values_need_no_dataclasses() -> None:
    modules = loaded_after(
        "from automate_lite import DeadlineExceeded, Request, Response, MISSING, UsageError, run_sync"
    )
    assert "dataclasses" not in modules


def test_the_settings_load_dataclasses_on_first_use() -> None:
    modules = loaded_after("import automate_lite\nautomate_lite.RetryPolicy(deadline=5)")
    assert "dataclasses" in modules and "automate_lite._core.session" in modules
    modules = loaded_after("from automate_lite._core.http import Session")
    assert "automate_lite._core.session" in modules
