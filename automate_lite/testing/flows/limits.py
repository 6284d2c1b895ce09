"""The Globus Flows "Limits" page, enforced by the local Flows service: :class:`FlowLimits`.

The page (docs.globus.org/api/flows/limits) gives five facts, each kept here:

* **Maximum Run State Size 200KB**: read as 200,000 bytes (not 204,800): the smaller of
  the two readings, so a flow that fits here fits the service under either. The state is
  measured as compact UTF-8 JSON (:func:`automate_lite.testing.runner.model.state_size`).
  A run input over it is refused at start (400 ``FLOW_INPUT_ERROR`` naming both sizes);
  a result that would take the state over it fails the run with
  ``States.DataLimitExceeded``, which no Catch takes (the docs name no error: that is the
  Amazon States Language's name, and Amazon's service does not let it be caught either).
* **Maximum Run Duration 1 year** (365 days here): a run still ACTIVE or INACTIVE then is
  terminated: FAILED, ``details.error`` ``Flows.RunDurationExceeded`` (a name of the
  stand-in's; the docs say only "terminated"), its action cancelled at its provider.
  FAILED rather than ENDED because ENDED is what a cancelled run shows, and a run cut
  off before its end did not do its work.
* **Maximum Run Record Retention 90 days**: a run completed (SUCCEEDED, FAILED or ENDED)
  longer ago than that is deleted: 404 from ``GET /runs/{id}``, gone from lists and logs.
* **Maximum Free-Tier Flows 1** and **Free-Tier Flow Lifetime 30 days**, only with
  ``FlowLimits(free_tier=True)`` (off by default: tests deploy many flows without a
  subscription): a second flow without ``subscription_id`` for the same owner (created,
  or made so by an update) is refused with 403 ``FORBIDDEN`` (the code is the
  stand-in's guess), and a flow without one is gone (404) 30 days after its creation.

Time is the service clock (``FlowsStub(clock=...)``): the limits are applied on every
request (and by :meth:`ServiceLimits.apply_limits`), never by a timer, so a test moves a
fake clock a year on and sees the result on its next call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from .scopes import ScopedRoutes
from .store import Caller, Doc, RunRecord, _forbidden

#: Seconds in a day, for the limits written in days.
DAY_S = 86_400.0


@dataclass(frozen=True)
class FlowLimits:
    """The limits the local Flows service enforces; the defaults are the documented ones.

    Give a smaller one to see a limit in a test, e.g.
    ``FlowsStub(limits=FlowLimits(max_run_state_bytes=1_000))``; None turns one off.

    Attributes:
        max_run_state_bytes: the largest run state (compact UTF-8 JSON), 200,000 bytes
            (the docs' "200KB", read as the smaller 200 * 1000).
        max_run_duration_s: how long a run may be ACTIVE/INACTIVE, 365 days.
        run_retention_s: how long a completed run is kept, 90 days.
        free_tier: enforce the two free-tier flow limits below (default False).
        max_free_tier_flows: flows without a subscription one owner may have, 1.
        free_tier_flow_lifetime_s: how long a flow without a subscription lives, 30 days.
        max_states_executed: the stand-in's own guard, not a documented limit: a run
            that executes more states fails with ``States.Runtime`` (10,000).
    """

    max_run_state_bytes: int | None = 200 * 1000
    max_run_duration_s: float | None = 365 * DAY_S
    run_retention_s: float | None = 90 * DAY_S
    free_tier: bool = False
    max_free_tier_flows: int = 1
    free_tier_flow_lifetime_s: float | None = 30 * DAY_S
    max_states_executed: int = 10_000

    def __post_init__(self) -> None:
        from ...errors import UsageError

        for name in ("max_run_state_bytes", "max_run_duration_s", "run_retention_s", "free_tier_flow_lifetime_s"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise UsageError(f"FlowLimits({name}={value!r}): give a number > 0, or None for no limit")
        for name in ("max_free_tier_flows", "max_states_executed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"FlowLimits({name}={value!r}): give a whole number >= 1")


def duration_description(limit_s: float) -> str:
    """The description of a run ended by :attr:`FlowLimits.max_run_duration_s`."""
    return (f"The run was terminated: it was still running {_span(limit_s)} after it started, the longest a run "
            "may execute (Globus Flows: Maximum Run Duration 1 year)")


def _span(seconds: float) -> str:
    days = seconds / DAY_S
    return f"{days:g} days" if days >= 1 else f"{seconds:g} seconds"


class ServiceLimits(ScopedRoutes):
    """Applies :class:`FlowLimits` to the stub's runs and flows (see the module docstring)."""

    _limits: FlowLimits
    #: No limit can take effect before this service time (-inf: look on the next request).
    _limits_due: float = -math.inf

    @property
    def limits(self) -> FlowLimits:
        """The limits in force; assign a new :class:`FlowLimits` to change them."""
        return self._limits

    @limits.setter
    def limits(self, value: FlowLimits) -> None:
        with self.state.lock:
            self._limits = value
            self._limits_due = -math.inf
            self.runner.max_steps = value.max_states_executed
            self.runner.max_state_bytes = value.max_run_state_bytes

    def apply_limits(self) -> None:
        """Apply the duration, retention and free-tier limits at the clock's time now.

        Every request does it first; call this to read ``stub.state`` after moving a
        fake clock on without making a request.
        """
        with self.state.lock:
            self._limits_due = -math.inf
            self._apply_limits(self._clock())

    def _apply_limits(self, now: float) -> None:
        if now < self._limits_due:
            return
        limits = self._limits
        # Everything made or finished from now on is due no earlier than now + its limit;
        # what exists now is looked at below. So until `due` no request needs to look.
        due = now + min(x for x in (limits.max_run_duration_s, limits.run_retention_s,
                                    limits.free_tier_flow_lifetime_s if limits.free_tier else None, math.inf)
                        if x is not None)
        for run in list(self.state.runs.values()):
            deadline = run.start + (limits.max_run_duration_s or math.inf)
            # A scripted run's status is a function of the time: it is asked at the
            # deadline, so a clock moved past both its deadline and its end still ends it.
            if run.status(min(now, deadline)) in ("ACTIVE", "INACTIVE"):
                if deadline > now:
                    due = min(due, deadline)
                    continue
                self._terminate(run, deadline, deadline - run.start)
            completed = run.completion(now)
            if completed is not None and limits.run_retention_s is not None:
                gone = completed + limits.run_retention_s
                if gone <= now:
                    self._forget_run(run)
                else:
                    due = min(due, gone)
        if limits.free_tier and limits.free_tier_flow_lifetime_s is not None:
            for flow_id, flow in list(self.state.flows.items()):
                if flow.get("subscription_id") is None:
                    expires = _created(flow) + limits.free_tier_flow_lifetime_s
                    if expires <= now:
                        del self.state.flows[flow_id]
                    else:
                        due = min(due, expires)
        self._limits_due = due

    def _terminate(self, run: RunRecord, at: float, limit_s: float) -> None:
        description = duration_description(limit_s)
        if run.live is not None:
            self.runner.terminate(run.live, at, "Flows.RunDurationExceeded", description)
        else:
            run.terminated_at = at

    def _forget_run(self, run: RunRecord) -> None:
        self.state.runs.pop(run.run_id, None)
        if run.request_id is not None:
            self.state.request_ids.pop((run.owner, run.flow_id, run.request_id), None)

    def _check_free_tier(self, flow: Doc, caller: Caller) -> None:
        """403 when ``flow`` would be one free-tier flow too many for its owner.

        The other flows are named only to their owner (an administrator changing this
        one learns that they exist, not which they are).
        """
        limits = self._limits
        if not limits.free_tier or flow.get("subscription_id") is not None:
            return
        others = [f["id"] for f in self.state.flows.values()
                  if f["id"] != flow["id"] and f["flow_owner"] == flow["flow_owner"] and f.get("subscription_id") is None]
        if len(others) >= limits.max_free_tier_flows:
            owned = caller.kind == "any" or caller.identity == flow["flow_owner"]
            which = ", ".join(others) if owned else f"{len(others)} such flow(s)"
            _forbidden(
                f"A user may only have {limits.max_free_tier_flows} flow(s) not associated with a subscription "
                f"(Globus Flows: Maximum Free-Tier Flows); {flow['flow_owner']} already has {which}. "
                "Give this flow a subscription_id (\"DEFAULT\" picks yours), or delete that flow or give it one")
        self._limits_due = -math.inf  # its 30 days count from its creation, which may be long past


def _created(flow: Doc) -> float:
    return datetime.fromisoformat(flow["created_at"]).timestamp()
