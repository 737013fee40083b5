"""Sign a session state exactly as Pyramid 2's SignedCookieSessionFactory does.

    python make_cookie.py --secret S [--hashalg sha512] [--salt pyramid.session.] \
        --accessed A --created C STATE_JSON

Prints the cookie value (no name, no attributes) followed by a newline.

A and C are parsed as JSON numbers, so "1700000000" stays an int and
"1700000000.25" a float, and they are written back exactly as Python's json
writes them: a real Pyramid cookie has an int `accessed` (int(time.time()))
and a float `created` (time.time()).  STATE_JSON is any JSON value (normally
an object); "-" reads it from stdin.

The payload is what CookieSession._set_cookie signs:
    serializer.dumps((accessed, created, dict(session)))
with serializer = webob.cookies.SignedSerializer(secret, salt, hashalg,
serializer=pyramid.session.JSONSerializer()), and the value sent is
pyramid.util.text_(...) of that (latin-1).
"""

import argparse
import json
import sys

from pyramid.session import JSONSerializer
from pyramid.util import text_
from webob.cookies import SignedSerializer


def signed_serializer(secret, salt="pyramid.session.", hashalg="sha512"):
    # Same construction as pyramid.session.SignedCookieSessionFactory.
    return SignedSerializer(secret, salt, hashalg, serializer=JSONSerializer())


def _number(name, raw):
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SystemExit(f"--{name} must be a JSON number, got {raw!r}")
    return value


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--secret", required=True)
    p.add_argument("--hashalg", default="sha512")
    p.add_argument("--salt", default="pyramid.session.")
    p.add_argument("--accessed", required=True,
                   help="JSON number (int in real Pyramid cookies)")
    p.add_argument("--created", required=True,
                   help="JSON number (float in real Pyramid cookies)")
    p.add_argument("state", metavar="STATE_JSON",
                   help="session state as JSON; '-' reads stdin")
    a = p.parse_args(argv)

    raw = sys.stdin.read() if a.state == "-" else a.state
    try:
        state = json.loads(raw)
    except ValueError as e:
        raise SystemExit(f"STATE_JSON is not valid JSON: {e}")
    accessed = _number("accessed", a.accessed)
    created = _number("created", a.created)

    try:
        ser = signed_serializer(a.secret, a.salt, a.hashalg)
    except ValueError as e:  # unknown hash algorithm
        raise SystemExit(f"bad --hashalg {a.hashalg!r}: {e}")
    print(text_(ser.dumps((accessed, created, state))))


if __name__ == "__main__":
    main()
