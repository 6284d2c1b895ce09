"""Stand-ins for the providers Globus hosts at ``actions.globus.org``.

============================================  =====================================================
``actions.globus.org/search/ingest``           ``{search_index, subject, visible_to, content, id?}``:
                                               stored in :attr:`SearchStandIn.indexes`
``actions.globus.org/search/delete``           ``{search_index, delete_by: subject|entry|query,
                                               subject? | entry_id? | q?}``
``actions.globus.org/notification/notify``     ``{destination, sender?, subject?, body_template,
                                               body_variables?, body_mimetype?, ...}``: recorded in
                                               :attr:`NotificationStandIn.messages` (credentials never)
``actions.globus.org/expression_eval``         ``{expression, arguments?, result_path?}`` or
                                               ``{expressions: [...]}``: results in ``details``
``actions.globus.org/weboption/wait_for_option``  ``{options: [{name, url_suffix, completed_message?,
                                               selectable_by?}], landing_page?: {url_suffix, ...}}``
============================================  =====================================================

The web option action stays ACTIVE until an option is chosen, by any request to
``<providers>/actions.globus.org/weboption/option/<url_suffix>`` (what a person's
browser does) or by :meth:`WebOptionStandIn.select`; it then SUCCEEDS with the chosen
option as ``details``. ``.../weboption/landing_page/<url_suffix>`` shows the options
as links. Notification ``body_template`` placeholders ``$name`` / ``${name}`` are
filled from ``body_variables``.
"""

from __future__ import annotations

import copy
import html
import json
import string
import threading
import uuid
from typing import TYPE_CHECKING, Any

from .._server import Reply, StubRequest
from ._base import Action, ActionFailed, Pending, ProviderSpec

if TYPE_CHECKING:
    from ._base import ProviderHost

__all__ = ["SearchStandIn", "NotificationStandIn", "ExpressionEvalStandIn", "WebOptionStandIn"]

_STR = {"type": "string", "minLength": 1}


class SearchStandIn:
    """Globus Search indexes in memory: ``indexes[index_id][subject] -> {entry_id: entry}``."""

    _INGEST: dict[str, Any] = {
        "type": "object", "required": ["search_index", "subject", "visible_to", "content"],
        "properties": {"search_index": _STR, "subject": _STR, "id": {"type": "string"},
                       "visible_to": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                       "content": {"type": "object"}},
    }
    _DELETE: dict[str, Any] = {
        "type": "object", "required": ["search_index", "delete_by"],
        "properties": {"search_index": _STR, "delete_by": {"enum": ["subject", "entry", "query"]},
                       "subject": _STR, "entry_id": {"type": "string"}, "q": {"type": "string"}},
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.indexes: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}

    def specs(self) -> list[ProviderSpec]:
        """The ingest and delete providers."""
        return [
            ProviderSpec("/actions.globus.org/search/ingest", "Search ingest (automate-lite stand-in)",
                         self._ingest, self._INGEST, False),
            ProviderSpec("/actions.globus.org/search/delete", "Search delete (automate-lite stand-in)",
                         self._delete, self._DELETE, False),
        ]

    def entries(self, index_id: str) -> list[dict[str, Any]]:
        """Every entry of an index: ``{subject, id, visible_to, content}``."""
        with self._lock:
            return [copy.deepcopy(e) for subject in self.indexes.get(index_id, {}).values() for e in subject.values()]

    def _ingest(self, body: dict[str, Any], action: Action) -> Any:
        entry = {"subject": body["subject"], "id": body.get("id"), "visible_to": body["visible_to"],
                 "content": body["content"]}
        with self._lock:
            self.indexes.setdefault(body["search_index"], {}).setdefault(body["subject"], {})[
                body.get("id") or "null"] = entry
        return {"task_id": str(uuid.uuid4()), "state": "SUCCESS", "search_index": body["search_index"],
                "subject": body["subject"], "num_subjects_ingested": 1}

    def _delete(self, body: dict[str, Any], action: Action) -> Any:
        index_id, how = body["search_index"], body["delete_by"]
        if how in ("subject", "entry") and "subject" not in body:
            raise ActionFailed("BadRequest", f"delete_by {how!r} needs 'subject'")
        if how == "query" and "q" not in body:
            raise ActionFailed("BadRequest", "delete_by 'query' needs 'q'")
        removed = 0
        with self._lock:
            index = self.indexes.get(index_id, {})
            if how == "subject":
                removed = len(index.pop(body["subject"], {}))
            elif how == "entry":
                removed = int(index.get(body["subject"], {}).pop(body.get("entry_id") or "null", None) is not None)
            else:
                # a stand-in query: every subject whose entries mention q ("*" matches all)
                q = body["q"]
                for subject in [s for s, es in index.items() if q == "*" or q in json.dumps(list(es.values()))]:
                    removed += len(index.pop(subject))
        return {"task_id": str(uuid.uuid4()), "state": "SUCCESS", "search_index": index_id,
                "num_entries_deleted": removed}


class NotificationStandIn:
    """Records each notification instead of sending it."""

    _SCHEMA: dict[str, Any] = {
        "type": "object", "required": ["destination", "body_template"],
        "properties": {"destination": {"type": ["string", "array"]}, "sender": {"type": "string"},
                       "subject": {"type": "string"}, "body_template": {"type": "string"},
                       "body_variables": {"type": "object"}, "body_mimetype": {"type": "string"},
                       "notification_method": {"type": "string"}, "notification_priority": {"type": "string"},
                       "send_credentials": {"type": "array"}},
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: ``{destination, sender, subject, body, body_mimetype}`` per message, in order.
        self.messages: list[dict[str, Any]] = []

    def specs(self) -> list[ProviderSpec]:
        """The notify provider."""
        return [ProviderSpec("/actions.globus.org/notification/notify", "Send notification (automate-lite stand-in)",
                             self._notify, self._SCHEMA, True)]

    def _notify(self, body: dict[str, Any], action: Action) -> Any:
        variables = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (body.get("body_variables") or {}).items()}
        rendered = string.Template(body["body_template"]).safe_substitute(variables)
        destination = body["destination"]
        message = {"destination": destination if isinstance(destination, list) else [destination],
                   "sender": body.get("sender"), "subject": body.get("subject"), "body": rendered,
                   "body_mimetype": body.get("body_mimetype", "text/plain")}
        with self._lock:
            self.messages.append(message)
        return {"result": "sent", "destination": message["destination"]}


class ExpressionEvalStandIn:
    """Evaluates expressions with the flow language of :mod:`automate_lite.definitions.expressions`."""

    _ONE = {"type": "object", "required": ["expression"],
            "properties": {"expression": {"type": "string"}, "arguments": {"type": "object"},
                           "result_path": {"type": "string"}}}
    _SCHEMA: dict[str, Any] = {"anyOf": [_ONE, {"type": "object", "required": ["expressions"],
                                                "properties": {"expressions": {"type": "array", "items": _ONE}}}]}

    def specs(self) -> list[ProviderSpec]:
        """The expression_eval provider."""
        return [ProviderSpec("/actions.globus.org/expression_eval", "Expression evaluation (automate-lite stand-in)",
                             self._eval, self._SCHEMA, True)]

    @staticmethod
    def _eval(body: dict[str, Any], action: Action) -> Any:
        from ...definitions import expressions, jsonpath

        details: dict[str, Any] = {}
        for item in body.get("expressions") or [body]:
            try:
                value = expressions.evaluate(item["expression"], item.get("arguments") or {})
            except expressions.ExpressionError as exc:
                raise ActionFailed("ExpressionEvaluationError", f"{item['expression']!r}: {exc}") from None
            path = item.get("result_path", "result")
            target = path if path.startswith("$") else "$." + path
            try:
                details = jsonpath.put(details, target, value)
            except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
                raise ActionFailed("BadRequest", f"result_path {path!r}: {exc}") from None
        return details


class WebOptionStandIn:
    """Wait-for-user-selection actions, chosen through option URLs or :meth:`select`."""

    _OPTION = {"type": "object", "required": ["name", "url_suffix"],
               "properties": {"name": _STR, "url_suffix": _STR, "completed_message": {"type": "string"},
                              "selectable_by": {"type": "array", "items": {"type": "string"}}}}
    _SCHEMA: dict[str, Any] = {
        "type": "object", "required": ["options"],
        "properties": {"options": {"type": "array", "minItems": 1, "items": _OPTION},
                       "landing_page": {"type": "object", "required": ["url_suffix"],
                                        "properties": {"url_suffix": _STR}}},
    }
    PATH = "/actions.globus.org/weboption"

    def __init__(self, host: "ProviderHost") -> None:
        self._host = host
        self._lock = threading.Lock()
        self._options: dict[str, tuple[str, dict[str, Any]]] = {}  # url_suffix -> (action id, option)
        self._pages: dict[str, str] = {}  # landing page suffix -> action id
        host.app.add("GET", self.PATH + "/option/{suffix}", self._choose_route)
        host.app.add("POST", self.PATH + "/option/{suffix}", self._choose_route)
        host.app.add("GET", self.PATH + "/landing_page/{suffix}", self._landing_route)

    def specs(self) -> list[ProviderSpec]:
        """The wait_for_option provider."""
        return [ProviderSpec(self.PATH + "/wait_for_option", "Wait for user selection (automate-lite stand-in)",
                             self._wait, self._SCHEMA, False)]

    def option_url(self, url_suffix: str) -> str:
        """The local URL whose visit chooses an option."""
        return f"{self._host.url}{self.PATH}/option/{url_suffix}"

    def select(self, url_suffix: str) -> dict[str, Any]:
        """Choose the option with ``url_suffix``; returns it (KeyError if none waits)."""
        with self._lock:
            found = self._options.get(url_suffix)
            if found is None:
                raise KeyError(f"no waiting option with url_suffix {url_suffix!r}")
            action_id, option = found
            for suffix in [s for s, (a, _) in self._options.items() if a == action_id]:
                del self._options[suffix]
        self._host.complete(action_id, option)
        return option

    def _wait(self, body: dict[str, Any], action: Action) -> Any:
        with self._lock:
            taken = [o["url_suffix"] for o in body["options"] if o["url_suffix"] in self._options]
            if taken:
                raise ActionFailed("Conflict", f"url_suffix {taken[0]!r} is already waiting in another action")
            for option in body["options"]:
                self._options[option["url_suffix"]] = (action.action_id, dict(option))
            page = (body.get("landing_page") or {}).get("url_suffix")
            if page:
                self._pages[page] = action.action_id
        return Pending({"options": [{"name": o["name"], "url": self.option_url(o["url_suffix"])}
                                    for o in body["options"]]})

    def _choose_route(self, req: StubRequest, suffix: str) -> Reply:
        try:
            option = self.select(suffix)
        except KeyError:
            return Reply.json({"code": "NotFound", "description": f"no waiting option {suffix!r}"}, 404)
        return Reply.text(option.get("completed_message") or f"You chose {option['name']}.")

    def _landing_route(self, req: StubRequest, suffix: str) -> Reply:
        with self._lock:
            action_id = self._pages.get(suffix)
            options = [(s, o) for s, (a, o) in self._options.items() if a == action_id]
        if action_id is None or not options:
            return Reply.json({"code": "NotFound", "description": f"no landing page {suffix!r}"}, 404)
        links = "".join(f'<li><a href="{html.escape(self.option_url(s))}">{html.escape(o["name"])}</a></li>'
                        for s, o in options)
        return Reply.text(f"<!DOCTYPE html><html><body><ul>{links}</ul></body></html>", content_type="text/html")
