"""Password hashes (Argon2id) and personal access tokens (random, stored as a SHA-256).

Argon2id with the parameters of ``argon2-cffi`` (RFC 9106's low-memory profile): a hash
is a self-describing ``$argon2id$v=19$m=…,t=…,p=…$salt$hash`` string, so that hashes made
with older parameters still verify and are rehashed at the next sign-in
(:func:`needs_rehash`).
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: Tokens start with this, so that one pasted in the wrong place is recognisable.
TOKEN_PREFIX = "psq_"

_hasher = PasswordHasher()  # Argon2id


def hash_password(password: str) -> str:
    """A new salted Argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash (False for a malformed hash)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_nothing(password: str) -> bool:
    """Spend the time of a verification for an unknown account (so that timing does
    not tell which e-mail addresses have one); always False."""
    verify_password(_decoy_hash(), password)
    return False


def new_token() -> str:
    """A new personal access token: the prefix and 32 random bytes, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token: the hex SHA-256 of it (a 256-bit random token needs
    no salt nor slow hash).

    >>> len(token_hash("psq_x"))
    64
    """
    return hashlib.sha256(token.encode()).hexdigest()


#: Web session ids start with this (not :data:`TOKEN_PREFIX`: ``psqs_`` ≠ ``psq_…``), so
#: that a bearer value says whether it is a session or a personal access token.
SESSION_PREFIX = "psqs_"


def new_session_id() -> str:
    """A new web session id: the prefix and 32 random bytes, URL-safe. Stored as its
    :func:`token_hash`, like a token."""
    return SESSION_PREFIX + secrets.token_urlsafe(32)


def csrf_token(session_id: str) -> str:
    """The CSRF token of a web session: derived from its id (so bound to it, with nothing
    stored), and telling nothing of the id nor of its stored hash.

    >>> csrf_token("psqs_a") == csrf_token("psqs_a") != csrf_token("psqs_b")
    True
    >>> csrf_token("psqs_a") != token_hash("psqs_a")
    True
    """
    return hashlib.sha256(b"psq-csrf:" + session_id.encode()).hexdigest()
