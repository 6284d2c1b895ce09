"""The token file: owner-only from creation, atomic, locked across processes, never
overwritten when corrupt, and the original client's file imported once."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fauxbus_helpers import SCOPE_A, SCOPE_B, StubBrowser, auth, browser, isolated_home, token_path  # noqa: F401

from automate_lite.extras import LoginManager, LoginRequired, StoredToken, TokenFile, TokenFileError, default_token_path
from automate_lite.extras.storage import LEGACY_CLIENT_ID, environment_name
from automate_lite.testing.auth import AuthStub

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def token(scope: str = SCOPE_A, access: str = "AT-secret-1", refresh: str | None = "RT-secret-1", expires: int | None = None) -> StoredToken:
    return StoredToken(scope=scope, access_token=access, refresh_token=refresh,
                       expires_at_seconds=int(time.time()) + 3600 if expires is None else expires,
                       resource_server=scope.split("/")[4], granted_scopes=(scope,), client_id="client-1")


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_created_owner_only_with_no_wider_moment(token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[str, int, int, int]] = []
    replaced: list[tuple[str, str, int]] = []
    real_open, real_replace = os.open, os.replace

    def spy_open(path: str, flags: int, mode: int = 0o777, *args: object, **kw: object) -> int:
        fd = real_open(path, flags, mode, *args, **kw)  # type: ignore[arg-type]
        opened.append((os.fspath(path), flags, mode, stat.S_IMODE(os.fstat(fd).st_mode)))
        return fd

    def spy_replace(src: str, dst: str, *args: object, **kw: object) -> None:
        replaced.append((os.fspath(src), os.fspath(dst), stat.S_IMODE(os.stat(src).st_mode)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "replace", spy_replace)
    old_umask = os.umask(0)  # the most permissive umask: the modes must not rely on it
    try:
        TokenFile(token_path, legacy_path=False).store("production", [token()])
        TokenFile(token_path, legacy_path=False).store("production", [token(SCOPE_B)])
    finally:
        os.umask(old_umask)
    temps = [o for o in opened if o[0].endswith(".tmp")]
    assert len(temps) == 2
    for path, flags, requested, at_creation in temps:
        # Created exclusively, as 0600, in the token file's own folder.
        assert flags & os.O_CREAT and flags & os.O_EXCL
        assert requested == 0o600 and at_creation == 0o600
        assert os.path.dirname(path) == os.path.dirname(token_path)
    assert [(os.path.dirname(s), d, m) for s, d, m in replaced] == [(os.path.dirname(token_path), token_path, 0o600)] * 2
    assert mode(token_path) == 0o600
    assert mode(os.path.dirname(token_path)) == 0o700
    assert mode(token_path + ".lock") == 0o600
    assert sorted(os.listdir(os.path.dirname(token_path))) == ["tokens.json", "tokens.json.lock"]


def test_replacement_is_atomic(token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tf = TokenFile(token_path, legacy_path=False)
    tf.store("production", [token()])
    inode = os.stat(token_path).st_ino
    tf.store("production", [token(access="AT-secret-2")])
    assert os.stat(token_path).st_ino != inode  # a new file moved in, not rewritten in place
    # Readers racing a writer only ever see a whole file.
    stop = threading.Event()
    seen: list[str] = []
    problems: list[BaseException] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.append(TokenFile(token_path, legacy_path=False).entries("production")[SCOPE_A].access_token)
            except BaseException as e:  # pragma: no cover - the failure being tested for
                problems.append(e)
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(150):
        tf.store("production", [token(access=f"AT-secret-{i}")])
    stop.set()
    for t in threads:
        t.join()
    assert problems == [] and seen
    # A write that fails half way leaves the old file as it was, and no temporary file.
    before = Path(token_path).read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(TokenFileError, match="cannot be written .No space left on device.") as info:
        tf.store("production", [token(access="AT-never-written")])
    assert "AT-never" not in str(info.value)
    monkeypatch.undo()
    assert Path(token_path).read_bytes() == before
    assert sorted(os.listdir(os.path.dirname(token_path))) == ["tokens.json", "tokens.json.lock"]


_WORKER = r"""
import sys
from automate_lite.extras import LoginManager
path, url, scope = sys.argv[1:4]
m = LoginManager(token_file=path, auth_base_url=url, login="never", legacy_token_file=False)
print("ready", flush=True)
sys.stdin.readline()           # every process starts refreshing together
for _ in range(5):
    assert m.renew(scope)      # forced refresh, written back under the lock
print(m.access_token(scope), flush=True)
"""


def test_eight_processes_refreshing_at_once_lose_nothing(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    scopes = [f"https://auth.globus.org/scopes/{i:08x}-0000-4000-8000-000000000000/all" for i in range(1, 9)]
    m = LoginManager(token_file=token_path, auth_base_url=auth.url, login="browser", legacy_token_file=False)
    m.ensure(scopes)  # one login, eight resource servers, eight refresh tokens
    assert auth.state.authorize_count == 1
    before = {s: m.stored(s) for s in scopes}
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, token_path, auth.url, scope],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, text=True)
        for scope in scopes
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in results]
    assert auth.state.refresh_count == 40
    doc = json.loads(Path(token_path).read_text())  # still valid JSON
    entries = doc["environments"][auth.url]
    assert set(entries) == set(scopes)
    for scope, (out, _) in zip(scopes, results):
        latest = auth.state.latest_access_token(scope)
        # Every process's last refresh survived the others' writes.
        assert out.strip() == latest == entries[scope]["access_token"]
        assert entries[scope]["refresh_token"] == before[scope].refresh_token  # type: ignore[union-attr]
    assert mode(token_path) == 0o600
    assert sorted(os.listdir(os.path.dirname(token_path))) == ["tokens.json", "tokens.json.lock"]


CORRUPT = {
    "truncated JSON": b'{"format": "automate-lite-tokens", "version": 1, "environments": {"production": {"x": {"access_token": "AT-leak',
    "empty": b"",
    "not an object": b"[1, 2]",
    "another format": b'{"https://auth.globus.org/scopes/x/all": {"access_token": "AT-leak"}}',
    "newer version": b'{"format": "automate-lite-tokens", "version": 99, "environments": {}}',
    "entry without a token": b'{"format": "automate-lite-tokens", "version": 1, "environments": {"production": {"s": {"refresh_token": "RT-leak"}}}}',
    "not UTF-8": b'\xff\xfe{"format"',
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_file_is_a_clear_error_and_left_untouched(case: str, auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    os.makedirs(os.path.dirname(token_path))
    with open(token_path, "wb") as f:
        f.write(CORRUPT[case])
    before = os.stat(token_path)
    m = LoginManager(token_file=token_path, auth_base_url=auth.url, login="browser", legacy_token_file=False)
    for attempt in (lambda: m.ensure([SCOPE_A]), lambda: m.access_token(SCOPE_A),
                    lambda: m.tokens.store(m.environment, [token()]), lambda: m.logout()):
        with pytest.raises(TokenFileError) as info:
            attempt()
        message = str(info.value)
        assert token_path in message and "left untouched" in message and "mv " in message
        assert "leak" not in message
        assert info.value.path == token_path
    after = os.stat(token_path)
    assert Path(token_path).read_bytes() == CORRUPT[case]
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert auth.state.authorize_count == 0  # never logged in only to lose the tokens


def test_unreadable_file_is_a_clear_error(token_path: str) -> None:
    os.makedirs(token_path)  # a folder where the file should be: reading it fails even as root
    with pytest.raises(TokenFileError, match="cannot be read"):
        TokenFile(token_path, legacy_path=False).read()


def test_default_path_honours_xdg_and_the_environment_variable(isolated_home: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_token_path() == os.path.join(str(isolated_home), ".config", "automate-lite", "tokens.json")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert default_token_path() == os.path.join(str(isolated_home), ".config", "automate-lite", "tokens.json")
    assert default_token_path({"XDG_CONFIG_HOME": "/x/conf"}) == "/x/conf/automate-lite/tokens.json"
    assert default_token_path({"XDG_CONFIG_HOME": "relative"}).startswith(str(isolated_home))
    monkeypatch.setenv("AUTOMATE_LITE_TOKEN_FILE", "~/elsewhere/t.json")
    assert default_token_path() == os.path.join(str(isolated_home), "elsewhere", "t.json")
    assert TokenFile().path == os.path.join(str(isolated_home), "elsewhere", "t.json")
    assert environment_name({}) == "production" and environment_name({"GLOBUS_SDK_ENVIRONMENT": "Sandbox"}) == "sandbox"


def _legacy_doc(now: int) -> dict:
    return {
        SCOPE_A: {"access_token": "AT-legacy-a", "refresh_token": "RT-legacy-a", "expiration_time": now + 3600,
                  "dependent_scopes": []},
        SCOPE_B: {"access_token": "AT-legacy-b", "refresh_token": "RT-legacy-b", "expiration_time": now - 10,
                  "dependent_scopes": [f"{SCOPE_B}[urn:globus:auth:scope:transfer.api.globus.org:all]"]},
        "__sandbox": {SCOPE_A: {"access_token": "AT-legacy-sandbox", "refresh_token": None,
                                "expiration_time": now + 3600, "dependent_scopes": []}},
    }


def test_legacy_file_is_imported_once_and_never_modified(isolated_home: str, auth: AuthStub, monkeypatch: pytest.MonkeyPatch) -> None:
    now = int(time.time())
    legacy = os.path.join(str(isolated_home), ".globus_automate_tokens.json")
    with open(legacy, "w") as f:
        json.dump(_legacy_doc(now), f)
    before = os.stat(legacy)
    legacy_bytes = Path(legacy).read_bytes()
    # The old client's refresh token was issued to its own client id.
    auth.state.add_refresh_token("RT-legacy-b", [SCOPE_B], client_id=LEGACY_CLIENT_ID)
    m = LoginManager(auth_base_url=auth.url, environment="production", login="never")  # default paths
    assert m.tokens.path == os.path.join(str(isolated_home), ".config", "automate-lite", "tokens.json")
    # Existing users need not log in: a valid token is used as it is...
    assert m.access_token(SCOPE_A) == "AT-legacy-a"
    # ...an expired one is refreshed with the old client id, and written to the new file only.
    fresh = m.access_token(SCOPE_B)
    assert fresh == auth.state.latest_access_token(SCOPE_B) and auth.state.refresh_count == 1
    assert m.stored(f"{SCOPE_B}[urn:globus:auth:scope:transfer.api.globus.org:all]") is not None
    doc = json.loads(Path(m.tokens.path).read_text())
    assert doc["imported_legacy_files"] == [legacy]
    assert doc["environments"]["production"][SCOPE_B]["access_token"] == fresh
    assert doc["environments"]["sandbox"][SCOPE_A]["access_token"] == "AT-legacy-sandbox"
    monkeypatch.setenv("GLOBUS_SDK_ENVIRONMENT", "sandbox")
    assert LoginManager(login="never").stored(SCOPE_A).access_token == "AT-legacy-sandbox"  # type: ignore[union-attr]
    monkeypatch.delenv("GLOBUS_SDK_ENVIRONMENT")
    after = os.stat(legacy)
    assert Path(legacy).read_bytes() == legacy_bytes and after.st_mtime_ns == before.st_mtime_ns
    # Imported once: after a logout the old tokens do not come back.
    m.logout([SCOPE_A])
    again = LoginManager(auth_base_url=auth.url, environment="production", login="never")
    assert again.stored(SCOPE_A) is None
    with pytest.raises(LoginRequired):
        again.access_token(SCOPE_A)
    assert Path(legacy).read_bytes() == legacy_bytes


def test_unreadable_legacy_file_is_skipped(isolated_home: str) -> None:
    legacy = os.path.join(str(isolated_home), ".globus_automate_tokens.json")
    with open(legacy, "w") as f:
        f.write("{broken")
    m = LoginManager(login="never", environment="production")
    assert m.stored(SCOPE_A) is None
    assert Path(legacy).read_text() == "{broken"
    assert not os.path.exists(m.tokens.path)


def test_reprs_never_show_tokens(token_path: str) -> None:
    tok = token()
    tf = TokenFile(token_path, legacy_path=False)
    tf.store("production", [tok])
    shown = repr(tok) + str(tok) + repr(tf) + repr(tf.read())
    assert "AT-secret-1" not in shown and "RT-secret-1" not in shown


def test_globus_sdk_token_storage_interface(token_path: str) -> None:
    """globus-sdk's TokenStorage over the same file, readable by LoginManager."""
    try:
        from globus_sdk.token_storage import TokenStorage, TokenStorageData
    except ImportError:  # globus-sdk 3.x
        from globus_sdk.tokenstorage import TokenStorage, TokenStorageData  # type: ignore[no-redef]

    from automate_lite.extras import GlobusSDKTokenStorage

    storage = GlobusSDKTokenStorage(token_path, client_id="client-1")
    assert isinstance(storage, TokenStorage)
    expires = int(time.time()) + 3600
    flows = "https://auth.globus.org/scopes/eec9b274-0c81-4334-bdc2-54e90e689b9a/"
    storage.store_token_data_by_resource_server({
        "flows.globus.org": TokenStorageData("flows.globus.org", "id-1", f"{flows}run {flows}run_status",
                                             "AT-sdk", "RT-sdk", expires, "Bearer"),
    })
    got = storage.get_token_data("flows.globus.org")
    assert got is not None and got.access_token == "AT-sdk" and got.scope == f"{flows}run {flows}run_status"
    assert got.identity_id == "id-1" and got.expires_at_seconds == expires
    m = LoginManager(token_file=token_path, login="never", legacy_token_file=False, environment="production")
    assert m.access_token(f"{flows}run_status") == "AT-sdk"
    assert m.stored(f"{flows}run").client_id == "client-1"  # type: ignore[union-attr]
    assert storage.remove_token_data("flows.globus.org") is True
    assert storage.get_token_data_by_resource_server() == {}
    assert mode(token_path) == 0o600


def test_the_extras_package_imports_each_name_on_first_use() -> None:
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = (
        "import sys\nimport automate_lite.extras as e\n"
        "def loaded():\n    return sorted(m for m in sys.modules if m.startswith(('automate_lite.extras', 'globus_sdk')))\n"
        "assert loaded() == ['automate_lite.extras'], loaded()\n"
        "path = e.default_token_path()\n"
        "assert loaded() == ['automate_lite.extras', 'automate_lite.extras._paths'], loaded()\n"
        "from automate_lite.extras.storage import default_token_path\n"
        "assert default_token_path is e.default_token_path  # one copy of the rule\n"
        "assert 'LoginManager' in dir(e)\n"
        "from automate_lite.extras import LoginManager, TokenFile\n"
        "assert 'globus_sdk' not in sys.modules and 'automate_lite.extras.login_flows' not in sys.modules\n"
        "try:\n    e.nothing_here\nexcept AttributeError as err:\n    assert 'nothing_here' in str(err)\n"
        "else:\n    raise SystemExit('no AttributeError')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=repo,
                          env=dict(os.environ, PYTHONPATH=repo), timeout=60)
    assert done.returncode == 0, done.stderr
