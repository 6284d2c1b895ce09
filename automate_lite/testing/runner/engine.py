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
  literals (nested objects and lists are walked). A ``__Private_Parameters`` list, at
  any level, names fields of its object that the action gets but the run log omits
  (:mod:`automate_lite.definitions.privacy`); the lists themselves are not sent.
  Run-state properties named ``_private*`` are readable by paths, never shown.
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
``Flows.WebInputExpired``           the awaited web input expired unanswered (its
                                    ``ExpiresIn`` ran out, or ``expire_web_input``)
``States.ParameterPathFailure``     a ``.$`` JSONPath or ``InputPath`` matched nothing
``ExpressionEvaluationError``       an expression failed to parse or evaluate
``States.ResultPathMatchFailure``   the result could not be written at ``ResultPath``
``States.NoChoiceMatched``          no Choice rule matched and there is no ``Default``
``States.Runtime``                  anything else (a Choice ``Variable`` that is missing,
                                    an unknown web input, a bad ``SecondsPath`` value)
=================================== ===================================================

Two failures no Catch takes, as a ``Fail`` state's: ``States.DataLimitExceeded`` (a
result, or a Catch's error output, would make the state document larger than
``max_state_bytes``; the Flows docs' Limits page names no error, this is the Amazon
States Language's name) and ``Flows.RunDurationExceeded`` (the service ended a run still
going a year after it started: :meth:`~.core.RunnerCore.terminate`). ``States.Runtime``
also ends a run that executes more than ``max_steps`` (10,000) states.

The error output written at a Catch's ``ResultPath`` (default ``$``, replacing the
document, as the service does) is the action's status or error body for the three
``Action*`` errors and ``{"Error": name, "Cause": text}`` for the others. A ``Fail``
state cannot be caught.

Run log codes, in the service's words (each entry's ``details`` has ``state_name`` and
``state_type`` when a state is concerned):

* ``FlowStarted`` {input}
* ``<Type>Started`` {input} for Pass, Choice, Wait, ExpressionEval, CreateWebInput,
  AwaitWebInput; ``ActionStarted`` {input, action_id} once the provider took the action
  (without the fields ``__Private_Parameters`` names)
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
import time
from typing import Any, Mapping

from ...definitions import expressions, jsonpath
from ...definitions.rules import parse_timestamp as _timestamp
from .actions import ActionStates
from .model import (
    Doc, ERROR_NAMES, LiveRun, RunHost, RunLimitExceeded, StateFailure, _FlowFail, state_size, _catcher, evaluate_parameters, rule_matches,
)

__all__ = ["FlowRunner", "LiveRun", "RunHost", "StateFailure", "evaluate_parameters", "ERROR_NAMES"]


class FlowRunner(ActionStates):
    """Executes :class:`LiveRun` s on one event loop in a daemon thread.

    Args:
        host: the service that owns the runs (see :class:`RunHost`).
        action_token: the bearer token presented to action providers (the flow's
            run-as token); None sends no Authorization header.
        poll_initial_s, poll_max_s: the back-off of polling an action.
        http_timeout: seconds per request to an action provider.
        max_steps: states one run may execute before it fails with ``States.Runtime``
            (the stand-in's own guard against endless loops; not a documented limit).
        max_state_bytes: the largest state document (compact UTF-8 JSON) a result may
            leave; over it the run fails with ``States.DataLimitExceeded``, which no
            Catch takes. None: no limit.
    """

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

    async def _run(self, run: LiveRun) -> None:
        definition = run.definition
        states: Mapping[str, Any] = definition["States"]
        name: str = definition["StartAt"]
        document: Any = copy.deepcopy(run.input)
        run.document = document
        if self.max_state_bytes is not None:
            run.state_bytes_bound = state_size(document)  # the service checked it at start
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
                where = catcher.get("ResultPath", "$")
                try:
                    document = self._put(run, document, where, failure.error_output(),
                                         f"storing the error at the Catch ResultPath {where!r}")
                except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
                    self._fail(run, name, "States.ResultPathMatchFailure", str(exc),
                               f"State {name}: the Catch ResultPath failed: {exc}", document)
                    return
                except RunLimitExceeded as fail:
                    self._fail(run, name, fail.error, fail.cause or "", fail.cause or "", document)
                    return
                next_name = catcher["Next"]
            run.document = document
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


    def _pass(self, run: LiveRun, name: str, state: Mapping[str, Any], document: Any, context: Doc) -> Any:
        result = copy.deepcopy(state["Result"]) if "Result" in state else self._input(state, document, context)
        self._state_log(run, name, "Pass", "Started", {"input": result})
        document = self._store(run, state, document, result)
        self._state_log(run, name, "Pass", "Completed", {"output": result})
        return document

    def _expression_eval(self, run: LiveRun, name: str, state: Mapping[str, Any], document: Any, context: Doc) -> Any:
        self._state_log(run, name, "ExpressionEval", "Started", {"input": state.get("Parameters")})
        result = self._input(state, document, context)
        document = self._store(run, state, document, result)
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
            raw = self._wait_value(state, "Seconds", document, context)
            if not isinstance(raw, (int, float)) or isinstance(raw, bool):
                raise StateFailure("States.Runtime", f"Wait seconds must be a number, not {raw!r}")
            seconds = float(raw)
        else:
            raw = self._wait_value(state, "Timestamp", document, context)
            until = _timestamp(raw)
            if until is None:
                raise StateFailure("States.Runtime", f"Wait timestamp must be an ISO 8601 date and time, not {raw!r}")
            seconds = until.timestamp() - time.time()
        seconds = max(0.0, seconds)
        self._state_log(run, name, "Wait", "Started", {"input": {"seconds": seconds}})
        await asyncio.sleep(seconds)
        self._state_log(run, name, "Wait", "Completed", {"output": {"seconds": seconds}})

    @staticmethod
    def _wait_value(state: Mapping[str, Any], field: str, document: Any, context: Doc) -> Any:
        """A Wait state's ``Seconds``/``Timestamp``, or the value at its ``...Path``."""
        if f"{field}Path" not in state:
            return state.get(field)
        try:
            return jsonpath.get(document, state[f"{field}Path"], context)
        except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
            raise StateFailure("States.Runtime", f"{field}Path: {exc}") from None

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
        return self._store(run, state, document, result)

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
        if record.get("status") == "open":
            title = (record.get("context") or {}).get("title") or record.get("title")
            await self._go_inactive(run, "web_input", {
                "code": "WaitingForWebInput",
                "description": f"The run is waiting for an answer to web input {web_input_id} ({title})",
                "web_input_id": web_input_id,
            }, web_input_id, record.get("expires_in"))
            record = self.host.web_input_record(web_input_id) or record
        if record.get("status") == "expired":
            raise StateFailure("Flows.WebInputExpired",
                               f"web input {web_input_id} expired at {record.get('expiration_timestamp')} unanswered")
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
        return self._store(run, state, document, result)


