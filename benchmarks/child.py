"""What runs inside each fresh benchmark process, in a contender's own virtual environment.

Run as a script with ``python -I child.py MODE CONTENDER 'JSON-CONFIG'``; it prints one
JSON line. It is self-contained (standard library at the top; every third-party import
happens inside the function of the contender that needs it), so the same file runs in
the urllib3-only, automate-lite, globus-sdk 3/4 and globus-automate-client venvs.

The token is a fake one and is never printed, nor are request headers.

Modes:
  first    new process to the first status answered: prints the monotonic clock
           (``perf_counter``, CLOCK_MONOTONIC on Linux) when the answer arrived
  seq      sequential status GETs on keep-alive: per-request times after a warm-up
  calls    Python function calls per request (``call`` + ``c_call`` profile events)
  burst    many polls at once (threads sharing one client, or one event loop)
  tls      TLS: new client to first answer, then new connections one after another
  profile  cProfile of sequential GETs (top functions), for the notes
  server   how fast the loopback server answers (pipelined), to show it is not the limit
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Awaitable, Callable, Coroutine

TOKEN = "fake-benchmark-token-0000"  # not a secret; never printed
RUN_ID = "8f6c8a2e-1d3b-4c5e-9a7f-0b1c2d3e4f50"
FLOW_ID = "2c1d0e9f-8a7b-4c6d-9e4f-3a2b1c0d9e8f"
ACTION_ID = "a1b2c3d4-0000-4000-8000-00000000beef"
CLIENT_ID = "00000000-0000-4000-8000-000000000000"
FLOW_SCOPE = f"https://auth.globus.org/scopes/{FLOW_ID}/flow_{FLOW_ID.replace('-', '_')}_user"

SyncPoll = Callable[[], Any]
AsyncPoll = Callable[[], Awaitable[Any]]


class SyncClient:
    """A contender's blocking client: ``poll()`` does one status GET and reads ``status``."""

    def __init__(self, poll: SyncPoll, drop: Callable[[], None] = lambda: None, close: Callable[[], None] = lambda: None) -> None:
        self.poll = poll
        #: Close pooled connections; the client stays usable and reconnects.
        self.drop = drop
        self.close = close


class AsyncClient:
    """The async twin of :class:`SyncClient`."""

    def __init__(
        self,
        poll: AsyncPoll,
        drop: Callable[[], Awaitable[None]] | None = None,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.poll = poll
        self.drop = drop
        self.close = close


def _check(doc: Any) -> Any:
    status = doc["status"]
    if status != "ACTIVE":
        raise RuntimeError("unexpected answer from the benchmark server")
    return status


# -- the contenders --------------------------------------------------------------------
#
# cfg keys: base (http(s)://host:port), ca (CA file or None), maxsize (pool size for
# thread runs), threads.


def _ssl_context(ca: str | None) -> Any:
    import ssl

    return ssl.create_default_context(cafile=ca) if ca else None


def make_urllib3(cfg: dict[str, Any]) -> SyncClient:
    """The floor: a shared PoolManager, ``GET`` + ``json.loads``."""
    import urllib3

    kw: dict[str, Any] = {}
    if cfg.get("ca"):
        if cfg.get("shared_ctx"):
            kw["ssl_context"] = _ssl_context(cfg["ca"])
        else:
            kw.update(ca_certs=cfg["ca"], cert_reqs="CERT_REQUIRED")
    pm = urllib3.PoolManager(maxsize=int(cfg.get("maxsize", 16)), block=True, retries=False, **kw)
    url = f"{cfg['base']}/runs/{RUN_ID}"
    headers = {"Authorization": "Bearer " + TOKEN, "Accept": "application/json"}
    loads = json.loads

    def poll() -> Any:
        r = pm.request("GET", url, headers=headers)
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}")
        return _check(loads(r.data))

    return SyncClient(poll, pm.clear, pm.clear)


def _al_sync_transport(cfg: dict[str, Any]) -> Any:
    if not cfg.get("ca"):
        return None  # the client's default transport
    from automate_lite.transports.urllib3 import Urllib3Transport

    if cfg.get("default_trust"):
        # The default trust store (SSL_CERT_FILE points it at the benchmark's bundle);
        # verify=True because loopback is not verified by default.
        return Urllib3Transport(verify=True)
    return Urllib3Transport(ca_certs=cfg["ca"], verify=True)


def make_al_action(cfg: dict[str, Any]) -> SyncClient:
    """automate-lite ``ActionClient.status`` (legacy route ``/{id}/status``)."""
    import automate_lite as al

    client = al.ActionClient.new_client(
        cfg["base"] + "/actions/hello", al.BearerTokenAuthorizer(TOKEN), transport=_al_sync_transport(cfg)
    )

    def poll() -> Any:
        return _check(client.status(ACTION_ID))

    return SyncClient(poll, client.close, client.close)


def make_al_flows(cfg: dict[str, Any]) -> SyncClient:
    """automate-lite ``FlowsClient.get_run``."""
    import automate_lite as al

    client = al.FlowsClient.new_client(
        None, None, al.BearerTokenAuthorizer(TOKEN), base_url=cfg["base"], transport=_al_sync_transport(cfg)
    )

    def poll() -> Any:
        return _check(client.get_run(RUN_ID))

    return SyncClient(poll, client.close, client.close)


def _globus_sdk_flows(cfg: dict[str, Any]) -> SyncClient:
    import globus_sdk

    client = globus_sdk.FlowsClient(base_url=cfg["base"], authorizer=globus_sdk.AccessTokenAuthorizer(TOKEN))

    def poll() -> Any:
        return _check(client.get_run(RUN_ID))

    def drop() -> None:
        client.transport.session.close()

    return SyncClient(poll, drop, drop)


def make_sdk4(cfg: dict[str, Any]) -> SyncClient:
    """globus-sdk 4 ``FlowsClient.get_run``."""
    return _globus_sdk_flows(cfg)


def make_sdk3(cfg: dict[str, Any]) -> SyncClient:
    """globus-sdk 3 ``FlowsClient.get_run``."""
    return _globus_sdk_flows(cfg)


def _requests_default_bundle(cfg: dict[str, Any]) -> None:
    # globus-automate-client passes verify_ssl=True itself, and globus-sdk 3 hands that
    # to requests' Session.send, which reads no environment variable: so requests'
    # default bundle (certifi's) is pointed at the benchmark's bundle, which holds
    # certifi's CAs plus the throwaway one. Same size, same per-connection loading.
    if cfg.get("ca"):
        import importlib

        setattr(importlib.import_module("requests.adapters"), "DEFAULT_CA_BUNDLE_PATH", cfg["ca"])


def make_gac(cfg: dict[str, Any]) -> SyncClient:
    """globus-automate-client 0.18 ``FlowsClient.flow_action_status`` (legacy route)."""
    import importlib

    sdk = importlib.import_module("globus_sdk")
    gac = importlib.import_module("globus_automate_client")
    _requests_default_bundle(cfg)
    auth = sdk.AccessTokenAuthorizer(TOKEN)

    def callback(**_: Any) -> Any:
        return auth

    client = gac.FlowsClient.new_client(CLIENT_ID, callback, auth, base_url=cfg["base"])

    def poll() -> Any:
        return _check(client.flow_action_status(FLOW_ID, FLOW_SCOPE, RUN_ID))

    def drop() -> None:
        client.transport.session.close()

    return SyncClient(poll, drop, drop)


def make_gac_action(cfg: dict[str, Any]) -> SyncClient:
    """globus-automate-client 0.18 ``ActionClient.status`` (one client, keep-alive)."""
    import importlib

    sdk = importlib.import_module("globus_sdk")
    gac = importlib.import_module("globus_automate_client")
    _requests_default_bundle(cfg)
    client = gac.ActionClient.new_client(cfg["base"] + "/actions/hello", sdk.AccessTokenAuthorizer(TOKEN))

    def poll() -> Any:
        return _check(client.status(ACTION_ID))

    def drop() -> None:
        client.transport.session.close()

    return SyncClient(poll, drop, drop)


def make_al_async(cfg: dict[str, Any]) -> AsyncClient:
    """automate-lite ``AsyncFlowsClient.get_run`` with its default transport."""
    import automate_lite as al

    transport = None
    if cfg.get("ca"):
        from automate_lite.transports.threaded import ThreadedAsyncTransport

        transport = ThreadedAsyncTransport(ca_certs=cfg["ca"], verify=True)
    client = al.AsyncFlowsClient.new_client(None, None, al.BearerTokenAuthorizer(TOKEN), base_url=cfg["base"], transport=transport)

    async def poll() -> Any:
        return _check(await client.get_run(RUN_ID))

    async def drop() -> None:
        # Close the pooled connections, keep the worker threads.
        getattr(client.transport, "sync_transport").close()

    return AsyncClient(poll, drop, client.aclose)


def _aiohttp_session(cfg: dict[str, Any]) -> Any:
    import aiohttp

    ctx = cfg.get("_ctx")
    if cfg.get("ca") and ctx is None:
        ctx = cfg["_ctx"] = _ssl_context(cfg["ca"])
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx if ctx is not None else True))


def _adapter(module: str, name: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), name)


def make_al_aiohttp(cfg: dict[str, Any]) -> AsyncClient:
    """automate-lite ``AsyncFlowsClient.get_run`` over the caller's aiohttp session."""
    import automate_lite as al

    transport_cls = _adapter("automate_lite.transports.aiohttp", "AiohttpTransport")
    session = _aiohttp_session(cfg)
    client = al.AsyncFlowsClient.new_client(
        None, None, al.BearerTokenAuthorizer(TOKEN), base_url=cfg["base"], transport=transport_cls(session)
    )

    async def poll() -> Any:
        return _check(await client.get_run(RUN_ID))

    async def close() -> None:
        await session.close()

    return AsyncClient(poll, None, close)


def make_al_httpx(cfg: dict[str, Any]) -> AsyncClient:
    """automate-lite ``AsyncFlowsClient.get_run`` over the caller's httpx.AsyncClient."""
    import automate_lite as al
    import httpx

    transport_cls = _adapter("automate_lite.transports.httpx", "HttpxTransport")
    ctx = _ssl_context(cfg.get("ca"))
    hc = httpx.AsyncClient(verify=ctx if ctx is not None else True)
    client = al.AsyncFlowsClient.new_client(
        None, None, al.BearerTokenAuthorizer(TOKEN), base_url=cfg["base"], transport=transport_cls(hc)
    )

    async def poll() -> Any:
        return _check(await client.get_run(RUN_ID))

    async def close() -> None:
        await hc.aclose()

    return AsyncClient(poll, None, close)


def make_aiohttp(cfg: dict[str, Any]) -> AsyncClient:
    """Raw aiohttp: one session, ``GET`` + ``json.loads`` (the async floor)."""
    session = _aiohttp_session(cfg)
    url = f"{cfg['base']}/runs/{RUN_ID}"
    headers = {"Authorization": "Bearer " + TOKEN, "Accept": "application/json"}
    loads = json.loads

    async def poll() -> Any:
        async with session.get(url, headers=headers) as r:
            body = await r.read()
            if r.status != 200:
                raise RuntimeError(f"HTTP {r.status}")
        return _check(loads(body))

    async def close() -> None:
        await session.close()

    return AsyncClient(poll, None, close)


def make_httpx(cfg: dict[str, Any]) -> AsyncClient:
    """Raw httpx: one AsyncClient, ``GET`` + ``json.loads``."""
    import httpx

    ctx = _ssl_context(cfg.get("ca"))
    hc = httpx.AsyncClient(verify=ctx if ctx is not None else True)
    url = f"{cfg['base']}/runs/{RUN_ID}"
    headers = {"Authorization": "Bearer " + TOKEN, "Accept": "application/json"}
    loads = json.loads

    async def poll() -> Any:
        r = await hc.get(url, headers=headers)
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code}")
        return _check(loads(r.content))

    async def close() -> None:
        await hc.aclose()

    return AsyncClient(poll, None, close)


SYNC: dict[str, Callable[[dict[str, Any]], SyncClient]] = {
    "urllib3": make_urllib3,
    "al-action": make_al_action,
    "al-flows": make_al_flows,
    "sdk4": make_sdk4,
    "sdk3": make_sdk3,
    "gac": make_gac,
    "gac-action": make_gac_action,
}
ASYNC: dict[str, Callable[[dict[str, Any]], AsyncClient]] = {
    "al-async": make_al_async,
    "al-aiohttp": make_al_aiohttp,
    "al-httpx": make_al_httpx,
    "aiohttp": make_aiohttp,
    "httpx": make_httpx,
}

#: What each contender imports, loaded before the clock starts where a measure
#: excludes imports (TLS: "new client to first answer").
PREIMPORT: dict[str, tuple[str, ...]] = {
    "urllib3": ("urllib3",),
    "al-action": ("automate_lite", "automate_lite.transports.urllib3"),
    "al-flows": ("automate_lite", "automate_lite.transports.urllib3"),
    "al-async": ("automate_lite", "automate_lite.transports.urllib3", "automate_lite.transports.threaded", "asyncio"),
    "al-aiohttp": ("automate_lite", "automate_lite.transports.aiohttp", "aiohttp", "asyncio"),
    "al-httpx": ("automate_lite", "automate_lite.transports.httpx", "httpx", "asyncio"),
    "aiohttp": ("aiohttp", "asyncio"),
    "httpx": ("httpx", "asyncio"),
    "sdk4": ("globus_sdk", "globus_sdk.services.flows", "requests"),
    "sdk3": ("globus_sdk", "globus_sdk.services.flows", "requests"),
    "gac": ("globus_automate_client", "requests"),
    "gac-action": ("globus_automate_client", "requests"),
}


def preimport(name: str) -> None:
    """Import what contender ``name`` needs (plus ``ssl``), untimed."""
    import importlib

    for module in ("ssl", *PREIMPORT.get(name, ())):
        importlib.import_module(module)


# -- helpers ---------------------------------------------------------------------------


def server_stats(ctrl: str) -> dict[str, int]:
    """The loopback server's counters (asked on a connection it does not count)."""
    import http.client

    host, port = ctrl.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/__stats")
        data: dict[str, int] = json.loads(conn.getresponse().read())
        return data
    finally:
        conn.close()


def maxrss_kb() -> int:
    """Peak resident set size of this process so far, in KiB.

    ``VmHWM`` rather than ``getrusage().ru_maxrss``: on Linux a child's ``ru_maxrss``
    starts at its parent's peak (kept across fork and exec), which would report the
    benchmark runner's memory instead of the contender's.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def median(xs: list[float]) -> float:
    """The median of ``xs``."""
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _run_async(main: Callable[[], Coroutine[Any, Any, dict[str, Any]]]) -> dict[str, Any]:
    import asyncio

    return asyncio.run(main())


# -- modes -----------------------------------------------------------------------------


def mode_first(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """Imports, a new client, one status; report the clock when the answer came."""
    if name in SYNC:
        c = SYNC[name](cfg)
        c.poll()
        t = time.perf_counter()
        return {"t_answer": t}

    async def main() -> dict[str, Any]:
        c = ASYNC[name](cfg)
        await c.poll()
        t = time.perf_counter()
        if c.close is not None:
            await c.close()
        return {"t_answer": t}

    return _run_async(main)


def mode_seq(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """Sequential GETs: ``warmup`` untimed, then ``n`` timed one by one."""
    warmup, n = int(cfg["warmup"]), int(cfg["n"])
    ctrl = cfg["ctrl"]
    pc = time.perf_counter
    times: list[float] = []
    if name in SYNC:
        c = SYNC[name](cfg)
        poll = c.poll
        for _ in range(warmup):
            poll()
        before = server_stats(ctrl)
        t_all = pc()
        for _ in range(n):
            t0 = pc()
            poll()
            times.append(pc() - t0)
        total = pc() - t_all
        after = server_stats(ctrl)
        c.close()
    else:

        async def main() -> dict[str, Any]:
            c = ASYNC[name](cfg)
            apoll = c.poll
            for _ in range(warmup):
                await apoll()
            before = server_stats(ctrl)
            t_all = pc()
            for _ in range(n):
                t0 = pc()
                await apoll()
                times.append(pc() - t0)
            total = pc() - t_all
            after = server_stats(ctrl)
            if c.close is not None:
                await c.close()
            return {"before": before, "after": after, "total": total}

        r = _run_async(main)
        before, after, total = r["before"], r["after"], r["total"]
    return {
        "median_us": median(times) * 1e6,
        "mean_us": total / n * 1e6,
        "new_conns": after["connections"] - before["connections"],
        "requests": after["requests"] - before["requests"],
    }


def mode_calls(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """Python calls per request: profile events ``call`` + ``c_call``, every thread.

    The counter is installed before the client exists, so that worker threads the
    client starts later (the async default's pool) are counted too.
    """
    import itertools
    import threading

    warmup, n = int(cfg["warmup"]), int(cfg["n"])
    counter = itertools.count()
    on = [False]
    bump = counter.__next__

    def prof(frame: Any, event: str, arg: Any) -> None:
        if on[0] and (event == "call" or event == "c_call"):
            bump()

    threading.setprofile(prof)
    sys.setprofile(prof)
    if name in SYNC:
        c = SYNC[name](cfg)
        for _ in range(warmup):
            c.poll()
        start = next(counter)
        on[0] = True
        for _ in range(n):
            c.poll()
        on[0] = False
        end = next(counter)
    else:

        async def main() -> dict[str, Any]:
            c = ASYNC[name](cfg)
            for _ in range(warmup):
                await c.poll()
            start = next(counter)
            on[0] = True
            for _ in range(n):
                await c.poll()
            on[0] = False
            end = next(counter)
            return {"calls": end - start - 1}

        r = _run_async(main)
        sys.setprofile(None)
        threading.setprofile(None)
        return {"calls_per_req": r["calls"] / n}
    sys.setprofile(None)
    threading.setprofile(None)
    # ``end - start - 1``: the ``next(counter)`` that reads ``start`` bumps it once.
    return {"calls_per_req": (end - start - 1) / n}


def mode_profile(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """cProfile of ``n`` sequential GETs: the top functions by cumulative time."""
    import cProfile
    import io
    import pstats

    n, warmup = int(cfg["n"]), int(cfg["warmup"])
    prof = cProfile.Profile()
    if name in SYNC:
        c = SYNC[name](cfg)
        for _ in range(warmup):
            c.poll()
        prof.enable()
        for _ in range(n):
            c.poll()
        prof.disable()
    else:

        async def main() -> dict[str, Any]:
            a = ASYNC[name](cfg)
            for _ in range(warmup):
                await a.poll()
            prof.enable()
            for _ in range(n):
                await a.poll()
            prof.disable()
            if a.close is not None:
                await a.close()
            return {}

        _run_async(main)
    out = io.StringIO()
    st = pstats.Stats(prof, stream=out)
    rows: list[dict[str, Any]] = []
    raw: dict[Any, Any] = st.stats  # type: ignore[attr-defined]
    total_calls = 0
    for (filename, line, func), (cc, nc, tt, ct, _callers) in raw.items():
        total_calls += nc
        rows.append(
            {
                "where": f"{_short(filename)}:{line}({func})",
                "calls_per_req": nc / n,
                "tottime_us": tt / n * 1e6,
                "cumtime_us": ct / n * 1e6,
            }
        )
    rows.sort(key=lambda r: -float(r["cumtime_us"]))
    return {"rows": rows, "total_calls_per_req": total_calls / n}


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/automate_lite/", "/lib/python3"):
        i = filename.find(marker)
        if i >= 0:
            return ("automate_lite/" if marker == "/automate_lite/" else "") + filename[i + len(marker) :]
    return filename


def mode_burst(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """``polls`` status GETs at once: ``threads`` sharing one client, or one event loop.

    One warm-up burst (its new connections are reported as ``cold_conns``), then
    ``bursts`` timed ones; new connections and "pool is full" warnings are counted.
    """
    import logging
    import threading

    polls, bursts, ctrl = int(cfg["polls"]), int(cfg["bursts"]), cfg["ctrl"]

    class Counter(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.full = 0
            self.other = 0

        def emit(self, record: logging.LogRecord) -> None:
            if "pool is full" in record.getMessage():
                self.full += 1
            else:
                self.other += 1

    handler = Counter()
    u3log = logging.getLogger("urllib3.connectionpool")
    u3log.addHandler(handler)
    u3log.propagate = False
    walls: list[float] = []
    cpus: list[float] = []
    conns: list[int] = []
    errors: list[str] = []

    if name in SYNC:
        nthreads = int(cfg["threads"])
        c = SYNC[name](cfg)

        def one_burst() -> float:
            it = iter(range(polls))
            gate = threading.Barrier(nthreads + 1)

            def worker() -> None:
                gate.wait()
                try:
                    for _ in it:
                        c.poll()
                except Exception as e:  # noqa: BLE001 - reported, not hidden
                    errors.append(f"{type(e).__name__}: {e}"[:200])

            ts = [threading.Thread(target=worker) for _ in range(nthreads)]
            for t in ts:
                t.start()
            gate.wait()
            t0 = time.perf_counter()
            for t in ts:
                t.join()
            return time.perf_counter() - t0

        for i in range(bursts + 1):
            before = server_stats(ctrl)["connections"]
            c0 = time.process_time()
            wall = one_burst()
            cpu = time.process_time() - c0
            conns.append(server_stats(ctrl)["connections"] - before)
            if i:
                walls.append(wall)
                cpus.append(cpu)
        c.close()
    else:

        async def main() -> dict[str, Any]:
            import asyncio

            c = ASYNC[name](cfg)
            for i in range(bursts + 1):
                before = server_stats(ctrl)["connections"]
                c0 = time.process_time()
                t0 = time.perf_counter()
                results = await asyncio.gather(*(c.poll() for _ in range(polls)), return_exceptions=True)
                wall = time.perf_counter() - t0
                cpu = time.process_time() - c0
                conns.append(server_stats(ctrl)["connections"] - before)
                errors.extend(f"{type(r).__name__}: {r}"[:200] for r in results if isinstance(r, BaseException))
                if i:
                    walls.append(wall)
                    cpus.append(cpu)
            if c.close is not None:
                await c.close()
            return {}

        _run_async(main)
    return {
        "wall_ms": median(walls) * 1000,
        "walls_ms": [w * 1000 for w in walls],
        "cpu_ms": median(cpus) * 1000,
        "cold_conns": conns[0],
        "warm_conns": max(conns[1:]) if len(conns) > 1 else 0,
        "pool_full": handler.full,
        "maxrss_kb": maxrss_kb(),
        "errors": len(errors),
        "error_sample": errors[:3],
    }


def mode_tls(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """Over TLS: a new client to its first answer, then ``n`` new connections in a row.

    Between two requests the client's pool is closed (the client stays), so every
    request pays a handshake; a transport that builds an SSL context or reloads the
    CA file per connection pays that too. aiohttp-based contenders open a new session
    (with the caller's one SSLContext) each time instead.
    """
    n, ctrl = int(cfg["n"]), cfg["ctrl"]
    pc = time.perf_counter
    preimport(name)
    if name in SYNC:
        factory = SYNC[name]
        t0 = pc()
        c = factory(cfg)
        c.poll()
        first = pc() - t0
        before = server_stats(ctrl)["connections"]
        t0 = pc()
        for _ in range(n):
            c.drop()
            c.poll()
        per = (pc() - t0) / n
        after = server_stats(ctrl)["connections"]
        c.close()
        return {"first_ms": first * 1000, "per_conn_ms": per * 1000, "new_conns": after - before}

    afactory = ASYNC[name]

    async def main() -> dict[str, Any]:
        t0 = pc()
        c = afactory(cfg)
        await c.poll()
        first = pc() - t0
        before = server_stats(ctrl)["connections"]
        t0 = pc()
        for _ in range(n):
            if c.drop is not None:
                await c.drop()
                await c.poll()
            else:
                if c.close is not None:
                    await c.close()
                c = afactory(cfg)
                await c.poll()
        per = (pc() - t0) / n
        after = server_stats(ctrl)["connections"]
        if c.close is not None:
            await c.close()
        return {"first_ms": first * 1000, "per_conn_ms": per * 1000, "new_conns": after - before}

    return _run_async(main)


def mode_server(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """Pipelined GETs on one raw socket: what the server sustains, client cost ~0."""
    import socket

    host, port = cfg["ctrl"].rsplit(":", 1)
    n, depth = int(cfg["n"]), 50
    req = f"GET /runs/{RUN_ID} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
    s = socket.create_connection((host, int(port)))
    marker = b"HTTP/1.1 200"
    t0 = time.perf_counter()
    done = 0
    while done < n:
        batch = min(depth, n - done)
        s.sendall(req * batch)
        seen = 0
        tail = b""
        while seen < batch:
            chunk = s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("server closed the connection")
            data = tail + chunk
            seen += data.count(marker)
            tail = data[-(len(marker) - 1) :]
        done += batch
    wall = time.perf_counter() - t0
    s.close()
    return {"rps": n / wall, "us_per_req": wall / n * 1e6}


MODES: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "first": mode_first,
    "seq": mode_seq,
    "calls": mode_calls,
    "burst": mode_burst,
    "tls": mode_tls,
    "profile": mode_profile,
    "server": mode_server,
}


def main() -> None:
    """``child.py MODE CONTENDER JSON``: run one measure, print one JSON line."""
    mode, name, raw = sys.argv[1], sys.argv[2], sys.argv[3]
    cfg: dict[str, Any] = json.loads(raw)
    result = MODES[mode](name, cfg)
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
