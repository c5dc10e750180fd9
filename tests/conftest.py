"""Shared fixtures: every database test runs on SQLite and on PostgreSQL, each on a freshly migrated schema.

PostgreSQL comes from `ASHYQ_TEST_PG_URL` (`.ci/run` and `make test` set it to the local server). Without it
the PostgreSQL half is skipped, and the session summary says so plainly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from entities.db import make_engine
from entities.migrate import upgrade

PG_URL = os.environ.get("ASHYQ_TEST_PG_URL", "")
BACKENDS = ["sqlite", "postgresql"]


def _pg_url_for_schema(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a freshly migrated, empty database on each backend; dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    if not PG_URL:
        pytest.skip("PostgreSQL half not run: ASHYQ_TEST_PG_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _pg_url_for_schema(schema)
    engine = make_engine(url)
    try:
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not PG_URL:
        terminalreporter.write_line(
            "NOTE: the PostgreSQL half of the suite did not run (set ASHYQ_TEST_PG_URL, e.g. "
            "postgresql+psycopg://root@127.0.0.1:5432/test).",
            yellow=True,
        )
