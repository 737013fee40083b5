"""Flask 3.1 reference app for sesi's live interop tests.

Flask's default session (``SecureCookieSessionInterface``: itsdangerous-signed
cookies) with the settings a team moving pages to sesi shares with it, so that
cookies it issues can be read by ``sesi serve --cookie-format flask`` and the
other way round.

Run (from the repo root, after scripts/install-test-deps.sh --only python):

    SESI_SECRET=... PORT=5000 .venv/bin/python crates/sesi-app/tests/flask/app.py

Configuration (environment variables):

    SESI_SECRET            required; Flask's SECRET_KEY
    FLASK_FALLBACKS        a JSON list of older keys: SECRET_KEY_FALLBACKS
    FLASK_COOKIE_NAME      default "session" (SESSION_COOKIE_NAME)
    FLASK_LIFETIME         seconds, default 2678400 (PERMANENT_SESSION_LIFETIME,
                           also the signature's max age)
    PORT                   default 5000; 0 picks a free port (see the
                           "Serving on http://127.0.0.1:N" line on stdout)

These routes are test fixtures: no CSRF checks, query-string (or form)
parameters on POST.
"""

import datetime
import json
import logging
import os
import sys
import uuid

from flask import Flask, abort, flash, get_flashed_messages, jsonify, request, session
from markupsafe import Markup


def make_app():
    secret = os.environ.get("SESI_SECRET")
    if not secret:
        sys.exit("SESI_SECRET is required (Flask's SECRET_KEY)")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret,
        SECRET_KEY_FALLBACKS=json.loads(os.environ.get("FLASK_FALLBACKS") or "[]"),
        SESSION_COOKIE_NAME=os.environ.get("FLASK_COOKIE_NAME") or "session",
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(
            seconds=int(os.environ.get("FLASK_LIFETIME") or "2678400")
        ),
        SESSION_COOKIE_HTTPONLY=False,
    )

    def param(name, default=None):
        value = request.values.get(name, default)
        if value is None:
            abort(400, f"missing parameter {name!r}")
        return value

    @app.get("/counter")
    def counter():
        session["counter"] = session.get("counter", 0) + 1
        return {"counter": session["counter"]}

    @app.post("/cart/add")
    def cart_add():
        product_id = param("product_id")
        quantity = int(param("quantity", "1"))
        cart = dict(session.get("cart", {}))
        cart[product_id] = cart.get(product_id, 0) + quantity
        session["cart"] = cart
        return {"cart": cart}

    @app.post("/flash")
    def flash_message():
        msg = param("msg")
        flash(msg, param("category", "message"))
        return {"queued": msg}

    @app.get("/flashes")
    def flashes():
        # Flask's own reader: what a template's get_flashed_messages() shows.
        return {"messages": [list(m) for m in get_flashed_messages(with_categories=True)]}

    @app.post("/set")
    def set_value():
        session[param("key")] = json.loads(param("value"))
        return {"ok": True}

    @app.post("/set-typed")
    def set_typed():
        """Puts one value of a type Flask's tagged JSON carries: what sesi must keep as it is."""
        kind, raw = param("kind"), param("value")
        value = {
            "tuple": lambda: tuple(json.loads(raw)),
            "bytes": lambda: raw.encode("utf-8"),
            "markup": lambda: Markup(raw),
            "uuid": lambda: uuid.UUID(raw),
            "datetime": lambda: datetime.datetime.fromtimestamp(int(raw), datetime.timezone.utc),
            "tagdict": lambda: {" t": json.loads(raw)},
        }[kind]()
        session[param("key")] = value
        return {"ok": True}

    @app.get("/typed")
    def typed():
        """Each session value's Python type and repr, as Flask loaded it from the cookie."""
        return {
            key: {"type": type(value).__name__, "repr": repr(value)}
            for key, value in session.items()
        }

    @app.get("/session")
    def dump():
        return {"state": json.loads(app.session_interface.serializer.dumps(dict(session))),
                "permanent": session.permanent}

    @app.post("/permanent")
    def permanent():
        session.permanent = param("on") == "1"
        return {"permanent": session.permanent}

    @app.post("/clear")
    def clear():
        session.clear()
        return {"cleared": True}

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


def main():
    import waitress

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s: %(message)s")
    port = int(os.environ.get("PORT") or "5000")
    app = make_app()
    print(f"sesi flask reference app: flask {__import__('importlib.metadata').metadata.version('flask')}",
          flush=True)
    # waitress logs "Serving on http://127.0.0.1:PORT" once the socket is bound.
    waitress.serve(app, host="127.0.0.1", port=port, threads=4)


if __name__ == "__main__":
    main()
