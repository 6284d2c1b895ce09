"""Handler states the local Flows service runs itself: registered APIs and hosted handles.

* ``Handler: {"Type": "RegisteredAPI", "Id": ...}`` calls the registered API the service
  keeps (its ``target.destination``), placing the state's Parameters in the request as
  the Registered API docs describe: nested under ``path``, ``query``, ``headers`` and
  ``body`` when the Parameters use those top-level names (the default placement), else
  flat (as Globus's own hosted registered APIs take them: ``{name}`` in the URL is a path
  parameter, the rest is the query string for GET/DELETE/HEAD and the JSON body
  otherwise). ``target.transforms`` is stored by the service but not applied here.
* ``Handler: "urn:globus:flows:handle:..."`` runs a function registered with
  :meth:`~automate_lite.testing.flows.FlowsStub.add_hosted_handler` (a few Globus ones
  are built in, see :mod:`automate_lite.testing.flows.hosted`).

Both results are ``{"status_code", "body", "state_name"}``; a status of 400 or more
fails the state with ``ActionFailedException`` (that document is the error output).
"""

from __future__ import annotations

import copy
import inspect
import re
from typing import Any, Callable, Mapping

from .core import RunnerCore
from .model import Doc, HandlerError, HostedCall, LiveRun, StateFailure, full_handle

#: The top-level Parameters names that say where a registered API's parameters go.
_PLACEMENTS = ("path", "query", "headers", "body")


class ApiStates(RunnerCore):
    """Registered-API and hosted-handle Handler states."""

    #: Where each registered API URL is really served (``FlowsStub(api_urls=...)``).
    api_url_map: Callable[[str], str] | None = None

    @staticmethod
    def _role_token(run: LiveRun, role: Any) -> str | None:
        """The token a state with ``RunAs: role`` presents (no RunAs, or "User": the run's own).

        A named role without one fails the state with ActionUnableToRun (catchable).
        """
        if role is None or role == "User":
            return run.role_tokens.get("User")
        if isinstance(role, str) and role in run.role_tokens:
            return run.role_tokens[role]
        raise StateFailure("ActionUnableToRun", f"RunAs role {role!r} has no token for this run; start the run "
                           f"with one in its input, {{\"_tokens\": {{\"{role}\": ...}}}}, or give the service one "
                           "with FlowsStub.add_run_as_token",
                           {"code": "MissingRunAsToken", "description": f"No token for RunAs role {role!r}"})

    async def _hosted(self, run: LiveRun, name: str, handle: str, body: Doc, shown: Doc, role: Any) -> Any:
        """Run the hosted handler ``handle`` with the state's (flat) Parameters."""
        urn = full_handle(handle)
        fn = self.host.hosted_handler(urn)
        if fn is None:
            raise StateFailure("ActionUnableToRun", f"the local service has no hosted handler {urn!r}; "
                               "add one with FlowsStub.add_hosted_handler(name, fn)",
                               {"code": "NOT_FOUND", "description": f"No handler is registered for {urn}"})
        token = self._role_token(run, role)
        self._state_log(run, name, "Action", "Started", {"input": shown, "handler": urn})
        call = HostedCall(parameters=copy.deepcopy(body), handle=urn, state_name=name, run_id=run.run_id,
                          flow_id=run.flow_id, owner=run.owner, context=run.context(), token=token)
        try:
            out = fn(call)
            if inspect.isawaitable(out):
                out = await out
            status, data = 200, out
        except HandlerError as exc:
            status, data = exc.status_code, exc.body
        except Exception as exc:  # a bug in the test's handler fails the state, not the runner
            status, data = 500, {"code": "HandlerError", "description": f"{type(exc).__name__}: {exc}"}
        return self._api_result(run, name, urn, status, data)

    def _api_result(self, run: LiveRun, name: str, what: str, status: int, data: Any) -> Doc:
        result = {"status_code": status, "body": data, "state_name": name}
        if status >= 400:
            self._state_log(run, name, "Action", "Failed", {"output": result, "error": "ActionFailedException"})
            raise StateFailure("ActionFailedException", f"{what} answered {status}", result, logged=True)
        self._state_log(run, name, "Action", "Completed", {"output": result})
        return result

    @staticmethod
    def _place(api_id: str, method: str, url: str, body: Doc) -> tuple[str, dict[str, str], Any]:
        """The URL, extra headers and JSON body of a call (see the module docstring)."""
        from urllib.parse import quote, urlencode

        nested = any(key in body for key in _PLACEMENTS) and all(key in _PLACEMENTS for key in body)
        if nested:
            path: Any = body.get("path") or {}
            query: Any = body.get("query") or {}
            headers: Any = body.get("headers") or {}
            payload: Any = body.get("body")
            for part, value in (("path", path), ("query", query), ("headers", headers)):
                if not isinstance(value, Mapping):
                    raise StateFailure("ActionUnableToRun", f"registered API {api_id}: Parameters.{part} "
                                       "must be an object")
            path, query = dict(path), dict(query)
        else:
            path, query, headers = dict(body), {}, {}
            payload = None
        for key in re.findall(r"{([^{}]+)}", url):
            if key not in path:
                raise StateFailure("ActionUnableToRun", f"registered API {api_id}: parameter {key!r} is required")
            url = url.replace("{" + key + "}", quote(str(path.pop(key)), safe=""))
        if not nested:
            if method in ("GET", "DELETE", "HEAD"):
                query = path
            elif path:
                payload = path
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query, doseq=True)
        return url, {str(k): str(v) for k, v in headers.items()}, payload

    async def _registered_api(self, run: LiveRun, name: str, api_id: str, body: Doc, shown: Doc,
                              role: Any = None) -> Any:
        """Call a registered API kept by the host: its ``target.destination`` with ``body``."""
        import json as _json

        from automate_lite._core.values import Request
        from automate_lite.errors import TransportError

        doc = self.host.registered_api(api_id)
        if doc is None:
            raise StateFailure("ActionUnableToRun", f"there is no registered API {api_id!r}",
                               {"code": "NOT_FOUND", "description": f"No Registered API exists with id value {api_id}"})
        dest = (doc.get("target") or {}).get("destination") or {}
        method = str(dest.get("method", "get")).upper()
        url, extra, payload = self._place(api_id, method, str(dest.get("url", "")), body)
        if self.api_url_map is not None:
            url = self.api_url_map(url)
        headers: dict[str, str] = {"Accept": "application/json", **extra}
        data_bytes: bytes | None = None
        if payload is not None:
            data_bytes = _json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        token = self._role_token(run, role)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._state_log(run, name, "Action", "Started", {"input": shown, "registered_api_id": api_id})
        if self._transport is None:
            self._client("http://127.0.0.1/")  # builds the shared transport
        try:
            resp = await self._transport.send(Request(method, url, headers, data_bytes), self.http_timeout)
        except (TransportError, OSError, ValueError) as exc:
            raise StateFailure("ActionUnableToRun", f"registered API {api_id}: {exc}",
                               {"code": type(exc).__name__, "description": str(exc)}) from None
        try:
            data: Any = _json.loads(resp.body) if resp.body else None
        except ValueError:
            data = resp.body.decode("utf-8", "replace")
        return self._api_result(run, name, f"registered API {api_id}", resp.status, data)
