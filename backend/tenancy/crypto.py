"""Encryption at rest for connection secrets (Fernet, keys from settings.LOOM_ENCRYPTION_KEY:
the first key encrypts, every key decrypts)."""
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt", "keys_changed", "rotate"]


@cache
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.LOOM_ENCRYPTION_KEY.split(",") if k.strip()]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(plaintext: str) -> bytes:
    return _fernet().encrypt(plaintext.encode())


def decrypt(token: bytes) -> str:
    return _fernet().decrypt(token).decode()


def rotate(token: bytes) -> bytes:
    """The token re-encrypted with the first key; InvalidToken when no key decrypts it."""
    return _fernet().rotate(token)


def keys_changed() -> None:
    """Forget the cached keys (after settings.LOOM_ENCRYPTION_KEY changed, as in tests)."""
    _fernet.cache_clear()
