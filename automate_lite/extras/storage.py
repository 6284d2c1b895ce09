"""Globus tokens on disk: one JSON file per user, shared safely by many processes.

Where
    ``token_file=`` if given, else ``$AUTOMATE_LITE_TOKEN_FILE``, else
    ``$XDG_CONFIG_HOME/automate-lite/tokens.json`` (``~/.config/...`` when unset;
    ``%APPDATA%\\automate-lite\\tokens.json`` on Windows). A folder the library creates
    for it is made ``0700``.

What (format version 1)::

    {
      "format": "automate-lite-tokens",
      "version": 1,
      "environments": {
        "production": {                       # GLOBUS_SDK_ENVIRONMENT, or an Auth URL
          "<scope without [dependent scopes]>": {
            "access_token": "...", "refresh_token": "..." | null,
            "expires_at_seconds": 1767225600 | null,
            "resource_server": "..." | null,
            "scopes": ["every scope the access token carries"],
            "dependent_scopes": ["<scope>[<dependent scope> ...]", ...],
            "token_type": "Bearer", "client_id": "<the client that obtained it>",
            "identity_id": "<uuid>" | null
          }
        }
      },
      "imported_legacy_files": ["/home/me/.globus_automate_tokens.json"]
    }

    Keys are scopes, as in the original ``globus-automate-client`` file, so a token
    for ``A`` and for ``A[B]`` share the key ``A`` and ``dependent_scopes`` says which
    dependent-scope strings were consented (a request for ``A[C]`` needs a new login).
    Several scopes granted in one token (the four Flows service scopes) each get an
    entry holding the same token; refreshing one updates all of them.

How
    * Created owner-only: a temporary file in the same folder is opened with
      ``O_CREAT | O_EXCL`` and mode ``0600`` (then ``fchmod 0600``, whatever the
      umask), written, fsynced and moved over the file with ``os.replace``. The file
      never exists with wider permissions and never half-written.
    * Every change is read-modify-write under an exclusive advisory lock
      (``fcntl.flock`` on ``<file>.lock``, which is never deleted), so processes that
      refresh at once never drop one another's tokens. On Windows the lock is
      ``msvcrt.locking`` on the first byte of the lock file (not exercised by the test
      suite); Python has ``fcntl`` on every other platform it supports.
    * A file that cannot be read or is not a token file raises :class:`TokenFileError`
      (naming the file and how to recover) and is never written over; so does a
      damaged one (nesting too deep, numbers too long, an expiry that is no time).
    * Never followed, never trusted blindly: a token file or lock that is a symbolic
      link, and a file, lock or folder owned by another user or writable by group or
      others (a sticky folder such as ``/tmp`` excepted), is refused with a
      :class:`TokenFileError` saying what to change (``chmod``/``chown``). The folder's
      own path may go through links (a linked ``~/.config``). Ownership is not checked
      on Windows.
    * Every failure to write is a :class:`TokenFileError`, the old file left whole.
      Temporary files exist only while the lock is held, so any found under the lock
      was left by a writer that died: every update (a logout included) deletes them.
    * The original client's ``~/.globus_automate_tokens.json`` is read once, on first
      use: its tokens are copied in (never over newer ones) and its path recorded in
      ``imported_legacy_files``; the old file is never modified. A damaged legacy file
      is skipped with a warning and never breaks the current file.
    * Tokens never appear in ``repr``, logs or error messages, nor in the local
      variables a traceback printer shows (the file's bytes are held in an object
      whose ``repr`` hides them).

The format, the locking and the trust checks are one contract, kept in one module
(hence its length) so that no path reads or writes the file without all three.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import secrets
import stat
import sys
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, TypeVar

from ._paths import _PRODUCTION, base_scope, default_token_path, environment_name, legacy_token_path
from .errors import TokenFileError

__all__ = [
    "FORMAT",
    "VERSION",
    "LEGACY_CLIENT_ID",
    "StoredToken",
    "TokenFile",
    "base_scope",
    "default_token_path",
    "environment_name",
    "legacy_token_path",
]

log = logging.getLogger("automate_lite.extras")

FORMAT = "automate-lite-tokens"
VERSION = 1
#: The native-app client id globus-automate-client logged in with; its refresh tokens
#: can only be refreshed with this id, so imported tokens remember it.
LEGACY_CLIENT_ID = "e6c75d97-532a-4c88-b031-8584a319fa3e"
#: A token this close to its expiry (seconds) counts as expired.
EXPIRY_MARGIN = 60.0

T = TypeVar("T")


#: The latest expiry time accepted (about the year 33658): past it, a number is damage.
_MAX_TIME = 1e12


def _sane_time(value: float) -> bool:
    if isinstance(value, int):  # compared as an int: a huge one cannot become a float
        return 0 <= value <= int(_MAX_TIME)
    return math.isfinite(value) and 0 <= value <= _MAX_TIME


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings")
    return tuple(value)


@dataclass(frozen=True)
class StoredToken:
    """One stored token set. ``repr`` never shows the tokens."""

    scope: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at_seconds: int | None = None
    resource_server: str | None = None
    granted_scopes: tuple[str, ...] = ()
    dependent_scopes: tuple[str, ...] = ()
    token_type: str = "Bearer"
    client_id: str | None = None
    identity_id: str | None = None

    def covers(self, scope: str) -> bool:
        """True when this token serves ``scope`` (dependent scopes included)."""
        if base_scope(scope) != self.scope:
            return False
        return "[" not in scope or scope.strip() in self.dependent_scopes

    def expired(self, now: float | None = None, margin: float = EXPIRY_MARGIN) -> bool:
        """True when the access token is (about to be) expired; unknown expiry is not."""
        if self.expires_at_seconds is None:
            return False
        return (time.time() if now is None else now) >= self.expires_at_seconds - margin

    def usable(self, scope: str) -> bool:
        """Serves ``scope`` now, or after a refresh."""
        return self.covers(scope) and (self.refresh_token is not None or not self.expired())

    def to_json(self) -> dict[str, Any]:
        """The file's entry for this token."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at_seconds": self.expires_at_seconds,
            "resource_server": self.resource_server,
            "scopes": list(self.granted_scopes),
            "dependent_scopes": list(self.dependent_scopes),
            "token_type": self.token_type,
            "client_id": self.client_id,
            "identity_id": self.identity_id,
        }

    @classmethod
    def from_json(cls, scope: str, doc: Any) -> "StoredToken":
        """Parse a file entry; ``ValueError`` (never quoting a token) if malformed."""
        if not isinstance(doc, dict):
            raise ValueError("is not an object")
        access = doc.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError("has no access_token string")
        refresh = doc.get("refresh_token")
        if refresh is not None and not isinstance(refresh, str):
            raise ValueError("has a refresh_token that is not a string")
        expires = doc.get("expires_at_seconds")
        if isinstance(expires, bool) or (expires is not None and not isinstance(expires, (int, float))):
            raise ValueError("has an expires_at_seconds that is not a number")
        if expires is not None and not _sane_time(expires):
            raise ValueError(f"has an expires_at_seconds out of range (not a time between 0 and {_MAX_TIME:.0e})")
        for key in ("resource_server", "token_type", "client_id", "identity_id"):
            if doc.get(key) is not None and not isinstance(doc.get(key), str):
                raise ValueError(f"has a {key} that is not a string")
        return cls(
            scope=scope,
            access_token=access,
            refresh_token=refresh or None,
            expires_at_seconds=None if expires is None else int(expires),
            resource_server=doc.get("resource_server"),
            granted_scopes=_str_list(doc.get("scopes"), "scopes"),
            dependent_scopes=_str_list(doc.get("dependent_scopes"), "dependent_scopes"),
            token_type=doc.get("token_type") or "Bearer",
            client_id=doc.get("client_id"),
            identity_id=doc.get("identity_id"),
        )


@dataclass
class Contents:
    """The parsed file: ``environments[env][scope] -> StoredToken``."""

    environments: dict[str, dict[str, StoredToken]] = field(default_factory=dict)
    imported_legacy_files: list[str] = field(default_factory=list)
    #: Top-level keys this version does not know, kept as they were (never shown).
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def environment(self, name: str) -> dict[str, StoredToken]:
        """The (mutable) entries of one environment, created if absent."""
        return self.environments.setdefault(name, {})

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = dict(self.extra)
        doc.update(
            format=FORMAT,
            version=VERSION,
            environments={
                env: {scope: tok.to_json() for scope, tok in sorted(entries.items())}
                for env, entries in sorted(self.environments.items())
                if entries
            },
            imported_legacy_files=list(self.imported_legacy_files),
        )
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def parse(cls, data: bytes) -> "Contents":
        """Parse the file's bytes; ``ValueError`` with a reason (never quoting a token)."""
        if not data.strip():
            raise ValueError("is empty")
        try:
            doc = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise ValueError("is not UTF-8 text") from None
        except json.JSONDecodeError as e:  # the message gives a position, not content
            raise ValueError(f"is not valid JSON (line {e.lineno}, column {e.colno})") from None
        except (ValueError, RecursionError):  # too many digits, too deeply nested
            raise ValueError("is not a token file (nested too deeply, or a number too long)") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"is not an automate-lite token file (no \"format\": \"{FORMAT}\")")
        version = doc.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("has no integer \"version\"")
        if version > VERSION:
            raise ValueError(
                f"was written by a newer automate-lite (format version {version}; this one reads {VERSION}); "
                "upgrade automate-lite"
            )
        envs = doc.get("environments", {})
        if not isinstance(envs, dict):
            raise ValueError("has \"environments\" that is not an object")
        out = cls()
        for env, entries in envs.items():
            if not isinstance(entries, dict):
                raise ValueError(f"has environment {env!r} that is not an object")
            parsed: dict[str, StoredToken] = {}
            for scope, entry in entries.items():
                try:
                    parsed[scope] = StoredToken.from_json(scope, entry)
                except ValueError as e:
                    raise ValueError(f"has an entry for {scope!r} in {env!r} that {e}") from None
            out.environments[env] = parsed
        imported = doc.get("imported_legacy_files", [])
        out.imported_legacy_files = list(_str_list(imported, "imported_legacy_files"))
        out.extra = {
            k: v for k, v in doc.items()
            if k not in ("format", "version", "environments", "imported_legacy_files")
        }
        return out


# -- locking -----------------------------------------------------------------------------

if sys.platform == "win32":  # pragma: no cover - not exercised by the test suite
    import msvcrt

    def _lock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:  # LK_LOCK itself retries for about ten seconds, then raises
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue

    def _unlock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


_PROCESS_LOCKS: dict[str, threading.RLock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()
_HELD = threading.local()


def _process_lock(path: str) -> threading.RLock:
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(path, threading.RLock())


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
#: Ownership and permission checks need POSIX owners; Windows guards the profile folder.
_POSIX = hasattr(os, "geteuid")


class _Hidden:
    """Bytes from or for the token file; ``repr`` never shows them, so a traceback that
    prints local variables (Sentry, rich, ``pytest --showlocals``) shows no token."""

    __slots__ = ("value",)

    def __init__(self, value: bytes) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<{len(self.value)} bytes of token file, hidden>"


def _trust_problem(st: os.stat_result, what: str) -> tuple[str, str] | None:
    """Why a file or folder holding tokens cannot be trusted (and the fix), or None."""
    if not _POSIX:  # pragma: no cover
        return None
    me = os.geteuid()
    if st.st_uid not in (me, 0) or (st.st_uid == 0 and me != 0 and not stat.S_ISDIR(st.st_mode)):
        return (
            f"is owned by another user (uid {st.st_uid}, not {me})",
            f"Another user could read or replace your tokens. If it is yours, take it back "
            f"(chown {me} '{what}'); otherwise move it aside and log in again.",
        )
    mode = stat.S_IMODE(st.st_mode)
    # A sticky shared folder (/tmp) lets others add files, never replace ours.
    if mode & 0o022 and not (stat.S_ISDIR(st.st_mode) and mode & stat.S_ISVTX):
        fix = "chmod 700" if stat.S_ISDIR(st.st_mode) else "chmod 600"
        return (
            f"is writable by other users (mode {mode:04o})",
            f"Another user could replace your tokens. Narrow it ({fix} '{what}') and try again.",
        )
    return None


def _fsync_dir(directory: str) -> None:
    if sys.platform == "win32":  # pragma: no cover
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


#: (device, inode, size, mtime, mode, owner): a change of any re-reads and re-checks.
_Signature = tuple[int, int, int, int, int, int]
_EMPTY = Contents().to_bytes()


def _signature(st: os.stat_result) -> _Signature:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode, st.st_uid)


def _why(e: OSError) -> str:
    return e.strerror or type(e).__name__


class TokenFile:
    """The token file at ``path`` (see the module docstring for format and guarantees).

    ``legacy_path``: the original client's file to import on first use (``True``: the
    default ``~/.globus_automate_tokens.json``; ``None``/``False``: none).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, legacy_path: str | os.PathLike[str] | bool | None = True) -> None:
        chosen = os.path.abspath(os.path.expanduser(os.fspath(path) if path is not None else default_token_path()))
        # The folder is resolved (a linked ~/.config is common); the file itself never
        # is: a token file that is a symbolic link is refused, not followed.
        self.path = os.path.join(os.path.realpath(os.path.dirname(chosen)), os.path.basename(chosen))
        self.lock_path = self.path + ".lock"
        self._tmp_prefix = f".{os.path.basename(self.path)}."
        if legacy_path is True:
            self.legacy_path: str | None = legacy_token_path()
        elif not legacy_path:
            self.legacy_path = None
        else:
            self.legacy_path = os.path.abspath(os.path.expanduser(os.fspath(legacy_path)))
        if self.legacy_path == self.path:
            self.legacy_path = None
        self._cache: tuple[_Signature, Contents] | None = None
        self._legacy_done = False
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenFile({self.path!r})"

    # -- trust -------------------------------------------------------------------------------

    def _check_dir(self) -> None:
        directory = os.path.dirname(self.path)
        try:
            st = os.stat(directory)
        except FileNotFoundError:
            return
        except OSError as e:
            raise TokenFileError(self.path, f"is in a folder that cannot be read ({_why(e)})", f"Check {directory}.") from None
        problem = _trust_problem(st, directory)
        if problem is not None:
            raise TokenFileError(self.path, f"is in a folder, {directory}, that {problem[0]}", problem[1])

    def _check_file(self, st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            raise TokenFileError(self.path, "cannot be read (it is not a regular file)")
        problem = _trust_problem(st, self.path)
        if problem is not None:
            raise TokenFileError(self.path, problem[0], problem[1])

    def _link_error(self, what: str) -> TokenFileError:
        return TokenFileError(
            self.path,
            f"{what} is a symbolic link, which automate-lite never follows",
            f"Put the real file there (or point token_file= at the real path); remove the link ('{self.path}').",
        )

    def _ensure_dir(self) -> None:
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            try:
                os.makedirs(directory, mode=0o700, exist_ok=True)
            except OSError as e:
                raise TokenFileError(
                    self.path, f"cannot be written: its folder cannot be created ({_why(e)})",
                    f"Check that {directory} can be created, or point token_file= elsewhere.",
                ) from None
            with suppress(OSError):  # the umask may have narrowed it further: fine
                os.chmod(directory, 0o700)
        self._check_dir()

    # -- reading ---------------------------------------------------------------------------

    def _read_fresh(self) -> tuple[_Signature | None, Contents, _Hidden]:
        self._check_dir()
        try:
            fd = os.open(self.path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _BINARY)
        except FileNotFoundError:
            return None, Contents(), _Hidden(b"")
        except OSError as e:
            if e.errno == errno.ELOOP or os.path.islink(self.path):
                raise self._link_error("itself") from None
            raise TokenFileError(self.path, f"cannot be read ({_why(e)})") from None
        raw = _Hidden(b"")
        failure: str | None = None
        try:
            st = os.fstat(fd)
            self._check_file(st)
            buf = bytearray()
            raw.value = buf  # type: ignore[assignment]  # read straight into the hidden holder
            while True:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                buf += chunk
                del chunk
            raw.value = bytes(buf)
            buf.clear()
            del buf
        except OSError as e:
            failure = f"cannot be read ({_why(e)})"
        finally:
            os.close(fd)
        if failure is None:
            # Parsed here, raised below outside the except block: the error keeps no
            # link to the parser's frames, whose locals hold the file's contents.
            try:
                contents = Contents.parse(raw.value)
            except ValueError as e:
                failure = str(e)
        if failure is not None:
            raw.value = b""
            raise TokenFileError(self.path, failure)
        return _signature(st), contents, raw

    def read(self) -> Contents:
        """The file's contents (a private copy is not made: do not modify it).

        Re-read only when the file changed on disk (by inode, size, mtime, mode and
        owner), so an authorizer can consult it on every request. The legacy file is
        imported here the first time.
        """
        if not self._legacy_done:
            self._import_legacy()
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            with self._guard:
                self._cache = None
            return Contents()
        except OSError as e:
            raise TokenFileError(self.path, f"cannot be read ({_why(e)})") from None
        sig = _signature(st)
        with self._guard:
            cached = self._cache
        if cached is not None and cached[0] == sig:
            self._check_dir()
            return cached[1]
        fresh_sig, contents, _ = self._read_fresh()
        if fresh_sig is not None:
            with self._guard:
                self._cache = (fresh_sig, contents)
        return contents

    def get(self, environment: str, scope: str) -> StoredToken | None:
        """The entry for ``scope``'s base scope in ``environment``, if any."""
        return self.read().environments.get(environment, {}).get(base_scope(scope))

    def entries(self, environment: str) -> dict[str, StoredToken]:
        """A copy of every entry of ``environment``."""
        return dict(self.read().environments.get(environment, {}))

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the exclusive lock (re-entrant within one thread)."""
        held: set[str] = getattr(_HELD, "paths", None) or set()
        _HELD.paths = held
        if self.lock_path in held:
            yield
            return
        with _process_lock(self.lock_path):
            self._ensure_dir()
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600)
            except OSError as e:
                if e.errno == errno.ELOOP or os.path.islink(self.lock_path):
                    raise self._link_error(f"has a lock file, {self.lock_path}, that") from None
                raise TokenFileError(
                    self.path, f"cannot be locked: its lock file {self.lock_path} cannot be opened ({_why(e)})",
                    f"Check the permissions of {os.path.dirname(self.path)}.",
                ) from None
            try:
                try:
                    st = os.fstat(fd)
                    problem = _trust_problem(st, self.lock_path)
                    if problem is not None:
                        raise TokenFileError(self.path, f"has a lock file, {self.lock_path}, that {problem[0]}", problem[1])
                    _lock_fd(fd)
                except OSError as e:
                    raise TokenFileError(self.path, f"cannot be locked ({_why(e)})", "Check the folder's file system.") from None
                held.add(self.lock_path)
                try:
                    yield
                finally:
                    held.discard(self.lock_path)
                    with suppress(OSError):
                        _unlock_fd(fd)
            finally:
                os.close(fd)

    def update(self, change: Callable[[Contents], T]) -> T:
        """Read the file afresh under the lock, apply ``change``, write it if it changed.

        ``change`` mutates the :class:`Contents` it gets and may return a value.
        """
        if not self._legacy_done:
            self._import_legacy()
        return self._update(change)

    def _update(self, change: Callable[[Contents], T]) -> T:
        with self.locked():
            # Every writer holds the lock while its temporary file exists, so one found
            # now was left by a writer that died: remove it, it holds tokens.
            self._sweep_temporary_files()
            sig, contents, before = self._read_fresh()
            result = change(contents)
            try:
                after = _Hidden(contents.to_bytes())
            except (ValueError, RecursionError):
                raise TokenFileError(self.path, "holds data that cannot be written back (nested too deeply)") from None
            # No file and nothing to put in one: do not create an empty file.
            if after.value != before.value and not (sig is None and after.value == _EMPTY):
                sig = self._write(after)
            if sig is not None:
                with self._guard:
                    self._cache = (sig, contents)
            return result

    def _sweep_temporary_files(self) -> None:
        directory = os.path.dirname(self.path)
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for name in names:
            if name.startswith(self._tmp_prefix) and name.endswith(".tmp"):
                with suppress(OSError):
                    os.unlink(os.path.join(directory, name))

    def _write(self, data: _Hidden) -> _Signature:
        directory = os.path.dirname(self.path)
        self._ensure_dir()
        tmp = os.path.join(directory, f"{self._tmp_prefix}{os.getpid()}.{secrets.token_hex(6)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
        try:
            # O_EXCL + 0600 at creation: the file never exists with wider permissions.
            fd = os.open(tmp, flags, 0o600)
        except OSError as e:
            raise self._write_error(e) from None
        try:
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)  # exactly 0600 whatever the umask
                view = memoryview(data.value)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
                st = os.fstat(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except BaseException as e:
            with suppress(OSError):
                os.unlink(tmp)
            if isinstance(e, OSError):
                raise self._write_error(e) from None
            raise
        _fsync_dir(directory)
        return _signature(st)

    def _write_error(self, e: OSError) -> TokenFileError:
        return TokenFileError(
            self.path, f"cannot be written ({_why(e)})",
            f"Check that {os.path.dirname(self.path)} is writable and its disk not full, then try again.",
        )

    def store(self, environment: str, tokens: Iterable[StoredToken]) -> None:
        """Put ``tokens`` in ``environment`` (each replaces the entry of its scope)."""
        items = list(tokens)

        def change(contents: Contents) -> None:
            entries = contents.environment(environment)
            for tok in items:
                entries[tok.scope] = tok

        self.update(change)

    def remove(self, environment: str, scopes: Iterable[str] | None = None) -> list[StoredToken]:
        """Remove the entries of ``scopes`` (all, when ``None``); return what was removed."""
        wanted = None if scopes is None else {base_scope(s) for s in scopes}

        def change(contents: Contents) -> list[StoredToken]:
            entries = contents.environments.get(environment, {})
            gone = [tok for scope, tok in entries.items() if wanted is None or scope in wanted]
            for tok in gone:
                del entries[tok.scope]
            return gone

        return self.update(change)

    # -- the original client's file ----------------------------------------------------------

    def _import_legacy(self) -> None:
        self._legacy_done = True
        legacy = self.legacy_path
        if legacy is None or not os.path.isfile(legacy):
            return
        try:
            _, contents, _ = self._read_fresh()
        except TokenFileError:
            return  # read() reports it
        if legacy in contents.imported_legacy_files:
            return
        found = _load_legacy(legacy)
        if found is None:
            return

        def change(contents: Contents) -> None:
            if legacy in contents.imported_legacy_files:
                return
            for env, tokens in found.items():
                entries = contents.environment(env)
                for tok in tokens:
                    entries.setdefault(tok.scope, tok)  # never over a newer token
            contents.imported_legacy_files.append(legacy)

        try:
            self._update(change)
        except TokenFileError as e:  # the current file's own reads report their errors
            log.warning("not importing tokens from %s: %s", legacy, e.problem)
            return
        log.info("imported %d token(s) from %s", sum(len(t) for t in found.values()), legacy)


def _load_legacy(path: str) -> dict[str, list[StoredToken]] | None:
    """The tokens of a legacy file, or None (logged) when it cannot be used.

    A damaged legacy file is skipped, never an error: the current file still works.
    """
    problem: str | None = None
    try:
        with open(path, "rb") as f:
            found = _parse_legacy(json.loads(f.read().decode("utf-8")))
    except (OSError, ValueError, RecursionError, OverflowError, TypeError) as e:
        problem = type(e).__name__
    if problem is not None:
        log.warning("not importing tokens from %s: it cannot be read as a token file (%s)", path, problem)
        return None
    return found


def _parse_legacy(doc: Any) -> dict[str, list[StoredToken]]:
    """``~/.globus_automate_tokens.json``: ``{scope: entry, "__<env>": {scope: entry}}``."""
    if not isinstance(doc, dict):
        raise ValueError("not an object")
    found: dict[str, list[StoredToken]] = {}

    def add(env: str, scope: str, entry: Any) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("access_token"), str) or not entry["access_token"]:
            return
        refresh = entry.get("refresh_token")
        expires = entry.get("expiration_time")
        deps = entry.get("dependent_scopes") or []
        full_scope = scope.strip()
        dependent = [d for d in deps if isinstance(d, str) and base_scope(d) == base_scope(full_scope)] if isinstance(deps, list) else []
        if "[" in full_scope:
            dependent.append(full_scope)
        found.setdefault(env, []).append(
            StoredToken(
                scope=base_scope(full_scope),
                access_token=entry["access_token"],
                refresh_token=refresh if isinstance(refresh, str) and refresh else None,
                expires_at_seconds=int(expires) if isinstance(expires, (int, float)) and not isinstance(expires, bool) and _sane_time(expires) else None,
                dependent_scopes=tuple(dict.fromkeys(dependent)),
                client_id=LEGACY_CLIENT_ID,
            )
        )

    for key, value in doc.items():
        if not isinstance(key, str):
            continue
        if key.startswith("__"):
            env = key[2:].strip().lower()
            env = "production" if env in _PRODUCTION else env
            if isinstance(value, dict):
                for scope, entry in value.items():
                    if isinstance(scope, str):
                        add(env, scope, entry)
        else:
            add("production", key, value)
    return found
