"""Hosted handlers of the local Flows service: ``Handler: "urn:globus:flows:handle:..."``.

The Flows docs' hosted registered APIs are named by handles of the form
``urn:globus:flows:handle:globus:<service>.<route>`` and take flat Parameters (no
``path``/``query`` nesting). The local service runs a handle with a Python function::

    def lookup(call: HostedCall) -> dict:          # or an async def
        return {"id": call.parameters["item_id"]}   # the response body (JSON)

    flows.add_hosted_handler("myorg.lookup", lookup)   # -> urn:globus:flows:handle:globus:myorg.lookup
    flows.add_hosted_handler("urn:globus:flows:handle:acme:items.get", lookup)  # any full URN

Raise :class:`~automate_lite.testing.runner.HandlerError` (``status_code``, ``body``) to
answer an HTTP error. Built in, answering from the groups the stub knows (``groups=``
and :meth:`FlowsStub.add_group`):

* ``groups.get_group`` (``group_id``, optional ``include``: ``my_memberships`` and/or
  ``memberships``): the group document, 404 for an unknown group;
* ``groups.get_my_groups``: the groups the run's owner is a member of.

The group documents keep the Groups API's main fields (``id``, ``name``,
``description``, ``parent_id``, ``group_type``, ``enforce_session``, ``session_limit``,
``policies`` omitted); every known group is visible to every run.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..runner.model import HandlerError, HostedCall, HostedHandler, full_handle
from .registered_apis import RegisteredApis
from .store import Doc, _as_urn

_GROUP_URN = "urn:globus:groups:id:"


class HostedHandlers(RegisteredApis):
    """Hosted handles and the groups the built-in Groups handles answer from."""

    _hosted: dict[str, HostedHandler]
    _group_info: dict[str, Doc]

    def _seed_hosted_handlers(self) -> None:
        self._hosted = {}
        self._group_info = {}
        self.add_hosted_handler("groups.get_group", self._get_group)
        self.add_hosted_handler("groups.get_my_groups", self._get_my_groups)

    def add_hosted_handler(self, name: str, fn: HostedHandler) -> str:
        """Serve the handle ``name`` with ``fn(call) -> body`` (sync or async); returns the full URN.

        ``name`` is a full ``urn:globus:flows:handle:...`` or a short
        ``<service>.<route>`` that gets the ``urn:globus:flows:handle:globus:`` prefix.
        A later call for the same handle replaces the earlier function.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a hosted handler needs a name such as 'groups.get_group' or a full handle URN")
        if not callable(fn):
            raise TypeError(f"the hosted handler for {name!r} must be callable, got {type(fn).__name__}")
        urn = full_handle(name.strip())
        with self.state.lock:
            self._hosted[urn] = fn
        return urn

    def hosted_handler(self, handle: str) -> HostedHandler | None:
        """The function serving ``handle`` (a full URN or a short name), or None."""
        with self.state.lock:
            return self._hosted.get(full_handle(handle))

    def add_group(self, group_id: str, name: str, *, members: Iterable[str] = (), description: str = "") -> None:
        """Make a group known (for group principals and the Groups handles), with ``members``."""
        urn = group_id if group_id.startswith(_GROUP_URN) else _GROUP_URN + group_id
        with self.state.lock:
            self._group_info[urn] = {"name": name, "description": description}
            for member in members:
                ident = _as_urn(member)
                self._groups[ident] = frozenset({*self._groups.get(ident, ()), urn})

    # -- the built-in Groups handles ---------------------------------------------------

    def _group_doc(self, urn: str, owner: str, include: Iterable[str]) -> Doc:
        gid = urn[len(_GROUP_URN):]
        info = self._group_info.get(urn, {})
        members = sorted(i for i, groups in self._groups.items() if urn in groups)
        doc: Doc = {"id": gid, "name": info.get("name", gid), "description": info.get("description", ""),
                    "parent_id": None, "group_type": "regular", "enforce_session": False,
                    "session_limit": 28800, "session_timeouts": {}}

        def membership(identity: str) -> Doc:
            return {"group_id": gid, "identity_id": identity.rsplit(":", 1)[-1], "role": "member",
                    "status": "active", "username": (self._users.get(identity) or {}).get("username")}

        wanted = set(include)
        if "my_memberships" in wanted:
            doc["my_memberships"] = [membership(owner)] if owner in members else []
        if "memberships" in wanted:
            doc["memberships"] = [membership(m) for m in members]
        return doc

    def _known_groups(self) -> set[str]:
        return {*self._group_info, *(g for groups in self._groups.values() for g in groups)}

    def _get_group(self, call: HostedCall) -> Any:
        gid = call.parameters.get("group_id")
        if not isinstance(gid, str) or not gid:
            raise HandlerError(422, {"code": "VALIDATION_ERROR", "detail": "group_id is required"})
        include = call.parameters.get("include") or []
        include = [include] if isinstance(include, str) else include
        urn = gid if gid.startswith(_GROUP_URN) else _GROUP_URN + gid
        with self.state.lock:
            if urn not in self._known_groups():
                raise HandlerError(404, {"code": "NOT_FOUND", "detail": f"Group {gid} not found"})
            return self._group_doc(urn, call.owner, include)

    def _get_my_groups(self, call: HostedCall) -> Any:
        with self.state.lock:
            mine = sorted(self._groups.get(call.owner, ()))
            return [self._group_doc(urn, call.owner, ["my_memberships"]) for urn in mine]
