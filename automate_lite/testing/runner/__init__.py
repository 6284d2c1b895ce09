"""Runs Globus Flows definitions for the Flows stand-in (see :mod:`.engine`).

The package: :mod:`.model` (a run, its host, its errors, the Parameters rules),
:mod:`.core` (the event loop, tasks, run log), :mod:`.apis` (registered-API and hosted
Handler states), :mod:`.actions` (Action states), :mod:`.engine` (:class:`FlowRunner`,
the state machine and the other state types).
"""

from __future__ import annotations

from .engine import FlowRunner
from .model import (
    ERROR_NAMES,
    HandlerError,
    HostedCall,
    HostedHandler,
    LiveRun,
    RunHost,
    StateFailure,
    evaluate_parameters,
    rule_matches,
)

__all__ = ["FlowRunner", "HandlerError", "HostedCall", "HostedHandler", "LiveRun", "RunHost", "StateFailure", "evaluate_parameters", "rule_matches", "ERROR_NAMES"]
