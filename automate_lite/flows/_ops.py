"""Every Globus Flows route, written once as a sans-IO operation (:class:`FlowOps`).

The routes live in two parts (:mod:`._flowroutes`, :mod:`._runroutes`) over one base
(:mod:`._base`), each a readable size; :class:`FlowOps` joins them into one class.

Which token each call uses:

- the *service* token (``authorizer``) for managing and listing flows and runs;
- a flow's *own* token for running it and for the legacy ``/flows/{flow_id}/{run_id}/...``
  routes, from ``authorizer_callback`` (or a per-call ``authorizer=``);
- as globus-automate-client 0.18 did, ``enumerate_runs`` asks the callback for
  ``RUN_STATUS_SCOPE``, ``flow_action_update``/``update_runs`` for ``RUN_MANAGE_SCOPE``,
  ``list_flow_runs(flow_id)`` and ``get_flow_definition_for_run`` for the flow's scope;
- ``resume_run`` uses the run's flow's token, as globus-sdk does (the run is looked up
  for its flow when no ``flow_id`` is given).
"""

from __future__ import annotations

from dataclasses import dataclass

from .._core.http import Session
from ._args import FlowAuthorizers
from ._flowroutes import FlowRoutes
from ._runroutes import RunRoutes

__all__ = ["FlowOps", "RUN_FINAL_STATES"]

#: A run in one of these states will not change any more.
RUN_FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "ENDED"})


@dataclass(frozen=True, slots=True)
class FlowOps(FlowRoutes, RunRoutes):
    """Every Flows operation, as sans-IO generators (see :mod:`automate_lite._core.ops`)."""

    session: Session
    authorizers: FlowAuthorizers
