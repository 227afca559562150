"""The embedded AWS endpoint: moto's server app, one request at a time.

moto's in-memory DynamoDB is not safe under concurrent requests: two ``BatchWriteItem`` calls that add the
first items of the same new partition key at the same moment can each create that partition, and one
write is lost (measured: 6 of 80,000 items with a short GIL switch interval; one item of the demo's
100,000 in a CI run). AWS never does that, so the loader and the Spark tasks keep writing concurrently and
the endpoint serializes instead. moto's work is bound by the GIL anyway, so little is lost.

With ``--capacity-rules`` it also meters DynamoDB as AWS does (``capacity_endpoint``): moto never throttles.
A request signed with a key that names an account (``productizar-local-<12 digits>``) is served in that
account (``AccountFromKey``): one server holds several environments apart, each with its own credentials.
Connections stay open between requests (``keepalive``), which werkzeug's server does not allow.
Glue's ``UpdateJob``, which moto's server lacks, is answered on moto's Glue backend (``glue_update``).
A Scan page starts from each table's key order kept between pages (``scan_order``), not from a sort of the
whole table for every page as moto does.

Run as ``python -m productizar.local.motoserver -H 127.0.0.1 -p PORT`` (what ``localenv`` starts).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from productizar.core.capacity import load_rules
from productizar.core.environments import ACCOUNT_KEY_PREFIX
from productizar.local.capacity_endpoint import Metered
from productizar.local.glue_update import GlueUpdateJob
from productizar.local.scan_order import KeptScanOrder, install

MARKER = "productizar.local.motoserver"  # in the process's command line: how localenv recognises its server


class Serialized:
    """WSGI middleware: each request, response body included, runs alone under one lock."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app, self.lock = app, threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            body = self.app(environ, start_response)
            try:
                return list(body)  # moto may build the body lazily: that work belongs inside the lock too
            finally:
                close = getattr(body, "close", None)
                if close:
                    close()


class AccountFromKey:
    """WSGI middleware: the account a request's access key names becomes moto's ``x-moto-account-id``, so
    every client of an environment (a kernel's boto3, the reference API, Spark's tasks) reaches its own
    account with nothing but its credentials; a request that names no account stays in moto's default."""

    KEY = re.compile(r"Credential=" + re.escape(ACCOUNT_KEY_PREFIX) + r"([0-9]{12})/")

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        signed = environ.get("HTTP_AUTHORIZATION", "") + " " + urllib.parse.unquote(environ.get("QUERY_STRING", ""))
        found = self.KEY.search(signed.replace("X-Amz-Credential=", "Credential="))
        if found and "HTTP_X_MOTO_ACCOUNT_ID" not in environ:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = found.group(1)
        return self.app(environ, start_response)


class DynamoDBFirst:
    """WSGI middleware: DynamoDB's calls go straight to moto's DynamoDB app. moto's dispatcher finds a
    request's service anew each time, listing its own package folder on the way (about 6% of the server's
    time in a load); DynamoDB's calls say theirs in ``X-Amz-Target``. Every other call takes moto's way."""

    TARGET = "DynamoDB_20120810."

    def __init__(self, dispatcher: Any):
        self.dispatcher = dispatcher
        self.dynamodb: Callable[..., Iterable[bytes]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(self.TARGET):
            return self.dispatcher(environ, start_response)
        if self.dynamodb is None:
            self.dynamodb = self.dispatcher.get_application(environ)
        return self.dynamodb(environ, start_response)


def main(argv: list[str] | None = None) -> None:
    """Parse ``-H/--host`` and ``-p/--port`` and serve moto there until SIGTERM or SIGINT."""
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from productizar.local.keepalive import KeepAliveHandler

    parser = argparse.ArgumentParser(prog=MARKER, description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--capacity-rules", help="meter DynamoDB with the capacity_model of this sizing file")
    parser.add_argument("--time-scale", type=float, help="override the rules' time_scale")
    parser.add_argument(
        "--scan-as-moto", action="store_true", help="sort the whole table for every Scan page, as moto does"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto's own launcher: URLs it builds name this port
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(0))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line on stderr for each of a load's requests
    moto_app: Callable[..., Iterable[bytes]] = DynamoDBFirst(DomainDispatcherApplication(create_backend_app))
    if args.capacity_rules:  # DynamoDB's metering in front of moto, which never throttles
        moto_app = Metered(moto_app, load_rules(Path(args.capacity_rules), args.time_scale))
    app: Callable[..., Iterable[bytes]] = GlueUpdateJob(moto_app)
    if not args.scan_as_moto:
        install()
        app = KeptScanOrder(app)
    app = AccountFromKey(Serialized(app))
    # threaded: connections are accepted while a request runs; the lock decides who runs
    make_server(args.host, args.port, app, threaded=True, request_handler=KeepAliveHandler).serve_forever()


if __name__ == "__main__":
    main()
