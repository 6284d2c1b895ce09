"""Token files that cannot be trusted, written or parsed: each a clear TokenFileError.

A token file is refused when it (or its lock) is a symbolic link, or it or its folder
belongs to another user or is writable by others; every write failure is a
TokenFileError; temporary files never outlive an update (so not a logout); a damaged
file is a TokenFileError and a damaged legacy file never breaks the current one. The
suite runs as root, so "another user" is uid 12345 made with chown.
"""

from __future__ import annotations

import json
import os
import time
import types
from pathlib import Path
from typing import Any, Callable

import pytest
from fauxbus_helpers import SCOPE_A, StubBrowser, auth, browser, isolated_home, token_path  # noqa: F401

from automate_lite.extras import LoginManager, StoredToken, TokenFile, TokenFileError
from automate_lite.testing.auth import AuthStub

OTHER_UID = 12345
needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root")


def token(access: str = "AT-secret-1") -> StoredToken:
    return StoredToken(scope=SCOPE_A, access_token=access, refresh_token="RT-secret-1",
                       expires_at_seconds=int(time.time()) + 3600, client_id="client-1")


def good_file(path: str, access: str = "AT-stored") -> bytes:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    TokenFile(path, legacy_path=False).store("production", [token(access)])
    return Path(path).read_bytes()


def refuses(path: str, *needles: str) -> TokenFileError:
    """Reading and writing ``path`` both raise a TokenFileError naming ``needles``."""
    errors = []
    for attempt in (lambda: TokenFile(path, legacy_path=False).read(),
                    lambda: TokenFile(path, legacy_path=False).store("production", [token("AT-never-written")])):
        with pytest.raises(TokenFileError) as info:
            attempt()
        for needle in needles:
            assert needle in str(info.value)
        assert "AT-" not in str(info.value) and "RT-" not in str(info.value)
        errors.append(info.value)
    return errors[0]


# -- links -------------------------------------------------------------------------------------


def test_a_symlinked_token_file_is_refused_not_followed(token_path: str, tmp_path: Path) -> None:
    target = str(tmp_path / "elsewhere" / "real.json")
    original = good_file(target)
    os.makedirs(os.path.dirname(token_path), mode=0o700)
    os.symlink(target, token_path)
    err = refuses(token_path, "symbolic link", token_path)
    assert err.path == token_path
    assert Path(target).read_bytes() == original and os.path.islink(token_path)


def test_a_dangling_symlink_is_refused_too(token_path: str, tmp_path: Path) -> None:
    os.makedirs(os.path.dirname(token_path), mode=0o700)
    target = tmp_path / "would-be-created.json"
    os.symlink(str(target), token_path)
    refuses(token_path, "symbolic link")
    assert not target.exists()


def test_a_symlinked_lock_is_refused_not_followed(token_path: str, tmp_path: Path) -> None:
    good_file(token_path)
    victim = tmp_path / "victim"
    os.unlink(token_path + ".lock")
    os.symlink(str(victim), token_path + ".lock")
    with pytest.raises(TokenFileError, match="lock file.*symbolic link"):
        TokenFile(token_path, legacy_path=False).store("production", [token("AT-2")])
    assert not victim.exists()
    assert TokenFile(token_path, legacy_path=False).entries("production")[SCOPE_A].access_token == "AT-stored"


# -- owners and modes -------------------------------------------------------------------------


@needs_root
def test_a_file_owned_by_another_user_is_refused(token_path: str) -> None:
    original = good_file(token_path)
    os.chown(token_path, OTHER_UID, -1)
    err = refuses(token_path, "owned by another user", f"uid {OTHER_UID}", "chown")
    assert err.path == token_path
    assert Path(token_path).read_bytes() == original


@pytest.mark.parametrize("bits", [0o666, 0o620, 0o602])
def test_a_file_writable_by_others_is_refused(token_path: str, bits: int) -> None:
    original = good_file(token_path)
    os.chmod(token_path, bits)
    refuses(token_path, "writable by other users", f"{bits:04o}", f"chmod 600 '{token_path}'")
    assert Path(token_path).read_bytes() == original
    os.chmod(token_path, 0o600)  # the fix the message names works
    assert TokenFile(token_path, legacy_path=False).entries("production")[SCOPE_A].access_token == "AT-stored"


def test_a_mode_change_after_a_cached_read_is_noticed(token_path: str) -> None:
    good_file(token_path)
    tf = TokenFile(token_path, legacy_path=False)
    assert tf.entries("production")
    os.chmod(token_path, 0o666)
    with pytest.raises(TokenFileError, match="writable by other users"):
        tf.entries("production")


def test_a_folder_writable_by_others_is_refused(token_path: str) -> None:
    good_file(token_path)
    folder = os.path.dirname(token_path)
    os.chmod(folder, 0o777)
    refuses(token_path, "folder", "writable by other users", f"chmod 700 '{folder}'")
    os.chmod(folder, 0o1777)  # sticky, as /tmp: others may add files but not replace ours
    assert TokenFile(token_path, legacy_path=False).entries("production")


@needs_root
def test_a_folder_owned_by_another_user_is_refused(token_path: str) -> None:
    good_file(token_path)
    os.chown(os.path.dirname(token_path), OTHER_UID, -1)
    refuses(token_path, "folder", "owned by another user")


@needs_root
def test_a_lock_owned_by_another_user_is_refused(token_path: str) -> None:
    good_file(token_path)
    os.chown(token_path + ".lock", OTHER_UID, -1)
    with pytest.raises(TokenFileError, match="lock file.*owned by another user"):
        TokenFile(token_path, legacy_path=False).store("production", [token("AT-2")])


# -- write failures and temporary files -------------------------------------------------------


def test_a_folder_that_is_a_file_is_a_token_file_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(TokenFileError, match="cannot be written"):
        TokenFile(str(blocker / "tokens.json"), legacy_path=False).store("production", [token()])


@pytest.mark.parametrize("step", ["write", "fsync", "replace"])
def test_every_write_failure_is_a_token_file_error_and_leaves_no_temporary_file(
        token_path: str, step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    original = good_file(token_path)

    def fail(*args: Any, **kw: Any) -> Any:
        raise OSError(28 if step != "replace" else 13, "injected failure")

    monkeypatch.setattr(os, step, fail)
    with pytest.raises(TokenFileError, match="cannot be written .injected failure.") as info:
        TokenFile(token_path, legacy_path=False).store("production", [token("AT-never-written")])
    monkeypatch.undo()
    assert "AT-never" not in str(info.value)
    assert Path(token_path).read_bytes() == original
    assert sorted(os.listdir(os.path.dirname(token_path))) == ["tokens.json", "tokens.json.lock"]


def test_temporary_files_left_by_a_dead_writer_do_not_outlive_logout(
        auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    m = LoginManager(token_file=token_path, auth_base_url=auth.url, login="browser", legacy_token_file=False)
    m.ensure([SCOPE_A])
    folder = os.path.dirname(token_path)
    # What a writer killed between creating and renaming its temporary file leaves.
    stale = os.path.join(folder, ".tokens.json.99999.0123456789ab.tmp")
    with open(os.open(stale, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(Path(token_path).read_text())
    unrelated = os.path.join(folder, "notes.tmp")
    Path(unrelated).write_text("mine")
    assert m.logout() == [SCOPE_A]
    assert sorted(os.listdir(folder)) == ["notes.tmp", "tokens.json", "tokens.json.lock"]
    assert m.logout() == []  # and a logout with nothing to remove sweeps too
    assert not os.path.exists(stale)


# -- damaged files ------------------------------------------------------------------------------


def _doc(**entry: Any) -> bytes:
    base = {"access_token": "AT-damaged-secret", "refresh_token": "RT-damaged-secret"}
    base.update(entry)
    return json.dumps({"format": "automate-lite-tokens", "version": 1,
                       "environments": {"production": {SCOPE_A: base}}}).encode()


DAMAGED: dict[str, bytes] = {
    "deep nesting": b"[" * 200_000 + b"]" * 200_000,
    "deep nesting inside": _doc()[:-1] + b', "extra": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
    "expiry 1e400": _doc().replace(b'"refresh_token"', b'"expires_at_seconds": 1e400, "refresh_token"'),
    "expiry -1e400": _doc().replace(b'"refresh_token"', b'"expires_at_seconds": -1e400, "refresh_token"'),
    "expiry NaN": _doc().replace(b'"refresh_token"', b'"expires_at_seconds": NaN, "refresh_token"'),
    "expiry 10**400": _doc(expires_at_seconds=10 ** 400),
    "a 5000-digit number": _doc()[:-1] + b', "n": ' + b"7" * 5000 + b"}",
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_file_is_a_token_file_error(token_path: str, case: str) -> None:
    os.makedirs(os.path.dirname(token_path), mode=0o700)
    Path(token_path).write_bytes(DAMAGED[case])
    os.chmod(token_path, 0o600)
    err = refuses(token_path, token_path, "mv ")
    assert "damaged-secret" not in str(err)
    assert Path(token_path).read_bytes() == DAMAGED[case]


@pytest.mark.parametrize("case", ["deep nesting", "expiry 1e400", "nested 1e400", "expiry NaN", "not JSON", "a list"])
def test_a_damaged_legacy_file_does_not_break_the_current_one(token_path: str, tmp_path: Path, case: str) -> None:
    good_file(token_path)
    legacy = tmp_path / "legacy.json"
    legacy.write_bytes({
        "deep nesting": b"{\"a\": " * 200_000 + b"1" + b"}" * 200_000,
        "expiry 1e400": json.dumps({SCOPE_A: {"access_token": "AT-legacy", "expiration_time": 1}}).replace("1}", "1e400}").encode(),
        "nested 1e400": b'{"__sandbox": {"s": {"access_token": "AT-legacy", "expiration_time": 1e400}}}',
        "expiry NaN": b'{"s": {"access_token": "AT-legacy", "expiration_time": NaN}}',
        "not JSON": b"\xff\xfe{",
        "a list": b"[1, 2]",
    }[case])
    tf = TokenFile(token_path, legacy_path=str(legacy))
    assert tf.entries("production")[SCOPE_A].access_token == "AT-stored"
    tf.store("production", [token("AT-new")])
    assert TokenFile(token_path, legacy_path=str(legacy)).entries("production")[SCOPE_A].access_token == "AT-new"


# -- tracebacks that show local variables ------------------------------------------------------


def _every_local_repr(error: BaseException) -> str:
    """The repr of every local of every frame a traceback printer would show (the
    error's chain included), as Sentry or ``pytest --showlocals`` prints them."""
    seen: list[str] = []
    todo: list[BaseException | None] = [error]
    while todo:
        e = todo.pop()
        if e is None:
            continue
        tb: types.TracebackType | None = e.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename != __file__:
                seen.extend(f"{k}={v!r}" for k, v in tb.tb_frame.f_locals.items())
            tb = tb.tb_next
        todo += [e.__cause__, e.__context__]
    return "\n".join(seen)


@pytest.mark.parametrize("case", ["expiry 1e400", "deep nesting inside", "a 5000-digit number"])
def test_a_damaged_file_never_shows_in_traceback_locals(token_path: str, case: str) -> None:
    os.makedirs(os.path.dirname(token_path), mode=0o700)
    Path(token_path).write_bytes(DAMAGED[case])
    os.chmod(token_path, 0o600)
    for attempt in (lambda: TokenFile(token_path, legacy_path=False).read(),
                    lambda: TokenFile(token_path, legacy_path=False).store("production", [token("AT-new-secret")])):
        with pytest.raises(TokenFileError) as info:
            attempt()
        shown = _every_local_repr(info.value)
        assert "hidden" in shown or "raw" not in shown
        assert "damaged-secret" not in shown and "AT-new-secret" not in shown


def test_a_failed_write_never_shows_tokens_in_traceback_locals(token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    good_file(token_path, access="AT-old-secret")
    fail: Callable[[int], None] = lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device"))
    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(TokenFileError) as info:
        TokenFile(token_path, legacy_path=False).store("production", [token("AT-new-secret")])
    monkeypatch.undo()
    shown = _every_local_repr(info.value)
    assert "_update" in shown or "before=" in shown
    assert "AT-old-secret" not in shown and "AT-new-secret" not in shown and "RT-secret" not in shown


def _frame_names(error: BaseException) -> list[str]:
    names = []
    tb = error.__traceback__
    while tb is not None:
        names.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    return names


def _failing_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)


def test_a_login_whose_tokens_cannot_be_written_shows_no_token_in_traceback_locals(
        auth: AuthStub, browser: StubBrowser, token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    m = LoginManager(token_file=token_path, auth_base_url=auth.url, login="browser", legacy_token_file=False)
    _failing_fsync(monkeypatch)
    with pytest.raises(TokenFileError, match="cannot be written") as info:
        m.ensure([SCOPE_A])
    monkeypatch.undo()
    shown = _every_local_repr(info.value)
    assert "store_login" in _frame_names(info.value) and "by_rs=<secret, hidden>" in shown
    issued = auth.state.latest_access_token(SCOPE_A)
    assert issued and issued not in shown


def test_a_refresh_that_cannot_be_written_shows_no_token_in_traceback_locals(
        auth: AuthStub, token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    auth.state.add_refresh_token("RT-refresh-secret", [SCOPE_A], client_id="client-1")
    os.makedirs(os.path.dirname(token_path), mode=0o700)
    TokenFile(token_path, legacy_path=False).store(auth.url, [StoredToken(
        scope=SCOPE_A, access_token="AT-expired-secret", refresh_token="RT-refresh-secret",
        expires_at_seconds=int(time.time()) - 10, client_id="client-1")])
    m = LoginManager("client-1", token_file=token_path, auth_base_url=auth.url, login="never", legacy_token_file=False)
    _failing_fsync(monkeypatch)
    with pytest.raises(TokenFileError, match="cannot be written") as info:
        m.access_token(SCOPE_A)
    monkeypatch.undo()
    shown = _every_local_repr(info.value)
    assert "store_refresh" in _frame_names(info.value)
    fresh = auth.state.latest_access_token(SCOPE_A)
    for secret in ("RT-refresh-secret", "AT-expired-secret", fresh):
        assert secret and secret not in shown
