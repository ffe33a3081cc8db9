"""AES-128-CBC with PKCS#7 padding, as HLS encrypts whole segments, decrypted as bytes arrive."""

from __future__ import annotations

from mediadl import errors

__all__ = ["SegmentDecryptor", "available"]


def available() -> bool:
    """Whether the ``cryptography`` package is there (without it, yt-dlp takes over)."""
    try:
        import cryptography.hazmat.primitives.ciphers  # noqa: F401
    except ImportError:
        return False
    return True


class SegmentDecryptor:
    """Decrypts one segment incrementally: ``update`` per chunk, ``finalize`` at its end."""

    def __init__(self, key: bytes, iv: bytes) -> None:
        from cryptography.hazmat.primitives import padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        if len(key) != 16 or len(iv) != 16:
            raise errors.ContentInvalid("The stream's decryption key is not a 16-byte AES key.")
        self._decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        self._unpadder = padding.PKCS7(128).unpadder()

    def update(self, data: bytes) -> bytes:
        return self._unpadder.update(self._decryptor.update(data))

    def finalize(self) -> bytes:
        try:
            tail = self._unpadder.update(self._decryptor.finalize())
            return tail + self._unpadder.finalize()
        except ValueError as exc:
            raise errors.ContentInvalid(
                "A part of the stream couldn't be decrypted: the site sent a bad key or segment."
            ) from exc
