"""cli.balanced: one SO_REUSEPORT socket per API process, and the kernel spreads connections."""

from __future__ import annotations

import select
import socket

import pytest
from uvicorn import Config

from cli.balanced import reuse_port_sockets, reuse_port_supported
from tests.conftest import free_port

pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="no SO_REUSEPORT here")
CLIENTS = 64  # one socket left without a connection: probability 2 * 2**-64


def _accepted(listeners: list[socket.socket], expected: int) -> list[int]:
    counts = [0] * len(listeners)
    while sum(counts) < expected:
        ready, _, _ = select.select(listeners, [], [], 5.0)
        assert ready, f"only {sum(counts)} of {expected} connections arrived"
        for sock in ready:
            conn, _ = sock.accept()
            conn.close()
            counts[listeners.index(sock)] += 1
    return counts


def test_every_process_socket_listens_on_the_port_and_gets_connections() -> None:
    port = free_port()
    listeners = reuse_port_sockets(Config("tests:app", host="127.0.0.1", port=port), 2)
    clients = []
    try:
        assert {s.getsockname() for s in listeners} == {("127.0.0.1", port)}
        assert len({s.fileno() for s in listeners}) == 2
        for _ in range(CLIENTS):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        counts = _accepted(listeners, CLIENTS)
    finally:
        for sock in [*clients, *listeners]:
            sock.close()
    assert sum(counts) == CLIENTS
    assert min(counts) > 0, counts  # a shared socket would let one process take them all


def test_port_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="fixed port"):
        reuse_port_sockets(Config("tests:app", host="127.0.0.1", port=0), 2)
