"""The runner's event loop thread, run tasks, run log and the data rules every state type uses."""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from typing import Any, Callable, Mapping

from ...definitions import jsonpath
from .model import Doc, LiveRun, RunHost, RunLimitExceeded, StateFailure, evaluate_parameters, state_size


class RunnerCore:
    """The event loop, the run tasks and the run log of :class:`~.engine.FlowRunner`.

    The state types are added by the subclasses (:mod:`.apis`, :mod:`.actions`, :mod:`.engine`).
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
        max_state_bytes: int | None = None,
    ) -> None:
        self.host = host
        self.action_token = action_token
        self.poll_initial_s = poll_initial_s
        self.poll_max_s = poll_max_s
        self.http_timeout = http_timeout
        self.max_steps = max_steps
        self.max_state_bytes = max_state_bytes
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

    def _append(self, run: LiveRun, code: str, description: str, details: Doc, at: float | None = None) -> None:
        run.log.append({"code": code, "description": description, "time": self.host.now() if at is None else at,
                        "details": details})
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
              description: str, document: Any, at: float | None = None) -> None:
        """End ``run`` FAILED (at service time ``at``, default now) with a ``FlowFailed`` entry."""
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
            self._append(run, "FlowFailed", description, details, at)
            run.status = "FAILED"
            run.completed_at = self.host.now() if at is None else at
            run.details = {"code": "FlowFailed", "description": description, **copy.deepcopy(details)}

    def terminate(self, run: LiveRun, at: float, error: str, description: str) -> None:
        """End ``run`` FAILED at ``at`` for a limit of the service; call with ``host.lock`` held.

        The log gets a ``FlowFailed`` entry (not earlier than its last entry), the task
        is cancelled, and with it the action in progress at its provider.
        """
        if run.finished:
            return
        at = max([at, *(e["time"] for e in run.log[-1:])])
        self._fail(run, run.current_state, error, description, description, run.document, at)
        run.waiting_for = None
        self.cancel(run)

    async def _go_inactive(self, run: LiveRun, reason: str, details: Doc, web_input_id: str | None = None,
                           expires_in: float | None = None) -> None:
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
        if expires_in is None or web_input_id is None:
            await run.wake_event.wait()
        else:
            try:
                await asyncio.wait_for(run.wake_event.wait(), max(expires_in, 0.0))
            except asyncio.TimeoutError:
                self.host.expire_web_input(web_input_id)  # wakes this run (FlowResumed) when it still waits
        with self.host.lock:
            run.web_input_id = None

    # -- execution (loop thread) ---------------------------------------------------------


    async def _execute(self, run: LiveRun) -> None:
        raise NotImplementedError  # FlowRunner runs the states

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

    def _store(self, run: LiveRun, state: Mapping[str, Any], document: Any, result: Any) -> Any:
        path = state.get("ResultPath", "$")
        try:
            return self._put(run, document, path, copy.deepcopy(result), f"storing the result at ResultPath {path!r}")
        except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
            raise StateFailure("States.ResultPathMatchFailure", f"ResultPath {path!r}: {exc}") from None

    def _put(self, run: LiveRun, document: Any, path: str, value: Any, doing: str) -> Any:
        """``jsonpath.put``, kept within ``max_state_bytes`` (else :class:`RunLimitExceeded`).

        The Flows docs' Limits page gives the limit (200KB) but no error name; the
        stand-in fails the run with ``States.DataLimitExceeded``, the Amazon States
        Language's name for it (the Flows docs defer to that language where they are
        silent), and, as Amazon's service does for that error, **no Catch applies**: a
        flow tested here cannot come to rely on catching a limit the service enforces.

        Measuring the whole state after every state would cost more than the states
        themselves, so the run keeps an upper bound of its state's size: writing
        ``value`` at ``path`` adds at most the value's size and, for the objects the
        path may create, 12 bytes per character of the path (a key's character is at
        most 6 bytes of JSON, plus its quotes, colon, braces and comma); what it
        replaces only makes it smaller. The state is measured exactly, on a copy
        (so a refused result leaves it as it was), only when the bound is over.
        """
        limit = self.max_state_bytes
        if limit is None:
            return jsonpath.put(document, path, value)
        added = state_size(value)
        if path.strip() == "$":  # the value is the new state, measured already
            bound, exact = added, True
        else:
            bound, exact = run.state_bytes_bound + added + 12 * len(path), False
        if bound <= limit:
            run.state_bytes_bound = bound
            return jsonpath.put(document, path, value)
        stored = value if exact else jsonpath.put(copy.deepcopy(document), path, value)
        size = bound if exact else state_size(stored)
        if size > limit:
            raise RunLimitExceeded(
                "States.DataLimitExceeded",
                f"The run state would be {size} bytes after {doing}; the limit is {limit} bytes "
                "(Globus Flows: Maximum Run State Size 200KB). Store less, e.g. a narrower ResultPath "
                "or Parameters that keep only the fields later states read",
            )
        run.state_bytes_bound = size
        return stored

