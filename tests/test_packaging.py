"""What a pip user gets: the built wheel and sdist, installed in a fresh virtual environment.

One session-scoped build (``python -m build``, sdist and wheel) feeds every test, and
one session-scoped venv holds the wheel installed with ``[testing]`` (pip resolves from
whatever index this machine is configured with). From a folder with no checkout on its
path: a user's own pytest file, using only the plugin's fixtures, passes; the installed
``automate-lite`` console script serves ``local`` (with a collection and a Compute
function), deploys a flow with Transfer and Compute states and runs it with
``--watch``. The sdist is unpacked and its own tests run from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    # nothing of this checkout may leak into the child's imports
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], check=True,
                   capture_output=True, text=True, timeout=300, env=_env())
    (wheel,) = out.glob("automate_lite-*.whl")
    (sdist,) = out.glob("automate_lite-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_wheel_metadata(dist: dict[str, Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as whl:
        names = whl.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(whl.read(meta_name).decode())
        entry_points = whl.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "automate_lite/testing/plugin.py" in names
    assert "automate_lite/testing/providers/transfer.py" in names
    assert "automate_lite/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "stubs/")) for n in names)
    assert meta["License-Expression"] == "Apache-2.0"
    classifiers = meta.get_all("Classifier")
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    # No Project-URL yet: the project has no public home to point at, and a guessed
    # URL would send redistributors somewhere wrong.
    assert meta.get_all("Project-URL") is None
    assert "[pytest11]" in entry_points and "automate_lite.testing.plugin" in entry_points
    requires = meta.get_all("Requires-Dist")
    core = sorted(r for r in requires if "extra ==" not in r)
    assert core == ["typing-extensions>=4.1", "urllib3<3,>=1.26"]
    assert any(r.startswith("pytest") and 'extra == "testing"' in r for r in requires)


USER_TEST = '''
def double(n):
    return 2 * n


def test_offline_flow(automate_flows, automate_providers, automate_collection):
    src = automate_collection("src", files={"data.txt": "payload"})
    dst = automate_collection("dst")
    fid = automate_providers.compute.register(double)
    definition = {"StartAt": "Copy", "States": {
        "Copy": {"Type": "Action", "ActionUrl": "https://transfer.actions.globus.org/transfer",
                 "Parameters": {"source_endpoint.$": "$.src", "destination_endpoint.$": "$.dst",
                                "DATA": [{"source_path": "/~/data.txt", "destination_path": "/~/copy.txt"}]},
                 "ResultPath": "$.copy", "Next": "Double"},
        "Double": {"Type": "Action", "ActionUrl": "https://compute.actions.globus.org",
                   "Parameters": {"endpoint": "e", "function.$": "$.fn", "args.$": "$.copy.details.files"},
                   "ResultPath": "$.doubled", "End": True}}}
    flow = automate_flows.deploy_flow(definition, title="installed")
    run = automate_flows.run_flow(flow["id"], None, {"src": src.id, "dst": dst.id, "fn": fid})
    final = automate_flows.wait_for_run(run["run_id"], timeout=60, initial_delay=0.05)
    assert final["status"] == "SUCCEEDED", final["details"]
    assert final["details"]["output"]["doubled"]["details"]["result"] == [2]
    assert (dst.path / "copy.txt").read_text() == "payload"


def test_the_plugin_came_from_the_installed_wheel():
    import automate_lite.testing.plugin as plugin
    assert "site-packages" in plugin.__file__
'''


@pytest.fixture(scope="session")
def installed(dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with ``automate_lite-*.whl[testing]`` installed; returns its ``bin`` folder."""
    venv = tmp_path_factory.mktemp("wheel-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=_env())
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    f"{dist['wheel']}[testing]"], check=True, capture_output=True, timeout=300, env=_env())
    return venv / "bin"


def test_wheel_with_testing_extra_in_a_fresh_venv(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "user-project"
    work.mkdir()
    (work / "test_mine.py").write_text(USER_TEST)
    done = subprocess.run([str(installed / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mine.py"],
                          cwd=work, capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


USER_FUNCTIONS = '''
def count_files(files):
    return {"files": files, "doubled": 2 * files}
'''

CLI_FLOW = {"StartAt": "Copy", "States": {
    "Copy": {"Type": "Action", "ActionUrl": "https://transfer.actions.globus.org/transfer",
             "Parameters": {"source_endpoint": "src-collection", "destination_endpoint": "dst-collection",
                            "DATA": [{"source_path.$": "$.path", "destination_path": "/~/copied.txt"}]},
             "ResultPath": "$.copy", "Next": "Count"},
    "Count": {"Type": "Action", "ActionUrl": "https://compute.actions.globus.org",
              "Parameters": {"endpoint": "local", "function": "count-fn", "args.$": "$.copy.details.files"},
              "ResultPath": "$.counted", "End": True}}}


@pytest.fixture
def local_services(installed: Path, tmp_path: Path) -> Iterator[tuple[dict[str, object], Path]]:
    """``automate-lite local`` from the installed wheel, in a folder outside the checkout."""
    work = tmp_path / "cli-user"
    (work / "src").mkdir(parents=True)
    (work / "src" / "data.txt").write_text("offline payload\n")
    (work / "my_functions.py").write_text(USER_FUNCTIONS)
    local = subprocess.Popen(
        [str(installed / "automate-lite"), "local", "--format", "json", "--collection", "src-collection=src",
         "--collection", "dst-collection=dst", "--function", "count-fn=my_functions:count_files"],
        cwd=work, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert local.stdout is not None
        text = ""
        while not text.rstrip().endswith("}") or text.count("{") != text.count("}"):
            line = local.stdout.readline()
            assert line, local.stderr.read() if local.stderr else "automate-lite local ended"
            text += line
        yield json.loads(text), work
    finally:
        local.terminate()
        local.wait(timeout=30)
    assert local.returncode == 0, local.stderr.read() if local.stderr else ""


def test_installed_cli_local_deploy_and_watch_a_transfer_compute_flow(
        installed: Path, local_services: tuple[dict[str, object], Path]) -> None:
    urls, work = local_services
    assert urls["collections"] == {"src-collection": str(work / "src"), "dst-collection": str(work / "dst")}
    exe = str(installed / "automate-lite")

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *argv, "--flows-url", str(urls["flows"])], cwd=work, env=_env(),
                              capture_output=True, text=True, timeout=120)

    (work / "flow.json").write_text(json.dumps(CLI_FLOW))
    deployed = cli("flow", "deploy", "flow.json", "--title", "copy and count")
    assert deployed.returncode == 0, deployed.stderr
    flow_id = json.loads(deployed.stdout)["id"]
    watched = cli("flow", "run", flow_id, "--input", '{"path": "/~/data.txt"}', "--watch", "--format", "text",
                  "--interval", "0.1")
    assert watched.returncode == 0, watched.stdout + watched.stderr
    lines = watched.stdout.splitlines()
    # live progress, state by state, then the final document
    assert any("ActionStarted" in ln and "[Copy]" in ln for ln in lines), watched.stdout
    assert any("ActionCompleted" in ln and "[Count]" in ln for ln in lines), watched.stdout
    assert any(ln.startswith("status") and "SUCCEEDED" in ln for ln in lines), watched.stdout
    assert (work / "dst" / "copied.txt").read_text() == "offline payload\n"
    run_id = next(ln.split()[1] for ln in lines if ln.startswith("run_id"))
    got = cli("run", "get", run_id, "--format", "json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["details"]["output"]["counted"]["details"]["result"] == [{"files": 1, "doubled": 2}]


def test_sdist_carries_its_tests_and_they_run_from_it(dist: dict[str, Path], tmp_path: Path) -> None:
    with tarfile.open(dist["sdist"]) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path, filter="data") if sys.version_info >= (3, 12) else tar.extractall(tmp_path)
    (top,) = {n.split("/", 1)[0] for n in names}
    for needed in ("LICENSE", "CHANGELOG.md", "CONTRIBUTING.md", "SECURITY.md", "setup.cfg",
                   "tests/conftest.py", "tests/test_providers.py", "stubs/__main__.py", "demo.py"):
        assert f"{top}/{needed}" in names, needed
    assert not any("__pycache__" in n for n in names)
    unpacked = tmp_path / top
    # a quick, representative part of the suite (the whole of it runs the same way, in minutes)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_providers.py", "tests/test_validation.py"],
                          cwd=unpacked, capture_output=True, text=True, timeout=300, env=_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    probe = subprocess.run([sys.executable, "-c", "import automate_lite; print(automate_lite.__file__)"],
                           cwd=unpacked, capture_output=True, text=True, timeout=60, env=_env())
    assert probe.stdout.strip().startswith(str(unpacked))
