"""Runs Globus Flows definitions for the Flows stand-in (see :mod:`.engine`)."""

from __future__ import annotations

from .engine import ERROR_NAMES, FlowRunner, LiveRun, RunHost, StateFailure, evaluate_parameters, rule_matches

__all__ = ["FlowRunner", "LiveRun", "RunHost", "StateFailure", "evaluate_parameters", "rule_matches", "ERROR_NAMES"]
