"""Organization names in Kazakh, Russian and Latin script: folding, legal forms, numbers and places.

Why our own code: no maintained normaliser handles Kazakh (`shared/notes/entity-resolution.md` §2 — normality
and fingerprints mangle ө ұ ү ң, rigour's legal-form tables lack КГУ, ГККП, РГП на ПХВ, ЖШС, АҚ). We do use
`anyascii` for the romanisation itself (it romanises Kazakh Cyrillic correctly and fast), and add on top:

- `skeleton`: a script-independent key. Kazakh letters are folded to their Russian neighbours (қ→к, ұ→у, …)
  before romanising, then the spellings that transliteration schemes disagree on are folded together
  (zh/j/ж→z, kh/h/х→h, sh/ш→s, ch/ц/ч→c, y/i/й/ы→i, q→k, doubled letters → one), so «Күнделік»,
  «Кунделик» and «KUNDELIK» all become `kundelik`. The fold is lossy on purpose: it only has to make spellings
  of one name meet; telling names apart is the scorer's and the vetoes' job.
- legal forms (`data/reference/legal_forms.csv`) are taken from outside the quotes (inside them they are part
  of the name) and mapped to a type, which the matcher uses as a veto;
- numbers (school № 12) and places (г. Астаны, Алматинской области) become separate features, so that school
  №12 and №21, or №12 in two cities, never merge on a high string score.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from anyascii import anyascii
from rapidfuzz.distance import OSA

from entities.config import REFERENCE_DIR

# ----------------------------------------------------------------------------------------------- folding

# Kazakh letters → the Russian letters Russian-language sources write instead (Күнделік → Кунделик).
# The one list of these pairs: search folding (`pipeline.aggregates`, the dashboard) derives from it too.
KAZAKH_TO_RUSSIAN: dict[str, str] = {
    "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х", "і": "и", "ё": "е",
}  # fmt: skip
_KAZAKH_TO_RUSSIAN = str.maketrans(
    KAZAKH_TO_RUSSIAN | {k.upper(): v.upper() for k, v in KAZAKH_TO_RUSSIAN.items()}
)
# Apostrophes carry no letter (Il'yasov, O'Neil; the 2017 Kazakh Latin used them as diacritics).
_APOSTROPHES = str.maketrans(dict.fromkeys("'’ʼ`´ʻ‘", ""))

# Applied in this order to lower-case ASCII, repeated until nothing changes (so the fold is idempotent).
_LATIN_FOLDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        ("shch|sch|sh", "s"),
        ("zh|j", "z"),
        ("kh", "h"),
        ("ch|ts|tz", "c"),
        ("gh", "g"),
        ("ng", "n"),  # Kazakh ң: н in Russian spelling, ng (BGN, anyascii), ñ (2021 Latin), n (passports)
        ("ck|q", "k"),
        ("x", "ks"),
        ("ph", "f"),
        ("w", "v"),
        ("(?<=[aeiou])y(?=[aeiou])|^y(?=[eo])", ""),  # Sergeyevich = Сергеевич, Yerlan = Ерлан
        ("y", "i"),  # й, ы and y: Ильясов, Ilyasov, Iliasov → iliasov
        (r"([a-z])\1+", r"\1"),  # Ilyassov/Ilyasov, Ассоциация/Асоциация
    )
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """NFKC, case-folded, Kazakh letters and ё folded to Russian ones, whitespace collapsed.

    The readable normal form (still in its own script): two spellings that differ only in Kazakh letters,
    case or spacing fold to the same string.
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_KAZAKH_TO_RUSSIAN)
    # casefold can produce new characters (ẞ→ss) and NFKC can recompose; one more round makes it a fixpoint.
    text = unicodedata.normalize("NFKC", text).casefold().translate(_KAZAKH_TO_RUSSIAN)
    return " ".join(text.split())


@lru_cache(maxsize=1_000_000)
def skeleton(token: str) -> str:
    """Script-independent key of one word (letters and digits only, lower-case ASCII); '' if none."""
    text = anyascii(fold(token).translate(_APOSTROPHES)).lower()
    text = _NOT_ALNUM.sub("", text)
    for _ in range(8):
        before = text
        for pattern, repl in _LATIN_FOLDS:
            text = pattern.sub(repl, text)
        text = _NOT_ALNUM.sub("", text)
        if text == before:
            break
    return text


def skeleton_text(text: str) -> str:
    """`skeleton` of every word, joined by single spaces, in the original order (a search key)."""
    return " ".join(piece for t in _WORD.findall(text) for piece in _WORD.findall(skeleton(t)))


@lru_cache(maxsize=200_000)
def _light(token: str) -> str:
    """Romanised lower-case letters without the lossy folds: for legal-form abbreviations (ГККП ≠ ГКП)."""
    return _NOT_ALNUM.sub("", anyascii(token.translate(_KAZAKH_TO_RUSSIAN)).lower()).replace("q", "k")


# --------------------------------------------------------------------------------------------- tokens

_QUOTES = '«»"“”„‟〝〞＂‹›'
_QUOTE = re.compile(f"[{re.escape(_QUOTES)}]")
_WORD = re.compile(r"\d+|[^\W\d_]+")


@dataclass(slots=True)  # not frozen: built six times per name, and a frozen __init__ costs twice as much
class _Tok:
    text: str  # as written
    skel: str  # skeleton
    light: str  # romanised, unfolded
    inside: bool  # inside the outermost quotes
    dotted: bool  # directly followed by '.'


_WORD_FORMS: dict[str, tuple[str, str]] = {}  # word → (skeleton, light): one lookup instead of two caches


def _tokens(text: str, *, inside: bool) -> list[_Tok]:
    out = []
    for m in _WORD.finditer(text):
        word = m.group()
        forms = _WORD_FORMS.get(word)
        if forms is None:
            if len(_WORD_FORMS) > 2_000_000:
                _WORD_FORMS.clear()
            forms = _WORD_FORMS[word] = (skeleton(word), _light(word))
        if not forms[0]:
            continue
        dotted = text[m.end() : m.end() + 1] == "."
        out.append(_Tok(word, forms[0], forms[1], inside, dotted))
    return out


def _split_quotes(text: str) -> tuple[str, str, str] | None:
    """(before, inside, after) around the outermost quoted span, or None when there is none."""
    first = _QUOTE.search(text)
    if first is None:
        return None
    last = max(text.rfind(q) for q in _QUOTES)
    if last == first.start():
        return None
    return text[: first.start()], text[first.start() + 1 : last], text[last + 1 :]


# ------------------------------------------------------------------------------------- phrase index

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    words: tuple[str, ...]  # skeletons
    prefix: tuple[bool, ...]  # per word: matches any ending of up to six letters (inflection)
    payload: T


def _like(tok: str, word: str, prefix: bool, *, fuzzy: bool, ending: int = 6) -> bool:
    """`tok` is `word` (or `word` + an ending of up to `ending` letters), allowing one typo (OSA edit) in
    words of five letters or more."""
    if prefix:
        if tok.startswith(word) and len(tok) - len(word) <= ending:
            return True
    elif tok == word:
        return True
    if not fuzzy or len(word) < 5 or len(tok) < 5 or tok[0] != word[0]:
        return False  # typos in the first letter are rare; allowing them turns «Стандарт» into «Астана»
    if not prefix:
        return OSA.distance(tok, word, score_cutoff=1) <= 1
    if len(tok) - len(word) > ending + 1:
        return False
    return any(OSA.distance(tok[: len(word) + k], word, score_cutoff=1) <= 1 for k in (0, -1, 1))


class _PhraseIndex(Generic[T]):
    """Phrases (legal forms, places, institution words) found in a token list, longest first, typo-tolerant."""

    def __init__(self, entries: list[_Entry[T]], *, ending: int = 6) -> None:
        self.ending = ending
        self.entries = sorted(entries, key=lambda e: (-len(e.words), sum(e.prefix)))
        self.by_start: dict[str, list[_Entry[T]]] = {}
        self.by_letter: dict[str, list[_Entry[T]]] = {}  # a typo never touches the first letter (see `_like`)
        for e in self.entries:
            self.by_start.setdefault(e.words[0][:4], []).append(e)
            self.by_letter.setdefault(e.words[0][:1], []).append(e)
        self._starts_cache: tuple[dict[str, list[_Entry[T]]], dict[str, list[_Entry[T]]]] = ({}, {})
        self._dead: tuple[set[str], set[str]] = (set(), set())  # words known to start nothing (exact, typo)

    def _starts(self, tok: str, typo: bool) -> list[_Entry[T]]:
        """Entries whose first word `tok` is (exactly, or allowing one typo). Cached: words repeat, and most
        start nothing, which this answers with one dictionary lookup."""
        cache = self._starts_cache[typo]
        found = cache.get(tok)
        if found is None:
            pool = (
                self.by_letter.get(tok[:1], []) if typo and len(tok) >= 5 else self.by_start.get(tok[:4], [])
            )
            found = [e for e in pool if _like(tok, e.words[0], e.prefix[0], fuzzy=typo, ending=self.ending)]
            if len(cache) > 2_000_000:
                cache.clear()
            cache[tok] = found
        return found

    def match(
        self, toks: list[_Tok], i: int, *, fuzzy: bool = True, blocked: set[int] | None = None
    ) -> tuple[_Entry[T], int] | None:
        """The longest entry starting at token i (and its length in tokens), or None. An exact match wins
        over a typo-tolerant one («управление» is not a mistyped «управления»), and a phrase may hold at most
        one mistyped word."""
        tok = toks[i].skel
        dead = self._dead[fuzzy]
        if tok in dead:  # most words start no phrase at all: answer them with one set lookup
            return None
        anything = False
        for allow_typo in (False, True) if fuzzy else (False,):
            starts = self._starts(tok, allow_typo)
            anything = anything or bool(starts)
            for e in starts:
                n = len(e.words)
                if i + n > len(toks) or (blocked and any(j in blocked for j in range(i, i + n))):
                    continue
                typos = 0 if _like(tok, e.words[0], e.prefix[0], fuzzy=False, ending=self.ending) else 1
                for k in range(1, n):
                    w, p, t = e.words[k], e.prefix[k], toks[i + k].skel
                    if _like(t, w, p, fuzzy=False, ending=self.ending):
                        continue
                    if not allow_typo or typos or not _like(t, w, p, fuzzy=True, ending=self.ending):
                        break
                    typos += 1
                else:
                    return e, n
        if not anything:
            if len(dead) > 2_000_000:
                dead.clear()
            dead.add(tok)
        return None


def _phrase_words(phrase: str) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """Skeletons of a phrase's words; a trailing * makes the last word match any ending."""
    words = tuple(skeleton(w) for w in _WORD.findall(phrase.rstrip("*")) if skeleton(w))
    prefix = tuple(phrase.endswith("*") and k == len(words) - 1 for k in range(len(words)))
    return words, prefix


# ---------------------------------------------------------------------------------------- legal forms


@dataclass(frozen=True, slots=True)
class _LegalForms:
    short: dict[str, tuple[str | None, bool]]  # light form → (type, allowed at the ends of an unquoted name)
    long: _PhraseIndex[str | None]  # None: a qualifier such as «на праве хозяйственного ведения»


@lru_cache(maxsize=1)
def _legal_forms() -> _LegalForms:
    short: dict[str, tuple[str | None, bool]] = {}
    long: list[_Entry[str | None]] = []
    with (REFERENCE_DIR / "legal_forms.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            type_ = row["type"] or None
            if row["kind"] == "short":
                short[_light(row["form"])] = (type_, row["unquoted"] == "yes")
                continue
            # Long forms are inflected in running text («филиал Товарищества с ограниченной …»):
            # every word of five letters or more matches by its first five.
            words = tuple(skeleton(w) for w in _WORD.findall(row["form"]) if skeleton(w))
            stems = tuple(w[:5] if len(w) >= 5 else w for w in words)
            long.append(_Entry(stems, tuple(len(w) >= 5 for w in words), type_))
    return _LegalForms(short, _PhraseIndex(long, ending=40))


def _find_legal_forms(toks: list[_Tok], *, quoted: bool, skip: set[int]) -> tuple[list[str | None], set[int]]:
    """Types of the legal forms found (in order) and the token positions they occupy.

    Long forms («Товарищество с ограниченной ответственностью») count anywhere outside the quotes. Short
    forms (ТОО) count anywhere outside the quotes of a quoted name; in an unquoted name only as its first or
    last word (`skip`: branch words and places do not count), and a two-letter one only in capitals — «Ак Жол»
    must not lose «Ак» as АҚ.
    """
    table = _legal_forms()
    types: list[str | None] = []
    used: set[int] = set()
    inside = {i for i, t in enumerate(toks) if quoted and t.inside}
    i = 0
    while i < len(toks):
        found = None if i in inside else table.long.match(toks, i, blocked=inside)
        if found is None:
            i += 1
            continue
        entry, n = found
        types.append(entry.payload)
        used.update(range(i, i + n))
        i += n
    free = [i for i in range(len(toks)) if i not in used and i not in skip and i not in inside]
    candidates = free if quoted else free[:1] + free[-1:]
    for i in dict.fromkeys(candidates):
        tok = toks[i]
        short = table.short.get(tok.light)
        if short is None:
            continue
        type_, unquoted_ok = short
        if not quoted and not unquoted_ok:
            continue
        if len(tok.text) <= 2 and not tok.text.isupper():
            continue
        if not quoted and len(toks) - len(used) <= 1:
            continue  # a name that is only «АО» or «ИП» keeps its one word
        types.append(type_)
        used.add(i)
    return types, used


# ------------------------------------------------------------------------------------------- places


@dataclass(frozen=True, slots=True)
class _Place:
    key: str
    level: str  # c city, r region (d district, v village come from markers)
    needs_marker: bool  # «Абай», «Жетісу» are places only next to «облысы», «области», …


@lru_cache(maxsize=1)
def _places() -> _PhraseIndex[_Place]:
    entries: list[_Entry[_Place]] = []
    with (REFERENCE_DIR / "places.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            place = _Place(row["key"], row["level"], row["needs_marker"] == "yes")
            for form in row["forms"].split("|"):
                words, prefix = _phrase_words(form)
                if words:
                    entries.append(_Entry(words, prefix, place))
    return _PhraseIndex(entries)


_CITY_BEFORE = {"g", "gor", "gorod", "goroda", "gorode"}  # «г. Астана», «города Астаны»
_CITY_AFTER = {"kalasi", "kalasinin", "kalasindagi", "kalasina", "city"}  # «Астана қаласы», «Almaty city»
_CITY_AFTER_DOTTED = {"k"}  # «Алматы қ.»: only with the dot, «ҚҚ» is a legal form
_VILLAGE_BEFORE = {"selo", "sela", "sele", "pos", "poselok", "poselka", "aul", "aula"}
_VILLAGE_BEFORE_DOTTED = {"s", "p"}  # «с.» and «п.» only with the dot: «с» is also a preposition
_VILLAGE_AFTER = {"auili", "auilinin", "auilindagi", "kenti", "selosi", "village"}


def _region_marker(skel: str) -> bool:
    return skel in {"obl", "region", "oblast"} or skel.startswith(("oblas", "oblis"))


_DISTRICT_STEMS = (skeleton("район")[:4], skeleton("raion")[:4], skeleton("ауданы")[:5])  # raon, raio, audan


def _district_marker(skel: str) -> bool:
    return skel in {"district", "rn"} or skel.startswith(_DISTRICT_STEMS)


def _marker_level(toks: list[_Tok], i: int, after: bool) -> str | None:
    """The level a marker word at position i gives the place next to it (`after`: the marker follows it)."""
    if not 0 <= i < len(toks):
        return None
    s = toks[i].skel
    if _region_marker(s):
        return "r"
    if _district_marker(s):
        return "d"
    if after:
        if s in _CITY_AFTER or (s in _CITY_AFTER_DOTTED and toks[i].dotted and len(toks[i].text) == 1):
            return "c"
        if s in _VILLAGE_AFTER:
            return "v"
    else:
        if s in _CITY_BEFORE:
            return "c"
        if s in _VILLAGE_BEFORE or (s in _VILLAGE_BEFORE_DOTTED and toks[i].dotted):
            return "v"
    return None


_ADJECTIVE = re.compile(r"^(.{3,}?)sk(ogo|oi|ii|i|aa|a|ie|om|oe|uu|u)?$")
_VOWELS_AT_END = re.compile(r"[aeiou]+$")
_NAMED_AFTER_BEFORE = {"imeni", "im"}  # «школа имени Абая»: a person, not a place
_NAMED_AFTER_AFTER = {"atindagi"}  # «Абай атындағы мектеп»


def _unknown_place_key(skel: str) -> str:
    m = _ADJECTIVE.match(skel)
    base = m.group(1) if m else skel
    return _VOWELS_AT_END.sub("", base) or base


def _find_places(toks: list[_Tok], *, quoted: bool, ignore: set[int]) -> tuple[set[str], set[int]]:
    """Place features ('c:astana', 'r:almaty', 'd:almal') and the positions to drop from the compared name.

    A place is dropped from the compared name when it is written as a location — next to a marker (г., облысы,
    района), outside the quotes, or as the last word of an unquoted name — and kept when it is part of a
    brand («Астана Инвест»). `ignore`: legal-form and branch words, which do not end a name. Mistyped place
    names are recognised only where a place is expected (next to a marker, or in a location position).
    """
    places: set[str] = set()
    drop: set[int] = set()
    named_after = {i + 1 for i, t in enumerate(toks) if t.skel in _NAMED_AFTER_BEFORE}
    named_after |= {i - 1 for i, t in enumerate(toks) if t.skel in _NAMED_AFTER_AFTER}
    all_upper = all(t.text.isupper() or t.text.isdigit() for t in toks)
    rest = [j for j in range(len(toks)) if j not in ignore]
    first, last = (rest[0], rest[-1]) if rest else (-1, -1)
    inside = [j for j in rest if toks[j].inside]
    first_inside = inside[0] if inside else -1
    index = _places()
    i = 0
    while i < len(toks):
        if i in named_after or i in ignore or toks[i].skel.isdigit():
            i += 1
            continue
        found = index.match(toks, i, fuzzy=False, blocked=ignore)
        n = found[1] if found else 1
        before = _marker_level(toks, i - 1, after=False)
        after = _marker_level(toks, i + n, after=True)
        level = before or after
        # Written as a location: outside the quotes, or after the first word of the name proper
        # («Управление образования Семей»); the first word is part of a brand («Астана Инвест»).
        location = (quoted and (not toks[i].inside or i > first_inside)) or (
            not quoted and i + n - 1 == last and i > first
        )
        if found is None and (level == "c" or (level is None and location)):
            # «г. Темрртау», «… Крааганда»; not next to «района»: «Алмалинского» is not a mistyped «Алматинского»
            found = index.match(toks, i, fuzzy=True, blocked=ignore)
            n = found[1] if found else 1
            after = _marker_level(toks, i + n, after=True) if found else after
            level = before or after
        if found is not None:
            place = found[0].payload
            if place.needs_marker and level is None:
                i += n
                continue
            key = place.key
            level = level or place.level
        elif level is not None and (
            (toks[i].text[:1].isupper() and not all_upper) or _ADJECTIVE.match(toks[i].skel)
        ):
            key = _unknown_place_key(toks[i].skel)  # «г. Новоград», «Алмалинского района»: not in our list
        else:
            i += 1
            continue
        places.add(f"{level}:{key}")
        if before or after or location:
            drop.update(range(i, i + n))
            if before:
                drop.add(i - 1)
            if after:
                drop.add(i + n)
        i += n
    return places, drop


# ------------------------------------------------------------------------------------------ vocabulary


@lru_cache(maxsize=1)
def _vocabulary() -> _PhraseIndex[str]:
    entries: list[_Entry[str]] = []
    with (REFERENCE_DIR / "org_vocabulary.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["concept"].startswith("#"):
                continue
            words, prefix = _phrase_words(row["phrase"])
            if words:
                entries.append(_Entry(words, prefix, row["concept"]))
    return _PhraseIndex(entries)


def _apply_vocabulary(toks: list[_Tok], drop: set[int]) -> dict[int, str]:
    """Concept words replacing translated institution words (школа = мектеп = school → SCHOOL); the
    positions of subordinate-body phrases («отдела образования», «әкімдігінің») are added to `drop`."""
    concepts: dict[int, str] = {}
    index = _vocabulary()
    i = 0
    while i < len(toks):
        found = None if i in drop else index.match(toks, i, blocked=drop)
        if found is None:
            i += 1
            continue
        entry, n = found
        if entry.payload == "DROP":
            drop.update(range(i, i + n))
        else:
            concepts[i] = entry.payload
            drop.update(range(i + 1, i + n))
        i += n
    return concepts


# ------------------------------------------------------------------------------------------ the result

# The abbreviation shown for each type (Kazakh and English forms map to the Russian one).
LEGAL_TYPE_ABBREVIATION = {
    "llp": "ТОО",
    "jsc": "АО",
    "nonprofit_jsc": "НАО",
    "ie": "ИП",
    "farm": "КХ",
    "state_institution": "ГУ",
    "municipal_treasury_enterprise": "ГККП",
    "municipal_enterprise": "ГКП",
    "republican_treasury_enterprise": "РГКП",
    "republican_enterprise": "РГП",
    "private_institution": "ЧУ",
    "public_association": "ОО",
    "fund": "ОФ",
    "association": "ОЮЛ",
    "cooperative": "ПК",
    "ooo": "ООО",
}
# Skeleton prefixes of «филиал», «представительство», «өкілдігі», «branch», «representative office».
_BRANCH = tuple(
    skeleton(w)[:7] for w in ("филиал", "представительство", "өкілдігі", "branch", "representative")
)
_NUMBER_MARKERS = {"n", "no", "nomer", "nr"}
# Prepositions and conjunctions («Филиал … по г. Кокшетау», «… и спорта»): no name is told apart by them.
_FUNCTION_WORDS = {"по", "на", "для", "при", "из", "от", "of", "the", "and", "in", "at", "for", "by"}
_ORDINAL_SUFFIXES = {"a", "i", "ii", "oi", "ogo", "aa", "oe", "si", "nsi", "st", "nd", "rd", "th", "e"}


@dataclass(frozen=True, slots=True)
class OrgName:
    """An organization name taken apart for matching."""

    raw: str
    legal_type: str | None  # e.g. 'llp' for ТОО/ЖШС/LLP; None when no legal form is written
    legal_types: tuple[str, ...]  # every type written (normally one)
    core: str  # the compared name: sorted unique skeleton words, without legal form, numbers, located places
    numbers: frozenset[str]
    places: frozenset[str]  # 'c:astana', 'r:almaty', 'd:…', 'v:…'
    branch: bool  # «филиал», «представительство», «branch»

    def __reduce__(self) -> tuple[type[OrgName], tuple[object, ...]]:
        # Pickled by position: three times faster to load than the dataclass default (names cross processes).
        return OrgName, (
            self.raw,
            self.legal_type,
            self.legal_types,
            self.core,
            self.numbers,
            self.places,
            self.branch,
        )

    @property
    def legal_form(self) -> str | None:
        """The Russian abbreviation of the legal type (ЖШС and LLP show as ТОО)."""
        return LEGAL_TYPE_ABBREVIATION.get(self.legal_type) if self.legal_type else None


def normalize_org(name: str) -> OrgName:
    """Take an organization name apart: legal form, compared words, numbers, places, branch marker."""
    text = unicodedata.normalize("NFKC", name.replace("№", " # ").replace("\u00a0", " ")).translate(
        _APOSTROPHES
    )
    parts = _split_quotes(text)
    if parts is not None and (parts[0].strip() or parts[2].strip()):
        before, inside, after = parts
        toks = _tokens(before, inside=False) + _tokens(inside, inside=True) + _tokens(after, inside=False)
        quoted = True
    else:
        toks = _tokens(text if parts is None else parts[1], inside=False)
        quoted = False
    branch_at = {i for i, t in enumerate(toks) if t.skel.startswith(_BRANCH)}
    # Words that do not end a name when looking for «ТОО» at its ends: «Филиал Өрлеу ЖШС в г. Атырау».
    filler = {
        i
        for i, t in enumerate(toks)
        if len(t.text) == 1 or t.text.lower() in _FUNCTION_WORDS or t.skel in _CITY_BEFORE
    }
    gazetteer_at: set[int] = set()
    for i in range(len(toks)):
        found = _places().match(toks, i, fuzzy=False)
        if found is not None and not found[0].payload.needs_marker:
            gazetteer_at.update(range(i, i + found[1]))
    types, used = _find_legal_forms(toks, quoted=quoted, skip=branch_at | gazetteer_at | filler)
    places, place_drop = _find_places(toks, quoted=quoted, ignore=used | branch_at)
    numbers: set[str] = set()
    drop = used | place_drop | branch_at
    for i, tok in enumerate(toks):
        s = tok.skel
        if s.isdigit():
            numbers.add(s.lstrip("0") or "0")
            drop.add(i)
            if i > 0 and toks[i - 1].skel in _NUMBER_MARKERS:
                drop.add(i - 1)
            if (
                i + 1 < len(toks)
                and toks[i + 1].skel in _ORDINAL_SUFFIXES
                and toks[i + 1].inside == tok.inside
            ):
                drop.add(i + 1)
    concepts = _apply_vocabulary(toks, drop)
    words = [
        concepts.get(i, t.skel)
        for i, t in enumerate(toks)
        if i not in drop and not t.skel.isdigit() and t.text.lower() not in _FUNCTION_WORDS
    ]
    longer = [w for w in words if len(w) > 1]
    core = " ".join(sorted(set(longer or words)))
    real_types = tuple(t for t in types if t is not None)
    return OrgName(
        raw=name,
        legal_type=real_types[0] if real_types else None,
        legal_types=real_types,
        core=core,
        numbers=frozenset(numbers),
        places=frozenset(places),
        branch=bool(branch_at),
    )


def places_compatible(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two place sets can describe one organization: either is empty, or they share a level and agree on
    every level both name (so «г. Астаны» vs «Алматинского района г. Астаны» agree, «г. Алматы» vs
    «Алматинской области» do not)."""
    if not a or not b:
        return True
    levels_a: dict[str, set[str]] = {}
    for p in a:
        levels_a.setdefault(p[0], set()).add(p)
    levels_b: dict[str, set[str]] = {}
    for p in b:
        levels_b.setdefault(p[0], set()).add(p)
    shared = levels_a.keys() & levels_b.keys()
    return bool(shared) and all(levels_a[lv] & levels_b[lv] for lv in shared)
