"""Start-up time of the ``automate-lite`` command against ``globus flows`` (globus-cli).

    python -m benchmarks.cli_bench [--repeat N]

Measured in one run, each a fresh process, median of N wall-clock times:

* ``python -c pass``: the interpreter alone (the floor);
* ``automate-lite --help`` (as ``python -m automate_lite --help`` from this checkout);
* ``automate-lite flow list`` against a local Flows service on 127.0.0.1 (one real
  request, the whole path: parse, client, urllib3, HTTP, table);
* ``globus flows list --help`` from globus-cli (beside this Python, on ``PATH``, or in
  ``benchmarks/.venvs/globus-cli``, built by ``--install-peer``); skipped if absent.

Prints the times and the ratios globus-cli / automate-lite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Sequence

from .venvs import REPO, VENV_ROOT

__all__ = ["main"]

GLOBUS_CLI_VENV = os.path.join(VENV_ROOT, "globus-cli")


def _globus_cli(install: bool) -> str | None:
    """globus-cli's ``globus``: beside this Python, on ``PATH``, or in the benchmarks'
    own venv (``benchmarks/.venvs/globus-cli``, built only with ``--install-peer``: pip
    would otherwise change the globus-sdk version of the environment running this).
    None (the row is skipped) when there is none."""
    for exe in (os.path.join(os.path.dirname(sys.executable), "globus"), shutil.which("globus"),
                os.path.join(GLOBUS_CLI_VENV, "bin", "globus")):
        if exe and os.path.exists(exe):
            return exe
    if not install:
        print("globus-cli is not installed (pass --install-peer to build its venv); its row is skipped",
              file=sys.stderr)
        return None
    exe = os.path.join(GLOBUS_CLI_VENV, "bin", "globus")
    try:
        subprocess.run([sys.executable, "-m", "venv", GLOBUS_CLI_VENV], check=True, timeout=300)
        subprocess.run([os.path.join(GLOBUS_CLI_VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check",
                        "globus-cli"], check=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as e:
        print(f"globus-cli could not be installed ({e}); its row is skipped", file=sys.stderr)
        return None
    return exe if os.path.exists(exe) else None


def _time(cmd: Sequence[str], repeat: int, env: dict[str, str]) -> float:
    """Median seconds of ``repeat`` runs of ``cmd`` (one warm-up run first, for the file cache)."""
    times = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        done = subprocess.run(list(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=120)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-300:]}")
        if i:
            times.append(elapsed)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measures and print them; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs per measure (median taken)")
    parser.add_argument("--install-peer", action="store_true",
                        help="build benchmarks/.venvs/globus-cli if globus-cli is not found")
    args = parser.parse_args(argv)

    from automate_lite.testing import FlowsStub

    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop("GLOBUS_SDK_SERVICE_URL_FLOWS", None)
    py = sys.executable
    results: dict[str, float] = {}
    with FlowsStub() as flows:
        results["python -c pass"] = _time([py, "-c", "pass"], args.repeat, env)
        results["automate-lite --help"] = _time([py, "-m", "automate_lite", "--help"], args.repeat, env)
        results["automate-lite flow list (loopback)"] = _time(
            [py, "-m", "automate_lite", "flow", "list", "--flows-url", flows.url, "--format", "text"], args.repeat, env)
    globus = _globus_cli(args.install_peer)
    if globus is not None:
        results["globus flows list --help"] = _time([globus, "flows", "list", "--help"], args.repeat, env)

    print(f"median of {args.repeat} runs each, Python {sys.version.split()[0]}")
    for name, seconds in results.items():
        print(f"  {name:<38} {seconds * 1000:8.1f} ms")
    peer = results.get("globus flows list --help")
    if peer is not None:
        for name in ("automate-lite --help", "automate-lite flow list (loopback)"):
            print(f"  globus flows list --help / {name}: {peer / results[name]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
