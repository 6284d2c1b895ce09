"""What every command shares: reading JSON input, printing, and tokens and clients.

Tokens, first found wins:

* Flows service: ``--token``, ``$AUTOMATE_LITE_FLOWS_TOKEN``, ``$AUTOMATE_LITE_TOKEN``,
  the login extra's token file (when globus-sdk is installed and the file exists), else
  none (a local service with auth off needs none).
* A flow's own scope (``flow run``): ``--flow-token``, ``$AUTOMATE_LITE_FLOW_TOKEN``,
  the token file's entry for that flow's scope, else the service token.
* An Action Provider: ``--token``, ``$AUTOMATE_LITE_ACTION_TOKEN``,
  ``$AUTOMATE_LITE_TOKEN``, the token file's entry for its scope, else none.

The CLI never logs in on its own (``automate-lite login`` does): a command that lacks
a token fails with the scopes it needs named.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    from ..actions import ActionClient
    from ..errors import AutomateAPIError
    from ..extras.login import LoginManager
    from ..flows import FlowsClient

__all__ = ["Context", "InputError", "Output"]


class InputError(Exception):
    """An input file or JSON argument could not be read or parsed."""


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


class Output:
    """Prints results as text tables or JSON (``--format``; auto: JSON unless a tty)."""

    def __init__(self, fmt: str) -> None:
        if fmt == "auto":
            isatty = getattr(sys.stdout, "isatty", None)
            fmt = "text" if callable(isatty) and isatty() else "json"
        self.json = fmt == "json"

    def document(self, doc: Any, keys: Sequence[str] | None = None) -> None:
        """One document: JSON as is, or ``key: value`` lines (``keys`` first, in order)."""
        if self.json:
            self._dump(doc)
            return
        if not isinstance(doc, Mapping):
            print(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
            return
        order = [k for k in (keys or ()) if k in doc] + [k for k in doc if k not in (keys or ())]
        width = max((len(k) for k in order), default=0)
        for key in order:
            print(f"{key:<{width}}  {_cell(doc[key], multiline=True)}")

    def table(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
        """Rows: JSON list as is, or a table of ``columns``."""
        if self.json:
            self._dump(list(rows))
            return
        if not rows:
            print("(none)")
            return
        cells = [[_cell(row.get(c)) for c in columns] for row in rows]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
        for r in cells:
            print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())

    def line(self, text: str, doc: Any = None) -> None:
        """A message: ``text`` on a terminal, ``doc`` (if given) as JSON."""
        if self.json:
            if doc is not None:
                self._dump(doc)
        else:
            print(text)

    def _dump(self, doc: Any) -> None:
        print(json.dumps(doc, indent=2, sort_keys=False, default=str))


def _cell(value: Any, multiline: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return ", ".join(value) or "-"
    if multiline and isinstance(value, (dict, list)) and value:
        return "\n    " + json.dumps(value, indent=2).replace("\n", "\n    ")
    return json.dumps(value)


def read_json(text: str, what: str) -> Any:
    """``text`` as JSON: inline, ``@FILE``, ``-`` (stdin), or the name of an existing file."""
    source = "the command line"
    if text == "-":
        source, text = "stdin", sys.stdin.read()
    elif text.startswith("@") or (not text.lstrip().startswith(("{", "[")) and os.path.isfile(text)):
        path = text[1:] if text.startswith("@") else text
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise InputError(f"cannot read {what} from {path}: {e.strerror or e}") from None
        source = path
    try:
        return json.loads(text)
    except ValueError as e:
        raise InputError(f"{what} from {source} is not valid JSON: {e}") from None



def read_json_object(text: str, what: str, hint: str) -> dict[str, Any]:
    """:func:`read_json`, which must give a JSON object; ``hint`` says what to pass otherwise."""
    doc = read_json(text, what)
    if not isinstance(doc, dict):
        raise InputError(f"{what} must be a JSON object {hint}")
    return doc


class Context:
    """The parsed arguments plus what commands build from them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Output(getattr(args, "format", "auto"))
        self._manager: LoginManager | None = None
        self._looked_for_manager = False
        self._service_scopes: list[str] = []
        self._action_client: ActionClient | None = None

    # -- tokens -----------------------------------------------------------------------

    def login_manager(self) -> LoginManager | None:
        """The login extra's manager in no-login mode, if it is installed and has a token file."""
        if not self._looked_for_manager:
            self._looked_for_manager = True
            if importlib.util.find_spec("globus_sdk") is not None:
                from ..extras import default_token_path

                path = getattr(self.args, "token_file", None) or default_token_path()
                if os.path.exists(path):
                    from ..extras.login import LoginManager

                    self._manager = LoginManager(token_file=path, login="never",
                                                 auth_base_url=getattr(self.args, "auth_url", None))
        return self._manager

    def stored_authorizer(self, scope: str) -> Any:
        """An authorizer for ``scope`` from the token file, or None."""
        manager = self.login_manager()
        if manager is not None and manager.stored(scope) is not None:
            return manager.authorizer(scope)
        return None

    def _bearer(self, token: str | None) -> Any:
        if token is None:
            return None
        from .._core.auth import BearerTokenAuthorizer

        return BearerTokenAuthorizer(token)

    def token_hint(self) -> str:
        """Where a token can come from, for an error message."""
        return ("pass --token, set AUTOMATE_LITE_TOKEN (or AUTOMATE_LITE_FLOWS_TOKEN / _FLOW_TOKEN / "
                "_ACTION_TOKEN), or run automate-lite login (pip install 'automate-lite[login]')")

    def scopes_needed(self, error: AutomateAPIError) -> list[str]:
        """The scopes the failed request needed, as far as the CLI knows."""
        flow_id = getattr(self.args, "flow_id", None)
        if self.args.group == "flow" and self.args.command == "run" and flow_id:
            from .._core.scopes import flow_scope

            return [flow_scope(flow_id)]
        if not self._service_scopes and self._action_client is not None:
            from ..errors import AutomateError

            try:  # introspection needs no token
                self._service_scopes = [s for s in [self._action_client.action_scope] if s]
            except AutomateError:
                pass
        return list(self._service_scopes)

    # -- clients ----------------------------------------------------------------------

    def flows_client(self) -> FlowsClient:
        """A FlowsClient for ``--flows-url`` with the tokens found (see the module docstring)."""
        from .._core.scopes import ALL_FLOW_SCOPES
        from ..flows import FlowsClient

        self._service_scopes = list(ALL_FLOW_SCOPES)
        token = self.args.token or _env("AUTOMATE_LITE_FLOWS_TOKEN", "AUTOMATE_LITE_TOKEN")
        service = self._bearer(token) if token else self.stored_authorizer(ALL_FLOW_SCOPES[0])
        flow_token = getattr(self.args, "flow_token", None) or _env("AUTOMATE_LITE_FLOW_TOKEN")
        flow_auth = self._bearer(flow_token)

        def for_flow(*, flow_scope: str, **_: Any) -> Any:
            if flow_auth is not None:
                return flow_auth
            return self.stored_authorizer(flow_scope) or service

        return FlowsClient(None, for_flow, service, getattr(self.args, "flows_url", None),
                           self.args.http_timeout)

    def action_client(self) -> ActionClient:
        """An ActionClient for the command's URL with the token found."""
        from ..actions import ActionClient

        token = self.args.token or _env("AUTOMATE_LITE_ACTION_TOKEN", "AUTOMATE_LITE_TOKEN")
        client = ActionClient(self.args.url, self._bearer(token), self.args.http_timeout, routes=self.args.routes)
        if token is None and self.login_manager() is not None:
            # The provider's scope names its token; introspection needs none.
            scope = client.action_scope
            if scope:
                self._service_scopes = [scope]
                stored = self.stored_authorizer(scope)
                if stored is not None:
                    client = client.replace(authorizer=stored)
        self._action_client = client
        return client
