"""The argument parser of ``automate-lite`` (argparse only; imports nothing else).

Each leaf command records its handler as ``"module:function"`` (a module of this
package), resolved only when that command runs.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from .._version import __version__

__all__ = ["CommandLineError", "build_parser"]

_RUN_STATUSES = ("ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED", "ENDED")


class CommandLineError(Exception):
    """Bad arguments; ``prog`` names the command whose ``--help`` explains them."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage and exits; the CLI wants one line and its own exit code.
    def error(self, message: str) -> NoReturn:
        raise CommandLineError(message, self.prog)


def _common() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--format", choices=("auto", "text", "json"), default="auto",
        help="text (tables) or json; auto (default): text on a terminal, json when piped",
    )
    common.add_argument("--token", metavar="TOKEN", help=(
        "bearer token for the service (else $AUTOMATE_LITE_FLOWS_TOKEN / $AUTOMATE_LITE_ACTION_TOKEN, "
        "$AUTOMATE_LITE_TOKEN, then the login extra's token file)"))
    common.add_argument("--http-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="seconds to wait for each HTTP answer (default 10)")
    common.add_argument("-v", "--verbose", action="store_true",
                        help="log each request (method, URL, status; never a token) on stderr")
    return common


def _flows_common() -> argparse.ArgumentParser:
    flows = _Parser(add_help=False)
    flows.add_argument("--flows-url", metavar="URL",
                       help="the Flows service (default $GLOBUS_SDK_SERVICE_URL_FLOWS, else Globus's)")
    flows.add_argument("--flow-token", metavar="TOKEN", help=(
        "bearer token for the flow's own scope, used to run it (else $AUTOMATE_LITE_FLOW_TOKEN, "
        "the token file, then the service token)"))
    return flows


def _watch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait-timeout", type=float, default=None, metavar="SECONDS",
                   help="give up waiting after this long (exit status 4); default: no limit")
    p.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                   help="seconds between polls at most (default 1)")


def _input_help(what: str) -> str:
    return f"{what}: inline JSON, @FILE, or - for stdin"


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    common, flows_common = _common(), _flows_common()
    flow_parents = [common, flows_common]
    parser = _Parser(
        prog="automate-lite",
        description="Globus Flows and Action Providers from the shell. Output is a table on a "
                    "terminal and JSON when piped (or with --format json).",
        epilog="exit status: 0 ok, 1 run/action failed, 2 bad arguments, 3 service or network "
               "error, 4 wait timed out",
    )
    parser.add_argument("--version", action="version", version=f"automate-lite {__version__}")
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND", parser_class=_Parser)

    def leaf(sub: Any, name: str, handler: str, help: str, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help, parents=parents)
        p.set_defaults(handler=handler)
        return p

    # -- action ------------------------------------------------------------------------
    action = groups.add_parser("action", help="call an Action Provider", description="Call an Action Provider at URL.")
    acts = action.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    routes = _Parser(add_help=False)
    routes.add_argument("url", metavar="URL", help="the provider, e.g. https://actions.globus.org/hello_world")
    routes.add_argument("--routes", choices=("legacy", "actions"), default="legacy",
                        help="legacy (/run, /{id}/status) or actions (/actions, /actions/{id})")
    ap = [common, routes]
    leaf(acts, "introspect", "actions:introspect", "describe the provider (GET URL/)", ap)
    p = leaf(acts, "run", "actions:run", "start an action (POST URL/run)", ap)
    p.add_argument("--body", required=True, help=_input_help("the action's input"))
    p.add_argument("--label")
    p.add_argument("--tag", action="append", dest="tags", metavar="TAG")
    p.add_argument("--request-id", help="makes a retried run the same action (default: a fresh uuid4)")
    p.add_argument("--manage-by", action="append", metavar="URN")
    p.add_argument("--monitor-by", action="append", metavar="URN")
    p.add_argument("--wait", action="store_true", help="then wait for it to finish")
    _watch_options(p)
    for name, what in (("status", "its status (GET URL/ID/status)"), ("cancel", "cancel it (POST URL/ID/cancel)"),
                       ("release", "forget a finished one (POST URL/ID/release)"),
                       ("resume", "resume an INACTIVE one (POST URL/ID/resume)"),
                       ("wait", "poll its status until it finishes (GET URL/ID/status)"),
                       ("log", "its log (GET URL/ID/log, every page)")):
        p = leaf(acts, name, f"actions:{name}", f"an action: {what}", ap)
        p.add_argument("action_id", metavar="ACTION_ID")
        if name == "wait":
            _watch_options(p)
        if name == "log":
            p.add_argument("--reverse", action="store_true", help="newest first")

    # -- flow --------------------------------------------------------------------------
    flow = groups.add_parser("flow", help="deploy, inspect and run flows", description="Flows on the Flows service.")
    fl = flow.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def flow_fields(p: argparse.ArgumentParser, deploying: bool) -> None:
        p.add_argument("--title", required=False)
        p.add_argument("--subtitle")
        p.add_argument("--description")
        p.add_argument("--keyword", action="append", dest="keywords", metavar="WORD")
        p.add_argument("--input-schema", metavar="JSON", help=_input_help("the input JSON schema"))
        for role in ("viewer", "starter", "administrator"):
            p.add_argument(f"--{role}", action="append", dest=f"flow_{role}s", metavar="URN",
                           help=f"a flow {role} (repeatable)")
        p.add_argument("--subscription-id")
        p.add_argument("--no-validate", action="store_true",
                       help="skip the local check of the definition before sending it")

    p = leaf(fl, "deploy", "flows:deploy", "deploy a new flow (POST /flows)", flow_parents)
    p.add_argument("definition", metavar="DEFINITION", help=(
        "the definition: a file, inline JSON or - ; a document with 'definition' (and title, "
        "input_schema...) also works"))
    flow_fields(p, True)
    p = leaf(fl, "update", "flows:update", "change a flow; only what is given (PUT /flows/ID)", flow_parents)
    p.add_argument("flow_id", metavar="FLOW_ID")
    p.add_argument("--definition", metavar="JSON", help=_input_help("a new definition"))
    flow_fields(p, False)
    p = leaf(fl, "get", "flows:get", "show a flow (GET /flows/ID)", flow_parents)
    p.add_argument("flow_id", metavar="FLOW_ID")
    p = leaf(fl, "list", "flows:list_", "list the flows you can see (GET /flows, every page)", flow_parents)
    p.add_argument("--role", action="append", dest="roles", metavar="ROLE",
                   help="only flows where you hold this role (flow_owner, flow_starter...)")
    p.add_argument("--filter", dest="fulltext", metavar="TEXT", help="full-text search")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N flows")
    p = leaf(fl, "delete", "flows:delete", "delete a flow (DELETE /flows/ID)", flow_parents)
    p.add_argument("flow_id", metavar="FLOW_ID")
    p = leaf(fl, "validate", "flows:validate",
             "check a definition: locally, then with the service (POST /flows/validate)", flow_parents)
    p.add_argument("definition", metavar="DEFINITION", help=_input_help("the definition (or a file)"))
    p.add_argument("--input-schema", metavar="JSON", help=_input_help("the input JSON schema"))
    p.add_argument("--local", action="store_true", help="only the local check; no request")
    p = leaf(fl, "render", "flows:render",
             "draw a definition as Mermaid or Graphviz DOT (GET /flows/ID for an id)", flow_parents)
    p.add_argument("definition", metavar="DEFINITION|FLOW_ID")
    p.add_argument("--as", dest="picture", choices=("mermaid", "dot"), default="mermaid")
    p.add_argument("--run", dest="run_id", metavar="RUN_ID", help="colour the states this run reached")
    p = leaf(fl, "run", "flows:run", "start a run (POST /flows/ID/run)", flow_parents)
    p.add_argument("flow_id", metavar="FLOW_ID")
    p.add_argument("--input", default="{}", help=_input_help("the run's input (default {})"))
    p.add_argument("--label")
    p.add_argument("--tag", action="append", dest="tags", metavar="TAG")
    p.add_argument("--manager", action="append", dest="run_managers", metavar="URN")
    p.add_argument("--monitor", action="append", dest="run_monitors", metavar="URN")
    p.add_argument("--watch", action="store_true", help="then follow it state by state until it ends")
    _watch_options(p)
    p = leaf(fl, "scope", "flows:scope", "print the flow's own scope (derived from its id; no request)",
             flow_parents)
    p.add_argument("flow_id", metavar="FLOW_ID")

    # -- run ---------------------------------------------------------------------------
    run = groups.add_parser("run", help="follow and manage runs", description="Runs of flows.")
    rn = run.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    p = leaf(rn, "list", "runs:list_", "list runs (GET /runs, every page)", flow_parents)
    p.add_argument("--flow", dest="flow_ids", action="append", metavar="FLOW_ID", help="only runs of this flow")
    p.add_argument("--status", dest="statuses", action="append", choices=_RUN_STATUSES)
    p.add_argument("--role", dest="roles", action="append", metavar="ROLE",
                   help="run_owner, run_manager, run_monitor...")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N runs")
    for name, what in (("get", "show a run (GET /runs/ID)"),
                       ("logs", "a run's log (GET /runs/ID/log, every page)"),
                       ("watch", "follow a run state by state until it ends (GET /runs/ID, /runs/ID/log)"),
                       ("cancel", "cancel a run (POST /runs/ID/cancel)"),
                       ("resume", "resume an INACTIVE run (POST /runs/ID/resume)"),
                       ("release", "remove a finished run (POST /runs/ID/release)")):
        p = leaf(rn, name, f"runs:{name}", what, flow_parents)
        p.add_argument("run_id", metavar="RUN_ID")
        if name == "watch":
            _watch_options(p)
        if name == "logs":
            p.add_argument("--reverse", action="store_true", help="newest first")

    # -- local -------------------------------------------------------------------------
    p = leaf(groups, "local", "local:serve",
             "start the local Flows service (wired to Transfer, Compute... stand-ins), an Action Provider and Auth "
             "on 127.0.0.1; serve until Ctrl-C",
             [common])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--flows-port", type=int, default=0, metavar="PORT", help="0 (default): a free port")
    p.add_argument("--provider-port", type=int, default=0, metavar="PORT")
    p.add_argument("--auth-port", type=int, default=0, metavar="PORT")
    p.add_argument("--collection", dest="collections", action="append", metavar="ID=DIR",
                   help="serve directory DIR as Transfer collection ID (repeatable)")
    p.add_argument("--function", dest="functions", action="append", metavar="ID=MODULE:NAME",
                   help="register MODULE:NAME (imported from the current directory) as Compute function ID")

    # -- login extra -------------------------------------------------------------------
    login_common = _Parser(add_help=False)
    login_common.add_argument("--token-file", help="default $AUTOMATE_LITE_TOKEN_FILE or ~/.config/automate-lite/tokens.json")
    login_common.add_argument("--auth-url", metavar="URL", help="Globus Auth (default: as globus-sdk decides)")
    lp = [common, login_common]
    p = leaf(groups, "login", "login:login", "log in to Globus and store the tokens (login extra)", lp)
    p.add_argument("--flow", dest="flow_ids", action="append", metavar="FLOW_ID",
                   help="also the scope of this flow, to run it")
    p.add_argument("--scope", dest="scopes", action="append", metavar="SCOPE",
                   help="log in for this scope (default: the Flows service scopes)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--paste", dest="mode", action="store_const", const="paste",
                     help="print the URL and read the code from stdin")
    how.add_argument("--browser", dest="mode", action="store_const", const="browser",
                     help="open a browser that returns to 127.0.0.1")
    p.add_argument("--force", action="store_true", help="log in even when tokens are stored")
    p.add_argument("--client-id", help="your native app client id (default: the original SDK's)")
    p = leaf(groups, "logout", "login:logout", "revoke and forget stored tokens (login extra)", lp)
    p.add_argument("scopes", nargs="*", metavar="SCOPE", help="only these (default: all)")
    leaf(groups, "whoami", "login:whoami",
         "the identity you logged in as (from the login's id_token, kept in the token file; no request)", lp)
    leaf(groups, "tokens", "login:tokens", "the stored scopes and their expiry (never the tokens)", lp)
    return parser
