"""Runtime configuration read from the environment (DESIGN §4)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
REFERENCE_DIR = DATA_DIR / "reference"
DEFAULT_SQLITE_PATH = DATA_DIR / "ashyq.sqlite"


def database_url() -> str:
    """The database the CLI, pipeline and dashboard use: `ASHYQ_DATABASE_URL`, else SQLite under data/."""
    url = os.environ.get("ASHYQ_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def source_base_url(source: str, default: str) -> str:
    """Base URL of a source, overridable by `ASHYQ_<SOURCE>_URL` so tests can point spiders at loopback."""
    return os.environ.get(f"ASHYQ_{source.upper()}_URL", default).rstrip("/")
