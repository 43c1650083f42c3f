import socket

import pytest

from tests.conftest import NetworkAccessError


def test_connections_to_non_loopback_addresses_are_refused():
    # Given a socket, When it connects to the instance metadata address, Then the guard refuses it
    with socket.socket() as sock, pytest.raises(NetworkAccessError):
        sock.connect(("169.254.169.254", 80))


def test_connections_to_loopback_are_allowed():
    # Given a listening loopback socket, When a client connects, Then it succeeds
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
