"""The published waiver texts: versioned files whose SHA-256 is pinned.

The agreement is a file in `waiver_texts/`, listed in `waiver_texts/index.json`
with its SHA-256; `current` names the version patrons sign now. A signed record
keeps the version and the SHA-256, so the text it was signed against can always
be shown again, and an edited "published" file is refused rather than shown.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TEXT_DIR = Path(__file__).parent / "texts"


@dataclass(frozen=True)
class WaiverText:
    """One published version of the agreement: its exact text and that text's SHA-256."""

    version: str
    text: str
    sha256: str

    @property
    def paragraphs(self) -> list[str]:
        """The text as shown: every paragraph of the file, in order, word for word."""
        return [p.strip("\n") for p in self.text.split("\n\n") if p.strip()]


@lru_cache(maxsize=1)
def _index() -> dict[str, Any]:
    return json.loads((TEXT_DIR / "index.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=16)
def text_version(version: str) -> WaiverText:
    """A published text; refuses one whose bytes no longer match the pinned SHA-256.

    Signing against, or emailing, an edited "published" text would make the
    records lie about what people agreed to, so that is an error, loudly.
    """
    entry = _index()["versions"].get(version)
    if entry is None:
        raise KeyError(f"no published waiver text {version!r}")
    raw = (TEXT_DIR / entry["file"]).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != entry["sha256"]:
        raise RuntimeError(
            f"waiver text {version} does not match its published SHA-256: "
            "published texts must never change; publish a new version instead"
        )
    return WaiverText(
        version=version,
        text=raw.decode("utf-8"),
        sha256=digest,
    )


def current_text() -> WaiverText:
    """The version patrons sign now (`current` in waiver_texts/index.json)."""
    return text_version(_index()["current"])


def signed_text(version: str, sha256: str) -> str | None:
    """The agreement a waiver was signed against, if the file still hashes to it."""
    try:
        text = text_version(version)
    except (KeyError, RuntimeError):
        return None
    return text.text if text.sha256 == sha256 else None
