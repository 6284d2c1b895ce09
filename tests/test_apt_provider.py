"""End to end: both action clients against a REAL Action Provider on 127.0.0.1.

The provider (``tests/apt_provider/provider_app.py``) is built with
globus-action-provider-tools, whose pins (``globus-sdk<4``, ``pydantic<2``) keep it out of
the project's environment: it runs from its own virtual environment, ``.apt-venv/`` at the
repository root, built once from ``tests/apt_provider/requirements.txt`` and reused while
the hash in its marker file matches. Building it needs PyPI; without it these tests fail
(they do not skip). Token introspection is answered inside the provider, not by Globus Auth.

Every scenario is written once, as a coroutine over an async client, and runs for
:class:`~automate_lite.AsyncActionClient` and for :class:`~automate_lite.ActionClient`
(behind a thin async face), on the newer ``/actions`` routes and on the legacy ones: the
toolkit serves both.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Iterator, TypedDict

import pytest

from automate_lite import (
    ActionClient,
    AsyncActionClient,
    AuthenticationError,
    AutomateAPIError,
    BearerTokenAuthorizer,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)
from automate_lite.actions import Routes

pytestmark = pytest.mark.apt

REPO_ROOT = Path(__file__).resolve().parent.parent
APT_DIR = REPO_ROOT / "tests" / "apt_provider"
APP = APT_DIR / "provider_app.py"
REQUIREMENTS = APT_DIR / "requirements.txt"
VENV = REPO_ROOT / ".apt-venv"
MARKER = VENV / "automate-lite-requirements.sha256"

# Keep these in step with provider_app.py (it runs in the other venv, so no import).
SCOPE = "https://auth.globus.org/scopes/5e1f3f0c-7d6f-4c1e-9a59-6f2d1c0a7e11/apt_e2e"
ALICE = "urn:globus:auth:identity:b1f2c3d4-0000-4000-8000-00000000a11c"
BOB = "urn:globus:auth:identity:b1f2c3d4-0000-4000-8000-000000000b0b"
ALICE_TOKEN = "apt-e2e-token-alice-0123456789"
BOB_TOKEN = "apt-e2e-token-bob-0123456789"
WRONG_SCOPE_TOKEN = "apt-e2e-token-wrong-scope-0123456789"
UNKNOWN_TOKEN = "apt-e2e-token-nobody-knows-0123456789"

# What the toolkit (0.21) answers, as seen on the wire.
VALIDATION_CODE = "RequestValidationError"  # 422
NOT_FOUND_CODE = "ActionNotFound"  # 404, unknown action id
UNAUTHORIZED_CODE = "UnauthorizedRequest"  # 401: bad token, and another user's action
CONFLICT_CODE = "ActionConflict"  # 409, raised by provider_app's handlers



class _WaitArgs(TypedDict):
    timeout: float
    initial_delay: float
    max_delay: float


# Polling settings: short, since the provider's actions take a fraction of a second.
WAIT: _WaitArgs = {"timeout": 30.0, "initial_delay": 0.05, "max_delay": 0.2}


# ----------------------------------------------------------------------------------------
# The provider's virtual environment and process


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _requirements_hash() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    # Wheels differ per interpreter: another Python version means another venv.
    digest.update(f"\n{sys.implementation.cache_tag}\n{sys.base_prefix}".encode())
    return digest.hexdigest()


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """One builder at a time (two pytest runs, or xdist workers, may start together)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    tag = hashlib.sha256(str(VENV).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"automate-lite-apt-venv-{tag}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run_step(cmd: list[str], what: str, timeout: float) -> None:
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired as e:
        out = (e.output or b"").decode("utf-8", "replace")
        pytest.fail(f"{what}: `{' '.join(cmd)}` took more than {timeout:g}s\n{out[-3000:]}", pytrace=False)
    if done.returncode != 0:
        out = done.stdout.decode("utf-8", "replace")
        pytest.fail(
            f"{what}: `{' '.join(cmd)}` exited {done.returncode}. The end-to-end tests need a "
            f"virtual environment with globus-action-provider-tools, built once into {VENV} "
            f"from {REQUIREMENTS.relative_to(REPO_ROOT)}, which needs access to PyPI.\n"
            f"--- output (last 3000 characters) ---\n{out[-3000:]}",
            pytrace=False,
        )


def ensure_provider_venv() -> tuple[Path, float | None]:
    """The venv's python, building the venv if needed; and the build time (None: reused)."""
    want = _requirements_hash()
    python = _venv_python()
    with _build_lock():
        if python.exists() and MARKER.exists() and MARKER.read_text().strip() == want:
            return python, None
        started = time.monotonic()
        if VENV.exists():
            shutil.rmtree(VENV)
        _run_step([sys.executable, "-m", "venv", str(VENV)], "could not create the provider's venv", 300)
        _run_step(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "-r", str(REQUIREMENTS)],
            "could not install the provider's requirements",
            900,
        )
        # Written last: a half-built venv has no marker and is built again next time.
        MARKER.write_text(want + "\n")
        return python, time.monotonic() - started


@dataclass(frozen=True)
class Provider:
    """The running provider: ``url`` is the action URL (``.../apt``), ``base`` its server."""

    url: str
    base: str
    log_path: Path
    build_seconds: float | None

    def debug(self, request_id: str) -> dict[str, Any]:
        """How many actions the provider created for ``request_id``, and holds in all."""
        with urllib.request.urlopen(f"{self.base}/_debug/requests/{request_id}", timeout=5) as r:
            doc: dict[str, Any] = json.loads(r.read())
        return doc

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")[-4000:]
        except OSError:
            return ""


_READY = re.compile(r"APT-PROVIDER READY (http://127\.0\.0\.1:(\d+))(/\S*)")


def _start(python: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    with open(log_path, "wb") as log:
        # Port 0: the provider binds a free port itself and prints it, so no race.
        proc = subprocess.Popen([str(python), "-u", str(APP), "0"], stdout=log, stderr=subprocess.STDOUT, cwd=APT_DIR, env=env)
    deadline = time.monotonic() + 60
    base = url = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if base is None:
            found = _READY.search(log_path.read_text("utf-8", "replace"))
            if found:
                base, url = found.group(1), found.group(1) + found.group(3)
        if base is not None:
            try:  # answers on a route outside the toolkit: no token needed
                with urllib.request.urlopen(f"{base}/_debug/requests/ready-probe", timeout=2):
                    return proc, url or base, base
            except (urllib.error.URLError, OSError):
                pass
        time.sleep(0.05)
    _stop(proc)
    pytest.fail(
        f"the Action Provider did not come up (exit code {proc.returncode}); its output:\n"
        + log_path.read_text("utf-8", "replace")[-4000:],
        pytrace=False,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="session")
def apt_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The toolkit-built provider, running from ``.apt-venv`` for the whole session."""
    python, build_seconds = ensure_provider_venv()
    log_path = tmp_path_factory.mktemp("apt-provider") / "provider.log"
    proc, url, base = _start(python, log_path)
    try:
        yield Provider(url, base, log_path, build_seconds)
    finally:
        _stop(proc)


# ----------------------------------------------------------------------------------------
# One scenario, both clients


class SyncAsAsync:
    """An :class:`ActionClient` with the :class:`AsyncActionClient` face, so each scenario
    is written once. The calls still block: they test the sync client, nothing more."""

    def __init__(self, client: ActionClient) -> None:
        self.client = client

    async def action_scope(self) -> str:
        return self.client.action_scope

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call

    async def iter_log(self, action_id: str, per_page: int = 100, reverse_order: bool = False) -> AsyncIterator[dict[str, Any]]:
        for entry in self.client.iter_log(action_id, per_page, reverse_order):
            yield entry


@dataclass
class Clients:
    """Makes clients of one kind and route style; all are closed after the scenario."""

    kind: str
    routes: Routes
    provider: Provider
    made: list[ActionClient | AsyncActionClient]

    def __call__(self, token: str | None = ALICE_TOKEN) -> Any:
        auth = BearerTokenAuthorizer(token) if token is not None else None
        if self.kind == "sync":
            sync = ActionClient.new_client(self.provider.url, auth, routes=self.routes)
            self.made.append(sync)
            return SyncAsAsync(sync)
        client = AsyncActionClient.new_client(self.provider.url, auth, routes=self.routes)
        self.made.append(client)
        return client


Scenario = Callable[[Clients], Awaitable[None]]
Runner = Callable[[Scenario], None]

KINDS = [("sync", "actions"), ("sync", "legacy"), ("async", "actions"), ("async", "legacy")]


@pytest.fixture(params=KINDS, ids=[f"{k}-{r}" for k, r in KINDS])
def run_scenario(request: pytest.FixtureRequest, apt_provider: Provider) -> Runner:
    kind, routes = request.param

    def run(scenario: Scenario) -> None:
        async def main() -> None:
            clients = Clients(kind, routes, apt_provider, [])
            try:
                await scenario(clients)
            finally:
                for c in clients.made:
                    if isinstance(c, AsyncActionClient):
                        await c.aclose()
                    else:
                        c.close()

        try:
            asyncio.run(main())
        except BaseException:
            print(f"--- provider output (tail) ---\n{apt_provider.log_tail()}")
            raise

    return run


def codes(entries: Iterable[dict[str, Any]]) -> list[str]:
    return [e["code"] for e in entries]


# ----------------------------------------------------------------------------------------
# The scenarios


def test_introspect(run_scenario: Runner) -> None:
    async def scenario(make: Clients) -> None:
        c = make()
        doc = await c.introspect()
        assert doc.http_status == 200
        assert doc["globus_auth_scope"] == SCOPE
        assert doc["api_version"] == "1.0"
        assert doc["log_supported"] is True
        assert doc["synchronous"] is False
        assert doc["input_schema"]["required"] == ["echo_string"]
        assert doc["runnable_by"] == ["all_authenticated_users"]
        assert await c.action_scope() == SCOPE
        assert await c.action_scope() == SCOPE  # remembered

    run_scenario(scenario)


def test_run_status_wait_succeeds(run_scenario: Runner) -> None:
    async def scenario(make: Clients) -> None:
        c = make()
        started = await c.run(
            {"echo_string": "hello e2e", "sleep_s": 0.2},
            label="e2e run",
            tags=["e2e"],
            release_after="PT1H",
            monitor_by=[BOB],
            run_managers=[BOB],  # the old SDK's alias of manage_by
        )
        assert started.http_status == 202  # the toolkit's answer to a new run
        assert started["status"] == "ACTIVE"
        assert started["creator_id"] == ALICE
        assert started["label"] == "e2e run"
        assert started["monitor_by"] == [BOB] and started["manage_by"] == [BOB]
        assert started["release_after"] == "PT1H"
        assert started["completion_time"] is None
        action_id = started["action_id"]

        now = await c.status(action_id)
        assert now.http_status == 200
        assert now["action_id"] == action_id and now["status"] in ("ACTIVE", "SUCCEEDED")

        done = await c.wait(action_id, **WAIT)
        assert done["status"] == "SUCCEEDED"
        assert done["details"] == {"echo_string": "hello e2e"}
        assert done["completion_time"] is not None
        assert done["display_status"] == "Succeeded"

        # monitor_by lets Bob see it; manage_by lets him release it.
        bob = make(BOB_TOKEN)
        assert (await bob.status(action_id))["status"] == "SUCCEEDED"
        released = await bob.release(action_id)
        assert released["action_id"] == action_id

    run_scenario(scenario)


def test_log_pages(run_scenario: Runner) -> None:
    async def scenario(make: Clients) -> None:
        c = make()
        action_id = (await c.run({"echo_string": "log me", "require_resume": True}))["action_id"]
        await c.resume(action_id)
        assert (await c.wait(action_id, **WAIT))["status"] == "SUCCEEDED"
        expected = ["ActionStarted", "ActionInactive", "ActionResumed", "ActionSucceeded"]

        page = await c.log(action_id)
        assert codes(page["entries"]) == expected
        assert page["has_next_page"] is False and page["marker"] is None

        first = await c.log(action_id, limit=3)
        assert codes(first["entries"]) == expected[:3]
        assert first["has_next_page"] is True and first["marker"]
        # The marker goes back as ?marker= (newer routes) or ?pagination_token= (legacy).
        second = await c.log(action_id, limit=3, marker=first["marker"])
        assert codes(second["entries"]) == expected[3:]
        assert second["has_next_page"] is False

        assert codes((await c.log(action_id, reverse_order=True))["entries"]) == expected[::-1]
        assert codes([e async for e in c.iter_log(action_id, per_page=1)]) == expected
        assert codes([e async for e in c.iter_log(action_id, per_page=3, reverse_order=True)]) == expected[::-1]

    run_scenario(scenario)


def test_cancel(run_scenario: Runner) -> None:
    async def scenario(make: Clients) -> None:
        c = make()
        action_id = (await c.run({"echo_string": "never done", "sleep_s": 60}))["action_id"]
        cancelled = await c.cancel(action_id)
        assert cancelled.http_status == 200
        assert cancelled["status"] == "FAILED"
        assert cancelled["details"]["code"] == "ActionCanceled"
        assert (await c.wait(action_id, **WAIT))["status"] == "FAILED"
        # Cancelling again leaves it as it is.
        assert (await c.cancel(action_id))["status"] == "FAILED"
        assert codes((await c.log(action_id))["entries"]) == ["ActionStarted", "ActionCancelled"]
        await c.release(action_id)

    run_scenario(scenario)


def test_resume_inactive_action(run_scenario: Runner) -> None:
    async def scenario(make: Clients) -> None:
        c = make()
        started = await c.run({"echo_string": "wait for me", "require_resume": True, "sleep_s": 0.1})
        assert started["status"] == "INACTIVE"
        assert started["details"]["code"] == "ResumeRequired"
        action_id = started["action_id"]

        # wait() stops on INACTIVE by default: polling on would only burn time.
        assert (await c.wait(action_id, **WAIT))["status"] == "INACTIVE"

        resumed = await c.resume(action_id)
        assert resumed.http_status == 200
        assert resumed["status"] == "ACTIVE"
        done = await c.wait(action_id, **WAIT)
        assert done["status"] == "SUCCEEDED" and done["details"] == {"echo_string": "wait for me"}

        with pytest.raises(ConflictError) as info:
            await c.resume(action_id)
        assert info.value.http_status == 409 and info.value.code == CONFLICT_CODE
        assert "not INACTIVE" in info.value.message

    run_scenario(scenario)


def test_release(run_scenario: Runner, apt_provider: Provider) -> None:
    async def scenario(make: Clients) -> None:
        c = make()
        rid = str(uuid.uuid4())
        action_id = (await c.run({"echo_string": "release me", "sleep_s": 60}, request_id=rid))["action_id"]

        with pytest.raises(ConflictError) as info:  # still running
            await c.release(action_id)
        assert info.value.http_status == 409 and info.value.code == CONFLICT_CODE

        await c.cancel(action_id)
        released = await c.release(action_id)
        assert released.http_status == 200
        assert released["action_id"] == action_id and released["status"] == "FAILED"
        assert apt_provider.debug(rid)["held"] == 0

        with pytest.raises(NotFoundError) as gone:
            await c.status(action_id)
        assert gone.value.http_status == 404 and gone.value.code == NOT_FOUND_CODE

    run_scenario(scenario)


def test_rerun_with_same_request_id_is_one_action(run_scenario: Runner, apt_provider: Provider) -> None:
    async def scenario(make: Clients) -> None:
        c = make()
        rid = str(uuid.uuid4())
        body = {"echo_string": "once", "sleep_s": 0.1}
        first = await c.run(body, request_id=rid, label="idempotent")
        again = await c.run(body, request_id=rid, label="idempotent")
        assert first.http_status == 202 and again.http_status == 200
        assert again["action_id"] == first["action_id"]
        assert apt_provider.debug(rid)["created"] == 1
        assert apt_provider.debug(rid)["held"] == 1

        with pytest.raises(ConflictError) as info:  # same request_id, another body
            await c.run({"echo_string": "twice"}, request_id=rid, label="idempotent")
        assert info.value.http_status == 409 and info.value.code == CONFLICT_CODE
        assert rid in info.value.message
        assert apt_provider.debug(rid)["created"] == 1

        assert (await c.wait(first["action_id"], **WAIT))["status"] == "SUCCEEDED"
        # Asked again after it finished: still the same action, now SUCCEEDED.
        late = await c.run(body, request_id=rid, label="idempotent")
        assert late["action_id"] == first["action_id"] and late["status"] == "SUCCEEDED"
        assert apt_provider.debug(rid)["created"] == 1

    run_scenario(scenario)


def test_validation_error_is_422(run_scenario: Runner, apt_provider: Provider) -> None:
    async def scenario(make: Clients) -> None:
        c = make()
        rid = str(uuid.uuid4())
        cases = [
            ({"sleep_s": 1}, "'echo_string' is a required property"),
            ({"echo_string": 5}, "$.echo_string"),
            ({"echo_string": "x", "surprise": True}, "Additional properties are not allowed"),
            ({"echo_string": "x", "sleep_s": -1}, "$.sleep_s"),
        ]
        for body, expected in cases:
            with pytest.raises(UnprocessableEntityError) as info:
                await c.run(body, request_id=rid)
            err = info.value
            assert isinstance(err, AutomateAPIError)
            assert err.http_status == 422 and err.code == VALIDATION_CODE
            assert expected in err.message, (body, err.messages)
            assert err.raw_json == {"code": VALIDATION_CODE, "description": err.messages[0]}

        # The request envelope is validated too (by the toolkit's pydantic model).
        with pytest.raises(UnprocessableEntityError) as info:
            await c.run({"echo_string": "x"}, request_id=rid, label="x" * 65)
        assert info.value.code == VALIDATION_CODE and "label" in info.value.message
        assert apt_provider.debug(rid)["created"] == 0

    run_scenario(scenario)


def test_unknown_action_is_404(run_scenario: Runner) -> None:
    async def scenario(make: Clients) -> None:
        c = make()
        missing = f"no-such-action-{uuid.uuid4()}"
        for call in (c.status, c.cancel, c.resume, c.release, c.log):
            with pytest.raises(NotFoundError) as info:
                await call(missing)
            assert info.value.http_status == 404, call
            assert info.value.code == NOT_FOUND_CODE
            assert missing in info.value.url

    run_scenario(scenario)


def test_another_users_action_is_401(run_scenario: Runner) -> None:
    async def scenario(make: Clients) -> None:
        alice, bob = make(ALICE_TOKEN), make(BOB_TOKEN)
        action_id = (await alice.run({"echo_string": "mine", "sleep_s": 60}))["action_id"]
        # The toolkit answers 401 (not 404) when the action exists but is not yours.
        for call in (bob.status, bob.cancel, bob.release, bob.log):
            with pytest.raises(AuthenticationError) as info:
                await call(action_id)
            assert info.value.http_status == 401 and info.value.code == UNAUTHORIZED_CODE
        assert (await alice.status(action_id))["status"] == "ACTIVE"  # untouched
        await alice.cancel(action_id)
        await alice.release(action_id)

    run_scenario(scenario)


def test_bad_tokens_are_401(run_scenario: Runner, apt_provider: Provider) -> None:
    async def scenario(make: Clients) -> None:
        # inactive at introspection; active but without the provider's scope; too short
        # for the toolkit to introspect at all; no Authorization header.
        for token in (UNKNOWN_TOKEN, WRONG_SCOPE_TOKEN, "short", None):
            c = make(token)
            rid = str(uuid.uuid4())
            attempts: list[Callable[[], Awaitable[Any]]] = [
                lambda: c.introspect(),
                lambda: c.run({"echo_string": "x"}, request_id=rid),
                lambda: c.status("whatever"),
            ]
            for attempt in attempts:
                with pytest.raises(AuthenticationError) as info:
                    await attempt()
                err = info.value
                assert err.http_status == 401 and err.code == UNAUTHORIZED_CODE, token
                assert "not verify that you are authorized" in err.message
            assert apt_provider.debug(rid)["created"] == 0

    run_scenario(scenario)


def test_list_actions(run_scenario: Runner) -> None:
    async def scenario(make: Clients) -> None:
        c = make()
        action_id = (await c.run({"echo_string": "listed"}))["action_id"]
        assert (await c.wait(action_id, **WAIT))["status"] == "SUCCEEDED"
        listing = await c.list_actions(statuses=["SUCCEEDED"], roles=["creator_id"])
        assert isinstance(listing.data, list)
        assert action_id in {a["action_id"] for a in listing.data}
        assert {a["status"] for a in listing.data} == {"SUCCEEDED"}
        assert action_id not in {a["action_id"] for a in (await c.list_actions(statuses=["ACTIVE"])).data}
        # Bob neither created it nor monitors it.
        assert action_id not in {a["action_id"] for a in (await make(BOB_TOKEN).list_actions(statuses=["SUCCEEDED"])).data}
        await c.release(action_id)

    run_scenario(scenario)


@pytest.mark.parametrize("routes", ["actions", "legacy"])
def test_async_many_at_once(routes: Routes, apt_provider: Provider) -> None:
    """The async client shares one client across tasks: runs and waits overlap."""

    async def main() -> None:
        async with AsyncActionClient.new_client(apt_provider.url, BearerTokenAuthorizer(ALICE_TOKEN), routes=routes) as c:
            bodies = [{"echo_string": f"task {i}", "sleep_s": 0.2} for i in range(8)]
            started = await asyncio.gather(*(c.run(b) for b in bodies))
            ids = [s["action_id"] for s in started]
            assert len(set(ids)) == len(ids)
            done = await asyncio.gather(*(c.wait(i, **WAIT) for i in ids))
            assert [d["details"]["echo_string"] for d in done] == [b["echo_string"] for b in bodies]
            await asyncio.gather(*(c.release(i) for i in ids))

    asyncio.run(main())
