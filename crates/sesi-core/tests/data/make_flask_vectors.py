"""Writes flask-cookies.json: session cookies made and read by the real Flask.

Run from the repository root, after `scripts/install-test-deps.sh --only python`:

    .venv/bin/python crates/sesi-core/tests/data/make_flask_vectors.py \
        > crates/sesi-core/tests/data/flask-cookies.json

- `encode` cases: the cookie Flask's own `SecureCookieSessionInterface.save_session` sets at the
  end of a real request (through the test client, so `flask.flash`, `session.permanent` and the
  app's JSON provider run as in production), or, where Flask sets no cookie (an empty session, a
  state the route cannot make), what `app.session_interface.get_signing_serializer(app).dumps`
  writes inside an app context. The clock is fixed by replacing the `time` module that
  `itsdangerous.timed` imported. `state` is the tagged JSON sesi keeps (read back from the
  cookie's payload), `json` the exact text Flask signed; sesi must write the very same cookie.
- `decode` cases: a value and what sesi must make of it (`valid`, else `reason`, the stable kind
  of its DecodeError), beside what Flask's serializer made of it at `now` with Flask's default
  max_age (`flask`: "ok" or the exception's class). A `note` names each case where the two differ
  on purpose: sesi leaves the time rules to its engine, and refuses some values Flask would load.

Nothing is random: regenerating gives the same file.
"""

import base64
import json
import sys
import types
import warnings
import zlib
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from uuid import UUID

import itsdangerous.timed as timed_module
from flask import Flask, flash, session
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup

NOW = 1764000000
KEY_A = "rahasia_dapur_123"
KEY_B = "the previous flask secret, still a fallback"
KEY_C = "an even older flask secret, the last fallback"
KEY_UTF8 = "kunci rahasia \u00e9\u00e8 \u2603 for utf-8"
KEY_BYTES = bytes(range(200, 232))  # 32 bytes, not UTF-8
MAX_AGE = 31 * 24 * 3600  # Flask's default PERMANENT_SESSION_LIFETIME

# The oversized case is meant to be too large; Werkzeug warns about it.
warnings.filterwarnings("ignore", message="The 'session' cookie is too large")

FIXED = {"now": NOW}
timed_module.time = types.SimpleNamespace(time=lambda: FIXED["now"])


def key_json(key):
    return {"hex": key.hex()} if isinstance(key, bytes) else {"text": key}


class SaltedInterface(SecureCookieSessionInterface):
    salt = "sesi-test-salt"


def make_app(keys, salt=None):
    app = Flask(__name__)
    app.secret_key = keys[0]
    app.config["SECRET_KEY_FALLBACKS"] = list(keys[1:])
    if salt is not None:
        app.session_interface = SaltedInterface()
    app.config["SETUP"] = None

    @app.route("/")
    def index():
        app.config["SETUP"]()
        return "ok"

    return app


def serializer(keys, salt=None):
    app = make_app(keys, salt)
    return app, app.session_interface.get_signing_serializer(app)


def payload_json(cookie):
    body = cookie.rsplit(".", 2)[0]
    compressed = body.startswith(".")
    raw = base64.urlsafe_b64decode(body.lstrip(".") + "=" * (-len(body.lstrip(".")) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode("ascii"), compressed


def through_request(keys, setup, salt=None, at=NOW):
    app = make_app(keys, salt)
    app.config["SETUP"] = setup
    FIXED["now"] = at
    client = app.test_client()
    client.get("/")
    FIXED["now"] = NOW
    return client.get_cookie("session").value


def through_serializer(keys, state, salt=None, at=NOW):
    app, s = serializer(keys, salt)
    FIXED["now"] = at
    with app.app_context():
        value = s.dumps(state)
    FIXED["now"] = NOW
    return value


def encode_case(name, cookie, keys, salt=None, at=NOW, how="request"):
    text, compressed = payload_json(cookie)
    case = {
        "name": name,
        "how": how,
        "keys": [key_json(k) for k in keys],
        "accessed": at,
        "state": json.loads(text),
        "json": text,
        "compressed": compressed,
        "cookie": cookie,
    }
    if salt is not None:
        case["salt"] = salt
    return case


def setter(**values):
    def setup():
        session.update(values)

    return setup


def compression_boundary():
    """The shortest run of "a" Flask compresses, and one shorter."""
    for n in range(1, 200):
        text = json.dumps({"s": "a" * n}, separators=(",", ":")).encode()
        if len(zlib.compress(text)) < len(text) - 1:
            return n
    raise AssertionError("no boundary")


def flashes():
    flash("Saved")
    flash("Bad input", "error")
    flash("Again")
    flash(Markup("<b>bold</b>"), "info")


def permanent():
    session.permanent = True
    session["counter"] = 3


def encode_cases():
    keys = [KEY_A]
    n = compression_boundary()
    cases = [
        encode_case("counter", through_request(keys, setter(counter=1)), keys),
        encode_case("empty", through_serializer(keys, {}), keys, how="serializer"),
        encode_case(
            "unicode",
            through_request(
                keys,
                setter(nama="Sate ayam \u00e9 \U0001F600", list=[1, 2.5, None, True, "x"]),
            ),
            keys,
        ),
        encode_case(
            "floats",
            through_request(
                keys,
                setter(
                    f=[0.1, 1e-07, 1e22, 1764000000.0, -0.0, 123456789.12345679, 5e-324,
                       1.7976931348623157e308, 1e16, 1e-05, 0.0001, -2.5],
                    big=2**63 - 1,
                    neg=-(2**63),
                ),
            ),
            keys,
        ),
        encode_case(
            "nested and sorted",
            through_request(
                keys,
                setter(
                    zeta={"b": [{"y": 2, "x": 3}], "a": {"\u00e9": 1, "Z": 2, "a": None}},
                    alpha=[[[]], {}],
                    Beta="",
                ),
            ),
            keys,
        ),
        encode_case(
            "large repetitive cart (compressed)",
            through_request(keys, setter(cart={f"item-{i:03}": i % 7 for i in range(150)})),
            keys,
        ),
        encode_case(
            "one below the compression threshold",
            through_request(keys, setter(s="a" * (n - 1))),
            keys,
        ),
        encode_case(
            "at the compression threshold",
            through_request(keys, setter(s="a" * n)),
            keys,
        ),
        encode_case(
            "every tag",
            through_request(
                keys,
                setter(
                    tuple=(1, "a", (2.5, None)),
                    bytes=b"\x00\x01\xfe\xff sesi",
                    markup=Markup("<b>hi</b> &amp;"),
                    uuid=UUID("12345678-1234-5678-1234-567812345678"),
                    naive=datetime(2025, 11, 26, 16, 0, 0, 123456),
                    aware=datetime(2025, 11, 26, 23, 0, 0, tzinfo=timezone(timedelta(hours=7))),
                    di={" t": 1},
                    di_nested={" d": (b"x", {" b": "not bytes"})},
                    plain_two_keys={" t": 1, "other": 2},
                    in_list=[(1,), b"", {"u": UUID(int=0)}],
                ),
            ),
            keys,
        ),
        encode_case("flashes with categories", through_request(keys, flashes), keys),
        encode_case("permanent", through_request(keys, permanent), keys),
        encode_case(
            "signed by the current key with fallbacks configured",
            through_request([KEY_A, KEY_B], setter(counter=2)),
            [KEY_A, KEY_B],
        ),
        encode_case(
            "utf-8 secret",
            through_request([KEY_UTF8], setter(counter=4)),
            [KEY_UTF8],
        ),
        encode_case(
            "byte secret",
            through_request([KEY_BYTES], setter(counter=5)),
            [KEY_BYTES],
        ),
        encode_case(
            "another salt",
            through_request(keys, setter(counter=6), salt=SaltedInterface.salt),
            keys,
            salt=SaltedInterface.salt,
        ),
        encode_case(
            "later time",
            through_request(keys, setter(counter=7), at=4102444800),
            keys,
            at=4102444800,
        ),
        encode_case(
            "store-mode session id",
            through_serializer(keys, {"_sesi_sid": "0123456789abcdef0123456789abcdef"}),
            keys,
            how="serializer",
        ),
    ]
    return cases


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_with_timestamp(keys, payload, at=NOW):
    """`payload` (text, already base64) signed as Flask signs, timestamp included."""
    _, s = serializer(keys)
    FIXED["now"] = at
    value = s.make_signer(s.salt).sign(payload).decode("ascii")
    FIXED["now"] = NOW
    return value


def sign_raw(keys, text):
    """`text` signed as it is, with no timestamp added (itsdangerous's plain `Signer.sign`)."""
    from itsdangerous.signer import Signer

    _, s = serializer(keys)
    return Signer.sign(s.make_signer(s.salt), text).decode("ascii")


def flask_outcome(keys, cookie):
    app, s = serializer(keys)
    try:
        with app.app_context():
            s.loads(cookie, max_age=MAX_AGE)
        return "ok"
    except Exception as e:  # the class is the outcome
        return type(e).__name__


def decode_case(name, keys, cookie, reason=None, note=None, **expected):
    case = {
        "name": name,
        "keys": [key_json(k) for k in keys],
        "cookie": cookie,
        "valid": reason is None,
        "flask": flask_outcome(keys, cookie),
    }
    if reason is not None:
        case["reason"] = reason
    else:
        case.update(expected)
    if note is not None:
        case["note"] = note
    return case


def decode_cases():
    a, ab, abc = [KEY_A], [KEY_A, KEY_B], [KEY_A, KEY_B, KEY_C]
    counter = {"counter": 1}
    good = through_request(a, setter(counter=1))
    by_b = through_request([KEY_B], setter(counter=1))
    by_c = through_request([KEY_C], setter(counter=1))
    big = through_request(a, setter(cart={f"item-{i:03}": i % 7 for i in range(150)}))
    tags = through_request(a, setter(t=(1, "a"), b=b"\x00", u=UUID(int=1), di={" m": "x"}))
    ts = b64((NOW).to_bytes(4, "big"))
    state_of = lambda text: json.loads(text)  # noqa: E731
    bomb_json = b'{"a":"' + b"x" * 3_000_000 + b'"}'
    bomb = "." + b64(zlib.compress(bomb_json, 9))
    blob, h = "", b"sesi"
    import hashlib

    while len(blob) < 9000:
        h = hashlib.sha256(h).digest()
        blob += h.hex()
    huge = through_request(a, setter(blob=blob))
    assert len(huge) > 4096
    sid = "0123456789abcdef0123456789abcdef"
    cases = [
        decode_case("valid", a, good, accessed=NOW, state=counter, key_index=0),
        decode_case("valid compressed", a, big, accessed=NOW,
                    state=state_of(payload_json(big)[0]), key_index=0),
        decode_case("valid with tags", a, tags, accessed=NOW,
                    state=state_of(payload_json(tags)[0]), key_index=0),
        decode_case("first fallback key", ab, by_b, accessed=NOW, state=counter, key_index=1),
        decode_case("second fallback key", abc, by_c, accessed=NOW, state=counter, key_index=2),
        decode_case("wrong key", [KEY_B], good, "bad_signature"),
        decode_case("another salt", a,
                    through_request(a, setter(counter=1), salt=SaltedInterface.salt),
                    "bad_signature"),
        decode_case("tampered payload", a, "eyJjb3VudGVyIjoyfQ" + good[18:], "bad_signature"),
        decode_case("tampered timestamp", a,
                    good.replace("." + ts + ".", "." + b64((NOW + 1).to_bytes(4, "big")) + "."),
                    "bad_signature"),
        decode_case("tampered signature", a, good[:-2] + ("AA" if good[-2:] != "AA" else "BA"),
                    "bad_signature"),
        decode_case("truncated", a, good[:-5], "bad_signature"),
        decode_case("no timestamp", a, sign_raw(a, "eyJjb3VudGVyIjoxfQ"), "bad_structure"),
        decode_case("empty", a, "", "bad_structure"),
        decode_case("expired", a, through_request(a, setter(counter=1), at=NOW - MAX_AGE - 1),
                    accessed=NOW - MAX_AGE - 1, state=counter, key_index=0,
                    note="Flask refuses it at decode; sesi reports `accessed` and its engine "
                         "refuses it (timeout)"),
        decode_case("future", a, through_request(a, setter(counter=1), at=NOW + 3600),
                    accessed=NOW + 3600, state=counter, key_index=0,
                    note="Flask refuses a negative age at decode; sesi reports `accessed` and "
                         "its engine refuses more than 60 s ahead"),
        decode_case("bad timestamp (9 bytes)", a,
                    sign_raw(a, "eyJjb3VudGVyIjoxfQ." + b64(b"\x01" * 9)), "bad_timestamp"),
        decode_case("bad base64 payload", a, sign_with_timestamp(a, "eyJ$b3VudGVyIjoxfQ"),
                    "bad_base64"),
        decode_case("non-canonical base64 payload", a,
                    sign_with_timestamp(a, "eyJjb3VudGVyIjoxfR"), "bad_base64",
                    note="Flask's decoder ignores the trailing bits; Flask never writes them"),
        decode_case("bad zlib", a, sign_with_timestamp(a, "." + b64(b"not zlib at all")),
                    "bad_compression"),
        decode_case("zip bomb", a, sign_with_timestamp(a, bomb), "inflates_too_large",
                    note="Flask inflates all 3 MB; sesi stops at 64 KiB"),
        decode_case("not json", a, sign_with_timestamp(a, b64(b"{not json")), "malformed_payload"),
        decode_case("non-object json", a, sign_with_timestamp(a, b64(b"[1,2]")), "bad_shape",
                    note="Flask's serializer loads it; its session class then fails on it"),
        decode_case("nested 200 deep", a,
                    sign_with_timestamp(a, "." + b64(zlib.compress(
                        b'{"a":' + b"[" * 200 + b"]" * 200 + b"}"))),
                    "too_deep", note="Flask loads it; sesi stops at 127 levels"),
        decode_case("bad tag: bytes", a, sign_with_timestamp(a, b64(b'{"x":{" b":"abc"}}')),
                    "bad_tag"),
        decode_case("bad tag: uuid", a, sign_with_timestamp(a, b64(b'{"x":{" u":"nothex"}}')),
                    "bad_tag"),
        decode_case("bad tag: tuple", a, sign_with_timestamp(a, b64(b'{"x":[{" t":5}]}')),
                    "bad_tag"),
        decode_case("bad tag: di", a, sign_with_timestamp(a, b64(b'{"x":{" di":{}}}')),
                    "bad_tag"),
        decode_case("bad tag: datetime", a,
                    sign_with_timestamp(a, b64(b'{"x":{" d":"yesterday"}}')), "bad_tag",
                    note="Flask reads a date it cannot parse as None; it never writes one"),
        decode_case("oversized", a, huge, "oversized",
                    note="browsers keep at most 4096 bytes a cookie"),
        decode_case("store-mode session id", a,
                    through_serializer(a, {"_sesi_sid": sid}), session_id=sid, key_index=0),
        decode_case("store-mode session id as sesi writes it (never compressed)", a,
                    sign_with_timestamp(a, b64(json.dumps(
                        {"_sesi_sid": sid}, separators=(",", ":")).encode())),
                    session_id=sid, key_index=0),
        decode_case("store-mode bad session id", a,
                    through_serializer(a, {"_sesi_sid": "not an id"}), "bad_session_id"),
    ]
    return cases


def main():
    doc = {
        "generator": (
            f"make_flask_vectors.py: Flask {version('flask')}, itsdangerous "
            f"{version('itsdangerous')}, Werkzeug {version('werkzeug')}, MarkupSafe "
            f"{version('markupsafe')}, Python {sys.version.split()[0]}, zlib "
            f"{zlib.ZLIB_RUNTIME_VERSION}"
        ),
        "now": NOW,
        "max_age": MAX_AGE,
        "encode": encode_cases(),
        "decode": decode_cases(),
    }
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
