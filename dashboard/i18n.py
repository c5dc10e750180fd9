"""UI strings in Russian, Kazakh and English, from `dashboard/locales/<lang>/*.json`.

Each language is a folder of catalogue files, one per area of the app (`core.json`, `entity.json`, …), merged
into one dictionary; a key defined in two files of one language is an error, so areas cannot shadow each other.

`translate(lang, key)` is pure (tests and non-Streamlit code use it); `t(key)` reads the session's language,
which the language selector in `app.py` keeps in `st.session_state["lang"]` and the `lang` URL parameter.
A key missing in one language falls back to Russian, then to the key itself, so a gap shows up as a visible
key rather than an exception; `tests/test_dashboard_apptest.py` fails when any catalogue lacks a key.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import streamlit as st

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES: tuple[str, ...] = ("ru", "kk", "en")
DEFAULT_LANG = "ru"
# Each language named in itself, so a reader who does not know the current UI language can find theirs.
LANGUAGE_NAMES: dict[str, str] = {"ru": "Русский", "kk": "Қазақша", "en": "English"}


def catalogue_files(lang: str) -> dict[str, dict[str, str]]:
    """Each catalogue file of one language, by file name."""
    files: dict[str, dict[str, str]] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            files[path.name] = json.load(fh)
    return files


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All strings of one language (read once per process)."""
    data: dict[str, str] = {}
    for name, strings in catalogue_files(lang).items():
        clash = data.keys() & strings.keys()
        if clash:
            raise ValueError(f"locales/{lang}/{name} redefines {sorted(clash)}")
        data.update(strings)
    return data


def translate(lang: str, key: str, **params: Any) -> str:
    """The string `key` in `lang` (falling back to Russian, then to the key), formatted with `params`."""
    text = catalogue(lang).get(key) if lang in LANGUAGES else None
    if text is None:
        text = catalogue(DEFAULT_LANG).get(key, key)
    return text.format(**params) if params else text


def has_key(key: str) -> bool:
    return key in catalogue(DEFAULT_LANG)


def current_lang() -> str:
    lang = st.session_state.get("lang", DEFAULT_LANG)
    return lang if lang in LANGUAGES else DEFAULT_LANG


def t(key: str, **params: Any) -> str:
    """The string `key` in the session's language."""
    return translate(current_lang(), key, **params)


def basis_label(code: str | None, lang: str | None = None) -> str:
    """Human name of a legal-basis code; an unknown code is shown as itself rather than hidden."""
    if code is None:
        return "—"
    key = f"basis.{code}"
    return translate(lang or current_lang(), key) if has_key(key) else code
