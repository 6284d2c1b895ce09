"""Action states: start, poll, cancel and resume an action at its provider, with the RunAs token."""

from __future__ import annotations

import asyncio
from typing import Any, Mapping


from .apis import ApiStates
from ...definitions.privacy import without_private_markers, without_private_parameters
from .model import Doc, LiveRun, StateFailure, _ACTION_FINAL, _DEFAULT_WAIT_TIME, _request_id


class ActionStates(ApiStates):
    """``Action`` states (and ``Handler`` states that name an Action Provider)."""

    async def _cancel_action(self, run: LiveRun) -> None:
        """Cancel the action in progress (or being started) at its provider; best effort."""
        from automate_lite.errors import AutomateError

        try:
            if run.action is not None:
                url, action_id = run.action
                await asyncio.wait_for(self._client(url).cancel(action_id), 5)
            elif run.pending_start is not None:
                # The start may or may not have reached the provider: repeating it with
                # the same request_id finds the action (or makes it) without a duplicate.
                url, body, request_id = run.pending_start
                client = self._client(url)
                started = await asyncio.wait_for(client.run(body, request_id=request_id), 5)
                await asyncio.wait_for(client.cancel(started["action_id"]), 5)
        except (AutomateError, asyncio.TimeoutError, OSError):
            pass

    async def _action(self, run: LiveRun, name: str, state: Mapping[str, Any], document: Any,
                      context: Doc, visit: int) -> Any:
        from automate_lite.errors import (
            AutomateAPIError,
            ConflictError,
            TransportError,
            UsageError,
            WaitTimeout,
        )

        body = self._input(state, document, context)
        if not isinstance(body, dict):
            raise StateFailure("ActionUnableToRun", f"the action input must be an object, not {type(body).__name__}")
        # The log shows the input without its private fields; the action gets all of
        # them, but not the __Private_Parameters lists themselves.
        shown: Doc = without_private_parameters(body)
        body = without_private_markers(body)
        handler = state.get("Handler")
        if isinstance(handler, dict) and handler.get("Type") == "RegisteredAPI":
            result = await self._registered_api(run, name, str(handler.get("Id")), body, shown, state.get("RunAs"))
            return self._store(run, state, document, result)
        if isinstance(handler, str):
            result = await self._hosted(run, name, handler, body, shown, state.get("RunAs"))
            return self._store(run, state, document, result)
        url = handler.get("Url") if isinstance(handler, dict) else state.get("ActionUrl")
        if not isinstance(url, str):
            raise StateFailure("ActionUnableToRun", f"the stand-in cannot run the Handler {handler!r}: give "
                               "ActionUrl, {\"Type\": \"ActionProvider\", \"Url\": ...} or "
                               "{\"Type\": \"RegisteredAPI\", \"Id\": ...}")
        try:
            client = self._run_as(run, self._client(url), state.get("RunAs"))
        except UsageError as exc:
            raise StateFailure("ActionUnableToRun", str(exc), {"code": "InvalidActionUrl", "description": str(exc)}) from None
        request_id = _request_id(run.run_id, visit, name)
        raw_wait = state.get("WaitTime", _DEFAULT_WAIT_TIME)
        wait_time = float(raw_wait) if isinstance(raw_wait, (int, float)) else _DEFAULT_WAIT_TIME
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_time
        with self.host.lock:
            run.pending_start = (url, body, request_id)
        cancelled = False
        try:
            try:
                status = dict((await client.run(body, request_id=request_id)).data)
            except AutomateAPIError as exc:
                output = exc.raw_json if isinstance(exc.raw_json, dict) else {"code": exc.code, "description": exc.message}
                raise StateFailure("ActionUnableToRun", f"{exc.http_status} {exc.code}: {exc.message}", output) from None
            except (TransportError, UsageError) as exc:
                raise StateFailure("ActionUnableToRun", str(exc), {"code": type(exc).__name__, "description": str(exc)}) from None
            action_id = str(status.get("action_id"))
            with self.host.lock:
                run.action = (url, action_id)
                run.pending_start = None
            self._state_log(run, name, "Action", "Started", {"input": shown, "action_id": action_id})
            while status.get("status") not in _ACTION_FINAL:
                try:
                    if status.get("status") == "INACTIVE":
                        inactive_since = loop.time()
                        details = status.get("details")
                        await self._go_inactive(run, "action", {
                            **(details if isinstance(details, dict) else {"details": details}),
                            "action_id": action_id,
                        })
                        deadline += loop.time() - inactive_since
                        try:
                            status = dict((await client.resume(action_id)).data)
                        except ConflictError:  # no longer INACTIVE (resumed at the provider)
                            status = dict((await client.status(action_id)).data)
                        continue
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        raise StateFailure("ActionTimeout", f"the action was still {status.get('status')} after "
                                           f"WaitTime {wait_time:g}s", status)
                    status = dict((await client.wait(action_id, timeout=remaining, initial_delay=self.poll_initial_s,
                                                     max_delay=self.poll_max_s)).data)
                except WaitTimeout as exc:
                    last = exc.last.data if exc.last is not None else status
                    raise StateFailure("ActionTimeout", f"the action did not finish within WaitTime {wait_time:g}s",
                                       last) from None
                except (AutomateAPIError, TransportError) as exc:
                    raise StateFailure("ActionFailedException", f"checking on the action failed: {exc}",
                                       {"code": getattr(exc, "code", type(exc).__name__), "description": str(exc)}) from None
        except asyncio.CancelledError:
            cancelled = True  # keep run.action: _execute cancels it at the provider
            raise
        finally:
            if not cancelled:
                with self.host.lock:
                    run.action = None
                    run.pending_start = None
        result = {**status, "state_name": name}
        if status.get("status") == "FAILED":
            details = status.get("details")
            cause = "the action ended FAILED"
            if isinstance(details, dict) and (details.get("description") or details.get("code")):
                cause += f": {details.get('code', '')} {details.get('description', '')}".rstrip()
            raise_it = state.get("ExceptionOnActionFailure", True) is not False
            extra: Doc = {"output": result, "error": "ActionFailedException"} if raise_it else {"output": result}
            self._state_log(run, name, "Action", "Failed", extra)
            if raise_it:
                raise StateFailure("ActionFailedException", cause, result, logged=True)
        else:
            self._state_log(run, name, "Action", "Completed", {"output": result})
        return self._store(run, state, document, result)

    def _run_as(self, run: LiveRun, client: Any, role: Any) -> Any:
        """The client that presents ``role``'s token (see :meth:`_role_token`)."""
        token = self._role_token(run, role)
        if token is None:
            return client
        import dataclasses

        from automate_lite import BearerTokenAuthorizer

        auth = BearerTokenAuthorizer(token)
        if dataclasses.is_dataclass(client):
            return dataclasses.replace(client, authorizer=auth)  # type: ignore[type-var]
        return client.replace(authorizer=auth)

