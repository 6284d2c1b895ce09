"""Starting the local Flows service without its testing extra fails at once, in one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from automate_lite.errors import UsageError
from automate_lite.testing.flows import FlowsStub
from automate_lite.testing.providers.services import LocalGlobus

ROOT = Path(__file__).resolve().parent.parent


def test_flows_stub_without_jsonschema_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import jsonschema now raises ImportError
    stub = FlowsStub()
    with pytest.raises(UsageError, match=r"pip install 'automate-lite\[testing\]'") as info:
        stub.start()
    assert "\n" not in str(info.value)
    stub.stop()  # stopping a stub that never started is harmless
    with pytest.raises(UsageError, match="jsonschema"):
        with LocalGlobus():
            pass


def test_the_command_line_says_so_in_one_line() -> None:
    code = ("import sys; sys.modules['jsonschema'] = None; "
            "from automate_lite.testing.__main__ import main; sys.exit(main(['flows']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "automate-lite[testing]" in lines[0] and lines[0].startswith("error:")


def test_with_jsonschema_it_starts() -> None:
    with FlowsStub() as stub:
        assert stub.url.startswith("http://127.0.0.1:")
