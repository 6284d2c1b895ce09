"""Handler states that call a registered API kept by the local Flows service."""

from __future__ import annotations

import re
from typing import Any


from .core import RunnerCore
from .model import Doc, LiveRun, StateFailure, _redact


class ApiStates(RunnerCore):
    """Calls of registered APIs (``Handler: {Type: RegisteredAPI, Id}``)."""

    async def _registered_api(self, run: LiveRun, name: str, api_id: str, body: Doc, private: Any) -> Any:
        """Call a registered API kept by the host: its ``target.destination`` with ``body``.

        Parameters are flat (as the hosted registered APIs take them): names that appear
        as ``{name}`` in the destination URL fill the path; the rest go in the query
        string for GET/DELETE and in a JSON body otherwise. The result is
        ``{"status_code", "body"}``.
        """
        import json as _json
        from urllib.parse import quote, urlencode

        from automate_lite._core.values import Request
        from automate_lite.errors import TransportError

        doc = self.host.registered_api(api_id)
        if doc is None:
            raise StateFailure("ActionUnableToRun", f"there is no registered API {api_id!r}",
                               {"code": "NOT_FOUND", "description": f"No Registered API exists with id value {api_id}"})
        dest = (doc.get("target") or {}).get("destination") or {}
        method = str(dest.get("method", "get")).upper()
        url = str(dest.get("url", ""))
        rest = dict(body)
        for key in re.findall(r"{([^{}]+)}", url):
            if key not in rest:
                raise StateFailure("ActionUnableToRun", f"registered API {api_id}: parameter {key!r} is required")
            url = url.replace("{" + key + "}", quote(str(rest.pop(key)), safe=""))
        headers: dict[str, str] = {"Accept": "application/json"}
        payload: bytes | None = None
        if method in ("GET", "DELETE", "HEAD"):
            if rest:
                url += ("&" if "?" in url else "?") + urlencode(rest, doseq=True)
        else:
            payload = _json.dumps(rest).encode()
            headers["Content-Type"] = "application/json"
        token = run.role_tokens.get("User")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._state_log(run, name, "Action", "Started", {"input": _redact(body, private), "registered_api_id": api_id})
        if self._transport is None:
            self._client("http://127.0.0.1/")  # builds the shared transport
        try:
            resp = await self._transport.send(Request(method, url, headers, payload), self.http_timeout)
        except (TransportError, OSError, ValueError) as exc:
            raise StateFailure("ActionUnableToRun", f"registered API {api_id}: {exc}",
                               {"code": type(exc).__name__, "description": str(exc)}) from None
        try:
            data: Any = _json.loads(resp.body) if resp.body else None
        except ValueError:
            data = resp.body.decode("utf-8", "replace")
        result = {"status_code": resp.status, "body": data, "state_name": name}
        if resp.status >= 400:
            self._state_log(run, name, "Action", "Failed", {"output": result, "error": "ActionFailedException"})
            raise StateFailure("ActionFailedException", f"registered API {api_id} answered {resp.status}",
                               result, logged=True)
        self._state_log(run, name, "Action", "Completed", {"output": result})
        return result

