"""Writes django-cookies.json: session cookies made and judged by the real Django.

Run from the repository root, after `scripts/install-test-deps.sh --only python`:

    .venv/bin/python crates/sesi-core/tests/data/make_django_vectors.py \
        > crates/sesi-core/tests/data/django-cookies.json

Every `encode` value is what `django.contrib.sessions.backends.signed_cookies.SessionStore`
writes for the state (its `_get_session_key()`, i.e. `signing.dumps(session, compress=True,
salt="django.contrib.sessions.backends.signed_cookies", serializer=JSONSerializer)`), with the
clock fixed by replacing the `time` module `django.core.signing` imported. Each is read back by
`SessionStore.load()` before it is written.

Every `decode` case records what the real `SessionStore(session_key=cookie).load()` did at `now`
under the given `SECRET_KEY` and `SECRET_KEY_FALLBACKS` (`django_loads`: loaded without resetting
the session), beside what sesi must do (`valid` with the record, or the `reason` it refuses).
Where the two differ the case says so in `note`.
"""

import base64
import datetime
import json
import random
import sys
import zlib
from importlib.metadata import version

from django.conf import settings

SECRET_A = "django-insecure-sesi-vectors-current-key-0123456789abcdef"
SECRET_B = "django-insecure-sesi-vectors-older-key-fedcba9876543210"
SECRET_UTF8 = "kunci-rahasia-cl\u00e9-s\u00e9cr\u00e8te-\u6771\u4eac-0123456789"
SALT = "django.contrib.sessions.backends.signed_cookies"
AGE = 1209600  # SESSION_COOKIE_AGE, Django's default
T0 = 1764000000

settings.configure(SECRET_KEY=SECRET_A, SECRET_KEY_FALLBACKS=[], USE_TZ=True,
                   SESSION_COOKIE_AGE=AGE)

from django.contrib.sessions.backends.signed_cookies import SessionStore  # noqa: E402
from django.core import signing  # noqa: E402
from django.test.utils import override_settings  # noqa: E402


class FixedTime:
    """Stands in for the `time` module inside `django.core.signing`."""

    def __init__(self, now):
        self.now = now

    def time(self):
        return self.now


def at(now, make):
    original = signing.time
    signing.time = FixedTime(now)
    try:
        return make()
    finally:
        signing.time = original


def django_writes(state, key, now, expiry=None):
    """What the backend writes for `state`, signed with `key` at `now`."""
    def make():
        with override_settings(SECRET_KEY=key, SECRET_KEY_FALLBACKS=[]):
            store = SessionStore()
            store.update(state)
            if expiry is not None:
                store.set_expiry(expiry)
            return store._get_session_key(), dict(store)
    return at(now, make)


def django_loads(cookie, keys, now):
    """(loaded, data): what `SessionStore.load()` makes of `cookie` at `now`."""
    def load():
        with override_settings(SECRET_KEY=keys[0], SECRET_KEY_FALLBACKS=keys[1:]):
            store = SessionStore(session_key=cookie)
            data = store.load()
            return not store.modified, data
    return at(now, load)


def sign(payload, key, now, salt=SALT):
    """`payload` (already base64, maybe with its `.`) signed as `TimestampSigner.sign` does."""
    def make():
        return signing.TimestampSigner(key=key, salt=salt).sign(payload)
    return at(now, make)


def b64(data):
    return signing.b64_encode(data).decode()


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode("latin-1")


def boundary_states():
    """Two states at Django's compression threshold, `len(compressed) < len(data) - 1`: one
    whose compressed JSON is exactly 2 bytes shorter (compressed), one exactly 1 shorter (not)."""
    rng = random.Random(20261130)
    found = {}
    while len(found) < 2:
        n = rng.randrange(4, 40)
        text = "".join(rng.choice("abcdefgh") for _ in range(n)) * rng.randrange(1, 4)
        state = {"k": text + "".join(rng.choice("0123456789") for _ in range(n))}
        data = compact(state)
        saving = len(data) - len(zlib.compress(data))
        if saving in (1, 2) and saving not in found:
            found[saving] = state
    return [("at the threshold: 2 bytes smaller, compressed", found[2]),
            ("at the threshold: 1 byte smaller, not compressed", found[1])]


ENCODE = [
    ("counter", {"counter": 1}),
    ("empty", {}),
    ("unicode", {"nama": "Sate ayam \u00e9 \U0001F600", "kota": "\u6771\u4eac", "q": "\"\\/\n\t"}),
    ("floats", {"f": [0.1, 1e-05, 0.0001, 1e16, 1e+22, 1.5e300, -0.0, 2.5, 123456789.125,
                      5e-324, 1764000000.25], "i": [2**63, -2**63, 0, -1]}),
    ("nested", {"cart": {"items": [{"id": 1, "qty": 2, "opts": {"pedas": True, "catatan": None}},
                                   {"id": 7, "qty": 1, "opts": {}}]}, "lang": "id"}),
    ("large repetitive (compressed)",
     {"cart": {f"nasi-goreng-{i}": {"qty": i % 3, "note": "tanpa bawang"} for i in range(40)}}),
    ("session expiry: 30 days", {"_session_expiry": 2592000, "counter": 3}),
    ("session expiry: browser close", {"_session_expiry": 0}),
    ("auth keys", {"_auth_user_id": "42",
                   "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                   "_auth_user_hash": "3b6f7d0c9d8e3a1f0e2b4c6d8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"}),
    ("store-mode session id", {"_sesi_sid": "00112233445566778899aabbccddeeff"}),
] + boundary_states()


def encode_cases():
    cases = []
    for n, (name, state) in enumerate(ENCODE):
        now = T0 + 61 * n
        cookie, written = django_writes(state, SECRET_A, now)
        assert written == state
        assert django_loads(cookie, [SECRET_A], now + 10) == (True, state), name
        cases.append(dict(name=name, key=SECRET_A, timestamp=now, state=state, cookie=cookie,
                          compressed=cookie.startswith(".")))
    # A secret outside latin-1: Django's force_bytes makes it UTF-8.
    cookie, _ = django_writes({"counter": 5}, SECRET_UTF8, T0)
    assert django_loads(cookie, [SECRET_UTF8], T0) == (True, {"counter": 5})
    cases.append(dict(name="utf-8 secret", key=SECRET_UTF8, timestamp=T0, state={"counter": 5},
                      cookie=cookie, compressed=False))
    # Another salt: `signing.dumps(obj, salt=..., compress=True)` with the JSON serializer.
    cookie = at(T0, lambda: signing.dumps({"counter": 6}, key=SECRET_A, salt="sesi.other-salt",
                                          compress=True))
    cases.append(dict(name="other salt", key=SECRET_A, salt="sesi.other-salt", timestamp=T0,
                      state={"counter": 6}, cookie=cookie, compressed=False))
    return cases


def decode_cases(encode):
    counter = encode[0]["cookie"]
    now = T0 + 10
    bomb = compact({"a": "x" * 1_000_000})
    bomb_z = zlib.compress(bomb)
    assert len(bomb_z) < 2000
    noise = random.Random(7).randbytes(3000)
    cases = [
        dict(name="counter", keys=[SECRET_A], cookie=counter, now=now, valid=True,
             accessed=T0, state={"counter": 1}),
        dict(name="rotation: verified by the fallback", keys=[SECRET_B, SECRET_A],
             cookie=counter, now=now, valid=True, key_index=1, accessed=T0,
             state={"counter": 1}),
        dict(name="wrong key", keys=[SECRET_B], cookie=counter, now=now, valid=False,
             reason="bad_signature"),
        dict(name="tampered payload", keys=[SECRET_A], now=now, valid=False,
             reason="bad_signature", cookie="eyJjb3VudGVyIjoyfQ" + counter[18:]),
        dict(name="tampered timestamp", keys=[SECRET_A], now=now, valid=False,
             reason="bad_signature", cookie=counter.replace(":1vNYyu:", ":1vNYyv:")),
        dict(name="tampered signature", keys=[SECRET_A], now=now, valid=False,
             reason="bad_signature",
             cookie=counter[:-1] + ("A" if counter[-1] != "A" else "B")),
        dict(name="truncated signature", keys=[SECRET_A], cookie=counter[:-5], now=now,
             valid=False, reason="bad_signature"),
        dict(name="truncated to payload:timestamp", keys=[SECRET_A], now=now, valid=False,
             reason="malformed_value", cookie=counter.rsplit(":", 1)[0]),
        dict(name="no separators", keys=[SECRET_A], cookie="eyJjb3VudGVyIjoxfQ", now=now,
             valid=False, reason="malformed_value"),
        dict(name="expired by SESSION_COOKIE_AGE", keys=[SECRET_A], cookie=counter,
             now=T0 + AGE + 1, valid=True, accessed=T0, state={"counter": 1}, expired=True),
        dict(name="still valid at exactly SESSION_COOKIE_AGE", keys=[SECRET_A], cookie=counter,
             now=T0 + AGE, valid=True, accessed=T0, state={"counter": 1}),
        dict(name="bad base64, signed", keys=[SECRET_A], now=now, valid=False,
             reason="bad_base64", cookie=sign("eyJhIjoxf", SECRET_A, T0)),
        dict(name="base64 with non-zero trailing bits, signed", keys=[SECRET_A], now=now,
             valid=False, reason="bad_base64", cookie=sign("eyJhIjoxfR", SECRET_A, T0),
             note="Django's b64_decode ignores the trailing bits; its writer leaves them zero"),
        dict(name="padded base64, signed", keys=[SECRET_A], now=now, valid=False,
             reason="bad_base64", cookie=sign("eyJhIjoxfQ==", SECRET_A, T0),
             note="Django's b64_decode reads padding; its writer never pads"),
        dict(name="bad zlib, signed", keys=[SECRET_A], now=now, valid=False,
             reason="bad_compression", cookie=sign("." + b64(b"x\x9cnot zlib"), SECRET_A, T0)),
        dict(name="zip bomb, signed with the right key", keys=[SECRET_A], now=now,
             valid=False, reason="inflates_too_large",
             cookie=sign("." + b64(bomb_z), SECRET_A, T0),
             note="1 MB of JSON: Django inflates it in full, sesi stops at 64 KiB"),
        dict(name="non-object JSON, signed", keys=[SECRET_A], now=now, valid=False,
             reason="bad_shape", cookie=sign(b64(b"[1,2,3]"), SECRET_A, T0),
             note="Django's load() returns the list; the session breaks on first use"),
        dict(name="JSON string, signed", keys=[SECRET_A], now=now, valid=False,
             reason="bad_shape", cookie=sign(b64(b'"counter"'), SECRET_A, T0),
             note="Django's load() returns the string; the session breaks on first use"),
        dict(name="malformed JSON, signed", keys=[SECRET_A], now=now, valid=False,
             reason="malformed_payload", cookie=sign(b64(b'{"a":'), SECRET_A, T0)),
        dict(name="too deep, signed", keys=[SECRET_A], now=now, valid=False,
             reason="too_deep", cookie=sign(b64(b'{"a":' + b"[" * 200 + b"]" * 200 + b"}"),
                                           SECRET_A, T0),
             note="Python's json reads 200 levels; sesi stops at 127"),
        dict(name="latin-1 JSON bytes, signed", keys=[SECRET_A], now=now, valid=True,
             accessed=T0, state={"k": "\u00e9\u00ff"},
             cookie=sign(b64(b'{"k":"\xe9\xff"}'), SECRET_A, T0)),
        dict(name="oversized", keys=[SECRET_A], now=now, valid=False, reason="oversized",
             cookie=sign(b64(compact({"n": base64.b64encode(noise).decode()})), SECRET_A, T0),
             note="Django has no length cap; no browser keeps a cookie this long"),
    ]
    # `TimestampSigner.sign` is `Signer.sign(value + ":" + timestamp)`: a timestamp that is
    # not base62, signed with the right key.
    cases.append(dict(name="bad timestamp, signed", keys=[SECRET_A], now=now, valid=False,
                      reason="bad_timestamp",
                      cookie=signing.Signer(key=SECRET_A, salt=SALT).sign(b64(b"{}") + ":1vNY!u")))
    expiry_cookie, _ = django_writes({"counter": 2}, SECRET_A, T0,
                                     expiry=datetime.datetime(2026, 12, 30, tzinfo=datetime.UTC))
    cases.append(dict(name="session expiry as a datetime string", keys=[SECRET_A],
                      cookie=expiry_cookie, now=now, valid=True, accessed=T0,
                      state={"counter": 2, "_session_expiry": "2026-12-30T00:00:00+00:00"}))
    for case in cases:
        loaded, data = django_loads(case["cookie"], case["keys"], case["now"])
        case["django_loads"] = loaded
        if case["valid"] and not case.get("expired"):
            assert loaded and data == case["state"], case["name"]
        elif "note" not in case:
            assert not loaded, case["name"]
    return cases


def main():
    encode = encode_cases()
    decode = decode_cases(encode)
    json.dump(
        dict(
            generator=f"Django {version('django')} "
                      "django.contrib.sessions.backends.signed_cookies.SessionStore",
            cookie_layout="[.]b64(json or zlib(json)):b62(int(time)):b64(HMAC-SHA256("
                          "sha256(salt + 'signer' + SECRET_KEY), everything before)), "
                          "json = json.dumps(state, separators=(',', ':'))",
            script="crates/sesi-core/tests/data/make_django_vectors.py",
            session_cookie_age=AGE,
            encode=encode,
            decode=decode,
        ),
        sys.stdout,
        indent=1,
        ensure_ascii=True,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
