"""Is a Dask scheduler there? Asked with a deadline before dask.distributed's Client connects.

The Client trusts its peer: an HTTP server, which says nothing until asked, kept it waiting past 500 s whatever
its timeout; a service that greets first had the first 8 bytes of its greeting read as a frame length
(`MemoryError: Unable to allocate 3.07 EiB`). A Dask TCP comm, on either side, writes its handshake as soon as
it connects: a little-endian uint64 byte count, then that many bytes of msgpack frames. So: connect within
CONNECT seconds, read the 8-byte count within SAY seconds, and hold it to what a handshake weighs.
"""

from __future__ import annotations

import socket
import struct
from urllib.parse import urlsplit

from bench.orchestrate.errors import ClusterError

CONNECT = 5.0  # seconds to connect
SAY = 5.0  # seconds for the peer to send its handshake
LARGEST = 1 << 20  # bytes: a scheduler's handshake is a few hundred


def probe(address: str) -> None:
    """Nothing if a Dask scheduler (or something that greets like one) answers at tcp://HOST:PORT; else a
    one-line ClusterError. Other schemes (tls://, inproc://) are left to the Client."""
    parts = urlsplit(address)
    if parts.scheme != "tcp":
        return
    try:
        host, port = parts.hostname, parts.port or 8786
    except ValueError as exc:
        raise ClusterError(f"--cluster {address}: {exc}") from None
    try:
        with socket.create_connection((host, port), timeout=CONNECT) as s:
            s.settimeout(SAY)
            head = _exactly(s, 8)
    except socket.timeout:
        raise ClusterError(f"--cluster {address}: something listens there but sent no Dask handshake within "
                           f"{SAY:g} s: not a Dask scheduler") from None
    except OSError as exc:
        raise ClusterError(f"--cluster {address}: no Dask scheduler answers there ({exc.strerror or exc})") from None
    (size,) = struct.unpack("<Q", head)
    if not 0 < size <= LARGEST:
        raise ClusterError(f"--cluster {address}: not a Dask scheduler (it said {head!r} on connecting)")


def _exactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionResetError("the peer closed the connection before its handshake")
        data += chunk
    return data
