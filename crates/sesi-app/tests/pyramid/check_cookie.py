"""Load a session cookie value the way Pyramid 2's CookieSession does.

    python check_cookie.py --secret S [--hashalg sha512] [--salt pyramid.session.] \
        [--timeout N --now T] [--raw] COOKIE_VALUE

On success prints the decoded payload as one line of JSON,
    [accessed, created, state]
(Python's json.dumps, default separators) and exits 0.  Otherwise prints the
reason to stderr and exits 1; a cookie that fails here is one Pyramid would
silently replace with a new, empty session.

Checks, in Pyramid's order:
  1. WebOb SignedSerializer.loads: base64url (padding optional), HMAC over
     salt+secret with the given hash, compared in constant time; then
     pyramid.session.JSONSerializer.loads (UTF-8 JSON).
  2. CookieSession.__init__: the payload unpacks into exactly three items and
     float(accessed), float(created) succeed.  (--raw skips this and prints
     whatever the signed JSON was.)
  3. only with --timeout: now - accessed > timeout means expired (Pyramid then
     keeps `created`, empties the state, and new stays False).  --now defaults
     to time.time().

COOKIE_VALUE "-" reads the value from stdin (surrounding whitespace stripped).
"""

import argparse
import json
import sys
import time

from pyramid.session import JSONSerializer
from pyramid.util import bytes_
from webob.cookies import SignedSerializer


def fail(reason):
    print(f"invalid: {reason}", file=sys.stderr)
    sys.exit(1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--secret", required=True)
    p.add_argument("--hashalg", default="sha512")
    p.add_argument("--salt", default="pyramid.session.")
    p.add_argument("--timeout", type=float, default=None,
                   help="also reject when now - accessed > timeout")
    p.add_argument("--now", type=float, default=None,
                   help="current time for --timeout (default: time.time())")
    p.add_argument("--raw", action="store_true",
                   help="only verify and decode; skip Pyramid's unpacking")
    p.add_argument("cookie", metavar="COOKIE_VALUE")
    a = p.parse_args(argv)

    cookie = sys.stdin.read().strip() if a.cookie == "-" else a.cookie

    try:
        ser = SignedSerializer(a.secret, a.salt, a.hashalg,
                               serializer=JSONSerializer())
    except ValueError as e:
        fail(f"bad --hashalg {a.hashalg!r}: {e}")

    try:
        # Pyramid: serializer.loads(bytes_(cookieval)), bytes_ = latin-1.
        value = ser.loads(bytes_(cookie))
    except UnicodeEncodeError as e:
        fail(f"cookie value is not latin-1: {e}")
    except ValueError as e:
        # 'Badly formed base64 data: ...', 'Invalid signature', or a JSON
        # decode error (json.JSONDecodeError / UnicodeDecodeError are
        # ValueErrors too).
        fail(f"{type(e).__name__}: {e}")

    if a.raw:
        print(json.dumps(value))
        return

    try:
        rval, cval, sval = value
        renewed = float(rval)
        float(cval)
    except (TypeError, ValueError) as e:
        fail(f"payload is not [accessed, created, state]: {e}")

    if a.timeout is not None:
        now = time.time() if a.now is None else a.now
        if now - renewed > a.timeout:
            fail(f"expired: now - accessed = {now - renewed} > timeout {a.timeout}")

    print(json.dumps([rval, cval, sval]))


if __name__ == "__main__":
    main()
