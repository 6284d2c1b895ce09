"""Stand-ins for the Globus Transfer action providers, acting on local directories.

A *collection* is a local directory registered under a collection id
(:meth:`TransferStandIn.add_collection`); a path in it is read as Globus shows one:
``/~/a/b``, ``~/a/b`` and ``/a/b`` all mean ``<directory>/a/b``, and a path that
would leave the directory (``..``, a symlink out) is refused. Files are really copied.

Served at the public paths (see :mod:`automate_lite.testing.providers`):

=====================================  ==========================================================
``transfer.actions.globus.org/transfer``  ``{source_endpoint, destination_endpoint, DATA: [{source_path,
                                          destination_path, recursive?}], label?, ...}``
``transfer.actions.globus.org/delete``    ``{endpoint, DATA: [{path}], recursive?, ignore_missing?}``
``transfer.actions.globus.org/ls``        ``{endpoint_id, path?}``: ``details.DATA`` lists the entries
``transfer.actions.globus.org/stat``      ``{endpoint_id, path}``: ``details`` is the entry
``transfer.actions.globus.org/mkdir``     ``{endpoint_id, path}``
=====================================  ==========================================================

The deprecated ``actions.globus.org/transfer/{transfer,delete,ls,mkdir}`` paths are
served too, with their older field names (``source_endpoint_id``,
``destination_endpoint_id``, ``transfer_items``; ``endpoint_id`` for delete).

Outcomes, in the shape of a Transfer task document (``DATA_TYPE: "task"``, ``status``,
``files``, ``files_transferred``, ``bytes_transferred``, ``directories``, ...): an
unknown collection fails with code ``EndpointNotFound``, a missing path with
``ClientError.NotFound``, a directory without ``recursive`` with
``ClientError.BadRequest``, an escape with ``PermissionDenied``, an existing
directory given to mkdir with ``ExternalError.MkdirFailed.Exists``.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ._base import Action, ActionFailed, ProviderSpec

__all__ = ["TransferStandIn", "TRANSFER_SCOPE"]

#: The scope every transfer.actions.globus.org provider uses (the Transfer API's own).
TRANSFER_SCOPE = "urn:globus:auth:scope:transfer.api.globus.org:all"

_PATH = {"type": "string", "minLength": 1}
_ID = {"type": "string", "minLength": 1}


def _item_schema(src: str, dst: str) -> dict[str, Any]:
    return {"type": "object", "required": [src, dst],
            "properties": {src: _PATH, dst: _PATH, "recursive": {"type": "boolean"}}}


_TRANSFER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["source_endpoint", "destination_endpoint", "DATA"],
    "properties": {
        "source_endpoint": _ID, "destination_endpoint": _ID,
        "DATA": {"type": "array", "minItems": 1, "items": _item_schema("source_path", "destination_path")},
        "label": {"type": "string"}, "sync_level": {}, "verify_checksum": {"type": "boolean"},
    },
}
_LEGACY_TRANSFER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["source_endpoint_id", "destination_endpoint_id", "transfer_items"],
    "properties": {
        "source_endpoint_id": _ID, "destination_endpoint_id": _ID,
        "transfer_items": {"type": "array", "minItems": 1, "items": _item_schema("source_path", "destination_path")},
        "label": {"type": "string"},
    },
}
_PATH_SCHEMA: dict[str, Any] = {"type": "object", "required": ["endpoint_id"],
                                "properties": {"endpoint_id": _ID, "path": _PATH}}
_STAT_SCHEMA: dict[str, Any] = {"type": "object", "required": ["endpoint_id", "path"],
                                "properties": {"endpoint_id": _ID, "path": _PATH}}


def _delete_schema(endpoint_key: str) -> dict[str, Any]:
    return {"type": "object", "required": [endpoint_key, "DATA"],
            "properties": {endpoint_key: _ID, "recursive": {"type": "boolean"}, "ignore_missing": {"type": "boolean"},
                           "DATA": {"type": "array", "minItems": 1,
                                    "items": {"type": "object", "required": ["path"], "properties": {"path": _PATH}}}}}


def _mtime(st: os.stat_result) -> str:
    return datetime.fromtimestamp(st.st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00:00")


def _entry(path: Path) -> dict[str, Any]:
    st = path.lstat()
    kind = "dir" if stat.S_ISDIR(st.st_mode) else "file"
    return {"DATA_TYPE": "file", "name": path.name, "type": kind, "size": st.st_size,
            "last_modified": _mtime(st), "permissions": f"{stat.S_IMODE(st.st_mode):04o}",
            "user": None, "group": None, "link_target": None, "link_group": None,
            "link_last_modified": None, "link_size": None, "link_user": None}


class TransferStandIn:
    """Local directories as Globus collections, and the Transfer providers acting on them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._collections: dict[str, Path] = {}
        #: Every finished task document, in order (what tests read).
        self.tasks: list[dict[str, Any]] = []

    def add_collection(self, directory: str | os.PathLike[str], collection_id: str | None = None) -> str:
        """Serve ``directory`` (created if missing) as collection ``collection_id``; returns the id.

        Without an id, a fresh uuid4 is used; give one to run a definition that names
        a real collection unchanged.
        """
        root = Path(directory).resolve()
        if root.exists() and not root.is_dir():
            raise ValueError(f"collection directory {str(root)!r} is a file; give a directory")
        root.mkdir(parents=True, exist_ok=True)
        cid = collection_id or str(uuid.uuid4())
        with self._lock:
            self._collections[cid] = root
        return cid

    def directory(self, collection_id: str) -> Path:
        """The local directory behind a collection id."""
        try:
            return self._collections[collection_id]
        except KeyError:
            raise KeyError(f"no collection {collection_id!r}; add it with add_collection()") from None

    def local_path(self, collection_id: str, path: str) -> Path:
        """Where a collection path is on disk (raises :class:`ActionFailed` as the providers do)."""
        root = self._collections.get(collection_id)
        if root is None:
            raise ActionFailed("EndpointNotFound", f"no collection with id {collection_id!r}")
        rel = path
        for prefix in ("/~/", "~/", "/~", "~"):
            if rel.startswith(prefix):
                rel = rel[len(prefix):]
                break
        target = (root / rel.lstrip("/")).resolve()
        if target != root and root not in target.parents:
            raise ActionFailed("PermissionDenied", f"path {path!r} is outside collection {collection_id}")
        return target

    # -- the providers -------------------------------------------------------------------

    def specs(self) -> list[ProviderSpec]:
        """The providers to mount (new and deprecated paths)."""
        def t(name: str, handler: Callable[[dict[str, Any], Action], Any], schema: dict[str, Any],
              sync: bool) -> ProviderSpec:
            return ProviderSpec(name, f"Transfer {name.rsplit('/', 1)[-1]} (automate-lite stand-in)",
                                handler, schema, sync, TRANSFER_SCOPE)

        return [
            t("/transfer.actions.globus.org/transfer", self._transfer, _TRANSFER_SCHEMA, False),
            t("/transfer.actions.globus.org/delete", self._delete, _delete_schema("endpoint"), False),
            t("/transfer.actions.globus.org/ls", self._ls, _PATH_SCHEMA, True),
            t("/transfer.actions.globus.org/stat", self._stat, _STAT_SCHEMA, True),
            t("/transfer.actions.globus.org/mkdir", self._mkdir, _STAT_SCHEMA, True),
            t("/actions.globus.org/transfer/transfer", self._legacy_transfer, _LEGACY_TRANSFER_SCHEMA, False),
            t("/actions.globus.org/transfer/delete", self._legacy_delete, _delete_schema("endpoint_id"), False),
            t("/actions.globus.org/transfer/ls", self._ls, _PATH_SCHEMA, True),
            t("/actions.globus.org/transfer/mkdir", self._mkdir, _STAT_SCHEMA, True),
        ]

    def _task(self, action: Action, kind: str, src: str | None, dst: str | None, label: Any,
              files: int, dirs: int, nbytes: int) -> dict[str, Any]:
        doc = {
            "DATA_TYPE": "task", "type": kind, "task_id": action.action_id, "status": "SUCCEEDED",
            "nice_status": "OK", "is_ok": True, "label": label or f"For Action id {action.action_id}",
            "source_endpoint_id": src, "destination_endpoint_id": dst,
            "files": files, "directories": dirs, "files_transferred": files if kind == "TRANSFER" else 0,
            "bytes_transferred": nbytes, "faults": 0, "fatal_error": None,
            "subtasks_succeeded": files + dirs, "subtasks_failed": 0, "subtasks_pending": 0,
            "request_time": action.document()["start_time"],
            "completion_time": datetime.now(timezone.utc).isoformat(),
        }
        with self._lock:
            self.tasks.append(doc)
        return doc

    def _transfer(self, body: dict[str, Any], action: Action) -> Any:
        return self._copy(body["source_endpoint"], body["destination_endpoint"], body["DATA"], body, action)

    def _legacy_transfer(self, body: dict[str, Any], action: Action) -> Any:
        return self._copy(body["source_endpoint_id"], body["destination_endpoint_id"], body["transfer_items"],
                          body, action)

    def _copy(self, src_id: str, dst_id: str, items: list[dict[str, Any]], body: dict[str, Any],
              action: Action) -> Any:
        plan = []
        for item in items:  # check every item before copying anything, as a task is checked
            src = self.local_path(src_id, item["source_path"])
            dst = self.local_path(dst_id, item["destination_path"])
            if not src.exists():
                raise ActionFailed("ClientError.NotFound", f"{item['source_path']!r} does not exist on {src_id}")
            if src.is_dir() and not item.get("recursive", False):
                raise ActionFailed("ClientError.BadRequest",
                                   f"{item['source_path']!r} is a directory: set \"recursive\": true to copy it")
            if src.is_file() and item["destination_path"].endswith("/"):
                dst = dst / src.name
            plan.append((src, dst))
        files = dirs = nbytes = 0
        for src, dst in plan:
            if src.is_dir():
                for dirpath, dirnames, filenames in os.walk(src):
                    dirs += 1
                    for name in filenames:
                        files += 1
                        nbytes += (Path(dirpath) / name).stat().st_size
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
                files += 1
                nbytes += src.stat().st_size
        return self._task(action, "TRANSFER", src_id, dst_id, body.get("label"), files, dirs, nbytes)

    def _delete(self, body: dict[str, Any], action: Action) -> Any:
        return self._remove(body["endpoint"], body, action)

    def _legacy_delete(self, body: dict[str, Any], action: Action) -> Any:
        return self._remove(body["endpoint_id"], body, action)

    def _remove(self, cid: str, body: dict[str, Any], action: Action) -> Any:
        recursive = bool(body.get("recursive", False))
        targets = []
        for item in body["DATA"]:
            target = self.local_path(cid, item["path"])
            if target == self._collections[cid]:
                raise ActionFailed("PermissionDenied", "the root of a collection cannot be deleted")
            if not target.exists():
                if body.get("ignore_missing"):
                    continue
                raise ActionFailed("ClientError.NotFound", f"{item['path']!r} does not exist on {cid}")
            if target.is_dir() and not recursive:
                raise ActionFailed("ClientError.BadRequest",
                                   f"{item['path']!r} is a directory: set \"recursive\": true to delete it")
            targets.append(target)
        files = dirs = 0
        for target in targets:
            if target.is_dir():
                dirs += 1
                files += sum(len(f) for _, _, f in os.walk(target))
                shutil.rmtree(target)
            else:
                files += 1
                target.unlink()
        return self._task(action, "DELETE", cid, None, body.get("label"), files, dirs, 0)

    def _ls(self, body: dict[str, Any], action: Action) -> Any:
        cid = body["endpoint_id"]
        path = body.get("path", "/~/")
        target = self.local_path(cid, path)
        if not target.is_dir():
            raise ActionFailed("ClientError.NotFound", f"directory {path!r} does not exist on {cid}")
        entries = [_entry(p) for p in sorted(target.iterdir(), key=lambda p: p.name)]
        # Paged like Transfer's ls (offset/limit); has_next_page says whether more remain,
        # so flows that loop "while has_next_page" take their normal path.
        offset, limit = body.get("offset", 0), body.get("limit", 100_000)
        for name, value in (("offset", offset), ("limit", limit)):
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "offset" else 1):
                raise ActionFailed("ClientError.BadRequest", f"{name} must be an integer >= {0 if name == 'offset' else 1}")
        page = entries[offset:offset + limit]
        return {"DATA_TYPE": "file_list", "DATA": page, "endpoint": cid, "path": path,
                "absolute_path": None, "length": len(page), "total": len(entries),
                "offset": offset, "limit": limit, "has_next_page": offset + len(page) < len(entries),
                "rename_supported": True, "symlink_supported": False}

    def _stat(self, body: dict[str, Any], action: Action) -> Any:
        target = self.local_path(body["endpoint_id"], body["path"])
        if not target.exists():
            raise ActionFailed("ClientError.NotFound", f"{body['path']!r} does not exist on {body['endpoint_id']}")
        return _entry(target)

    def _mkdir(self, body: dict[str, Any], action: Action) -> Any:
        target = self.local_path(body["endpoint_id"], body["path"])
        if target.exists():
            raise ActionFailed("ExternalError.MkdirFailed.Exists", f"{body['path']!r} already exists")
        if not target.parent.is_dir():
            raise ActionFailed("ClientError.NotFound", f"the parent of {body['path']!r} does not exist")
        target.mkdir()
        return {"DATA_TYPE": "mkdir_result", "code": "DirectoryCreated",
                "message": "The directory was created successfully",
                "resource": f"/operation/endpoint/{body['endpoint_id']}/mkdir"}
