"""UI strings in Russian, Kazakh and English, from `dashboard/locales/<lang>.json`.

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


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All strings of one language (read once per process)."""
    with (LOCALES_DIR / f"{lang}.json").open(encoding="utf-8") as fh:
        data: dict[str, str] = json.load(fh)
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
