"""The Globus Flows definition language, written once.

Standard library only, and never loaded by ``import automate_lite``; each module loads
on first use:

* :mod:`~automate_lite.definitions.jsonpath`: the JSONPath reader (``$.a.b[0]``);
* :mod:`~automate_lite.definitions.expressions`: the ``.=`` expression parser and its
  safe evaluator (never ``eval``);
* :mod:`~automate_lite.definitions.rules`: the one table of state types, their fields
  and the Choice operators, and the evaluation of Choice rules (:func:`rule_matches`);
* :mod:`~automate_lite.definitions.validation`: local checks of a whole definition
  (:func:`validate_flow_definition`, :func:`flow_definition_problems`);
* :mod:`~automate_lite.definitions.render`: Mermaid and DOT pictures
  (:func:`to_mermaid`, :func:`to_dot`), SVG/PNG with Graphviz (:func:`render`);
* :mod:`~automate_lite.definitions.privacy`: what ``__Private_Parameters`` and
  ``_private*`` run state keep out of sight ("Protecting Secrets").

The local Flows service in :mod:`automate_lite.testing` runs definitions with these same
parsers, so what validates, what renders and what runs cannot disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .render import render, to_dot, to_mermaid, to_png, to_svg
    from .rules import rule_matches
    from .validation import Problem, flow_definition_problems, validate_flow_definition

_LAZY = {
    "validate_flow_definition": "validation",
    "flow_definition_problems": "validation",
    "Problem": "validation",
    "rule_matches": "rules",
    "to_mermaid": "render",
    "to_dot": "render",
    "to_svg": "render",
    "to_png": "render",
    "render": "render",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'automate_lite.definitions' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "validate_flow_definition", "flow_definition_problems", "Problem", "rule_matches",
    "to_mermaid", "to_dot", "to_svg", "to_png", "render",
]
