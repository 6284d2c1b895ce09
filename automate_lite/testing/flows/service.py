"""The local Flows service: :class:`FlowsStub` put together from its route modules."""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

from .._server import App, StubServer
from ..runner import FlowRunner
from .hosted import HostedHandlers
from .limits import FlowLimits
from .store import Doc, FlowsState, _as_urn


class FlowsStub(HostedHandlers):
    """The Flows service on ``127.0.0.1``: ``.url``, ``.state``, ``with`` support.

    Args:
        tokens: service-scope bearer tokens -> identity (a URN, or a bare id that gets
            the ``urn:globus:auth:identity:`` prefix).
        flow_tokens: flow-scope tokens -> identity, good for every flow's scope.
        groups: identity -> group URNs it belongs to (for group principals).
        consent_required_once: the first run attempt of each identity on each flow
            answers 403 ConsentRequired (see also :meth:`require_consent`).
        execute: run definitions for real (default); False makes every run scripted.
        action_token: the bearer token Action states present to action providers
            (the flow's run-as token); None sends none.
        action_poll: (first, longest) delay in seconds between polls of an action.
        default_active_s: how long a scripted run stays ACTIVE when its ``_stub`` says nothing.
        cancel_status: status of a cancelled run, ``"ENDED"`` or ``"FAILED"``.
        seed_registered_apis: start with two example registered APIs.
        clock: the time source (``time.time``); a test may pass its own.
        host, port: where to listen (port 0: a free one).
        action_urls: where each ``ActionUrl`` is really served: a function of the URL
            (e.g. ``LocalProviders.map_url``) or a mapping; None runs them as written.
        api_urls: where registered APIs' destination URLs are really served: a function
            of the URL, or a mapping of URL prefixes to their replacements (e.g.
            ``{"https://api.example.org": "http://127.0.0.1:8001"}``; longest prefix wins).
        limits: the Globus Flows limits to enforce (:class:`~.limits.FlowLimits`; default:
            the documented ones, 200,000-byte run state, one-year runs, 90-day run
            retention, the free-tier flow limits off). Timed against ``clock``.
    """

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        flow_tokens: Mapping[str, str] | None = None,
        groups: Mapping[str, Iterable[str]] | None = None,
        consent_required_once: bool = False,
        execute: bool = True,
        action_token: str | None = None,
        action_poll: tuple[float, float] = (0.02, 0.5),
        default_active_s: float = 0.05,
        cancel_status: Literal["ENDED", "FAILED"] = "ENDED",
        seed_registered_apis: bool = True,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
        action_urls: Callable[[str], str] | Mapping[str, str] | None = None,
        api_urls: Callable[[str], str] | Mapping[str, str] | None = None,
        limits: FlowLimits | None = None,
    ) -> None:
        self.auth_enabled = tokens is not None or flow_tokens is not None
        self._tokens = {t: _as_urn(i) for t, i in (tokens or {}).items()}
        # flow token -> (identity, flow id or None for every flow)
        self._flow_tokens: dict[str, tuple[str, str | None]] = {
            t: (_as_urn(i), None) for t, i in (flow_tokens or {}).items()
        }
        self._groups = {_as_urn(i): frozenset(g) for i, g in (groups or {}).items()}
        self.consent_required_once = consent_required_once
        self.execute = execute
        self.default_active_s = default_active_s
        self.cancel_status = cancel_status
        self._clock = clock
        self.state = FlowsState()
        self._users: dict[str, Doc] = {}
        self._scoped_tokens: dict[str, tuple[str, frozenset[str]]] = {}
        self._role_tokens: dict[str, str] = {"User": action_token} if action_token else {}
        self.app = App()
        self._register_routes()
        self._seed_hosted_handlers()
        if seed_registered_apis:
            self._seed_registered_apis()
        self.server = StubServer(self.app, host, port)
        self.runner = FlowRunner(
            self, action_token=action_token, poll_initial_s=action_poll[0], poll_max_s=action_poll[1]
        )
        self.limits = limits if limits is not None else FlowLimits()
        if action_urls is not None:
            self.runner.action_url_map = action_urls if callable(action_urls) else (lambda u: action_urls.get(u, u))
        if api_urls is not None:
            self.runner.api_url_map = api_urls if callable(api_urls) else _prefix_map(api_urls)

    # -- lifecycle ---------------------------------------------------------------------


    def start(self) -> "FlowsStub":
        """Serve in a background thread, with the runner's event loop; returns ``self``.

        Raises UsageError (one line, before anything listens) without jsonschema, which
        run input checks need: install ``automate-lite[testing]``.
        """
        _require_jsonschema()
        self.runner.start()
        self.server.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (what ``python -m automate_lite.testing`` calls)."""
        _require_jsonschema()
        self.runner.start()
        self.server.serve_forever()

    def stop(self) -> None:
        """Stop serving, close the socket, cancel the runs still going and stop the runner."""
        self.server.stop()
        self.runner.stop()


    def set_user(self, identity: str, *, username: str | None = None, email: str | None = None,
                 identities: Sequence[str] = ()) -> None:
        """Say who ``identity`` is: what ``$._context`` shows in its runs (username, email, linked identities)."""
        urn = _as_urn(identity)
        with self.state.lock:
            self._users[urn] = {
                "username": username, "email": email,
                "identities": [urn, *(_as_urn(i) for i in identities if _as_urn(i) != urn)],
            }

    def add_scoped_token(self, token: str, identity: str, scopes: Iterable[str]) -> None:
        """Accept ``token`` as a service token of ``identity`` holding only ``scopes``.

        Scopes are the Flows service's scope names (``all``, ``manage_flows``,
        ``view_flows``, ``run_status``, ``run_manage``; full scope strings work too).
        Routes then answer 403 MISSING_SCOPE without the scope they take, so a test can
        see which token a client method uses. Tokens given as ``tokens`` hold ``all``.
        """
        names = frozenset(s.rsplit("/", 1)[-1] for s in scopes)
        with self.state.lock:
            self._scoped_tokens[token] = (_as_urn(identity), names)
            self.auth_enabled = True

    def add_run_as_token(self, role: str, token: str) -> None:
        """Give runs a token for the RunAs role ``role`` ("User" is the run's owner).

        ``"Flow"`` has a token of its own (:meth:`flow_identity_token`) unless set here.
        A run's input may give its own, ``{"_tokens": {role: token}}``, which win over these.
        A state with ``RunAs`` naming a role that has no token fails with ActionUnableToRun.
        """
        with self.state.lock:
            self._role_tokens[role] = token

    # -- test helpers --------------------------------------------------------------------

    def add_token(self, token: str, identity: str) -> None:
        """Accept ``token`` as a service token of ``identity`` from now on (turns auth on)."""
        with self.state.lock:
            self._tokens[token] = _as_urn(identity)
            self.auth_enabled = True

    def issue_flow_token(self, flow_id: str, identity: str, token: str | None = None) -> str:
        """Register (and return) a token for one flow's scope only, owned by ``identity``.

        It only matters when auth is on (``tokens`` or ``flow_tokens`` given).
        """
        token = token or f"flow-{flow_id}-{uuid.uuid4().hex}"
        with self.state.lock:
            self._flow_tokens[token] = (_as_urn(identity), flow_id)
        return token

    def require_consent(self, flow_id: str) -> None:
        """Make the next run attempt of ``flow_id`` (by anyone) answer ConsentRequired."""
        with self.state.lock:
            self.state.consent_required.add(flow_id)

    def _register_routes(self) -> None:
        self._register_flow_routes()
        self._register_start_routes()
        self._register_run_routes()
        self._register_legacy_routes()
        self._register_web_input_routes()
        self._register_registered_api_routes()


def _require_jsonschema() -> None:
    try:
        import jsonschema  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
    except ImportError:
        from ...errors import UsageError

        raise UsageError("The local Flows service checks run input with jsonschema, which is not installed: "
                         "pip install 'automate-lite[testing]'") from None


def _prefix_map(prefixes: Mapping[str, str]) -> Callable[[str], str]:
    """A URL mapper replacing the longest matching prefix (URLs matching none stay)."""
    ordered = sorted(prefixes.items(), key=lambda kv: -len(kv[0]))

    def mapped(url: str) -> str:
        for prefix, target in ordered:
            if url.startswith(prefix):
                return target + url[len(prefix):]
        return url

    return mapped


def serve_flows(port: int = 0, host: str = "127.0.0.1", **options: Any) -> None:
    """Serve a :class:`FlowsStub` in the foreground until interrupted.

    ``options`` are :class:`FlowsStub` arguments (auth is off without ``tokens`` or
    ``flow_tokens``). Prints ``flows <url>`` once listening, so a parent can read the port.
    """
    stub = FlowsStub(host=host, port=port, **options)
    print(f"flows {stub.url}", flush=True)
    try:
        stub.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()
