"""Staff passwords hashed with scrypt (hashlib), stored as one self-describing string (hub and edge alike).

Hashing costs about 16 MiB and tens of milliseconds on purpose; callers on the event loop run it in a thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1
_DKLEN = 32
MIN_LENGTH = 8
MAX_LENGTH = 200


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches; a malformed stored hash never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode()[:MAX_LENGTH * 4], salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# Compared against when the user name is unknown, so a wrong name costs as long as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(12))


def check_new_password(password: str) -> None:
    """Raise ValueError with a sentence a person can act on if the password is not acceptable."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"密码至少要 {MIN_LENGTH} 位，请换一个更长的密码。The password needs {MIN_LENGTH}+ characters.")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"密码不能超过 {MAX_LENGTH} 位。The password is longer than {MAX_LENGTH} characters.")
