"""Authors are personal data: by default they become pseudonymous agents.

A pseudonym is a keyed hash (HMAC-SHA-256) of the platform and the name, so the same person gets
the same agent across imports and platforms cannot be joined without the key; organisations and
meetings keep their names.
"""

from __future__ import annotations

import hashlib
import hmac


class Pseudonymiser:
    def __init__(self, key: str) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonymisation key must have at least 16 characters")
        self._key = key.encode("utf-8")

    def pseudonym(self, platform: str, name: str) -> str:
        digest = hmac.new(self._key, f"{platform}\x00{name}".encode(), hashlib.sha256).hexdigest()
        return digest[:16]

    def label(self, platform: str, name: str) -> str:
        return f"Participant {self.pseudonym(platform, name)[:8]}"
