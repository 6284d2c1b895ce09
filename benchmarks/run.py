"""``python -m benchmarks``: automate-lite side by side with its peers, in one run.

Every measure runs each contender in fresh processes, in its own virtual environment
(made under ``benchmarks/.venvs/`` and reused), several times, alternating the
contenders between repetitions; the tables give medians and ratios to the floor (raw
urllib3, or urllib3 alone). A stdlib asyncio server in its own process stands in for
the Flows service and an Action Provider on 127.0.0.1. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .certs import Certs, make_certs
from .venvs import REPO, SPECS, Venv, prepare

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = os.path.join(HERE, "child.py")
SERVER = os.path.join(HERE, "server.py")
MEASURES = ("import", "first", "size", "seq", "burst", "tls")


def log(msg: str) -> None:
    """Progress, on stderr (the report goes to stdout)."""
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# -- settings --------------------------------------------------------------------------


@dataclass
class Settings:
    """How much of each measure to run (``--quick`` shrinks it)."""

    import_reps: int = 10
    first_reps: int = 7
    seq_reps: int = 5
    seq_n: int = 2000
    seq_warmup: int = 200
    calls_n: int = 200
    burst_reps: int = 4
    polls: int = 500
    bursts_fast: int = 5
    bursts_slow: int = 2
    tls_reps: int = 3
    tls_n: int = 100
    profile_n: int = 1000

    @classmethod
    def quick(cls) -> "Settings":
        """About a minute and a half once the venvs exist."""
        return cls(
            import_reps=3, first_reps=2, seq_reps=1, seq_n=500, seq_warmup=100, calls_n=100,
            burst_reps=1, bursts_fast=2, bursts_slow=1, tls_reps=1, tls_n=30, profile_n=300,
        )


# -- contenders ------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One row of a table: a contender run by ``child.py`` (``key``) in ``venv``."""

    label: str
    key: str
    venv: str
    needs: tuple[str, ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()
    floor: bool = False


AL = ("automate_lite",)
AIOHTTP = ("automate_lite", "automate_lite.transports.aiohttp", "aiohttp")
HTTPX = ("automate_lite", "automate_lite.transports.httpx", "httpx")

U3 = Entry("urllib3 PoolManager (floor)", "urllib3", "al", ("urllib3",), floor=True)
AL_ACTION = Entry("automate-lite ActionClient.status", "al-action", "al", AL)
AL_FLOWS = Entry("automate-lite FlowsClient.get_run", "al-flows", "al", AL)
AL_ASYNC = Entry("automate-lite AsyncFlowsClient, default transport", "al-async", "al", AL)
AL_AIOHTTP = Entry("automate-lite AsyncFlowsClient + aiohttp session", "al-aiohttp", "al", AIOHTTP)
AL_HTTPX = Entry("automate-lite AsyncFlowsClient + httpx client", "al-httpx", "al", HTTPX)
AIOHTTP_RAW = Entry("raw aiohttp session", "aiohttp", "al", ("aiohttp",))
HTTPX_RAW = Entry("raw httpx AsyncClient", "httpx", "al", ("httpx",))
SDK4 = Entry("globus-sdk 4 FlowsClient.get_run", "sdk4", "sdk4", ("globus_sdk",))
SDK3 = Entry("globus-sdk 3 FlowsClient.get_run", "sdk3", "sdk3", ("globus_sdk",))
GAC = Entry("globus-automate-client 0.18 flow_action_status", "gac", "gac", ("globus_automate_client",))
GAC_ACTION = Entry("globus-automate-client 0.18 ActionClient.status", "gac-action", "gac", ("globus_automate_client",))

RUNTIME = [U3, AL_ACTION, AL_FLOWS, AL_ASYNC, AL_AIOHTTP, AL_HTTPX, AIOHTTP_RAW, HTTPX_RAW, SDK4, SDK3, GAC, GAC_ACTION]


def _moved(e: Entry, venv: str, label: str | None = None) -> Entry:
    return Entry(label or e.label, e.key, venv, e.needs, e.extra, e.floor)


# New process to first status: the sync clients and the async default from the
# installed copy (al-min), the floor from the urllib3-only venv.
FIRST = [
    _moved(U3, "urllib3"),
    _moved(AL_ACTION, "al-min"),
    _moved(AL_FLOWS, "al-min"),
    _moved(AL_ASYNC, "al-min"),
    AL_AIOHTTP,
    AL_HTTPX,
    AIOHTTP_RAW,
    SDK4,
    SDK3,
    GAC,
    GAC_ACTION,
]


def _threads(e: Entry, n: int, label: str | None = None, floor: bool = False) -> Entry:
    return Entry(label or f"{e.label}, {n} threads", e.key, e.venv, e.needs, (("threads", n), ("maxsize", 16)), floor)


BURST = [
    _threads(U3, 16, "urllib3 PoolManager(maxsize=16, block=True), 16 threads (floor)", floor=True),
    _threads(U3, 64, "urllib3 PoolManager(maxsize=16, block=True), 64 threads"),
    _threads(AL_FLOWS, 16, "automate-lite FlowsClient shared by 16 threads"),
    _threads(AL_FLOWS, 64, "automate-lite FlowsClient shared by 64 threads"),
    AL_ASYNC,
    AL_AIOHTTP,
    AL_HTTPX,
    AIOHTTP_RAW,
    HTTPX_RAW,
    _threads(SDK4, 16, "globus-sdk 4 FlowsClient shared by 16 threads"),
    _threads(GAC, 16, "globus-automate-client 0.18 FlowsClient shared by 16 threads"),
]

TLS = [
    Entry("urllib3, one shared SSLContext (floor)", "urllib3", "al", ("urllib3",), (("shared_ctx", True),), floor=True),
    Entry("urllib3 PoolManager(ca_certs=...)", "urllib3", "al", ("urllib3",)),
    Entry("automate-lite FlowsClient, Urllib3Transport(ca_certs=...)", "al-flows", "al", AL),
    Entry("automate-lite FlowsClient, default trust store", "al-flows", "al", AL, (("default_trust", True),)),
    AL_ASYNC,
    AL_AIOHTTP,
    AIOHTTP_RAW,
    SDK4,
    SDK3,
    GAC,
]

_IMPORT_CODE = {
    "urllib3": "import urllib3",
    "automate_lite": "import automate_lite\nautomate_lite.FlowsClient\nautomate_lite.ActionClient",
    "automate_lite_client": "import automate_lite\nautomate_lite.FlowsClient.new_client(None, None, None)",
    "sdk": "from globus_sdk import FlowsClient",
    "gac": "import globus_automate_client",
}


@dataclass(frozen=True)
class ImportEntry:
    """One row of the import table: ``code`` run in a fresh ``venv`` interpreter."""

    label: str
    venv: str
    code: str
    floor: bool = False


IMPORTS = [
    ImportEntry("import urllib3 (floor)", "urllib3", _IMPORT_CODE["urllib3"], True),
    ImportEntry("import automate_lite (+ FlowsClient, ActionClient)", "al-min", _IMPORT_CODE["automate_lite"]),
    ImportEntry("import automate_lite + FlowsClient.new_client() (loads urllib3)", "al-min", _IMPORT_CODE["automate_lite_client"]),
    ImportEntry("from globus_sdk import FlowsClient (4.x)", "sdk4", _IMPORT_CODE["sdk"]),
    ImportEntry("from globus_sdk import FlowsClient (3.x)", "sdk3", _IMPORT_CODE["sdk"]),
    ImportEntry("import globus_automate_client (0.18)", "gac", _IMPORT_CODE["gac"]),
]

# Peak RSS is VmHWM: a child's ru_maxrss starts at its parent's peak on Linux.
_IMPORT_SCRIPT = """import time, sys
t0 = time.perf_counter()
{code}
t1 = time.perf_counter()
with open("/proc/self/status") as f:
    r = [int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")][0]
sys.stdout.write("RESULT %r %d %d\\n" % (t1 - t0, r, len(sys.modules)))
"""

# -- running children ------------------------------------------------------------------


class ChildError(Exception):
    """A child process failed; the message is short and printable."""


@dataclass
class Outcome:
    """What the repetitions of one row produced."""

    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing: str | None = None  # why the row could not run at all

    def values(self, key: str) -> list[float]:
        """``key`` from every successful repetition."""
        return [float(r[key]) for r in self.results if r.get(key) is not None]

    def median(self, key: str) -> float | None:
        """The median of ``key`` over repetitions, or ``None``."""
        v = self.values(key)
        return statistics.median(v) if v else None


class Bench:
    """One benchmark run: the venvs, the server, the settings, and the report so far."""

    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.s = settings
        self.venvs: dict[str, Venv] = {}
        self.server: subprocess.Popen[str] | None = None
        self.ports: dict[str, Any] = {}
        self.certs: Certs | None = None
        self._tmp = ""
        self.bundle = ""
        self.bundle_certs = 0
        self.bundle_from = ""
        self.sections: list[str] = []
        self.summary: dict[str, Any] = {}
        self.env = self._child_env()

    # -- plumbing ----------------------------------------------------------------------

    @staticmethod
    def _child_env() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GLOBUS_", "REQUESTS_", "SSL_CERT"))}
        # Loopback only, and never through a proxy.
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,127.0.0.2,localhost"
        return env

    def emit(self, text: str) -> None:
        """Add a section to the report and print it now."""
        self.sections.append(text)
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def available(self, venv: str, needs: Sequence[str] = ()) -> str | None:
        """Why a row in ``venv`` cannot run (``None`` if it can)."""
        if self.args.skip and venv in self.args.skip:
            return f"skipped (--skip {venv})"
        v = self.venvs.get(venv)
        if v is None:
            return f"venv {venv} not prepared"
        if not v.ok:
            return f"venv {venv}: {v.error}"
        for m in needs:
            if not v.can_import(m):
                return f"n/a: `import {m}` fails in venv {venv} ({v.importable.get(m, 'not probed')})"
        return None

    def python(self, venv: str) -> str:
        """The interpreter of ``venv``."""
        py = self.venvs[venv].python
        assert py is not None
        return py

    def child(
        self, venv: str, mode: str, key: str, cfg: dict[str, Any], env: dict[str, str] | None = None, timeout: float = 600
    ) -> dict[str, Any]:
        """Run ``child.py MODE KEY CFG`` in ``venv``; its JSON result."""
        cmd = [self.python(venv), "-I", CHILD, mode, key, json.dumps(cfg)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env or self.env)
        except subprocess.TimeoutExpired:
            raise ChildError(f"timed out after {timeout:.0f}s") from None
        for line in p.stdout.splitlines():
            if line.startswith("RESULT "):
                data: dict[str, Any] = json.loads(line[7:])
                return data
        tail = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
        raise ChildError(f"exit {p.returncode}: {tail[-1][:300] if tail else 'no output'}")

    def alternate(self, rows: Sequence[Any], reps: int, run: Callable[[Any], dict[str, Any]], what: str) -> list[Outcome]:
        """Run every runnable row ``reps`` times, rotating the order each repetition."""
        outcomes = [Outcome() for _ in rows]
        runnable = []
        for i, row in enumerate(rows):
            why = self.available(row.venv, getattr(row, "needs", ()))
            if why:
                outcomes[i].missing = why
            else:
                runnable.append(i)
        for rep in range(reps):
            order = runnable[rep % len(runnable) :] + runnable[: rep % len(runnable)] if runnable else []
            for i in order:
                row = rows[i]
                if len(outcomes[i].errors) >= 2 and not outcomes[i].results:
                    continue  # it fails every time: do not spend the budget on it
                t0 = time.perf_counter()
                try:
                    outcomes[i].results.append(run(row))
                    status = "ok"
                except ChildError as e:
                    outcomes[i].errors.append(str(e))
                    status = f"error: {e}"
                log(f"  [{what} {rep + 1}/{reps}] {row.label}: {status} ({time.perf_counter() - t0:.1f}s)")
        return outcomes

    def base(self, which: str = "plain") -> str:
        """The URL of one of the server's listeners."""
        if which == "tls":
            return f"https://{self.ports['tls_host']}:{self.ports['tls']}"
        return f"http://127.0.0.1:{self.ports[which]}"

    @property
    def ctrl(self) -> str:
        """``host:port`` for the server's stats (the plain listener, no added latency)."""
        return f"127.0.0.1:{self.ports['plain']}"

    # -- set-up ------------------------------------------------------------------------

    def setup(self) -> None:
        """Venvs, certificates, and the server process."""
        names = [n for n in SPECS if n not in (self.args.skip or ())]
        log(f"preparing venvs in benchmarks/.venvs/ ({', '.join(names)}); the first run downloads the peers")
        t0 = time.perf_counter()
        self.venvs = prepare(names, rebuild=self.args.rebuild, offline=self.args.offline)
        for v in self.venvs.values():
            log(f"  {v.spec.name}: {v.action or ''} {'ok' if v.ok else 'MISSING: ' + str(v.error)}")
        log(f"  venvs ready in {time.perf_counter() - t0:.0f}s")
        tmp = tempfile.mkdtemp(prefix="automate-lite-bench-")
        self._tmp = tmp
        if "tls" in self.args.only:
            pythons = [sys.executable] + [v.python for v in self.venvs.values() if v.python and v.ok]
            self.certs = make_certs(os.path.join(tmp, "certs"), pythons)
            if self.certs is None:
                log("  no openssl and no cryptography: the TLS measure is skipped")
            else:
                self.bundle, self.bundle_certs, self.bundle_from = _ca_bundle(self.certs, list(self.venvs.values()))
        cmd = [sys.executable, "-I", SERVER, "--slow-ms", str(self.args.latency_ms)]
        if self.certs:
            cmd += ["--cert", self.certs.cert, "--key", self.certs.key, "--tls-host", _tls_host()]
        self.server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.server.stdout is not None
        line = self.server.stdout.readline()
        if not line:
            raise SystemExit("the benchmark server did not start")
        self.ports = json.loads(line)
        log(f"  server pid {self.server.pid} listening: {self.ports}")

    def teardown(self) -> None:
        """Stop the server process this run started; remove the throwaway certificates."""
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    # -- the report --------------------------------------------------------------------

    def header(self) -> None:
        """Machine, date, versions."""
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        cpu = _cpu_model()
        lines = [
            "# automate-lite benchmarks",
            "",
            f"- date: {now}; mode: {'quick' if self.args.quick else 'full'}"
            + ("" if self.args.only == list(MEASURES) else f"; measures: {', '.join(self.args.only)}"),
            f"- machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()} ({platform.python_implementation()})",
            "- server: stdlib asyncio on 127.0.0.1 in its own process, HTTP/1.1 keep-alive, precomputed answers",
            "- every number is a median over fresh processes; ratios are to the floor row (raw urllib3 / urllib3 alone)",
            f"- load average at start: {_load()} (other work on the machine shows up as noise in the timings)",
        ]
        versions = []
        for name, dist in (
            ("al", "urllib3"), ("al", "aiohttp"), ("al", "httpx"), ("al-min", "automate-lite"),
            ("sdk4", "globus-sdk"), ("sdk3", "globus-sdk"), ("gac", "globus-automate-client"), ("gac", "requests"),
        ):
            v = self.venvs.get(name)
            if v is not None and v.versions.get(dist):
                versions.append(f"{dist} {v.versions[dist]}")
        if versions:
            lines.append("- versions: " + ", ".join(dict.fromkeys(versions)))
        missing = [f"{n}: {v.error}" for n, v in self.venvs.items() if not v.ok]
        if missing:
            lines.append("- venvs that could not be built: " + "; ".join(missing))
        self.emit("\n".join(lines) + "\n")

    def run(self) -> None:
        """Every selected measure, in order."""
        self.header()
        steps: dict[str, Callable[[], None]] = {
            "import": self.measure_import,
            "first": self.measure_first,
            "size": self.measure_size,
            "seq": self.measure_seq,
            "burst": self.measure_burst,
            "tls": self.measure_tls,
        }
        self.server_check()
        for m in self.args.only:
            t0 = time.perf_counter()
            log(f"== {m}")
            steps[m]()
            log(f"== {m} done in {time.perf_counter() - t0:.0f}s")
        if self.args.profile:
            self.profile()
        self.targets()

    # -- measures ----------------------------------------------------------------------

    def server_check(self) -> None:
        """Show that the server is not the bottleneck: pipelined requests on one socket."""
        try:
            r = self.child_stdlib("server", {"n": 20000, "ctrl": self.ctrl})
        except ChildError as e:
            self.emit(f"Server check failed: {e}\n")
            return
        self.summary["server_us"] = r["us_per_req"]
        self.emit(
            f"Server check: {r['rps']:,.0f} requests/s pipelined on one connection "
            f"({r['us_per_req']:.1f} µs of server time per request), far above any contender below.\n"
        )

    def child_stdlib(self, mode: str, cfg: dict[str, Any]) -> dict[str, Any]:
        """Run a stdlib-only child mode with this interpreter."""
        p = subprocess.run(
            [sys.executable, "-I", CHILD, mode, "-", json.dumps(cfg)], capture_output=True, text=True, timeout=300, env=self.env
        )
        for line in p.stdout.splitlines():
            if line.startswith("RESULT "):
                data: dict[str, Any] = json.loads(line[7:])
                return data
        raise ChildError(p.stderr.strip()[-300:])

    def measure_import(self) -> None:
        """Cold import time and peak RSS, minus an empty interpreter of the same venv."""
        rows: list[ImportEntry] = list(IMPORTS)
        venvs_used = list(dict.fromkeys(r.venv for r in IMPORTS))
        baselines = [ImportEntry(f"(empty interpreter, {v})", v, "pass") for v in venvs_used]

        def run(row: ImportEntry) -> dict[str, Any]:
            script = _IMPORT_SCRIPT.format(code=row.code)
            t0 = time.perf_counter()
            p = subprocess.run([self.python(row.venv), "-I", "-c", script], capture_output=True, text=True, env=self.env, timeout=120)
            wall = time.perf_counter() - t0
            for line in p.stdout.splitlines():
                if line.startswith("RESULT "):
                    _, imp, rss, mods = line.split()
                    return {"import_ms": float(imp) * 1000, "wall_ms": wall * 1000, "rss_kb": int(rss), "modules": int(mods)}
            tail = p.stderr.strip().splitlines()
            raise ChildError(tail[-1] if tail else f"exit {p.returncode}")

        out = self.alternate(rows + baselines, self.s.import_reps, run, "import")
        res, base = out[: len(rows)], dict(zip(venvs_used, out[len(rows) :]))
        floor = res[0]
        f_imp, f_wall, f_rss = floor.median("import_ms"), _sub(floor.median("wall_ms"), base[rows[0].venv].median("wall_ms")), floor.median("rss_kb")
        table = []
        for row, o in zip(rows, res):
            if o.missing or not o.results:
                table.append([row.label, _na(o)] + [""] * 7)
                continue
            b = base[row.venv]
            imp, rss = o.median("import_ms"), o.median("rss_kb")
            wall = _sub(o.median("wall_ms"), b.median("wall_ms"))
            table.append(
                [
                    row.label,
                    _f(imp, 1),
                    _ratio(imp, f_imp),
                    _f(wall, 1),
                    _ratio(wall, f_wall),
                    _f(_mb(rss), 1),
                    _ratio(rss, f_rss),
                    _f(_mb(_sub(rss, b.median("rss_kb"))), 1),
                    _f(_sub(o.median("modules"), b.median("modules")), 0),
                ]
            )
            if row.code == _IMPORT_CODE["automate_lite"]:
                self.summary["import_ratio"] = _r(imp, f_imp)
                self.summary["rss_ratio"] = _r(rss, f_rss)
            elif row.code == _IMPORT_CODE["automate_lite_client"]:
                self.summary["import_client_ratio"] = _r(imp, f_imp)
                self.summary["rss_client_ratio"] = _r(rss, f_rss)
        empties = ", ".join(f"{v} {_f(b.median('wall_ms'), 1)} ms / {_f(_mb(b.median('rss_kb')), 1)} MB" for v, b in base.items())
        self.emit(
            f"## 1. Cold import and peak memory ({self.s.import_reps} fresh processes each)\n\n"
            + md_table(
                ["import", "in-process ms", "ratio", "process wall − empty ms", "ratio", "peak RSS MB", "ratio", "RSS over empty MB", "modules added"],
                table,
            )
            + f"\nEmpty interpreter (wall / peak RSS): {empties}.\n"
            + _errors(rows, res)
        )

    def measure_first(self) -> None:
        """New process to the first status answered."""

        def run(row: Entry) -> dict[str, Any]:
            cfg = dict(row.extra, base=self.base())
            t0 = time.perf_counter()
            r = self.child(row.venv, "first", row.key, cfg)
            return {"ms": (float(r["t_answer"]) - t0) * 1000}

        out = self.alternate(FIRST, self.s.first_reps, run, "first")
        f = out[0].median("ms")
        table = [[row.label, row.venv, *(_cells(o, [_f(o.median("ms"), 1), _ratio(o.median("ms"), f)]))] for row, o in zip(FIRST, out)]
        self.emit(
            f"## 2. New process to first status ({self.s.first_reps} processes each)\n\n"
            "From just before the process is spawned to the moment the first status answer is parsed "
            "(imports, client, connection, request).\n\n"
            + md_table(["contender", "venv", "ms", "ratio"], table)
            + _errors(FIRST, out)
        )

    def measure_size(self) -> None:
        """Installed size and package count of each venv over an empty venv."""
        empty = self.venvs.get("empty")
        if empty is None or not empty.ok:
            self.emit("## 3. Installed size\n\nn/a: the empty venv could not be made.\n")
            return
        e_size, e_dists = _site_size(empty.site_packages)
        rows = [
            ("urllib3 alone (floor)", "urllib3"),
            ("automate-lite, runtime requirements only", "al-min"),
            ("automate-lite + aiohttp + httpx (adapters)", "al"),
            ("globus-sdk 4", "sdk4"),
            ("globus-sdk 3", "sdk3"),
            ("globus-automate-client 0.18.0", "gac"),
        ]
        data: dict[str, tuple[int, set[str]]] = {}
        for _, name in rows:
            v = self.venvs.get(name)
            if v is not None and v.ok:
                size, dists = _site_size(v.site_packages)
                data[name] = (size - e_size, dists - e_dists)
        f = data.get("urllib3")
        table = []
        for label, name in rows:
            if name not in data:
                table.append([label, self.available(name) or "n/a", "", "", "", ""])
                continue
            size, dists = data[name]
            table.append(
                [
                    label,
                    _f(size / 1e6, 2),
                    _ratio(size, f[0] if f else None),
                    str(len(dists)),
                    _ratio(len(dists), len(f[1]) if f else None),
                    ", ".join(sorted(dists)) if len(dists) <= 6 else f"{', '.join(sorted(dists)[:6])}, …",
                ]
            )
        own = ""
        almin = self.venvs.get("al-min")
        if almin is not None and almin.ok:
            sizes = _dist_size(almin.site_packages, "automate_lite")
            extra = sorted(data.get("al-min", (0, set()))[1] - {"automate-lite", "urllib3", "typing-extensions"})
            self.summary["own_size"] = sizes["all"] if sizes else None
            self.summary["extra_dists"] = extra
            if sizes:
                own = (
                    f"\nautomate-lite itself, as installed: {sizes['all'] / 1e6:.3f} MB "
                    f"({sizes['py'] / 1e6:.3f} MB of .py sources, {sizes['pyc'] / 1e6:.3f} MB of the bytecode pip compiles, "
                    f"{sizes['other'] / 1e6:.3f} MB other); installed beyond urllib3 and typing-extensions: "
                    f"{', '.join(extra) or 'nothing'}.\n\nBy part (sources and bytecode together):\n\n"
                    + md_table(
                        ["part", "MB", "share"],
                        [
                            [label, _f(b / 1e6, 3), f"{100 * b / sizes['all']:.0f}%"]
                            for label, b in sorted(sizes["parts"].items(), key=lambda kv: -kv[1])
                        ],
                    )
                )
        note = "" if "al" not in data else "\nThe `al` venv's automate-lite is an editable install (its files stay in the checkout).\n"
        self.emit(
            "## 3. Installed size (site-packages over an empty venv)\n\n"
            + md_table(["venv", "MB", "ratio", "packages", "ratio", "packages added"], table)
            + own
            + note
        )

    def measure_seq(self) -> None:
        """Sequential status GETs on keep-alive: time and Python calls per request."""
        s = self.s

        def run(row: Entry) -> dict[str, Any]:
            cfg = dict(row.extra, base=self.base(), n=s.seq_n, warmup=s.seq_warmup, ctrl=self.ctrl)
            return self.child(row.venv, "seq", row.key, cfg)

        out = self.alternate(RUNTIME, s.seq_reps, run, "seq")
        calls: dict[str, float | None] = {}
        for row, o in zip(RUNTIME, out):
            if o.missing or not o.results:
                continue
            try:
                cfg = dict(row.extra, base=self.base(), n=s.calls_n, warmup=50, ctrl=self.ctrl)
                calls[row.label] = float(self.child(row.venv, "calls", row.key, cfg)["calls_per_req"])
                log(f"  [calls] {row.label}: {calls[row.label]:.0f}/request")
            except ChildError as e:
                o.errors.append(f"calls: {e}")
        f_us, f_calls = out[0].median("median_us"), calls.get(RUNTIME[0].label)
        table = []
        for row, o in zip(RUNTIME, out):
            us, c = o.median("median_us"), calls.get(row.label)
            table.append(
                [
                    row.label,
                    *_cells(
                        o,
                        [
                            _f(us, 0),
                            _ratio(us, f_us),
                            _f(o.median("mean_us"), 0),
                            _f(c, 0),
                            _ratio(c, f_calls),
                            _f(o.median("new_conns"), 0),
                        ],
                    ),
                ]
            )
            if row in (AL_ACTION, AL_FLOWS, AL_ASYNC, AL_AIOHTTP):
                self.summary[f"seq:{row.key}"] = (_r(us, f_us), _r(c, f_calls))
        self.emit(
            f"## 4. Sequential status GETs on keep-alive ({s.seq_reps} processes × {s.seq_n} requests after "
            f"{s.seq_warmup} warm-up)\n\n"
            "µs/request is the median of per-request times in a process, then the median over processes; "
            f"calls/request counts `call` + `c_call` profile events (every thread) over {s.calls_n} requests.\n\n"
            + md_table(["contender", "µs/request", "ratio", "mean µs", "calls/request", "ratio", f"new conns in {s.seq_n}"], table)
            + _errors(RUNTIME, out)
        )

    def measure_burst(self) -> None:
        """500 polls at once, with 0 ms and with added server latency."""
        s = self.s
        for which, bursts in (("plain", s.bursts_fast), ("slow", s.bursts_slow)):
            latency = 0.0 if which == "plain" else float(self.ports["slow_ms"])

            def run(row: Entry) -> dict[str, Any]:
                cfg = dict(row.extra, base=self.base(which), polls=s.polls, bursts=bursts, ctrl=self.ctrl)
                cfg.setdefault("threads", 16)
                return self.child(row.venv, "burst", row.key, cfg)

            out = self.alternate(BURST, s.burst_reps, run, f"burst {latency:.0f}ms")
            for o in out:
                o.errors.extend(f"failed polls, e.g. {e}" for r in o.results for e in r.get("error_sample", []))
            f, f_cpu = out[0].median("wall_ms"), out[0].median("cpu_ms")
            table = []
            for row, o in zip(BURST, out):
                wall, cpu = o.median("wall_ms"), o.median("cpu_ms")
                table.append(
                    [
                        row.label,
                        *_cells(
                            o,
                            [
                                _f(wall, 0),
                                _ratio(wall, f),
                                _f(cpu, 0),
                                _ratio(cpu, f_cpu),
                                _f(_mb(o.median("maxrss_kb")), 1),
                                f"{_f(o.median('cold_conns'), 0)} / {_f(o.median('warm_conns'), 0)}",
                                _f(o.median("pool_full"), 0),
                                _f(sum(o.values("errors")), 0),
                            ],
                        ),
                    ]
                )
                self.summary[f"burst{latency:.0f}:{row.label}"] = {
                    "wall": wall,
                    "cpu": cpu,
                    "warm_conns": o.median("warm_conns"),
                    "pool_full": o.median("pool_full"),
                }
            self.summary[f"burst{latency:.0f}:floor"] = f
            self.summary[f"burst{latency:.0f}:floor_cpu"] = f_cpu
            self.emit(
                f"## 5. {s.polls} polls at once, {latency:.0f} ms server latency "
                f"({s.burst_reps} processes × {bursts} timed bursts after one warm-up burst)\n\n"
                "Threads share one client and take polls from one queue; async rows gather all polls on one "
                "event loop (concurrency is each library's default: automate-lite's default transport 32, "
                "aiohttp and httpx 100 connections). Client CPU is the contender process's CPU time during a burst "
                "(all its threads): steadier than wall time when other work shares the machine. "
                "New connections: first (cold) burst / most in a warm one.\n\n"
                + md_table(
                    ["contender", "wall ms", "ratio", "client CPU ms", "ratio", "peak RSS MB", "new conns cold / warm", "pool-full warnings", "errors"],
                    table,
                )
                + _errors(BURST, out)
            )

    def measure_tls(self) -> None:
        """TLS: new client to first answer; then new connections one after another."""
        if self.certs is None or "tls" not in self.ports:
            self.emit("## 6. TLS\n\nn/a: no certificate could be made (needs openssl or cryptography).\n")
            return
        s = self.s
        env = dict(self.env, GLOBUS_SDK_VERIFY_SSL=self.bundle, REQUESTS_CA_BUNDLE=self.bundle, SSL_CERT_FILE=self.bundle)

        def run(row: Entry) -> dict[str, Any]:
            cfg = dict(row.extra, base=self.base("tls"), ca=self.bundle, n=s.tls_n, ctrl=self.ctrl)
            return self.child(row.venv, "tls", row.key, cfg, env=env)

        out = self.alternate(TLS, s.tls_reps, run, "tls")
        f_first, f_conn = out[0].median("first_ms"), out[0].median("per_conn_ms")
        table = []
        for row, o in zip(TLS, out):
            first, per = o.median("first_ms"), o.median("per_conn_ms")
            table.append(
                [row.label, *_cells(o, [_f(first, 1), _ratio(first, f_first), _f(per, 2), _ratio(per, f_conn), _f(o.median("new_conns"), 0)])]
            )
            if row.key.startswith("al-"):
                self.summary.setdefault("tls", {})[row.label] = _r(per, f_conn)

        host = self.ports.get("tls_host")
        gac_note = (
            "globus-automate-client turns verification off for 127.0.0.1 and localhost only, so the TLS listener is on "
            f"{host} and every contender verifies the throwaway CA."
            if host != "127.0.0.1"
            else "The TLS listener is on 127.0.0.1, where globus-automate-client does not verify certificates."
        )
        self.emit(
            f"## 6. Over TLS ({s.tls_reps} processes; RSA-2048 certificate from a throwaway CA made with {self.certs.made_with})\n\n"
            "First answer: from making a new client (after imports) to its first status. Then "
            f"{s.tls_n} requests, each on a new connection (the client's pool is closed in between; aiohttp rows "
            f"open a new session with the caller's one SSLContext). The CA file given to every client is a "
            f"realistic bundle: {self.bundle_certs} certificates ({self.bundle_from} plus the throwaway CA), "
            "so a client that reloads it per connection pays what it would in production; the default trust "
            "store row finds the same bundle through `SSL_CERT_FILE`, as OpenSSL's default paths would in production. "
            f"{gac_note}\n\n"
            + md_table(["contender", "new client → first answer ms", "ratio", "ms per new connection", "ratio", "new conns"], table)
            + _errors(TLS, out)
        )

    # -- profile and targets -------------------------------------------------------------

    def profile(self) -> None:
        """Where automate-lite's time goes: extra imports, and the sequential GET's hot path."""
        parts = ["## Where automate-lite's time goes\n"]
        if not self.available("al-min") and not self.available("urllib3"):
            al_mods = _importtime(self.python("al-min"), _IMPORT_CODE["automate_lite_client"], self.env)
            u3_mods = _importtime(self.python("urllib3"), _IMPORT_CODE["urllib3"], self.env)
            extra = sorted(((us, m) for m, us in al_mods.items() if m not in u3_mods), reverse=True)
            total = sum(us for us, _ in extra)
            parts.append(
                "Modules that `import automate_lite` + `FlowsClient.new_client()` loads and `import urllib3` "
                f"does not: {len(extra)}, {total / 1000:.1f} ms of self time (`-X importtime`, median of 5 "
                "runs; importtime's own overhead inflates small modules). The largest:\n\n"
                + md_table(["module", "self µs"], [[m, f"{us:,}"] for us, m in extra[:15]])
            )
        if not self.available("al", AL):
            n = self.s.profile_n
            profiles: dict[str, dict[str, Any]] = {}
            for entry in (AL_FLOWS, U3, AL_AIOHTTP, AIOHTTP_RAW):
                if self.available(entry.venv, entry.needs):
                    continue
                try:
                    profiles[entry.key] = self.child(entry.venv, "profile", entry.key, {"base": self.base(), "warmup": 100, "n": n})
                except ChildError as e:
                    parts.append(f"profile of {entry.label} failed: {e}\n")
            if AL_FLOWS.key in profiles:
                r = profiles[AL_FLOWS.key]
                rows = [
                    [row["where"], f"{row['calls_per_req']:.0f}", f"{row['tottime_us']:.1f}", f"{row['cumtime_us']:.1f}"]
                    for row in r["rows"][:25]
                ]
                parts.append(
                    f"\ncProfile of {AL_FLOWS.label}, {n} sequential GETs, per request (cProfile's own overhead "
                    f"inflates the times; {r['total_calls_per_req']:.0f} profiled calls/request). Top 25 by cumulative time:\n\n"
                    + md_table(["function", "calls", "tottime µs", "cumtime µs"], rows)
                )
            for ours, floor_entry in ((AL_FLOWS, U3), (AL_AIOHTTP, AIOHTTP_RAW)):
                if ours.key in profiles and floor_entry.key in profiles:
                    parts.append(_profile_diff(ours.label, profiles[ours.key], floor_entry.label, profiles[floor_entry.key]))
        self.emit("\n".join(parts))

    def targets(self) -> None:
        """The targets of issue 6, measured."""
        S = self.summary
        rows: list[list[str]] = []

        def add(target: str, value: float | None, limit: float, fmt: str = "{:.2f}x", note: str = "") -> None:
            if value is None:
                rows.append([target, "n/a", ""])
            else:
                rows.append([target, fmt.format(value) + note, "yes" if value <= limit else "**no**"])

        def cpu_note(ours: dict[str, Any] | None, floor_cpu: float | None) -> str:
            r = _r(ours.get("cpu") if ours else None, floor_cpu)
            return "" if r is None else f" (client CPU {r:.2f}x)"

        add("import automate_lite (+ both clients) ≤ 1.10x import urllib3", S.get("import_ratio"), 1.10)
        add("peak RSS after that import ≤ 1.10x", S.get("rss_ratio"), 1.10)
        add("import automate_lite + FlowsClient.new_client() ≤ 1.10x import urllib3", S.get("import_client_ratio"), 1.10)
        add("peak RSS after that ≤ 1.10x", S.get("rss_client_ratio"), 1.10)
        own = S.get("own_size")
        add("automate-lite itself ≤ 0.5 MB installed", own / 1e6 if own else None, 0.5, "{:.3f} MB")
        if "extra_dists" in S:
            extra = S["extra_dists"]
            rows.append(["nothing installed beyond urllib3, typing-extensions", ", ".join(extra) or "nothing", "yes" if not extra else "**no**"])
        for key, label in (("al-action", "ActionClient.status"), ("al-flows", "FlowsClient.get_run")):
            t, c = S.get(f"seq:{key}", (None, None))
            add(f"sequential {label} ≤ 1.15x raw urllib3 (time)", t, 1.15)
            add(f"sequential {label} ≤ 1.3x (Python calls/request)", c, 1.3)
        for lat in ("0", f"{float(self.ports.get('slow_ms', 50)):.0f}"):
            floor, floor_cpu = S.get(f"burst{lat}:floor"), S.get(f"burst{lat}:floor_cpu")
            r64 = S.get(f"burst{lat}:{BURST[3].label}")
            if r64 is not None:
                add(
                    f"FlowsClient shared by 64 threads ≤ 1.15x the 16-thread urllib3 floor ({lat} ms)",
                    _r(r64["wall"], floor), 1.15, note=cpu_note(r64, floor_cpu),
                )
                conns, full = r64["warm_conns"], r64["pool_full"]
                rows.append(
                    [
                        f"64 threads: no new connections once warm, no 'pool is full' ({lat} ms)",
                        f"{_f(conns, 0)} new, {_f(full, 0)} warnings",
                        "yes" if conns == 0 and full == 0 else "**no**",
                    ]
                )
            ai, raw = S.get(f"burst{lat}:{AL_AIOHTTP.label}"), S.get(f"burst{lat}:{AIOHTTP_RAW.label}")
            add(
                f"500 polls: AsyncFlowsClient + aiohttp ≤ 1.2x raw aiohttp ({lat} ms)",
                _r(ai and ai["wall"], raw and raw["wall"]), 1.2, note=cpu_note(ai, raw and raw.get("cpu")),
            )
            d = S.get(f"burst{lat}:{AL_ASYNC.label}")
            add(
                f"500 polls: AsyncFlowsClient default ≤ 1.2x urllib3 16-thread floor ({lat} ms)",
                _r(d and d["wall"], floor), 1.2, note=cpu_note(d, floor_cpu),
            )
        for label, ratio in S.get("tls", {}).items():
            rows.append([f"TLS, ms per new connection: {label} (no target)", f"{ratio:.2f}x" if ratio else "n/a", "—"])
        self.emit(
            "## Targets (issue 6)\n\nRatios of wall time; the client CPU ratio is given beside it where the "
            "machine's other work can blur wall time.\n\n" + md_table(["target", "measured", "met"], rows)
        )


# -- small helpers ---------------------------------------------------------------------


def _tls_host() -> str:
    # globus-automate-client skips verification for 127.0.0.1/localhost: another
    # loopback address makes it verify like the others.
    import socket

    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
        return "127.0.0.2"
    except OSError:
        return "127.0.0.1"


def _profile_diff(label: str, ours: dict[str, Any], floor_label: str, floor: dict[str, Any]) -> str:
    """The functions ``ours`` calls per request beyond ``floor``, by own time."""
    base = {row["where"]: row for row in floor["rows"]}
    more: list[tuple[float, float, dict[str, Any]]] = []
    for row in ours["rows"]:
        if "child.py" in row["where"]:
            continue
        d = row["calls_per_req"] - base.get(row["where"], {}).get("calls_per_req", 0.0)
        if d > 0.01:
            more.append((row["tottime_us"] * d / row["calls_per_req"], d, row))
    more.sort(key=lambda t: -t[0])
    total = sum(d for _, d, _ in more)
    return (
        f"\nWhat {label} calls per request beyond {floor_label} ({total:.0f} more calls), by own time:\n\n"
        + md_table(["function", "extra calls", "own µs (cProfile)"], [[r["where"], f"{d:.0f}", f"{t:.1f}"] for t, d, r in more[:25]])
    )


def _ca_bundle(certs: Certs, venvs: list[Venv]) -> tuple[str, int, str]:
    """A CA bundle of production size: certifi's (or the system's) CAs + the throwaway CA."""
    sources = [os.path.join(v.site_packages, "certifi", "cacert.pem") for v in venvs if v.ok]
    sources += ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
    base, origin = "", "no public CAs"
    for src in sources:
        if os.path.isfile(src):
            with open(src) as f:
                base = f.read()
            origin = "certifi's" if "certifi" in src else src
            break
    with open(certs.ca) as f:
        ours = f.read()
    path = os.path.join(os.path.dirname(certs.ca), "bundle.pem")
    with open(path, "w") as f:
        f.write(base.rstrip("\n") + "\n" + ours if base else ours)
    return path, (base + ours).count("BEGIN CERTIFICATE"), origin


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _site_size(site: str) -> tuple[int, set[str]]:
    total = 0
    dists: set[str] = set()
    for root, _dirs, files in os.walk(site):
        for n in files:
            try:
                total += os.lstat(os.path.join(root, n)).st_size
            except OSError:
                pass
    for n in os.listdir(site):
        if n.endswith(".dist-info"):
            dists.add(re.sub(r"[-_.]+", "-", n[: -len(".dist-info")].rsplit("-", 1)[0]).lower())
    return total, dists


# What each part of automate-lite is for, by the module path a file belongs to (first
# match wins); "the clients and their core" is what `import automate_lite` plus a sync
# or async client with the default transports can load.
_PARTS = (
    ("login and token storage (automate_lite.extras)", "automate_lite/extras/"),
    ("the local services and pytest plugin (automate_lite.testing)", "automate_lite/testing/"),
    ("the flow language: validation, rendering (automate_lite.definitions)", "automate_lite/definitions/",
     "automate_lite/validation", "automate_lite/render"),
    ("the command line (automate_lite.cli)", "automate_lite/cli/", "automate_lite/__main__"),
    ("aiohttp/httpx adapters", "automate_lite/transports/aiohttp", "automate_lite/transports/httpx"),
    ("asyncio transport (async default)", "automate_lite/transports/aio.", "automate_lite/transports/_aio",
     "automate_lite/transports/_h1"),
    ("the clients and their core", "automate_lite/"),
)


def _part(path: str) -> str:
    module = path.replace("/__pycache__/", "/")
    for label, *prefixes in _PARTS:
        if any(module.startswith(p) for p in prefixes):
            return label
    return "metadata (dist-info)"


def _dist_size(site: str, dist: str) -> dict[str, Any] | None:
    """Bytes of the files a distribution installed (its RECORD), by kind and by part."""
    for n in os.listdir(site):
        if n.endswith(".dist-info") and n[: -len(".dist-info")].rsplit("-", 1)[0].lower().replace("-", "_") == dist:
            sizes: dict[str, Any] = {"py": 0, "pyc": 0, "other": 0}
            parts: dict[str, int] = {}
            with open(os.path.join(site, n, "RECORD")) as f:
                for line in f:
                    path = line.rsplit(",", 2)[0]
                    kind = "py" if path.endswith(".py") else "pyc" if path.endswith(".pyc") else "other"
                    try:
                        size = os.lstat(os.path.join(site, path)).st_size
                    except OSError:
                        continue
                    sizes[kind] += size
                    parts[_part(path)] = parts.get(_part(path), 0) + size
            sizes["all"] = sizes["py"] + sizes["pyc"] + sizes["other"]
            sizes["parts"] = parts
            return sizes
    return None


def _importtime(python: str, code: str, env: dict[str, str], runs: int = 5) -> dict[str, int]:
    """Self time of every module ``code`` imports, in µs: median over ``runs`` processes."""
    seen: dict[str, list[int]] = {}
    for _ in range(runs):
        p = subprocess.run([python, "-I", "-X", "importtime", "-c", code], capture_output=True, text=True, env=env, timeout=120)
        for line in p.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if m:
                seen.setdefault(m.group(4), []).append(int(m.group(1)))
    return {mod: int(statistics.median(v)) for mod, v in seen.items()}


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table, columns padded for reading in a terminal."""
    cols = len(headers)
    rows = [list(r) + [""] * (cols - len(r)) for r in rows]
    widths = [max(len(str(x)) for x in [h, *(r[i] for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    sep = "|" + "|".join(("-" * (w + 2)) if i == 0 else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)]) + "\n"


def _f(x: float | None, digits: int) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def _r(x: float | None, floor: float | None) -> float | None:
    if x is None or not floor:
        return None
    return x / floor


def _ratio(x: float | None, floor: float | None) -> str:
    r = _r(x, floor)
    return "n/a" if r is None else f"{r:.2f}x"


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _mb(kb: float | None) -> float | None:
    return None if kb is None else kb / 1024


def _na(o: Outcome) -> str:
    if o.missing:
        return o.missing
    return "error (see below)" if o.errors else "n/a"


def _cells(o: Outcome, cells: list[str]) -> list[str]:
    if o.missing or not o.results:
        return [_na(o)] + [""] * (len(cells) - 1)
    return cells


def _errors(rows: Sequence[Any], outs: Sequence[Outcome]) -> str:
    lines = []
    for row, o in zip(rows, outs):
        for e in dict.fromkeys(o.errors):
            lines.append(f"- {row.label}: {e}")
    return ("\nErrors:\n" + "\n".join(lines) + "\n") if lines else ""


def _measures(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in MEASURES]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown measure(s) {', '.join(bad)}; choose from {', '.join(MEASURES)}")
    return names


def _venv_list(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in SPECS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown venv(s) {', '.join(bad)}; choose from {', '.join(SPECS)}")
    return names


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (see ``python -m benchmarks --help``)."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="automate-lite side by side with raw urllib3/aiohttp, globus-sdk 4 and 3, and "
        "globus-automate-client 0.18, each in its own venv under benchmarks/.venvs/.",
    )
    p.add_argument("--quick", action="store_true", help="fewer repetitions and requests: about 1-2 minutes once the venvs exist")
    p.add_argument("--only", type=_measures, default=list(MEASURES), metavar="M[,M]", help=f"measures to run, of {', '.join(MEASURES)} (default: all)")
    p.add_argument("--reps", type=int, default=None, help="repetitions (fresh processes) per contender for every measure")
    p.add_argument("--skip", type=_venv_list, default=[], metavar="VENV[,VENV]", help=f"leave out the contenders of these venvs ({', '.join(SPECS)})")
    p.add_argument("--latency-ms", type=float, default=50.0, help="server latency of the second concurrency run (default 50)")
    p.add_argument("--rebuild", action="store_true", help="rebuild every venv from scratch")
    p.add_argument("--offline", action="store_true", help="never build a venv; use those already there")
    p.add_argument("--no-profile", dest="profile", action="store_false", help="leave out the import and cProfile breakdown of automate-lite")
    p.add_argument("--output", default=os.path.join(HERE, "results.md"), help="where to write the report (default benchmarks/results.md)")
    p.add_argument("--no-write", action="store_true", help="print the report only")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; write the report."""
    args = parse_args(argv)
    settings = Settings.quick() if args.quick else Settings()
    if args.reps:
        for name in ("import_reps", "first_reps", "seq_reps", "burst_reps", "tls_reps"):
            setattr(settings, name, args.reps)
    bench = Bench(args, settings)
    t0 = time.perf_counter()
    try:
        bench.setup()
        bench.run()
    finally:
        bench.teardown()
    took = time.perf_counter() - t0
    bench.emit(
        f"_Run took {took / 60:.1f} min (`python -m benchmarks{' --quick' if args.quick else ''}`); "
        f"load average at the end: {_load()}._\n"
    )
    if not args.no_write:
        with open(args.output, "w") as f:
            f.write("\n".join(bench.sections))
        log(f"report written to {os.path.relpath(args.output, REPO)}")
    return 0
