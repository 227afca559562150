"""The embedded endpoint's HTTP: one connection carries request after request, and a request it cannot
delimit, or one that fails, ends its connection rather than the next request's."""

import http.client
import threading

import pytest
from werkzeug.serving import make_server

from productizar.local.keepalive import KeepAliveHandler


def app(environ, start_response):
    """Echoes the method, the client's port (one per connection) and the body, if the path asks to read it."""
    if environ["PATH_INFO"] == "/fails":
        raise RuntimeError("planted")
    body = environ["wsgi.input"].read() if environ["PATH_INFO"] == "/read" else b"(unread)"
    answer = f"{environ['REQUEST_METHOD']} {environ['REMOTE_PORT']} ".encode() + body
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))])
    return [answer]


@pytest.fixture
def port():
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAliveHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server.port
    server.shutdown()
    server.server_close()


def _ask(conn, method, path, body=None, headers=None):
    chunked = (headers or {}).get("Transfer-Encoding") == "chunked"
    conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
    response = conn.getresponse()
    return response, response.read()


def test_one_connection_carries_every_request_even_one_whose_body_was_not_read(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    first, body1 = _ask(conn, "POST", "/ignores", body=b"x" * 70_000)  # a body the application never reads
    second, body2 = _ask(conn, "POST", "/read", body="ñandú".encode())
    third, body3 = _ask(conn, "GET", "/read")
    assert [r.status for r in (first, second, third)] == [200, 200, 200]
    assert body1.endswith(b"(unread)") and body2.endswith(" ñandú".encode()) and body3.startswith(b"GET ")
    assert len({b.split()[1] for b in (body1, body2, body3)}) == 1  # one client port: one connection
    assert all(r.getheader("Connection") is None for r in (first, second, third))


def test_a_chunked_body_is_read_and_its_connection_ends(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    response, body = _ask(conn, "POST", "/read", body=iter([b"uno ", b"dos"]), headers={"Transfer-Encoding": "chunked"})
    assert response.status == 200 and body.endswith(b" uno dos")
    assert response.getheader("Connection") == "close"


def test_a_failing_request_gets_500_and_ends_only_its_own_connection(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    response, _ = _ask(conn, "POST", "/fails", body=b"{}")
    assert response.status == 500 and response.getheader("Connection") == "close"
    again, body = _ask(http.client.HTTPConnection("127.0.0.1", port, timeout=10), "GET", "/read")
    assert again.status == 200 and body.startswith(b"GET ")


def test_head_keeps_the_length_of_the_body_it_does_not_send_and_close_is_honoured(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    response, body = _ask(conn, "HEAD", "/ignores")
    port_of_client = conn.sock.getsockname()[1]
    assert body == b"" and response.getheader("Content-Length") == str(len(f"HEAD {port_of_client} (unread)"))
    response, _ = _ask(conn, "GET", "/ignores", headers={"Connection": "close"})
    assert response.status == 200 and response.getheader("Connection") == "close"
