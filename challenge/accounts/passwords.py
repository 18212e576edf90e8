"""Argon2id password hashing; parameters from settings (tests use cheaper ones)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
_dummy_hash = ""


def configure(*, time_cost: int, memory_kib: int) -> None:
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _dummy_hash = _hasher.hash("timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def dummy_verify(password: str) -> None:
    """Verify against a hash of nothing in particular, made once with the same parameters: a
    sign-in for an unknown address (or an account without a password) then costs one
    verification, exactly like a wrong password for a real account."""
    verify_password(_dummy_hash or _hasher.hash("timing-equaliser"), password)
