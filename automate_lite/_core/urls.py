"""One reading of a URL, shared by the core's token guard and every built-in transport.

``urlsplit``, urllib3's ``parse_url``, WHATWG browsers and a hand-written split each
read an odd authority differently: ``https://127.0.0.1:x@example.org`` is user info for
some and a host for others, and ``http://example.org:80\\@127.0.0.1`` ends its host at
the backslash for a WHATWG parser and at the ``@`` for ``urlsplit``. When the TLS
policy, the plain-http token guard and the socket each picked a different host, a
token could go where no check looked. :func:`split_url` refuses every authority that
two parsers could read differently (user info, backslashes, percent escapes, numeric
host forms other than a plain dotted quad, stray characters), so that what is left has
one reading, and the same :class:`URLParts` decides the policy and the connection.
"""

from __future__ import annotations

import ipaddress
from typing import NamedTuple

from ..errors import UsageError

__all__ = ["URLParts", "split_url", "is_loopback_host", "redact_userinfo"]

_LOOPBACK_NAMES = frozenset({"localhost", "::1"})
# Characters a host name may hold (RFC 3986 unreserved, minus "~", which DNS has not):
# anything else (sub-delims, "%", "\\") is read differently by different parsers.
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")


class URLParts(NamedTuple):
    """An ``http``/``https`` URL read once. ``host`` is lower case, IDNA-encoded, an IPv6
    address without brackets; ``port`` is explicit or the scheme's default; ``target``
    is the path and query to send (``/`` at least), without the fragment."""

    scheme: str
    host: str
    port: int
    target: str
    #: ``scheme://host[:port]`` as sent in ``Host`` (default port left out, IPv6 bracketed).
    origin: str
    #: Where the socket really goes: ``host``, except that every ``*.localhost`` name
    #: goes to ``localhost`` (RFC 6761: resolved here, never asked of DNS).
    connect_host: str
    #: The connection stays on this machine (decides the TLS default and the token guard).
    loopback: bool

    @property
    def hostport(self) -> str:
        """``host[:port]`` as a ``Host`` header says it (default port left out)."""
        return self.origin.split("://", 1)[1]


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost``, ``*.localhost``, ``::1`` and dotted-quad ``127.x.y.z``.

    A ``*.localhost`` name counts because the built-in transports never ask DNS about
    it: they connect to ``localhost`` (see :attr:`URLParts.connect_host`). Any other
    spelling of a loopback address (``127.1``, ``0x7f.0.0.1``) is not loopback here:
    it is refused by :func:`split_url` anyway."""
    if not host:
        return False
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host in _LOOPBACK_NAMES or (host.endswith(".localhost") and _plain_name(host)):
        return True
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(_octet(p) for p in parts)


def redact_userinfo(url: str) -> str:
    """``url`` with anything between ``://`` and the last ``@`` of its authority shown
    as ``***``: for messages about a URL that may carry a password."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = len(rest)
    for stop in "/?#":
        i = rest.find(stop)
        if i >= 0:
            end = min(end, i)
    # The last "@" before the path, or anywhere if a "/" or "#" in the password hid it.
    at = rest.rfind("@", 0, end)
    if at < 0:
        at = rest.rfind("@")
    if at < 0:
        return url
    return f"{scheme}{sep}***@{rest[at + 1:]}"


def _octet(p: str) -> bool:
    # Decimal, no leading zero: "010" is octal 8 to inet_aton and 10 to others.
    return p.isascii() and p.isdigit() and (p == "0" or not p.startswith("0")) and int(p) < 256


def _plain_name(host: str) -> bool:
    return bool(host) and set(host) <= _HOST_CHARS and ".." not in host and not host.startswith(".")


def _numeric_label(label: str) -> bool:
    # WHATWG parses a host whose last label is a number (decimal, 0x hex, octal) as an
    # IPv4 address in one of many forms; inet_aton agrees, DNS does not.
    lab = label.lower()
    if lab.startswith("0x"):
        return all(c in "0123456789abcdef" for c in lab[2:])
    return lab.isdigit()


def split_url(url: object, what: str = "the URL") -> URLParts:
    """Read ``url``, an absolute ``http://`` or ``https://`` URL, or raise
    :class:`~automate_lite.errors.UsageError` naming ``what`` (a password in the URL is
    never shown)."""
    if not isinstance(url, str) or not url:
        raise UsageError(f"{what} must be a URL string such as 'https://example.org/path', got {url!r}")
    shown = redact_userinfo(url)
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        raise UsageError(f"{what} must be an http:// or https:// URL with a host, got {shown!r}")
    if "\\" in url:
        raise UsageError(f"{what} must not contain a backslash (parsers disagree on where its host ends): {shown!r}")
    if any(c <= " " or c == "\x7f" for c in url):
        raise UsageError(f"{what} must not contain white space or control characters: {shown!r}")
    end = len(rest)
    for stop in "/?#":
        i = rest.find(stop)
        if i >= 0:
            end = min(end, i)
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        raise UsageError(
            f"{what} must not carry user info (user:password@); give credentials to an authorizer instead: {shown!r}"
        )
    if not authority:
        raise UsageError(f"{what} must have a host, such as 'https://example.org/path'; got {shown!r}")
    if authority.startswith("["):
        close = authority.find("]")
        literal, after = authority[1:close], authority[close + 1 :]
        try:
            address = ipaddress.IPv6Address(literal) if close > 0 else None
        except ValueError:
            address = None
        if address is None or "%" in literal or (after and not after.startswith(":")):
            raise UsageError(f"{what} must have a valid IPv6 host such as [::1]; got {shown!r}")
        host, port_text = str(address), after[1:] if after else None
    else:
        name, colon, port_text_ = authority.partition(":")
        port_text = port_text_ if colon else None
        host = name.lower()
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise UsageError(f"{what} must have a valid host name; got {shown!r}") from None
        if not _plain_name(host[:-1] if host.endswith(".") else host):
            raise UsageError(
                f"{what} must have a host that is a plain name or address (only letters, digits, '.', '-' and "
                f"'_' are accepted); got {shown!r}"
            )
        labels = host.rstrip(".").split(".")
        if _numeric_label(labels[-1]) and not (len(labels) == 4 and all(_octet(p) for p in labels)):
            raise UsageError(
                f"{what} must write a numeric host as a plain IPv4 address, four decimal "
                f"numbers such as 127.0.0.1; got {shown!r}"
            )
    default = 443 if scheme == "https" else 80
    if port_text is None:
        port = default
    elif port_text.isascii() and port_text.isdigit() and len(port_text) <= 5 and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        raise UsageError(f"{what} must have a port from 1 to 65535 (or none); got {shown!r}")
    target = tail.partition("#")[0]
    if not target.startswith("/"):
        target = "/" + target
    bracketed = f"[{host}]" if ":" in host else host
    hostport = bracketed if port == default else f"{bracketed}:{port}"
    loopback = is_loopback_host(host)
    connect_host = "localhost" if loopback and host.endswith(".localhost") else host
    return URLParts(scheme, host, port, target, f"{scheme}://{hostport}", connect_host, loopback)
