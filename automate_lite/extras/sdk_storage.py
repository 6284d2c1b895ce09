"""The token file as a globus-sdk ``TokenStorage`` (``globus_sdk.token_storage`` in 4.x,
``globus_sdk.tokenstorage`` in late 3.x).

Lets globus-sdk code (a ``GlobusApp``, ``ValidatingTokenStorage``...) share the file with
automate-lite::

    from globus_sdk import UserApp, GlobusAppConfig
    from automate_lite.extras import GlobusSDKTokenStorage

    app = UserApp("my app", client_id=CLIENT_ID,
                  config=GlobusAppConfig(token_storage=GlobusSDKTokenStorage()))

globus-sdk indexes tokens by namespace, then resource server; the file by environment,
then scope. The namespace ``"DEFAULT"`` is the current environment
(``GLOBUS_SDK_ENVIRONMENT``, production when unset); any other namespace names an
environment section of its own. A stored resource server's token gets one entry per
scope it carries, and reading groups the entries back by resource server. Importing this
module imports globus-sdk.
"""

from __future__ import annotations

import os
import typing as t

if t.TYPE_CHECKING:
    from globus_sdk.token_storage import TokenStorage, TokenStorageData
else:
    try:
        from globus_sdk.token_storage import TokenStorage, TokenStorageData
    except ImportError:  # globus-sdk 3.x (late): the same interface, older module name
        from globus_sdk.tokenstorage import TokenStorage, TokenStorageData

from .storage import Contents, StoredToken, TokenFile, environment_name

__all__ = ["GlobusSDKTokenStorage"]


class GlobusSDKTokenStorage(TokenStorage):
    """globus-sdk's ``TokenStorage`` interface over an automate-lite token file."""

    def __init__(
        self,
        token_file: str | os.PathLike[str] | TokenFile | None = None,
        *,
        namespace: str = "DEFAULT",
        client_id: str | None = None,
    ) -> None:
        super().__init__(namespace=namespace)
        self.file = token_file if isinstance(token_file, TokenFile) else TokenFile(token_file)
        self.environment = environment_name() if namespace == "DEFAULT" else namespace
        #: Recorded with the tokens so automate-lite refreshes them with the right client.
        self.client_id = client_id

    def __repr__(self) -> str:
        return f"GlobusSDKTokenStorage({self.file.path!r}, namespace={self.namespace!r})"

    def store_token_data_by_resource_server(self, token_data_by_resource_server: t.Mapping[str, TokenStorageData]) -> None:
        """Store each resource server's token under every scope it carries."""
        items = dict(token_data_by_resource_server)

        def change(contents: Contents) -> None:
            entries = contents.environment(self.environment)
            for rs, data in items.items():
                granted = tuple(data.scope.split())
                for scope in granted:
                    old = entries.get(scope)
                    keep = old is not None and old.resource_server in (None, rs)
                    entries[scope] = StoredToken(
                        scope=scope,
                        access_token=data.access_token,
                        refresh_token=data.refresh_token,
                        expires_at_seconds=data.expires_at_seconds,
                        resource_server=rs,
                        granted_scopes=granted,
                        dependent_scopes=old.dependent_scopes if keep and old is not None else (),
                        token_type=data.token_type or "Bearer",
                        client_id=self.client_id or (old.client_id if old is not None else None),
                        identity_id=data.identity_id,
                    )

        self.file.update(change)

    def get_token_data_by_resource_server(self) -> dict[str, TokenStorageData]:
        """Every stored token of the namespace, by resource server."""
        out: dict[str, TokenStorageData] = {}
        for scope, tok in sorted(self.file.entries(self.environment).items()):
            rs = tok.resource_server
            if not rs or rs in out:
                continue
            out[rs] = TokenStorageData(
                resource_server=rs,
                identity_id=tok.identity_id,
                scope=" ".join(tok.granted_scopes or (scope,)),
                access_token=tok.access_token,
                refresh_token=tok.refresh_token,
                expires_at_seconds=tok.expires_at_seconds or 0,
                token_type=tok.token_type,
            )
        return out

    def remove_token_data(self, resource_server: str) -> bool:
        """Remove every entry of ``resource_server``; True if there was one."""

        def change(contents: Contents) -> bool:
            entries = contents.environments.get(self.environment, {})
            gone = [s for s, tok in entries.items() if tok.resource_server == resource_server]
            for scope in gone:
                del entries[scope]
            return bool(gone)

        return self.file.update(change)
