"""Pyramid 2 reference app for sesi's live interop tests.

The seed tutorial (counter, cart, flash, CSRF token) done with the real
Pyramid ``SignedCookieSessionFactory`` (or, with PYRAMID_COOKIE_FORMAT set to
``pyramid-nacl``, pyramid_nacl_session's encrypted sessions configured from
settings exactly as docs/migrating-from-pyramid.md tells users), so that
cookies it issues can be read by sesi and cookies sesi issues can be read by
it.

Run (from the repo root, after scripts/install-test-deps.sh --only python):

    SESI_SECRET=... PORT=6543 .venv/bin/python crates/sesi-app/tests/pyramid/app.py

Configuration (environment variables):

    SESI_SECRET           required; the signing secret (pyramid-nacl: the key,
                          64 hex characters)
    PYRAMID_COOKIE_FORMAT default "pyramid"; "pyramid-nacl" for
                          config.include('pyramid_nacl_session')
    PYRAMID_HASHALG       default sha512
    PYRAMID_SALT          default "pyramid.session."
    PYRAMID_COOKIE_NAME   default "session"
    PYRAMID_TIMEOUT       default 1200; "none" means None (never expires)
    PYRAMID_REISSUE_TIME  default 0;    "none" means None (never reissued)
    PORT                  default 6543; 0 picks a free port (see the
                          "Serving on http://127.0.0.1:N" line on stdout)

These routes are test fixtures: no CSRF checks, query-string (or form)
parameters on POST.
"""

import json
import logging
import os
import sys

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from pyramid.session import SignedCookieSessionFactory


def _opt_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.strip().lower() == "none":
        return None
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"{name} must be an integer or 'none', got {raw!r}")


def settings_from_env():
    secret = os.environ.get("SESI_SECRET")
    if not secret:
        sys.exit("SESI_SECRET is required (the session signing secret)")
    return dict(
        secret=secret,
        cookie_format=os.environ.get("PYRAMID_COOKIE_FORMAT") or "pyramid",
        hashalg=os.environ.get("PYRAMID_HASHALG") or "sha512",
        salt=os.environ.get("PYRAMID_SALT", "pyramid.session."),
        cookie_name=os.environ.get("PYRAMID_COOKIE_NAME") or "session",
        timeout=_opt_int("PYRAMID_TIMEOUT", 1200),
        reissue_time=_opt_int("PYRAMID_REISSUE_TIME", 0),
    )


# ---------------------------------------------------------------- views


def counter(request):
    n = request.session.get("counter", 0) + 1
    request.session["counter"] = n
    return {"counter": n}


def _param(request, name, default=None, required=False):
    value = request.params.get(name, default)
    if required and value is None:
        raise HTTPBadRequest(f"missing parameter {name!r}")
    return value


def cart_add(request):
    product_id = _param(request, "product_id", required=True)
    try:
        quantity = int(_param(request, "quantity", "1"))
    except ValueError:
        raise HTTPBadRequest("quantity must be an integer")
    # Copy and reassign: mutating the nested dict in place would not mark the
    # session as changed, and Pyramid would not send a new cookie.
    cart = dict(request.session.get("cart", {}))
    cart[product_id] = cart.get(product_id, 0) + quantity
    request.session["cart"] = cart
    return {"cart": cart}


def flash(request):
    msg = _param(request, "msg", required=True)
    queue = _param(request, "queue", "")
    request.session.flash(msg, queue)
    return {"queued": msg}


def flash_pop(request):
    queue = _param(request, "queue", "")
    return {"messages": request.session.pop_flash(queue)}


def flash_peek(request):
    queue = _param(request, "queue", "")
    return {"messages": request.session.peek_flash(queue)}


def csrf(request):
    return {"csrf_token": request.session.get_csrf_token()}


def csrf_new(request):
    return {"csrf_token": request.session.new_csrf_token()}


def session_dump(request):
    session = request.session
    # Read through dict's own views: the session's keys()/__getitem__/
    # __iter__ are wrapped to bump `accessed` and, when reissue_time has
    # passed, to mark the session changed (a new Set-Cookie).  Both
    # dict(session) and dict.copy(session) go through those wrappers (CPython
    # falls back to keys()/__getitem__ for a dict subclass that overrides
    # __iter__), so they would change what we are trying to observe.
    # Iterating dict.items(session) -- a plain dict_items view -- does not.
    state = dict(dict.items(session))
    return {
        "new": session.new,
        "created": session.created,
        "accessed": session.accessed,
        "renewed": session.renewed,
        "state": state,
    }


def set_value(request):
    key = _param(request, "key", required=True)
    raw = _param(request, "value", required=True)
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise HTTPBadRequest(f"value is not JSON: {e}")
    request.session[key] = value
    return {"set": {key: value}}


def invalidate(request):
    request.session.invalidate()
    return {"invalidated": True}


def healthz(request):
    return Response("ok", content_type="text/plain")


# ---------------------------------------------------------------- app


def nacl_settings(s):
    """The .ini settings docs/migrating-from-pyramid.md gives for pyramid_nacl_session, as the
    dict Paste would build from them (every value a string, as in an .ini file)."""
    settings = {
        "session.secret": s["secret"],
        "session.serializer": "json",
        "session.cookie_name": s["cookie_name"],
        "session.httponly": "false",
    }
    if s["timeout"] is not None:
        settings["session.timeout"] = str(s["timeout"])
    else:
        settings["session.timeout"] = None
    if s["reissue_time"] is not None:
        settings["session.reissue_time"] = str(s["reissue_time"])
    else:
        settings["session.reissue_time"] = None
    return settings


def make_app(settings=None):
    s = settings if settings is not None else settings_from_env()
    if s["cookie_format"] == "pyramid-nacl":
        config = Configurator(settings=nacl_settings(s))
        config.include("pyramid_nacl_session")
    elif s["cookie_format"] == "pyramid":
        config = Configurator()
        config.set_session_factory(SignedCookieSessionFactory(
            s["secret"],
            hashalg=s["hashalg"],
            salt=s["salt"],
            cookie_name=s["cookie_name"],
            timeout=s["timeout"],
            reissue_time=s["reissue_time"],
            httponly=False,
        ))
    else:
        sys.exit(f"PYRAMID_COOKIE_FORMAT must be pyramid or pyramid-nacl, got {s['cookie_format']!r}")
    with config:
        routes = [
            ("counter", "/counter", "GET", counter),
            ("cart_add", "/cart/add", "POST", cart_add),
            ("flash", "/flash", "POST", flash),
            ("flash_pop", "/flash/pop", "GET", flash_pop),
            ("flash_peek", "/flash/peek", "GET", flash_peek),
            ("csrf", "/csrf", "GET", csrf),
            ("csrf_new", "/csrf/new", "POST", csrf_new),
            ("session", "/session", "GET", session_dump),
            ("set", "/set", "POST", set_value),
            ("invalidate", "/invalidate", "POST", invalidate),
        ]
        for name, pattern, method, view in routes:
            config.add_route(name, pattern)
            config.add_view(view, route_name=name, request_method=method,
                            renderer="json")
        config.add_route("healthz", "/healthz")
        config.add_view(healthz, route_name="healthz")
        return config.make_wsgi_app()


def main():
    import waitress

    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(name)s: %(message)s")
    settings = settings_from_env()
    try:
        port = int(os.environ.get("PORT") or "6543")
    except ValueError:
        sys.exit(f"PORT must be an integer, got {os.environ.get('PORT')!r}")
    app = make_app(settings)
    shown = {k: v for k, v in settings.items() if k != "secret"}
    print(f"sesi pyramid reference app: {json.dumps(shown)}", flush=True)
    # waitress logs "Serving on http://127.0.0.1:PORT" once the socket is
    # bound (with the real port when PORT=0).
    waitress.serve(app, host="127.0.0.1", port=port, threads=4)


if __name__ == "__main__":
    main()
