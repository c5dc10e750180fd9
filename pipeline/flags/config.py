"""The red-flag thresholds and the service-category vocabulary, read from `data/reference/flag_rules.yaml`.

The category vocabulary is a short list of ru/kk word stems per category (e-journal, assessment, training,
IT support, learning platform, hardware); the first category with a stem in the casefolded subject wins. It is
tuned on the simulator's subjects and the gov.kz memorandum wording; real goszakup subjects were not available
here, so its recall on real data is unmeasured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from entities.config import REFERENCE_DIR

RULES_FILE = Path(REFERENCE_DIR) / "flag_rules.yaml"
OTHER = "other"


@dataclass(frozen=True)
class FlagConfig:
    rules: dict[str, dict[str, Any]]
    legal_sources: dict[str, str]
    categories: tuple[tuple[str, tuple[str, ...]], ...]
    absence_needs_real: bool = True
    max_evidence: int = 25
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def rule(self, code: str) -> dict[str, Any]:
        return self.rules[code]

    def thresholds(self, code: str) -> dict[str, Any]:
        """The rule's settings as stored on each flag (everything except severity and the legal key)."""
        return {k: v for k, v in self.rules[code].items() if k not in ("severity", "legal_reference")}

    def legal_reference(self, code: str) -> str | None:
        key = self.rules[code].get("legal_reference")
        return self.legal_sources.get(key) if key else None

    def category(self, subject: str | None) -> str:
        """The service category of a subject text (module docstring); `other` when no stem matches."""
        if not subject:
            return OTHER
        hit = self._cache.get(subject)
        if hit is not None:
            return hit
        text = subject.casefold().replace("ё", "е")
        found = next((code for code, stems in self.categories if any(s in text for s in stems)), OTHER)
        if len(self._cache) < 200_000:  # distinct subjects repeat a lot; bound the memory on odd data
            self._cache[subject] = found
        return found


def load_config(path: Path | str | None = None) -> FlagConfig:
    """Parse the rules file; raises ValueError naming what is missing."""
    data = yaml.safe_load(Path(path or RULES_FILE).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "rules" not in data:
        raise ValueError(f"{path or RULES_FILE}: no `rules` mapping")
    categories = tuple(
        (str(c["code"]), tuple(str(k).casefold().replace("ё", "е") for k in c["keywords"]))
        for c in data.get("service_categories") or []
    )
    return FlagConfig(
        rules={str(k): dict(v or {}) for k, v in data["rules"].items()},
        legal_sources={str(k): " ".join(str(v).split()) for k, v in (data.get("legal_sources") or {}).items()},
        categories=categories,
        absence_needs_real=bool(data.get("absence_rules_need_real_contracts", True)),
        max_evidence=int(data.get("max_evidence", 25)),
    )


@lru_cache(maxsize=1)
def default_config() -> FlagConfig:
    return load_config()
