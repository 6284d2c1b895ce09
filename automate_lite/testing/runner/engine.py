"""Runs Globus Flows definitions for the Flows stand-in (standard library + automate_lite).

:class:`FlowRunner` owns one asyncio event loop in a background thread; every run of
the stand-in is one task on it, so hundreds of runs proceed at once. ``Action`` states
call their ``ActionUrl`` with automate-lite's own :class:`~automate_lite.AsyncActionClient`
(one client per action URL, all sharing one transport).

The data rules follow Globus Flows (the Amazon States Language without ``OutputPath``):

* The run input is the first *state document* (``$``). ``$._context`` / ``$$.`` read the
  run context the docs' Run Context page lists: ``run_id``, ``flow_id``, ``username``,
  ``email``, ``user_id`` and ``identities`` (URNs), ``token_info`` {exp, iat, nbf}; plus
  ``action_id`` (the run id, which flows written for the older service read),
  ``flow_title``, ``label``, ``tags``.
* A state's input is the value at its ``InputPath`` (default ``$``); when it has
  ``Parameters`` they are built from that input: ``"k.$": "$.path"`` copies a value,
  ``"k.=": "expr"`` evaluates an expression (:mod:`automate_lite.definitions.expressions`), other keys are
  literals (nested objects and lists are walked). ``__Private_Parameters`` names keys
  that are sent but shown as ``"<private>"`` in the run log.
* A state's result goes to ``ResultPath``; without one it *replaces* the document
  (``$``), as in Globus Flows. Pass: ``Result``, else its input. ExpressionEval: its
  ``Parameters``. Action: the action's final status document (plus ``state_name``).
  CreateWebInput: the web input document. AwaitWebInput: ``{web_input_id, value,
  label?, respondent}``. Choice and Wait leave the document alone.
* An ``Action`` starts with ``request_id = f"{run_id}_{visit}_{sha256(state)[:16]}"``
  (the same state visited again in a loop gets a new one; a retried start never makes
  a second action), then polls with ``wait`` until the action is SUCCEEDED or FAILED.
  An INACTIVE action makes the run INACTIVE (details: the action's); resuming the run
  resumes the action. ``WaitTime`` (default 300 s, time spent INACTIVE not counted)
  bounds the wait. ``ExceptionOnActionFailure`` (default true) makes a FAILED action
  an error; when false the FAILED status is stored as the result and the run goes on.
* ``CreateWebInput`` opens a web input (``Parameters``: ``InputType`` Selection|Text,
  ``Context`` {Title, PresentationStyle, Text | Rows}, ``Options`` [{Value, Label,
  Description}], ``RespondentUrns`` (default: the run's owner), ``ViewerUrns``; the older
  lowercase ``title``/``input_type``/``options``/``respondents`` still work);
  ``AwaitWebInput`` (``Parameters``: ``{"web_input_id.$": ...}``) holds the run INACTIVE
  until it is answered.

Errors a state can raise (``Catch`` matches them by name, or ``States.ALL``):

=================================== ===================================================
``ActionUnableToRun``               the action could not be started (its error body is
                                    the error output)
``ActionFailedException``           the action ended FAILED (or polling it failed)
``ActionTimeout``                   ``WaitTime`` ran out (output: the last status)
``States.ParameterPathFailure``     a ``.$`` JSONPath or ``InputPath`` matched nothing
``ExpressionEvaluationError``       an expression failed to parse or evaluate
``States.ResultPathMatchFailure``   the result could not be written at ``ResultPath``
``States.NoChoiceMatched``          no Choice rule matched and there is no ``Default``
``States.Runtime``                  anything else (a Choice ``Variable`` that is missing,
                                    an unknown web input, a bad ``SecondsPath`` value)
=================================== ===================================================

The error output written at a Catch's ``ResultPath`` (default ``$``, replacing the
document, as the service does) is the action's status or error body for the three
``Action*`` errors and ``{"Error": name, "Cause": text}`` for the others. A ``Fail``
state cannot be caught.

Run log codes, in the service's words (each entry's ``details`` has ``state_name`` and
``state_type`` when a state is concerned):

* ``FlowStarted`` {input}
* ``<Type>Started`` {input} for Pass, Choice, Wait, ExpressionEval, CreateWebInput,
  AwaitWebInput; ``ActionStarted`` {input, action_id} once the provider took the action
  (``__Private_Parameters`` keys show as ``"<private>"``)
* ``<Type>Completed`` {output} (``ChoiceCompleted``: {next_state, rule}; ``WaitCompleted``:
  {output: {seconds}}); ``ActionCompleted`` {output: the action status + ``state_name``}
* ``ActionFailed`` {output: the FAILED status, error} or {error, cause, output} when the
  action could not be started or watched; ``<Type>Failed`` {error, cause, output} for a
  failure in another state type (before any Catch is followed)
* ``FlowInactive`` {state_name, state_type, code, description, action_id | web_input_id}
  and ``FlowResumed``
* ``FlowSucceeded`` {output}; ``FlowFailed`` {state_name, state_type, error, cause,
  output}; ``FlowCanceled`` {state_name} (written by the stub when a run is cancelled)

The run's ``details`` are the last entry's {code, description, state_name, state_type}
while ACTIVE; the action's status details (or ``WaitingForWebInput``) while INACTIVE;
{code: FlowSucceeded, description, output} when SUCCEEDED; {code: FlowFailed,
description, state_name, state_type, error, cause, output} when FAILED.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from ...definitions import expressions, jsonpath
from ...definitions.rules import RuleError, parse_timestamp as _timestamp
from ...definitions.rules import rule_matches as _rule_matches

__all__ = ["FlowRunner", "LiveRun", "RunHost", "StateFailure", "evaluate_parameters", "ERROR_NAMES"]

Doc = dict[str, Any]

#: The error names the runner raises (see the module docstring).
ERROR_NAMES = (
    "ActionUnableToRun",
    "ActionFailedException",
    "ActionTimeout",
    "States.ParameterPathFailure",
    "ExpressionEvaluationError",
    "States.ResultPathMatchFailure",
    "States.NoChoiceMatched",
    "States.Runtime",
)

_FINAL = frozenset({"SUCCEEDED", "FAILED", "ENDED"})
_ACTION_FINAL = frozenset({"SUCCEEDED", "FAILED"})
_DEFAULT_WAIT_TIME = 300.0
_PRIVATE = "__Private_Parameters"


class RunHost(Protocol):
    """What the runner needs from the service that owns the runs (the Flows stand-in)."""

    @property
    def lock(self) -> threading.RLock:
        """The lock that guards every run record (taken briefly, never across an await)."""
        ...

    def now(self) -> float:
        """The service clock (for log times)."""
        ...

    def open_web_input(self, run: "LiveRun", state_name: str, spec: Doc) -> Doc:
        """Create a web input for ``run``; return its document. Raise ValueError on a bad spec."""
        ...

    def web_input_record(self, web_input_id: str) -> Doc | None:
        """The web input's current document (``status``, ``response``, ``options``), or None."""
        ...

    def registered_api(self, api_id: str) -> Doc | None:
        """The registered API document with ``api_id`` (``target.destination``), or None."""
        ...


@dataclass
class LiveRun:
    """What the runner knows of one executed run (read by the stub under ``host.lock``)."""

    run_id: str
    flow_id: str
    flow_title: str
    definition: Doc
    input: Any
    owner: str
    label: str | None = None
    tags: list[str] = field(default_factory=list)
    #: ``username``, ``email``, ``identities`` of the run's owner, and when its token
    #: was issued (``iat``) and expires (``exp``); the stub fills them from its users.
    user_info: Doc = field(default_factory=dict)
    #: RunAs role -> bearer token for actions run as that role ("User": the owner).
    role_tokens: dict[str, str] = field(default_factory=dict)
    status: str = "ACTIVE"
    details: Doc = field(default_factory=lambda: {"code": "FlowStarted", "description": "The Flow Instance started execution"})
    log: list[Doc] = field(default_factory=list)  # entries with a float "time"
    completed_at: float | None = None
    current_state: str | None = None
    waiting_for: str | None = None  # "action" or "web_input" while INACTIVE
    web_input_id: str | None = None
    action: tuple[str, str] | None = None  # (action_url, action_id) in progress
    pending_start: tuple[str, Doc, str] | None = None  # (url, body, request_id) being started
    task: "asyncio.Task[None] | None" = field(default=None, repr=False)
    wake_event: asyncio.Event | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        """SUCCEEDED, FAILED or ENDED (cancelled)."""
        return self.status in _FINAL

    def context(self) -> Doc:
        """The run context (``$._context``), with the fields the Flows docs' Run Context page lists.

        ``user_id`` and ``identities`` are URNs, as documented; ``action_id`` (the run id)
        is what flows written for the older service read; ``flow_title``, ``label`` and
        ``tags`` are extras of the stand-in.
        """
        info = self.user_info
        iat = int(info.get("iat", 0))
        exp = int(info.get("exp", iat + 172_800))
        username = info.get("username")
        return {
            "run_id": self.run_id,
            "action_id": self.run_id,
            "flow_id": self.flow_id,
            "flow_title": self.flow_title,
            "user_id": self.owner,
            "username": username if username is not None else f"{self.owner.rsplit(':', 1)[-1]}@globusid.org",
            "email": info.get("email"),
            "identities": list(info.get("identities") or [self.owner]),
            "token_info": {"exp": exp, "iat": iat, "nbf": iat},
            "label": self.label,
            "tags": list(self.tags),
        }


class StateFailure(Exception):
    """A state failed with a catchable error (``error`` is the name Catch matches)."""

    def __init__(self, error: str, cause: str, output: Any = None, *, logged: bool = False) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        self.output = output
        self.logged = logged

    def error_output(self) -> Any:
        """What a Catch writes at its ResultPath."""
        if self.output is not None:
            return copy.deepcopy(self.output)
        return {"Error": self.error, "Cause": self.cause}


class _FlowFail(Exception):
    """A Fail state: the run fails, no Catch applies."""

    def __init__(self, error: str | None, cause: str | None) -> None:
        super().__init__(error or "")
        self.error = error
        self.cause = cause


def evaluate_parameters(template: Any, document: Any, context: Mapping[str, Any] | None = None) -> Any:
    """Build a ``Parameters`` value against ``document`` (raises :class:`StateFailure`)."""
    return _build(template, document, context, "Parameters")


def _build(template: Any, document: Any, context: Mapping[str, Any] | None, where: str) -> Any:
    if isinstance(template, dict):
        out: Doc = {}
        for key, value in template.items():
            if isinstance(key, str) and key.endswith(".$") and key != ".$":
                try:
                    out[key[:-2]] = copy.deepcopy(jsonpath.get(document, value, context))
                except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
                    raise StateFailure("States.ParameterPathFailure", f"{where}[{key!r}]: {exc}") from None
            elif isinstance(key, str) and key.endswith(".=") and key != ".=":
                try:
                    out[key[:-2]] = expressions.evaluate(value, document, context)
                except expressions.ExpressionError as exc:
                    raise StateFailure("ExpressionEvaluationError", f"{where}[{key!r}] = {value!r}: {exc}") from None
            else:
                out[key] = _build(value, document, context, f"{where}[{key!r}]")
        return out
    if isinstance(template, list):
        return [_build(item, document, context, f"{where}[{i}]") for i, item in enumerate(template)]
    return copy.deepcopy(template)


def _redact(body: Doc, private: Any) -> Doc:
    if not isinstance(private, list):
        return copy.deepcopy(body)
    return {k: ("<private>" if k in private else copy.deepcopy(v)) for k, v in body.items()}


def rule_matches(rule: Mapping[str, Any], document: Any, context: Mapping[str, Any] | None = None) -> bool:
    """Whether a Choice rule holds for ``document`` (raises :class:`StateFailure`).

    The evaluation is :func:`automate_lite.definitions.rules.rule_matches`, the one the
    validator's table describes; only its error becomes the state's failure here.
    """
    try:
        return _rule_matches(rule, document, context)
    except RuleError as exc:
        raise StateFailure(exc.error, str(exc)) from None


def _request_id(run_id: str, visit: int, state_name: str) -> str:
    digest = hashlib.sha256(state_name.encode()).hexdigest()[:16]
    return f"{run_id}_{visit}_{digest}"


class FlowRunner:
    """Executes :class:`LiveRun` s on one event loop in a daemon thread.

    Args:
        host: the service that owns the runs (see :class:`RunHost`).
        action_token: the bearer token presented to action providers (the flow's
            run-as token); None sends no Authorization header.
        poll_initial_s, poll_max_s: the back-off of polling an action.
        http_timeout: seconds per request to an action provider.
        max_steps: states one run may execute before it fails (guards endless loops).
    """

    def __init__(
        self,
        host: RunHost,
        *,
        action_token: str | None = None,
        poll_initial_s: float = 0.02,
        poll_max_s: float = 0.5,
        http_timeout: float = 10.0,
        max_steps: int = 10_000,
    ) -> None:
        self.host = host
        self.action_token = action_token
        self.poll_initial_s = poll_initial_s
        self.poll_max_s = poll_max_s
        self.http_timeout = http_timeout
        self.max_steps = max_steps
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._clients: dict[str, Any] = {}
        self._transport: Any = None

    # -- lifecycle (any thread) ----------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the loop thread is up."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the event loop thread (idempotent)."""
        with self._start_lock:
            if self.running:
                return
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def serve() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                try:
                    loop.run_forever()
                finally:
                    loop.close()

            self._loop = loop
            self._thread = threading.Thread(target=serve, daemon=True, name="flows-stub-runner")
            self._thread.start()
            ready.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel every run still going (and its action), close the clients, end the thread."""
        with self._start_lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None or not thread.is_alive():
                return
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout)
            except Exception:  # a stuck provider must not keep the stub from stopping
                pass
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            self._loop = self._thread = None

    def submit(self, run: LiveRun) -> None:
        """Start executing ``run`` (call with ``host.lock`` held or not; returns at once)."""
        self.start()
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._spawn, run)

    def cancel(self, run: LiveRun) -> None:
        """Stop ``run``'s task; the task cancels the action in progress at its provider.

        The caller (holding ``host.lock``) has already marked the run ENDED.
        """
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._cancel_task, run)

    def resume(self, run: LiveRun) -> str | None:
        """Resume an INACTIVE run; call with ``host.lock`` held.

        Returns None when resumed, or why it cannot be (the stub answers 409 with it).
        """
        if run.status != "INACTIVE":
            return f"Run {run.run_id} is {run.status}; only an INACTIVE run can be resumed"
        if run.waiting_for == "web_input":
            return (
                f"Run {run.run_id} is waiting for web input {run.web_input_id}; "
                f"answer it with POST /web_inputs/{run.web_input_id}/respond"
            )
        self._wake(run)
        return None

    def web_input_answered(self, run: LiveRun, web_input_id: str) -> None:
        """A web input was answered; call with ``host.lock`` held."""
        if run.status == "INACTIVE" and run.waiting_for == "web_input" and run.web_input_id == web_input_id:
            self._wake(run)

    def _wake(self, run: LiveRun) -> None:
        run.status = "ACTIVE"
        run.waiting_for = None
        self._append(run, "FlowResumed", "The Flow Instance was resumed", self._state_details(run))
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._set_wake, run)

    # -- loop thread ---------------------------------------------------------------------

    @staticmethod
    def _set_wake(run: LiveRun) -> None:
        if run.wake_event is not None:
            run.wake_event.set()

    def _spawn(self, run: LiveRun) -> None:
        with self.host.lock:
            if run.finished:
                return  # cancelled before it began
        run.wake_event = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._execute(run), name=f"run {run.run_id}")
        run.task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _cancel_task(run: LiveRun) -> None:
        if run.task is not None and not run.task.done():
            run.task.cancel()

    async def _shutdown(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        transport, self._transport = self._transport, None
        self._clients.clear()
        if transport is not None:
            await transport.aclose()

    #: Where an ActionUrl is really served (FlowsStub's ``action_urls``); None: as written.
    action_url_map: Callable[[str], str] | None = None

    def _client(self, url: str) -> Any:
        client = self._clients.get(url)
        if client is None and self.action_url_map is not None and (target := self.action_url_map(url)) != url:
            self._clients[url] = client = self._client(target)
        if client is None:
            from automate_lite import AsyncActionClient, BearerTokenAuthorizer
            from automate_lite.transports.threaded import ThreadedAsyncTransport

            if self._transport is None:
                self._transport = ThreadedAsyncTransport(max_concurrency=32)
            auth = BearerTokenAuthorizer(self.action_token) if self.action_token else None
            client = AsyncActionClient.new_client(url, auth, self.http_timeout, transport=self._transport)
            self._clients[url] = client
        return client

    # -- run records (loop thread, under the lock) ----------------------------------------

    def _state_details(self, run: LiveRun) -> Doc:
        name = run.current_state
        if name is None:
            return {}
        state = run.definition["States"].get(name, {})
        return {"state_name": name, "state_type": state.get("Type")}

    def _append(self, run: LiveRun, code: str, description: str, details: Doc) -> None:
        run.log.append({"code": code, "description": description, "time": self.host.now(), "details": details})
        if run.status == "ACTIVE":
            run.details = {"code": code, "description": description, **self._state_details(run)}

    def _log(self, run: LiveRun, code: str, description: str, details: Doc) -> None:
        with self.host.lock:
            if not run.finished:
                self._append(run, code, description, copy.deepcopy(details))

    def _state_log(self, run: LiveRun, name: str, stype: str, verb: str, extra: Doc) -> None:
        self._log(run, f"{stype}{verb}", f"State {name} of type {stype} {verb.lower()}",
                  {"state_name": name, "state_type": stype, **extra})

    def _succeed(self, run: LiveRun, document: Any) -> None:
        with self.host.lock:
            if run.finished:
                return
            description = "The Flow Instance completed successfully"
            self._append(run, "FlowSucceeded", description, {"output": copy.deepcopy(document)})
            run.status = "SUCCEEDED"
            run.completed_at = self.host.now()
            run.details = {"code": "FlowSucceeded", "description": description, "output": copy.deepcopy(document)}

    def _fail(self, run: LiveRun, name: str | None, error: str | None, cause: str | None,
              description: str, document: Any) -> None:
        with self.host.lock:
            if run.finished:
                return
            stype = run.definition["States"].get(name, {}).get("Type") if name is not None else None
            details: Doc = {
                "state_name": name,
                "state_type": stype,
                "error": error,
                "cause": cause,
                "output": copy.deepcopy(document),
            }
            self._append(run, "FlowFailed", description, details)
            run.status = "FAILED"
            run.completed_at = self.host.now()
            run.details = {"code": "FlowFailed", "description": description, **copy.deepcopy(details)}

    async def _go_inactive(self, run: LiveRun, reason: str, details: Doc, web_input_id: str | None = None) -> None:
        assert run.wake_event is not None
        with self.host.lock:
            if run.finished:
                return
            run.wake_event.clear()
            run.waiting_for = reason
            run.web_input_id = web_input_id
            entry = {**self._state_details(run), **copy.deepcopy(details)}
            self._append(run, "FlowInactive", "The Flow Instance is INACTIVE", entry)
            run.status = "INACTIVE"
            run.details = copy.deepcopy(details)
        await run.wake_event.wait()
        with self.host.lock:
            run.web_input_id = None

    # -- execution (loop thread) ---------------------------------------------------------

    async def _execute(self, run: LiveRun) -> None:
        try:
            await self._run(run)
        except asyncio.CancelledError:
            await self._cancel_action(run)
            raise
        except Exception as exc:  # a bug in the runner fails the run rather than hanging it
            self._fail(run, run.current_state, "States.Runtime", repr(exc),
                       f"The stand-in's runner failed: {exc!r}", None)

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

    async def _run(self, run: LiveRun) -> None:
        definition = run.definition
        states: Mapping[str, Any] = definition["States"]
        name: str = definition["StartAt"]
        document: Any = copy.deepcopy(run.input)
        context = run.context()
        self._log(run, "FlowStarted", "The Flow Instance started execution", {"input": run.input})
        visits: dict[str, int] = {}
        for _ in range(self.max_steps):
            state: Mapping[str, Any] = states[name]
            stype = str(state.get("Type"))
            visits[name] = visits.get(name, 0) + 1
            with self.host.lock:
                run.current_state = name
            try:
                document, next_name = await self._state(run, name, stype, state, document, context, visits[name])
            except _FlowFail as fail:
                cause = fail.cause if fail.cause is not None else ""
                description = fail.cause or f"The run reached Fail state {name!r}"
                self._fail(run, name, fail.error, cause, description, document)
                return
            except StateFailure as failure:
                if not failure.logged:
                    self._state_log(run, name, stype, "Failed",
                                    {"error": failure.error, "cause": failure.cause, "output": failure.error_output()})
                catcher = _catcher(state, failure.error)
                if catcher is None:
                    self._fail(run, name, failure.error, failure.cause,
                               f"State {name} of type {stype} failed: {failure.error}: {failure.cause}", document)
                    return
                try:
                    document = jsonpath.put(document, catcher.get("ResultPath", "$"), failure.error_output())
                except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
                    self._fail(run, name, "States.ResultPathMatchFailure", str(exc),
                               f"State {name}: the Catch ResultPath failed: {exc}", document)
                    return
                next_name = catcher["Next"]
            if next_name is None:
                self._succeed(run, document)
                return
            name = next_name
            await asyncio.sleep(0)  # long Pass loops share the loop with the other runs
        self._fail(run, name, "States.Runtime", f"more than {self.max_steps} states executed",
                   f"The run executed more than {self.max_steps} states; does a loop never end?", document)

    async def _state(self, run: LiveRun, name: str, stype: str, state: Mapping[str, Any], document: Any,
                     context: Doc, visit: int) -> tuple[Any, str | None]:
        nxt = None if state.get("End") is True else state.get("Next")
        if stype == "Pass":
            return self._pass(run, name, state, document, context), nxt
        if stype == "ExpressionEval":
            return self._expression_eval(run, name, state, document, context), nxt
        if stype == "Choice":
            return document, self._choice(run, name, state, document, context)
        if stype == "Wait":
            await self._wait(run, name, state, document, context)
            return document, nxt
        if stype == "Fail":
            raise _FlowFail(*self._fail_fields(state, document, context))
        if stype == "Action":
            return await self._action(run, name, state, document, context, visit), nxt
        if stype == "CreateWebInput":
            return self._create_web_input(run, name, state, document, context), nxt
        if stype == "AwaitWebInput":
            return await self._await_web_input(run, name, state, document, context), nxt
        raise StateFailure("States.Runtime", f"state type {stype!r} cannot be executed")

    # -- data rules ----------------------------------------------------------------------

    @staticmethod
    def _input(state: Mapping[str, Any], document: Any, context: Doc) -> Any:
        source = document
        if "InputPath" in state:
            try:
                source = jsonpath.get(document, state["InputPath"], context)
            except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
                raise StateFailure("States.ParameterPathFailure", f"InputPath: {exc}") from None
        if "Parameters" in state:
            return evaluate_parameters(state["Parameters"], source, context)
        return copy.deepcopy(source)

    @staticmethod
    def _store(state: Mapping[str, Any], document: Any, result: Any) -> Any:
        path = state.get("ResultPath", "$")
        try:
            return jsonpath.put(document, path, copy.deepcopy(result))
        except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
            raise StateFailure("States.ResultPathMatchFailure", f"ResultPath {path!r}: {exc}") from None

    # -- the state types -------------------------------------------------------------------

    def _pass(self, run: LiveRun, name: str, state: Mapping[str, Any], document: Any, context: Doc) -> Any:
        result = copy.deepcopy(state["Result"]) if "Result" in state else self._input(state, document, context)
        self._state_log(run, name, "Pass", "Started", {"input": result})
        document = self._store(state, document, result)
        self._state_log(run, name, "Pass", "Completed", {"output": result})
        return document

    def _expression_eval(self, run: LiveRun, name: str, state: Mapping[str, Any], document: Any, context: Doc) -> Any:
        self._state_log(run, name, "ExpressionEval", "Started", {"input": state.get("Parameters")})
        result = self._input(state, document, context)
        document = self._store(state, document, result)
        self._state_log(run, name, "ExpressionEval", "Completed", {"output": result})
        return document

    def _choice(self, run: LiveRun, name: str, state: Mapping[str, Any], document: Any, context: Doc) -> str:
        self._state_log(run, name, "Choice", "Started", {"input": document})
        for i, rule in enumerate(state.get("Choices") or []):
            if rule_matches(rule, document, context):
                self._state_log(run, name, "Choice", "Completed", {"next_state": rule["Next"], "rule": i})
                return str(rule["Next"])
        default = state.get("Default")
        if default is None:
            raise StateFailure("States.NoChoiceMatched", "no choice rule matched and the state has no Default")
        self._state_log(run, name, "Choice", "Completed", {"next_state": default, "rule": "Default"})
        return str(default)

    async def _wait(self, run: LiveRun, name: str, state: Mapping[str, Any], document: Any, context: Doc) -> None:
        seconds: float
        if "Seconds" in state or "SecondsPath" in state:
            raw = state.get("Seconds")
            if "SecondsPath" in state:
                try:
                    raw = jsonpath.get(document, state["SecondsPath"], context)
                except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
                    raise StateFailure("States.Runtime", f"SecondsPath: {exc}") from None
            if not isinstance(raw, (int, float)) or isinstance(raw, bool):
                raise StateFailure("States.Runtime", f"Wait seconds must be a number, not {raw!r}")
            seconds = float(raw)
        else:
            raw = state.get("Timestamp")
            if "TimestampPath" in state:
                try:
                    raw = jsonpath.get(document, state["TimestampPath"], context)
                except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
                    raise StateFailure("States.Runtime", f"TimestampPath: {exc}") from None
            until = _timestamp(raw)
            if until is None:
                raise StateFailure("States.Runtime", f"Wait timestamp must be an ISO 8601 date and time, not {raw!r}")
            seconds = until.timestamp() - time.time()
        seconds = max(0.0, seconds)
        self._state_log(run, name, "Wait", "Started", {"input": {"seconds": seconds}})
        await asyncio.sleep(seconds)
        self._state_log(run, name, "Wait", "Completed", {"output": {"seconds": seconds}})

    @staticmethod
    def _fail_fields(state: Mapping[str, Any], document: Any, context: Doc) -> tuple[str | None, str | None]:
        out: list[str | None] = []
        for key in ("Error", "Cause"):
            value = state.get(key)
            if f"{key}Path" in state:
                try:
                    value = jsonpath.get(document, state[f"{key}Path"], context)
                except (jsonpath.PathNotFound, jsonpath.JSONPathError):
                    value = None
            out.append(None if value is None else expressions.to_text(value))
        return out[0], out[1]

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
        private = body.pop(_PRIVATE, None)
        handler = state.get("Handler")
        if isinstance(handler, dict) and handler.get("Type") == "RegisteredAPI":
            result = await self._registered_api(run, name, str(handler.get("Id")), body, private)
            return self._store(state, document, result)
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
            self._state_log(run, name, "Action", "Started", {"input": _redact(body, private), "action_id": action_id})
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
        return self._store(state, document, result)

    @staticmethod
    def _run_as(run: LiveRun, client: Any, role: Any) -> Any:
        """The client that presents ``role``'s token (no RunAs, or "User": the run's own)."""
        if role is None or role == "User":
            token = run.role_tokens.get("User")
        elif isinstance(role, str) and role in run.role_tokens:
            token = run.role_tokens[role]
        else:
            # The service refuses to start such a run; a stand-in run reaching here fails the state.
            raise StateFailure("ActionUnableToRun", f"RunAs role {role!r} has no token for this run; "
                               "start the run with a token for that role (FlowsStub.add_run_as_token)",
                               {"code": "MissingRunAsToken", "description": f"No token for RunAs role {role!r}"})
        if token is None:
            return client
        import dataclasses

        from automate_lite import BearerTokenAuthorizer

        auth = BearerTokenAuthorizer(token)
        if dataclasses.is_dataclass(client):
            return dataclasses.replace(client, authorizer=auth)  # type: ignore[type-var]
        return client.replace(authorizer=auth)

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

    def _create_web_input(self, run: LiveRun, name: str, state: Mapping[str, Any], document: Any, context: Doc) -> Any:
        spec = self._input(state, document, context)
        self._state_log(run, name, "CreateWebInput", "Started", {"input": spec})
        if not isinstance(spec, dict):
            raise StateFailure("States.Runtime", "CreateWebInput needs an object (InputType, Context, Options, ...)")
        try:
            record = self.host.open_web_input(run, name, spec)
        except ValueError as exc:
            raise StateFailure("States.Runtime", f"CreateWebInput: {exc}") from None
        # The documented result is {"web_input_id": ...}; the document rides along for tests.
        result = {**record, "web_input_id": record["id"]}
        self._state_log(run, name, "CreateWebInput", "Completed", {"output": result})
        return self._store(state, document, result)

    async def _await_web_input(self, run: LiveRun, name: str, state: Mapping[str, Any], document: Any,
                               context: Doc) -> Any:
        spec = self._input(state, document, context)
        self._state_log(run, name, "AwaitWebInput", "Started", {"input": spec})
        web_input_id = spec.get("web_input_id") if isinstance(spec, dict) else spec
        if not isinstance(web_input_id, str):
            raise StateFailure("States.Runtime", "AwaitWebInput needs Parameters {\"web_input_id.$\": \"$.<where>.web_input_id\"}")
        record = self.host.web_input_record(web_input_id)
        if record is None:
            raise StateFailure("States.Runtime", f"there is no web input {web_input_id!r}")
        if record.get("status") != "closed":
            title = (record.get("context") or {}).get("title") or record.get("title")
            await self._go_inactive(run, "web_input", {
                "code": "WaitingForWebInput",
                "description": f"The run is waiting for an answer to web input {web_input_id} ({title})",
                "web_input_id": web_input_id,
            }, web_input_id)
            record = self.host.web_input_record(web_input_id) or record
        response = record.get("response") or {}
        value = response.get("value")
        # "response" is what the flow reads (a Selection's chosen option Value);
        # the raw value (an option_id for a Selection) stays beside it.
        result: Doc = {"web_input_id": web_input_id, "response": response.get("response", value),
                       "value": value, "respondent": response.get("respondent")}
        for option in record.get("options") or []:
            if option.get("option_id") == value:
                result["label"] = option.get("label")
        self._state_log(run, name, "AwaitWebInput", "Completed", {"output": result})
        return self._store(state, document, result)


def _catcher(state: Mapping[str, Any], error: str) -> Mapping[str, Any] | None:
    for catcher in state.get("Catch") or []:
        names = catcher.get("ErrorEquals") or []
        if error in names or "States.ALL" in names:
            return catcher  # type: ignore[no-any-return]
    return None
