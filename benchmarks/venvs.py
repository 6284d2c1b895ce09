"""The contenders' virtual environments, made under ``benchmarks/.venvs/`` and reused.

Each venv is rebuilt only when what it was asked to hold changes (its requirements, the
Python, or the project's ``pyproject.toml``). The ``al-min`` venv holds an installed copy
(not editable) of automate-lite with its runtime requirements only, for the size and
import measures; when the package's source changes, just the project is reinstalled.
A venv that cannot be built (no network, say) is reported and its contenders skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

__all__ = ["VenvSpec", "Venv", "SPECS", "REPO", "VENV_ROOT", "prepare"]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_ROOT = os.path.join(REPO, "benchmarks", ".venvs")


@dataclass(frozen=True)
class VenvSpec:
    """What one venv holds: PyPI requirements, and the project (editable or not) or not."""

    name: str
    purpose: str
    requirements: tuple[str, ...] = ()
    project: str | None = None  # None, "installed" or "editable"
    #: Modules whose importability is reported (contenders that need them are skipped if not).
    probe: tuple[str, ...] = ()


SPECS: dict[str, VenvSpec] = {
    s.name: s
    for s in (
        VenvSpec("empty", "baseline for installed size"),
        VenvSpec("urllib3", "the floor: urllib3 alone", ("urllib3",), probe=("urllib3",)),
        VenvSpec("al-min", "automate-lite, runtime requirements only (installed copy)", (), "installed", ("automate_lite",)),
        VenvSpec(
            "al",
            "automate-lite (editable) + aiohttp + httpx for the adapters; raw urllib3/aiohttp run here too",
            ("aiohttp", "httpx"),
            "editable",
            ("automate_lite", "automate_lite.transports.aiohttp", "automate_lite.transports.httpx", "aiohttp", "httpx", "urllib3"),
        ),
        VenvSpec("sdk4", "globus-sdk 4 (latest 4.x)", ("globus-sdk>=4,<5",), probe=("globus_sdk",)),
        VenvSpec("sdk3", "globus-sdk 3 (latest 3.x)", ("globus-sdk>=3,<4",), probe=("globus_sdk",)),
        VenvSpec(
            "gac",
            "globus-automate-client 0.18.0 (exact pin: 0.19 is an end-of-life stub)",
            ("globus-automate-client==0.18.0",),
            probe=("globus_automate_client",),
        ),
    )
}


@dataclass
class Venv:
    """A venv as found or built: its interpreter, or why there is none."""

    spec: VenvSpec
    path: str
    python: str | None = None
    error: str | None = None
    action: str = ""  # "reused", "built", "project reinstalled"
    importable: dict[str, str] = field(default_factory=dict)  # module -> "ok" or the error
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the venv has an interpreter and its install succeeded."""
        return self.python is not None and self.error is None

    def can_import(self, module: str) -> bool:
        """True if ``module`` imported in the probe."""
        return self.importable.get(module) == "ok"

    @property
    def site_packages(self) -> str:
        """The venv's site-packages directory."""
        v = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        return os.path.join(self.path, "lib", v, "site-packages")


def _hash_files(paths: list[str]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.encode())
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def project_source_hash() -> str:
    """A hash of the package's source files and its packaging metadata."""
    files = [os.path.join(REPO, "pyproject.toml")]
    for root, dirs, names in os.walk(os.path.join(REPO, "automate_lite")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        files.extend(os.path.join(root, n) for n in names if n.endswith((".py", ".typed")))
    return _hash_files(files)


def _key(spec: VenvSpec) -> dict[str, object]:
    key: dict[str, object] = {
        "requirements": list(spec.requirements),
        "project": spec.project,
        "python": sys.version,
        "executable": os.path.realpath(sys.executable),
    }
    if spec.project:
        key["pyproject"] = _hash_files([os.path.join(REPO, "pyproject.toml")])
    return key


def _pip(python: str, args: list[str], log: str) -> None:
    cmd = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *args]
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=True, timeout=900)


def _build(spec: VenvSpec, rebuild: bool, offline: bool) -> Venv:
    path = os.path.join(VENV_ROOT, spec.name)
    venv = Venv(spec, path)
    python = os.path.join(path, "bin", "python")
    marker = os.path.join(path, "bench-spec.json")
    log = path + ".log"
    key = _key(spec)
    try:
        with open(marker) as f:
            found = json.load(f)
    except (OSError, ValueError):
        found = None
    try:
        if not rebuild and found is not None and found.get("key") == key and os.path.exists(python):
            venv.action = "reused"
        else:
            if offline:
                venv.error = "not built yet and --offline was given"
                return venv
            shutil.rmtree(path, ignore_errors=True)
            with open(log, "w") as f:
                f.write(f"building {spec.name}: {spec.purpose}\n")
            subprocess.run([sys.executable, "-m", "venv", path], check=True, capture_output=True, timeout=300)
            args = list(spec.requirements)
            if spec.project == "editable":
                args += ["-e", REPO]
            if args:
                _pip(python, args, log)
            found = {"key": key}
            venv.action = "built"
        if spec.project == "installed":
            src = project_source_hash()
            if found.get("source") != src:
                if offline:
                    venv.action += " (project source changed; --offline: not reinstalled)"
                elif venv.action == "built":
                    _pip(python, [REPO], log)  # with its runtime requirements
                    found["source"] = src
                else:
                    _pip(python, ["--force-reinstall", "--no-deps", REPO], log)
                    venv.action = "reused, project reinstalled"
                    found["source"] = src
        with open(marker, "w") as f:
            json.dump(dict(found, key=key), f)
        venv.python = python
    except subprocess.CalledProcessError as e:
        venv.error = f"install failed (exit {e.returncode}); see {os.path.relpath(log, REPO)}: {_tail(log)}"
    except (OSError, subprocess.SubprocessError) as e:
        venv.error = f"{type(e).__name__}: {e}"
    return venv


def _tail(log: str) -> str:
    try:
        with open(log) as f:
            lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("WARNING: Location")]
    except OSError:
        return ""
    return (lines[-1] if lines else "")[:200]


_PROBE = r"""
import importlib, json, sys
from importlib import metadata
out = {"importable": {}, "versions": {}}
for m in sys.argv[1:]:
    try:
        importlib.import_module(m)
        out["importable"][m] = "ok"
    except Exception as e:
        out["importable"][m] = f"{type(e).__name__}: {e}"[:200]
for d in metadata.distributions():
    name = d.metadata["Name"]
    if name:
        out["versions"][name.lower()] = d.version
print(json.dumps(out))
"""


def _probe(venv: Venv) -> None:
    if not venv.ok or venv.python is None:
        return
    try:
        p = subprocess.run(
            [venv.python, "-I", "-c", _PROBE, *venv.spec.probe], capture_output=True, text=True, timeout=120, check=True
        )
        data = json.loads(p.stdout.strip().splitlines()[-1])
        venv.importable = data["importable"]
        venv.versions = data["versions"]
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as e:
        venv.error = f"probe failed: {type(e).__name__}"


def prepare(names: list[str], rebuild: bool = False, offline: bool = False) -> dict[str, Venv]:
    """Find or build the named venvs (three at a time), then probe what imports in each."""
    os.makedirs(VENV_ROOT, exist_ok=True)
    with ThreadPoolExecutor(3) as ex:
        built = dict(zip(names, ex.map(lambda n: _build(SPECS[n], rebuild, offline), names)))
    editable = [v for n, v in built.items() if v.ok and v.python and SPECS[n].project == "editable"]
    if editable and editable[0].python:
        # An editable venv imports the checkout's own files: compile them now, so that a
        # stale __pycache__ (PYTHONDONTWRITEBYTECODE, or a checkout edited since) is not
        # recompiled in every measured process.
        subprocess.run(
            [editable[0].python, "-m", "compileall", "-q", os.path.join(REPO, "automate_lite")],
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    with ThreadPoolExecutor(3) as ex:
        list(ex.map(_probe, built.values()))
    return built
