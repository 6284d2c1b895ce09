"""A stand-in for the Globus Compute action provider: runs registered Python functions.

Register a callable with :meth:`ComputeStandIn.register` (it returns the function id;
pass ``function_id=`` to keep the id an existing definition names). Any endpoint id is
accepted; the function runs in-process, in the request's thread.

Input, both as the Compute docs describe them:

* ``compute.actions.globus.org`` (v2): ``{endpoint, function, args?, kwargs?}`` for one
  task and/or ``tasks: [{endpoint, function, args?, kwargs? | payload?}]``
  (``payload`` is the older name of ``kwargs``; a single non-list ``args`` is one argument).
* ``compute.actions.globus.org/v3``: ``{endpoint_id, tasks: [{function_id, args?, kwargs?}]}``.

Output (both): ``details.result`` is the list of return values in task order and
``details.results`` a list of ``{task_id, status: "success", output}``. A function that
raises ends the action FAILED with code ``TaskExecutionFailed``, the exception in
``description`` and the tasks so far in ``results``. An unknown function id fails
with ``FunctionNotFound``. Return values must be JSON-serialisable.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any, Callable

from ._base import Action, ActionFailed, ProviderSpec

__all__ = ["ComputeStandIn"]

_ARGS = {"type": ["array", "string", "number", "boolean", "object", "null"]}
_V2_TASK = {"type": "object", "required": ["function"],
            "properties": {"endpoint": {"type": "string"}, "function": {"type": "string"}, "args": _ARGS,
                           "kwargs": {"type": "object"}, "payload": {"type": "object"}}}
_V2_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"endpoint": {"type": "string"}, "function": {"type": "string"}, "args": _ARGS,
                   "kwargs": {"type": "object"}, "payload": {"type": "object"},
                   "tasks": {"type": "array", "items": _V2_TASK}},
    "anyOf": [{"required": ["function"]}, {"required": ["tasks"]}],
}
_V3_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["endpoint_id", "tasks"],
    "properties": {"endpoint_id": {"type": "string"},
                   "tasks": {"type": "array", "minItems": 1,
                             "items": {"type": "object", "required": ["function_id"],
                                       "properties": {"function_id": {"type": "string"}, "args": {"type": "array"},
                                                      "kwargs": {"type": "object"}}}}},
}


class ComputeStandIn:
    """Python functions registered under Compute function ids."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._functions: dict[str, Callable[..., Any]] = {}
        #: Every task run, in order: ``{task_id, function_id, args, kwargs, status, output}``.
        self.tasks: list[dict[str, Any]] = []

    def register(self, function: Callable[..., Any], function_id: str | None = None) -> str:
        """Make ``function`` callable as Compute function ``function_id`` (default: a new uuid4)."""
        if not callable(function):
            raise TypeError(f"register() takes a callable, not {type(function).__name__}")
        fid = function_id or str(uuid.uuid4())
        with self._lock:
            self._functions[fid] = function
        return fid

    def specs(self) -> list[ProviderSpec]:
        """The v2 and v3 providers."""
        return [
            ProviderSpec("/compute.actions.globus.org/v3", "Globus Compute v3 (automate-lite stand-in)",
                         self._v3, _V3_SCHEMA, False),
            ProviderSpec("/compute.actions.globus.org", "Globus Compute (automate-lite stand-in)",
                         self._v2, _V2_SCHEMA, False),
        ]

    def _v2(self, body: dict[str, Any], action: Action) -> Any:
        tasks = []
        if "function" in body:
            tasks.append(body)
        tasks.extend(body.get("tasks") or [])
        calls = []
        for task in tasks:
            args = task.get("args", [])
            calls.append((task["function"], args if isinstance(args, list) else [args],
                          task.get("kwargs", task.get("payload", {}))))
        return self._execute(calls)

    def _v3(self, body: dict[str, Any], action: Action) -> Any:
        return self._execute([(t["function_id"], t.get("args", []), t.get("kwargs", {})) for t in body["tasks"]])

    def _execute(self, calls: list[tuple[str, list[Any], dict[str, Any]]]) -> Any:
        results: list[dict[str, Any]] = []
        values: list[Any] = []
        for fid, args, kwargs in calls:
            fn = self._functions.get(fid)
            if fn is None:
                raise ActionFailed("FunctionNotFound", f"no function registered with id {fid!r}",
                                   {"results": results})
            task_id = str(uuid.uuid4())
            record: dict[str, Any] = {"task_id": task_id, "function_id": fid, "args": args, "kwargs": kwargs}
            try:
                value = fn(*args, **kwargs)
                json.dumps(value)
            except Exception as exc:
                record.update(status="failed", exception=f"{type(exc).__name__}: {exc}")
                with self._lock:
                    self.tasks.append(record)
                results.append({"task_id": task_id, "status": "failed", "exception": record["exception"]})
                raise ActionFailed("TaskExecutionFailed", f"task {task_id} ({fid}) raised {type(exc).__name__}: {exc}",
                                   {"results": results}) from None
            record.update(status="success", output=value)
            with self._lock:
                self.tasks.append(record)
            results.append({"task_id": task_id, "status": "success", "output": value})
            values.append(value)
        return {"result": values, "results": results}
