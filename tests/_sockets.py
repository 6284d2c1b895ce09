"""Socket chores the raw test servers share (conftest's, the proxies', the scripted ones)."""

from __future__ import annotations

import socket


def read_head(sock: socket.socket, buf: bytes) -> tuple[bytes | None, bytes]:
    """Read from ``sock`` until ``buf`` holds a whole request head; return ``(head, rest)``.

    ``head`` is ``None`` when the peer closed first (``rest`` is then what arrived)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def pipe(src: socket.socket, dst: socket.socket) -> None:
    """Copy ``src`` to ``dst`` until either closes, then shut both down (one side of a tunnel)."""
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
