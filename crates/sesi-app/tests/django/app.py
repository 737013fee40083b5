"""Django 5.2 reference app for sesi's live interop tests, in one file.

Django's ``signed_cookies`` session backend (the whole session in a cookie
signed by ``django.core.signing``) with the settings a team moving pages to
sesi shares with it, so that cookies it issues can be read by
``sesi serve --cookie-format django`` and the other way round.

Run (from the repo root, after scripts/install-test-deps.sh --only python):

    SESI_SECRET=... PORT=8000 .venv/bin/python crates/sesi-app/tests/django/app.py

Configuration (environment variables):

    SESI_SECRET            required; Django's SECRET_KEY
    DJANGO_FALLBACKS       a JSON list of older keys: SECRET_KEY_FALLBACKS
    DJANGO_COOKIE_NAME     default "sessionid" (SESSION_COOKIE_NAME)
    DJANGO_COOKIE_AGE      seconds, default 1209600 (SESSION_COOKIE_AGE, also
                           the signature's max age)
    PORT                   default 8000; 0 picks a free port (see the
                           "Serving on http://127.0.0.1:N" line on stdout)

These views are test fixtures: CsrfViewMiddleware is not installed, and POST
parameters come in the query string (or a form).
"""

import json
import logging
import os
import sys

import django
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import path


def configure():
    secret = os.environ.get("SESI_SECRET")
    if not secret:
        sys.exit("SESI_SECRET is required (Django's SECRET_KEY)")
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        SECRET_KEY=secret,
        SECRET_KEY_FALLBACKS=json.loads(os.environ.get("DJANGO_FALLBACKS") or "[]"),
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.sessions"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        SESSION_COOKIE_NAME=os.environ.get("DJANGO_COOKIE_NAME") or "sessionid",
        SESSION_COOKIE_AGE=int(os.environ.get("DJANGO_COOKIE_AGE") or "1209600"),
        SESSION_COOKIE_HTTPONLY=False,
    )
    django.setup()


def param(request, name, default=None):
    value = request.GET.get(name, request.POST.get(name, default))
    if value is None:
        raise ValueError(f"missing parameter {name!r}")
    return value


def fixture(view):
    """Bad parameters are a 400 with the reason, as in the other reference apps."""
    def wrapped(request):
        try:
            return view(request)
        except ValueError as e:
            return HttpResponseBadRequest(str(e))
    return wrapped


@fixture
def counter(request):
    request.session["counter"] = request.session.get("counter", 0) + 1
    return JsonResponse({"counter": request.session["counter"]})


@fixture
def cart_add(request):
    product_id = param(request, "product_id")
    quantity = int(param(request, "quantity", "1"))
    cart = dict(request.session.get("cart", {}))
    cart[product_id] = cart.get(product_id, 0) + quantity
    request.session["cart"] = cart
    return JsonResponse({"cart": cart})


@fixture
def set_value(request):
    request.session[param(request, "key")] = json.loads(param(request, "value"))
    return JsonResponse({"ok": True})


@fixture
def set_expiry(request):
    """Django's per-session expiry: seconds of inactivity, 0 = until the browser closes."""
    request.session.set_expiry(int(param(request, "seconds")))
    return JsonResponse({"expiry_age": request.session.get_expiry_age(),
                         "at_browser_close": request.session.get_expire_at_browser_close()})


def dump(request):
    return JsonResponse({"state": dict(request.session.items()),
                         "expiry_age": request.session.get_expiry_age(),
                         "at_browser_close": request.session.get_expire_at_browser_close()})


def flush(request):
    request.session.flush()
    return JsonResponse({"flushed": True})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("counter", counter),
    path("cart/add", cart_add),
    path("set", set_value),
    path("expiry", set_expiry),
    path("session", dump),
    path("flush", flush),
    path("healthz", healthz),
]


def main():
    configure()
    import waitress
    from django.core.wsgi import get_wsgi_application

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s: %(message)s")
    port = int(os.environ.get("PORT") or "8000")
    print(f"sesi django reference app: django {django.get_version()}", flush=True)
    # waitress logs "Serving on http://127.0.0.1:PORT" once the socket is bound.
    waitress.serve(get_wsgi_application(), host="127.0.0.1", port=port, threads=4)


if __name__ == "__main__":
    main()
