"""Web inputs of the local Flows service: opened by CreateWebInput states or by tests, answered over HTTP."""

from __future__ import annotations

import copy
from typing import Any, Literal, Mapping, Sequence

from .._server import Reply, StubRequest
from ..runner import LiveRun
from .run_start import RunStart
from .store import (
    Caller, Doc, _EVERYONE, _Fail, _WEB_INPUT_TYPES, _as_urn, _conflict, _forbidden, _iso, _new_id,
    _not_found, _unprocessable,
)
from .parsing import _comma_args, _json_object, _order, _page


class WebInputs(RunStart):
    """The ``/web_inputs`` routes and the web inputs runs open."""

    def open_web_input(self, run: LiveRun, state_name: str, spec: Doc) -> Doc:
        """Open a web input for a CreateWebInput state of ``run`` (ValueError when malformed).

        Takes the documented Parameters (``InputType``, ``Context`` {``Title``,
        ``PresentationStyle``, ``Text`` | ``Rows`` [{``Field``, ``Value``}]}, ``Options``
        [{``Value``, ``Label``, ``Description``}], ``RespondentUrns``, ``ViewerUrns``) and
        the stand-in's older lowercase form (``title``, ``input_type``, ``options`` labels,
        ``respondents``, ``viewers``).
        """
        raw_context = spec.get("Context")
        context: Doc | None = None
        if raw_context is not None:
            if not isinstance(raw_context, dict):
                raise ValueError("Context must be an object (Title, PresentationStyle, Text or Rows)")
            context = {"title": raw_context.get("Title", state_name),
                       "presentation_style": str(raw_context.get("PresentationStyle", "Text")).lower()}
            if "Text" in raw_context:
                context["text"] = raw_context["Text"]
            rows = raw_context.get("Rows")
            if rows is not None:
                if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                    raise ValueError("Context.Rows must be a list of {Field, Value} objects")
                context["rows"] = [{"field": r.get("Field"), "value": r.get("Value")} for r in rows]
        title = context["title"] if context else spec.get("title", state_name)
        options = spec.get("Options", spec.get("options"))
        raw_type = spec.get("InputType", spec.get("input_type", "selection" if options is not None else "text"))
        respondents = spec.get("RespondentUrns", spec.get("respondents")) or [run.owner]
        # Not in the Flows docs (the examples only Catch Flows.WebInputExpired): a guess.
        expires_in = spec.get("ExpiresIn")
        if expires_in is not None and (isinstance(expires_in, bool) or not isinstance(expires_in, (int, float))
                                       or expires_in <= 0):
            raise ValueError(f"ExpiresIn must be a number of seconds > 0 (found {expires_in!r})")
        viewers = spec.get("ViewerUrns", spec.get("viewers")) or []
        if not isinstance(title, str) or not isinstance(raw_type, str):
            raise ValueError("the title and InputType must be strings")
        input_type = raw_type.lower()
        if input_type not in _WEB_INPUT_TYPES:
            raise ValueError(f"InputType {raw_type!r} is not one of {', '.join(sorted(_WEB_INPUT_TYPES))}")
        if options is not None:
            if not isinstance(options, list) or not all(
                isinstance(o, str) or (isinstance(o, dict) and "Value" in o) for o in options
            ):
                raise ValueError("Options must be a list of {Value, Label, Description} objects")
        if input_type == "selection" and not options:
            raise ValueError("a Selection web input needs Options")
        for name, value in (("RespondentUrns", respondents), ("ViewerUrns", viewers)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name} must be a list of identity or group URNs")
        return self.add_web_input(
            title=title, input_type=input_type, options=options, flow_id=run.flow_id, run_id=run.run_id,
            viewers=viewers, respondents=respondents, context=context, creator=run.owner,
            expires_in=None if expires_in is None else float(expires_in),
        )

    def web_input_record(self, web_input_id: str) -> Doc | None:
        """A web input's full document (None when there is no such input)."""
        with self.state.lock:
            record = self.state.web_inputs.get(web_input_id)
            if record is None:
                return None
            self._expire_if_due(record, self._clock())
            doc = copy.deepcopy(self._render_web_input(record, None))
            if record["status"] == "open" and record["_expires_at"] is not None:
                doc["expires_in"] = max(record["_expires_at"] - self._clock(), 0.0)  # what the runner waits
            if doc.get("response") is not None:
                value = doc["response"].get("value")
                doc["response"]["response"] = record["_values"].get(value, value)
            return doc

    def add_web_input(
        self,
        *,
        title: str = "Approve?",
        input_type: str = "selection",
        options: Sequence[str | Mapping[str, Any]] | None = None,
        flow_id: str | None = None,
        run_id: str | None = None,
        viewers: Sequence[str] = (),
        respondents: Sequence[str] = ("public",),
        status: Literal["open", "closed", "expired"] = "open",
        context: Mapping[str, Any] | None = None,
        creator: str | None = None,
        expires_in: float | None = None,
    ) -> Doc:
        """Seed a web input and return its document (as its respondent would see it).

        ``options`` are labels, or ``{Value, Label, Description}`` objects, of a
        ``selection`` input (default Approve/Reject); each gets an ``option_id``, and a
        response must name one. Other input types take any value. The flow/run
        references are filled from the run or flow if they exist. ``expires_in``
        (seconds): the input expires unanswered after that long on the stub's clock (an
        awaiting run fails with ``Flows.WebInputExpired``; a late answer gets 409).
        """
        now = self._clock()
        with self.state.lock:
            run = self.state.runs.get(run_id or "")
            flow_id = flow_id or (run.flow_id if run else None)
            flow = self.state.flows.get(flow_id or "")
            raw: list[str | Mapping[str, Any]] = (
                list(options) if options is not None else (["Approve", "Reject"] if input_type == "selection" else [])
            )
            rendered: list[Doc] = []
            values: dict[str, Any] = {}
            for opt in raw:
                option_id = _new_id()
                if isinstance(opt, str):
                    rendered.append({"option_id": option_id, "label": opt})
                    values[option_id] = opt
                else:
                    value = opt.get("Value")
                    rendered.append({"option_id": option_id, "label": opt.get("Label", str(value)),
                                     "description": opt.get("Description")})
                    values[option_id] = value
            schema: Doc = {"$schema": "http://json-schema.org/draft-07/schema", "title": title}
            if input_type == "selection":
                schema.update(type="string", oneOf=[
                    {"const": o["option_id"], "title": o["label"], **({"description": o["description"]}
                                                                        if o.get("description") else {})}
                    for o in rendered])
            else:
                schema["type"] = "string"
            viewer_urns = [_as_urn(v) if v not in _EVERYONE else v for v in viewers]
            respondent_urns = [_as_urn(r) if r not in _EVERYONE else r for r in respondents]
            record: Doc = {
                "id": _new_id(),
                "status": status,
                "input_type": input_type,
                "input_schema": schema,
                "title": title,
                "context": dict(context) if context is not None else {"title": title, "presentation_style": "text"},
                "flow": {"id": flow_id, "title": flow["title"] if flow else (run.flow_title if run else None)},
                "run": {"id": run_id, "label": run.label if run else None},
                "options": rendered,
                "roles": {"viewer_urns": viewer_urns, "respondent_urns": respondent_urns},
                "creator_urn": creator or (run.owner if run else None),
                "created_timestamp": _iso(now),
                "edited_timestamp": _iso(now),
                "closed_timestamp": _iso(now) if status == "closed" else None,
                "expiration_timestamp": _iso(now + expires_in) if expires_in is not None else None,
                "response": None,
                "_expires_at": now + expires_in if expires_in is not None else None,
                "_viewers": viewer_urns,
                "_respondents": respondent_urns,
                "_values": values,
            }
            self.state.web_inputs[record["id"]] = record
            return self._render_web_input(record, None)


    def expire_web_input(self, web_input_id: str) -> bool:
        """Expire the open web input ``web_input_id`` now, as if its time ran out.

        A run awaiting it resumes and its AwaitWebInput state fails with
        ``Flows.WebInputExpired`` (catchable); answering it afterwards gets 409. Returns
        False when it was not open (already answered or expired); KeyError when unknown.
        """
        with self.state.lock:
            record = self.state.web_inputs.get(web_input_id)
            if record is None:
                raise KeyError(f"there is no web input {web_input_id!r}")
            if record["status"] != "open":
                return False
            self._expire(record, self._clock())
            return True

    def _expire(self, record: Doc, now: float) -> None:
        record.update(status="expired", edited_timestamp=_iso(now), closed_timestamp=_iso(now))
        run = self.state.runs.get(record["run"]["id"] or "")
        if run is not None and run.live is not None:
            self.runner.web_input_answered(run.live, record["id"])

    def _expire_if_due(self, record: Doc, now: float) -> None:
        if record["status"] == "open" and record["_expires_at"] is not None and now >= record["_expires_at"]:
            self._expire(record, now)

    @staticmethod
    def _web_input_roles(record: Doc, caller: Caller | None) -> list[str]:
        def has(key: str) -> bool:
            members = set(record[key])
            return bool(members & _EVERYONE) or (caller is not None and bool(members & caller.principals))

        respondent = has("_respondents")
        roles = ["viewer"] if respondent or has("_viewers") else []
        return roles + (["respondent"] if respondent else [])

    def _render_web_input(self, record: Doc, caller: Caller | None, *, summary: bool = False) -> Doc:
        doc = {k: v for k, v in record.items() if not k.startswith("_")}
        doc["user_roles"] = self._web_input_roles(record, caller) if caller is not None else ["viewer", "respondent"]
        if summary:
            doc.pop("options", None)
            doc.pop("response", None)
        return doc
    def _register_web_input_routes(self) -> None:
        def list_web_inputs(req: StubRequest, caller: Caller, now: float) -> Reply:
            roles = _comma_args(req, "filter_roles")
            states = _comma_args(req, "filter_states")
            flow_ids = _comma_args(req, "filter_flow_ids")
            run_ids = _comma_args(req, "filter_run_ids")
            docs = []
            for record in self.state.web_inputs.values():
                self._expire_if_due(record, now)
                mine = self._web_input_roles(record, caller)
                if not mine or (roles is not None and not set(mine) & set(roles)):
                    continue
                if states is not None and record["status"] not in states:
                    continue
                if flow_ids is not None and record["flow"]["id"] not in flow_ids:
                    continue
                if run_ids is not None and record["run"]["id"] not in run_ids:
                    continue
                docs.append(self._render_web_input(record, caller, summary=True))
            return Reply.json(_page(req, _order(req, docs), "web_input_summaries", has_next=False))

        def visible_web_input(caller: Caller, web_input_id: str) -> Doc:
            record = self.state.web_inputs.get(web_input_id)
            if record is None or not self._web_input_roles(record, caller):
                _not_found("Web Input", web_input_id)
            return record

        def get_web_input(req: StubRequest, caller: Caller, now: float, web_input_id: str) -> Reply:
            record = visible_web_input(caller, web_input_id)
            self._expire_if_due(record, now)
            return Reply.json(self._render_web_input(record, caller))

        def respond(req: StubRequest, caller: Caller, now: float, web_input_id: str) -> Reply:
            record = visible_web_input(caller, web_input_id)
            if "respondent" not in self._web_input_roles(record, caller):
                _forbidden(f"User does not have respondent role on web input {web_input_id}")
            data = _json_object(req)
            response = data.get("response")
            if not isinstance(response, dict) or "value" not in response:
                _unprocessable(["body", "response", "value"], "field required", "value_error.missing")
            self._expire_if_due(record, now)
            if record["status"] == "expired":
                _conflict(f"Web Input {web_input_id} has expired; it can no longer be answered.")
            if record["status"] != "open":
                _conflict(f"Web Input {web_input_id} is already closed.")
            value = response["value"]
            if record["input_type"] == "selection" and value not in [o["option_id"] for o in record["options"]]:
                raise _Fail(422, "UNPROCESSABLE_ENTITY", f"{value!r} is not a registered option id for this input.")
            record.update(
                status="closed",
                closed_timestamp=_iso(now),
                edited_timestamp=_iso(now),
                response={"value": value, "respondent": caller.identity},
            )
            run = self.state.runs.get(record["run"]["id"] or "")
            if run is not None and run.live is not None:
                self.runner.web_input_answered(run.live, web_input_id)
            return Reply.json({"status": "ok"})
        self._route("GET", "/web_inputs", "service", list_web_inputs)
        self._route("GET", "/web_inputs/{web_input_id}", "service", get_web_input)
        self._route("POST", "/web_inputs/{web_input_id}/respond", "service", respond)
