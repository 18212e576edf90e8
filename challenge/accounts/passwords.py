"""Argon2id password hashing; parameters from settings (tests use cheaper ones)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


def configure(*, time_cost: int, memory_kib: int) -> None:
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


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


# A hash of nothing in particular: verifying against it when the e-mail is unknown makes a
# failed sign-in take as long for a missing account as for a wrong password.
def dummy_verify(password: str) -> None:
    verify_password(_hasher.hash("timing-equaliser"), password)
