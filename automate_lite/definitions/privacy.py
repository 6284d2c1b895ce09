"""The flow language's two ways of keeping a value out of sight ("Protecting Secrets").

Both come from the Globus Flows docs (docs.globus.org, Flows, Authoring Flows,
"Protecting Secrets") and from the longer text globus-automate-client 0.18 shipped
(``docs/source/authoring_flows.rst``, "Protecting Action and Flow State"):

- **Private parameters.** A ``__Private_Parameters`` list inside a ``Parameters`` object,
  at any level of nesting, names fields of that same object. Its entries are the
  fields' natural names: ``"password"`` covers ``"password"``, ``"password.$"`` and
  ``"password.="``. Those fields are omitted (not masked) wherever an action is shown
  during a run (its status and the event log), and from the flow definition shown to
  anyone who is not the flow's owner or an administrator. The action still receives
  them; its output is not affected.
- **Private run state.** Any property of a run's state whose name starts with
  ``_private`` (``_private``, ``_private_secret``) is omitted whenever the run is
  shown, at any depth, while paths such as ``$._private.password`` still read it.

These functions only build new values; they never change what they are given.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

__all__ = [
    "PRIVATE_PARAMETERS",
    "PRIVATE_STATE_PREFIX",
    "definition_for_viewer",
    "natural_name",
    "without_private_markers",
    "without_private_parameters",
    "without_private_state",
]

#: The key of the list that names a ``Parameters`` object's private fields.
PRIVATE_PARAMETERS = "__Private_Parameters"
#: Run-state properties whose names start with this are never shown.
PRIVATE_STATE_PREFIX = "_private"


def natural_name(key: str) -> str:
    """``key`` without a trailing ``.$`` (reference) or ``.=`` (expression)."""
    if len(key) > 2 and key[-2:] in (".$", ".="):
        return key[:-2]
    return key


def _named(value: Mapping[str, Any]) -> frozenset[str]:
    names = value.get(PRIVATE_PARAMETERS)
    if not isinstance(names, list):
        return frozenset()
    return frozenset(n for n in names if isinstance(n, str))


def without_private_parameters(value: Any) -> Any:
    """``value`` (a ``Parameters`` template, or the input built from one) as it is shown.

    At every level, the fields that level's ``__Private_Parameters`` names are left
    out, and so is the list itself.
    """
    if isinstance(value, Mapping):
        hidden = _named(value)
        return {
            k: without_private_parameters(v)
            for k, v in value.items()
            if k != PRIVATE_PARAMETERS and not (isinstance(k, str) and natural_name(k) in hidden)
        }
    if isinstance(value, list):
        return [without_private_parameters(v) for v in value]
    return copy.deepcopy(value)


def without_private_markers(value: Any) -> Any:
    """``value`` with every ``__Private_Parameters`` list taken out: what an action is sent."""
    if isinstance(value, Mapping):
        return {k: without_private_markers(v) for k, v in value.items() if k != PRIVATE_PARAMETERS}
    if isinstance(value, list):
        return [without_private_markers(v) for v in value]
    return copy.deepcopy(value)


def without_private_state(value: Any) -> Any:
    """``value`` (run state, a run document or log entry) without ``_private*`` properties."""
    if isinstance(value, Mapping):
        return {
            k: without_private_state(v)
            for k, v in value.items()
            if not (isinstance(k, str) and k.startswith(PRIVATE_STATE_PREFIX))
        }
    if isinstance(value, list):
        return [without_private_state(v) for v in value]
    return copy.deepcopy(value)


def definition_for_viewer(definition: Any) -> Any:
    """The flow definition shown to a user who is neither its owner nor an administrator.

    Each state's ``Parameters`` loses its private fields and ``__Private_Parameters``
    lists; everything else is as written. A value that is not a definition comes back
    as a copy.
    """
    if not isinstance(definition, Mapping) or not isinstance(definition.get("States"), Mapping):
        return copy.deepcopy(definition)
    shown = copy.deepcopy(dict(definition))
    for name, state in definition["States"].items():
        if isinstance(state, Mapping) and "Parameters" in state:
            shown["States"][name] = {
                **copy.deepcopy(dict(state)),
                "Parameters": without_private_parameters(state["Parameters"]),
            }
    return shown
