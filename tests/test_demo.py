"""The README's first command: the demo runs as a new user would run it."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_demo_runs_end_to_end(tmp_path: pathlib.Path) -> None:
    # Run a copy from a scratch folder so demo-output/ lands there, not in the checkout.
    shutil.copy(ROOT / "demo.py", tmp_path / "demo.py")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run(
        [sys.executable, "demo.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "demo finished OK" in done.stderr
    assert '"caught": "ActionFailed"' in done.stdout
    assert "FlowSucceeded" in done.stdout
    assert "50/50 concurrent runs SUCCEEDED" in done.stdout
    mermaid = (tmp_path / "demo-output" / "flow.mmd").read_text()
    dot = (tmp_path / "demo-output" / "flow.dot").read_text()
    assert mermaid.startswith("flowchart") and "LongOrShort" in mermaid
    assert dot.startswith("digraph") and "TryTheFlakyOne" in dot
