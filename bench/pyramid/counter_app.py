"""The Pyramid reference peer for bench/run.sh: the counter page under waitress.

    $PYTHON bench/pyramid/counter_app.py --addr 127.0.0.1:PORT

Same contract as the Rust peers: a SignedCookieSessionFactory session (the
format sesi reads and writes) holds an integer ``counter``; each ``GET /``
increments it and answers a page with ``<span id="counter">N</span>``.
waitress runs one worker thread, as the Rust peers run one.
"""

import argparse
import ipaddress
import sys

from pyramid.config import Configurator
from pyramid.response import Response
from pyramid.session import SignedCookieSessionFactory
from waitress import serve

SECRET = "sesi-bench-secret-0123456789abcdef-not-a-real-secret-0123456789a"

PAGE = (
    '<!doctype html>\n<html><head><meta charset="utf-8"><title>counter</title></head>\n'
    '<body><p>You have visited this page <span id="counter">{n}</span> times.</p>'
    "</body></html>\n"
)


def counter(request):
    n = int(request.session.get("counter", 0)) + 1
    request.session["counter"] = n
    return Response(PAGE.format(n=n), content_type="text/html", charset="utf-8")


def make_app():
    with Configurator() as config:
        config.set_session_factory(SignedCookieSessionFactory(SECRET, secure=False))
        config.add_route("counter", "/")
        config.add_view(counter, route_name="counter", request_method="GET")
        return config.make_wsgi_app()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", required=True, help="127.0.0.1:PORT")
    args = parser.parse_args()
    host, _, port = args.addr.rpartition(":")
    if not ipaddress.ip_address(host.strip("[]")).is_loopback or not port.isdigit():
        sys.exit(f"refusing --addr {args.addr}: give a loopback HOST:PORT")
    print(f"listening on http://{args.addr}", file=sys.stderr, flush=True)
    serve(make_app(), host=host.strip("[]"), port=int(port), threads=1, _quiet=True)


if __name__ == "__main__":
    main()
