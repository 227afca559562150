"""The embedded endpoint's HTTP: each client connection stays open for its next request.

werkzeug's development server, which moto's server runs on, closes the connection after every answer, so
each of a load's calls opened a new TCP connection and the server a new thread for it (a quarter of the
endpoint's time in a load, and about a millisecond of every call). This request handler keeps the
connection when it can tell where the next request starts: the body is read whole, by its
``Content-Length``, before the application sees it, and the answer is sent with its own length. A request
it cannot delimit (a chunked body) is served as werkzeug serves it, and its connection closed.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler

#: headers the handler writes itself: the answer's length, and whether the connection stays
_OWN = frozenset({"content-length", "connection", "transfer-encoding"})


class KeepAliveHandler(MotoRequestHandler):
    """moto's request handler (its environ keeps underscored headers) on connections that stay open."""

    protocol_version = "HTTP/1.1"

    def run_wsgi(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            super().run_wsgi()  # werkzeug's way, which ends the connection
            self.close_connection = True
            return
        self.environ = environ = self.make_environ()
        length = int(self.headers.get("Content-Length") or 0)
        environ["wsgi.input"] = io.BytesIO(self.rfile.read(length) if length else b"")
        environ["wsgi.input_terminated"] = True
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = status, headers
            return lambda data: answer.setdefault("early", []).append(data)

        try:
            body = self._body(self.server.app(environ, start_response))
        except Exception:  # noqa: BLE001  (the server stays up; this request gets werkzeug's 500)
            logging.getLogger(__name__).exception("error on request %s", self.requestline)
            answer = {"status": "500 INTERNAL SERVER ERROR", "headers": [("Content-Type", "text/plain")]}
            body, self.close_connection = b"Internal Server Error", True
        self._send(answer, b"".join(answer.get("early", [])) + body)

    @staticmethod
    def _body(chunks: Iterable[bytes]) -> bytes:
        try:
            return b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()

    def _send(self, answer: dict[str, Any], body: bytes) -> None:
        """The status line, the application's headers and the body's length, then the body: one write (an
        answer to HEAD keeps the length the application gave, of the body it does not send)."""
        lines = [f"{self.protocol_version} {answer['status']}"]
        lines += [f"{k}: {v}" for k, v in answer["headers"] if k.lower() not in _OWN]
        given = [v for k, v in answer["headers"] if k.lower() == "content-length"]
        lines.append(f"Content-Length: {given[0] if self.command == 'HEAD' and given else len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + body)
        self.wfile.flush()
