"""Writes pyramid-nacl-cookies.json: cookie values made by the real pyramid_nacl_session.

Run from the repository root, after `scripts/install-test-deps.sh --only python`:

    .venv/bin/python crates/sesi-core/tests/data/make_nacl_vectors.py \
        > crates/sesi-core/tests/data/pyramid-nacl-cookies.json

Every value comes from pyramid_nacl_session's `EncryptedSerializer` with Pyramid's
`JSONSerializer`, fed `(accessed, created, state)` exactly as Pyramid's
`BaseCookieSessionFactory` feeds it (`dumps((self.accessed, self.created, dict(self)))`).

- `decode` cases use fresh random nonces, as the package does in production; sesi must open them
  (or refuse the invalid ones, by reason).
- `encode` cases fix the nonce by replacing the `random` the serializer module imported (the
  test-only hook on the Python side); sesi, given the same nonce through its own test-only hook,
  must write the very same value.
"""

import json
import sys
from base64 import urlsafe_b64decode, urlsafe_b64encode
from importlib.metadata import version

import pyramid_nacl_session.serializer as serializer_module
from nacl.secret import SecretBox
from pyramid.session import JSONSerializer, PickleSerializer
from pyramid_nacl_session import EncryptedSerializer

KEY_A = "9c3f2a1b0d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"
KEY_B = "00112233445566778899aabbccddeeff102132435465768798a9bacbdcedfe0f"

STATES = [
    ("counter", 1764000000, 1764000000.25, {"counter": 1}),
    ("float accessed", 1764000000.5, 1764000000.0, {"counter": 7}),
    ("empty", 1764000000, 1764000000.75, {}),
    (
        "cart with flash and csrf",
        1764000100,
        1764000000.125,
        {
            "cart": {"nasi-goreng": 2, "es-teh-manis": 1},
            "_f_": ["Added 2 x Nasi goreng"],
            "_csrft_": "0123456789abcdef0123456789abcdef01234567",
        },
    ),
    (
        "unicode",
        1764000000,
        1764000000.5,
        {"nama": "Sate ayam \u00e9 \U0001F600", "list": [1, 2.5, None, True, "x"]},
    ),
]


def serializer(key_hex, inner=None):
    return EncryptedSerializer(bytes.fromhex(key_hex), serializer=inner or JSONSerializer())


def cookie(key_hex, accessed, created, state, inner=None):
    return serializer(key_hex, inner).dumps((accessed, created, state)).decode("ascii")


def with_fixed_nonce(nonce, make):
    original = serializer_module.random
    serializer_module.random = lambda size: nonce[:size]
    try:
        return make()
    finally:
        serializer_module.random = original


def flip(value, index):
    """`value` with the byte at `index` of its decoded form changed, re-encoded."""
    raw = bytearray(urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    raw[index] ^= 0x01
    return urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode("ascii")


def main():
    decode = []
    for name, accessed, created, state in STATES:
        value = cookie(KEY_A, accessed, created, state)
        # The package's own reader agrees before the vector is written.
        assert list(serializer(KEY_A).loads(value.encode())) == [accessed, created, state]
        decode.append(dict(name=name, keys=[KEY_A], cookie=value, valid=True,
                           accessed=accessed, created=created, state=state))
    counter = decode[0]["cookie"]
    decode += [
        dict(name="rotation: opened by the fallback", keys=[KEY_B, KEY_A], cookie=counter,
             valid=True, key_index=1, accessed=1764000000, created=1764000000.25,
             state={"counter": 1}),
        dict(name="wrong key", keys=[KEY_B], cookie=counter, valid=False,
             reason="bad_signature"),
        dict(name="tampered nonce", keys=[KEY_A], cookie=flip(counter, 3), valid=False,
             reason="bad_signature"),
        dict(name="tampered tag", keys=[KEY_A], cookie=flip(counter, 30), valid=False,
             reason="bad_signature"),
        dict(name="tampered ciphertext", keys=[KEY_A], cookie=flip(counter, 45), valid=False,
             reason="bad_signature"),
        dict(name="truncated", keys=[KEY_A], cookie=counter[:-4], valid=False,
             reason="bad_signature"),
        dict(name="pickle serializer (the package's default): never unpickled", keys=[KEY_A],
             cookie=cookie(KEY_A, 1764000000, 1764000000.25, {"counter": 1},
                           inner=PickleSerializer()),
             valid=False, reason="malformed_payload"),
    ]
    encode = []
    for n, (name, accessed, created, state) in enumerate(STATES):
        nonce = bytes(range(n, n + SecretBox.NONCE_SIZE))
        value = with_fixed_nonce(nonce, lambda: cookie(KEY_A, accessed, created, state))
        assert urlsafe_b64decode(value + "=" * (-len(value) % 4))[:24] == nonce
        encode.append(dict(name=name, key=KEY_A, nonce=nonce.hex(), accessed=accessed,
                           created=created, state=state, cookie=value))
    json.dump(
        dict(
            generator=(f"pyramid-nacl-session {version('pyramid-nacl-session')} "
                       f"EncryptedSerializer with pyramid {version('pyramid')} JSONSerializer, "
                       f"PyNaCl {version('pynacl')}"),
            cookie_layout="base64url_nopad(nonce(24) || poly1305 tag(16) || xsalsa20(json)), "
                          "json = [accessed, created, state] as Python json.dumps writes it",
            script="crates/sesi-core/tests/data/make_nacl_vectors.py",
            decode=decode,
            encode=encode,
        ),
        sys.stdout,
        indent=1,
        ensure_ascii=True,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
