"""Person names (ФИО) in Kazakh, Russian and Latin script: parsed into surname, given name, patronymic.

Sources write the same official as «Ильясов Мухтар Бекович», «Ильясов М.Б.», «М. Ильясов», «Ilyassov Mukhtar»
and «Ильясов Мухтар Бекұлы»; the parser finds the parts whatever their order, with or without dots, with the
Kazakh patronymic glued («Бекұлы»), hyphenated («Bek-uly») or separate («Бек ұлы»), and keys every part with
the script-independent `entities.names.skeleton`. `compare` then says how well two parsed names agree and
which hard disagreement (gender, initials, patronymic) rules a match out. Precision comes first: a wrong merge
of two people can defame someone, so `compare` only scores names; whether a score may link two people
depends on the context they were named in, which the matcher (`entities.resolve`) decides.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz.distance import OSA
from rapidfuzz.fuzz import ratio

from entities.config import REFERENCE_DIR
from entities.names import skeleton as _word_skeleton

Gender = Literal["m", "f"]

# Skeleton suffixes (see `skeleton`: -ович → ovic, -ұлы/-улы/-uly → uli, -қызы/-kyzy → kizi).
_PATRONYMIC_SUFFIXES: tuple[tuple[str, Gender], ...] = (
    ("ovic", "m"),
    ("evic", "m"),
    ("ovna", "f"),
    ("evna", "f"),
    ("inicna", "f"),
    ("icna", "f"),
    ("uli", "m"),
    ("ogli", "m"),
    ("kizi", "f"),
)
_SEPARATE_PATRONYMIC_MARKERS = {"uli", "ogli", "kizi"}  # «Бек ұлы», «Нурлан кызы»
_SURNAME_SUFFIXES: tuple[tuple[str, Gender | None], ...] = (
    ("ova", "f"),
    ("eva", "f"),
    ("ina", "f"),
    ("ska", "f"),
    ("ov", "m"),
    ("ev", "m"),
    ("in", "m"),
    ("ski", "m"),
    ("enko", None),
)
# Latin initials written with two letters: Zh. (Ж), Sh. (Ш), Ch. (Ч), Kh. (Х), Ts. (Ц), Yu. (Ю), Ya. (Я), Ye. (Е),
# Gh. (Ғ, BGN/PCGN Kazakh)
_DIGRAPH_INITIALS = {"zh", "sh", "ch", "kh", "ts", "yu", "ya", "ye", "gh"}
# Russian patronymics of the short form, which no suffix rule can tell from a surname like Бабич: Ильич (Илья),
# Кузьмич, Фомич, Лукич, Никитич, Саввич. Listed whole, as skeletons.
_SHORT_PATRONYMICS = {"ilic", "kuzmic", "fomic", "lukic", "nikitic", "savic"}
# Person-only folds on top of the word skeleton, for transliterations of ё and ц that the organization keys do
# not need: Solovyov/Соловьёв (yo after a consonant → io; ё folds to е), Pyotr/Пётр, Kuznetcova/Кузнецова (GOST
# 2006 writes ц as tc).
_PERSON_FOLDS = ((re.compile(r"(?<=[b-df-hj-np-tv-z])io"), "e"), (re.compile("tc"), "c"))


@lru_cache(maxsize=500_000)
def skeleton(token: str) -> str:
    """`entities.names.skeleton` plus the person-only folds above."""
    text = _word_skeleton(token)
    for pattern, repl in _PERSON_FOLDS:
        text = pattern.sub(repl, text)
    return text
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_APOSTROPHES = str.maketrans(dict.fromkeys("'’ʼ`´ʻ‘", ""))


@lru_cache(maxsize=1)
def _given_names() -> dict[str, Gender]:
    out: dict[str, Gender] = {}
    with (REFERENCE_DIR / "given_names.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            gender: Gender = "m" if row["gender"] == "m" else "f"
            out.setdefault(skeleton(row["name"]), gender)
    return out


def _patronymic(skel: str, *, typo: bool = False) -> tuple[str, Gender] | None:
    """(stem, gender) when the word is shaped like a patronymic: Бекович/Бекұлы → ('bek', 'm').

    With `typo`, a four-letter ending one edit away also counts (Жаксылыкыкзы), for a long word in the
    patronymic's place.
    """
    if skel in _SHORT_PATRONYMICS:
        return skel[:-2], "m"
    for suffix, gender in _PATRONYMIC_SUFFIXES:
        if skel.endswith(suffix) and len(skel) - len(suffix) >= 2:
            stem = skel[: -len(suffix)]
            if suffix in {"ovic", "ovna"} and stem.endswith("o"):
                stem = stem[:-1]
            return stem, gender
    if typo and len(skel) >= 8:
        for suffix, gender in _PATRONYMIC_SUFFIXES:
            if len(suffix) < 4:
                continue
            for cut in (len(suffix), len(suffix) + 1, len(suffix) - 1):
                if OSA.distance(skel[-cut:], suffix, score_cutoff=1) <= 1:
                    return skel[:-cut], gender
    return None


def _surname_gender(skel: str) -> tuple[bool, Gender | None]:
    """(looks like a surname, gender the ending implies)."""
    if skel in _given_names():
        return False, None
    for suffix, gender in _SURNAME_SUFFIXES:
        if skel.endswith(suffix) and len(skel) - len(suffix) >= 2:
            return True, gender
    return False, None


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    skel: str
    initial: bool


@dataclass(frozen=True, slots=True)
class PersonName:
    """A parsed ФИО. Keys are skeletons; `*_text` are the words as written (for display)."""

    raw: str
    surname: str | None
    given: str | None  # full given name
    given_initial: str | None  # first letter of the given name's skeleton (from the name or an initial)
    patronymic: str | None  # patronymic stem: Бекович, Бекұлы, Bekuly → 'bek'
    patronymic_initial: str | None
    gender: Gender | None
    order_certain: bool  # the parser had evidence for which word is the surname
    surname_text: str | None = None
    given_text: str | None = None
    patronymic_text: str | None = None
    patronymic_gender: Gender | None = None  # what the patronymic's ending says, if anything

    def __reduce__(self) -> tuple[type[PersonName], tuple[object, ...]]:
        # Pickled by position: much faster to load than the dataclass default (names cross processes).
        return PersonName, tuple(getattr(self, f) for f in self.__slots__)  # type: ignore[attr-defined]

    @property
    def usable(self) -> bool:
        """A surname and at least the initial of a given name: anything less names nobody."""
        return bool(self.surname) and bool(self.given_initial)

    @property
    def key(self) -> str:
        """The parsed form as one string, equal for names that parse identically."""
        return "|".join(
            x or ""
            for x in (
                self.surname,
                self.given or self.given_initial,
                self.patronymic or self.patronymic_initial,
            )
        )


def _split_initials(text: str, word: str, position: int) -> list[str]:
    """«МБ» in «Ильясов МБ» (and «АМ» in «УАЛИЕВ АМ») is two initials run together; anything else is one word.

    In an all-capitals name only a two-letter word after the first counts: «ЛИ АНАТОЛИЙ» is a surname.
    """
    if not word.isupper() or "-" in word:
        return [word]
    if text.isupper():
        return list(word) if len(word) == 2 and position > 0 else [word]
    return list(word) if len(word) <= 3 else [word]


def _words(text: str) -> list[_Word]:
    out: list[_Word] = []
    for position, m in enumerate(_WORD.finditer(text)):
        word = m.group()
        dotted = text[m.end() : m.end() + 1] == "."
        pieces = [word] if dotted or len(word) == 1 else _split_initials(text, word, position)
        for piece in pieces:
            skel = skeleton(piece)
            if not skel:
                continue
            initial = len(piece) == 1 or (dotted and piece.lower() in _DIGRAPH_INITIALS) or len(pieces) > 1
            out.append(_Word(piece, skel, initial))
    # Kazakh patronymic written apart: «Бек ұлы» → «Бекұлы».
    glued: list[_Word] = []
    for w in out:
        if w.skel in _SEPARATE_PATRONYMIC_MARKERS and glued and not glued[-1].initial:
            prev = glued.pop()
            glued.append(_Word(f"{prev.text} {w.text}", prev.skel + w.skel, False))
        else:
            glued.append(w)
    return glued


def parse_person(name: str) -> PersonName:
    """Parse a ФИО in any order, with initials, Kazakh or Russian patronymics, in Cyrillic or Latin script."""
    text = unicodedata.normalize("NFKC", name).translate(_APOSTROPHES)
    comma_first = "," in text and _WORD.search(text.split(",", 1)[0]) is not None
    words = _words(text)
    full = [w for w in words if not w.initial]
    initials = [w for w in words if w.initial]
    given_names = _given_names()

    surname: _Word | None = None
    given: _Word | None = None
    patronymic: _Word | None = None
    certain = False
    pat_at = [i for i, w in enumerate(full) if _patronymic(w.skel) is not None]

    if len(full) == 1:
        surname, certain = full[0], bool(initials)
    elif len(full) == 2:
        a, b = full
        if 1 in pat_at and 0 not in pat_at:
            if a.skel in given_names and b.skel.endswith(("uli", "kizi", "ogli")):
                given, surname, certain = a, b, True  # «Нұрлан Тұрсынұлы»: the -ұлы form serves as a surname
            elif a.skel in given_names and not initials:
                given, patronymic, certain = a, b, True  # «Мухтар Бекович»: no surname at all
            else:
                surname, patronymic, certain = a, b, True
        elif comma_first:
            surname, given, certain = a, b, True
        else:
            a_sur, _ = _surname_gender(a.skel)
            b_sur, _ = _surname_gender(b.skel)
            a_given, b_given = a.skel in given_names, b.skel in given_names
            if a_given and b_given and given_names[a.skel] != given_names[b.skel]:
                # «Akmaral Tolegen»: Kazakh surnames without a suffix are men's names, never women's.
                female_first = given_names[a.skel] == "f"
                surname, given, certain = (b, a, True) if female_first else (a, b, True)
            elif (a_given and not b_given) or (b_sur and not a_sur):
                surname, given, certain = b, a, True
            else:
                surname, given = a, b
                certain = (b_given and not a_given) or (a_sur and not b_sur) or 0 in pat_at
    elif len(full) >= 3:
        if pat_at and pat_at[-1] == 1 and len(full) == 3:
            given, patronymic, surname, certain = full[0], full[1], full[2], True  # Мухтар Бекович Ильясов
        elif pat_at and pat_at[-1] >= 2:
            p = pat_at[-1]
            rest = [w for i, w in enumerate(full) if i != p]
            a, b = rest[0], rest[1]
            if a.skel in given_names and b.skel not in given_names and not comma_first:
                given, surname = a, b  # Мухтар Ильясов Бекович
            else:
                surname, given = a, b
            patronymic, certain = full[p], True
        elif len(full) == 3 and _patronymic(full[2].skel, typo=True) is not None:
            surname, given, patronymic, certain = full[0], full[1], full[2], True  # a mistyped ending
        else:
            surname, given, patronymic = (
                full[0],
                full[1],
                full[2],
            )  # «Ильясов Мухтар Бек»: patronymic unmarked

    given_initial: str | None = given.skel[:1] if given else None
    patronymic_initial: str | None = None
    pending = [w.skel[:1] for w in initials]
    if given is None and pending:
        given_initial = pending.pop(0)
    if patronymic is None and pending:
        patronymic_initial = pending.pop(0)
    pat_stem: str | None = None
    pat_gender: Gender | None = None
    if patronymic is not None:
        parsed = _patronymic(patronymic.skel, typo=True)
        if parsed is not None:
            pat_stem, pat_gender = parsed
        else:
            pat_stem = patronymic.skel
        patronymic_initial = (pat_stem or patronymic.skel)[:1]
    gender = _gender(pat_gender, surname.skel if surname else None, given.skel if given else None)
    return PersonName(
        raw=name,
        surname=surname.skel if surname else None,
        given=given.skel if given else None,
        given_initial=given_initial,
        patronymic=pat_stem,
        patronymic_initial=patronymic_initial,
        gender=gender,
        order_certain=certain,
        surname_text=surname.text if surname else None,
        given_text=given.text if given else None,
        patronymic_text=patronymic.text if patronymic else None,
        patronymic_gender=pat_gender,
    )


def _gender(from_patronymic: Gender | None, surname: str | None, given: str | None) -> Gender | None:
    """The patronymic's ending decides; else the surname's (-ова, -ов); else a known given name."""
    if from_patronymic is not None:
        return from_patronymic
    if surname is not None:
        by_surname = _surname_gender(surname)[1]
        if by_surname is not None:
            return by_surname
    return _given_names().get(given) if given is not None else None


# ------------------------------------------------------------------------------------------ comparison

Tier = Literal["full3", "full2", "initials", "surname", "none"]
# Below these ratios two names are different words, not typos of one: Нурлан/Нурсултан (80) and Марат/Мурат
# (80) are different given names. Surnames get more room (Досмагамбетова/Досмагмбетова 96, Ильясов/Ильсов 83)
# because linking needs more than a compatible surname anyway (see `entities.resolve.person_link_rule`).
_SAME_GIVEN = 85
_SAME_SURNAME = 80


@dataclass(frozen=True, slots=True)
class PersonMatch:
    score: float  # 0–100; 0 when vetoed
    tier: Tier  # how much of the name both sides spell out: full3 (all three parts), full2, initials, surname
    veto: str | None  # why these cannot be one person: gender, surname, given, patronymic
    surname_score: float = 0.0
    given_score: float = 0.0


def _given_typo(a: str, b: str) -> bool:
    """One edit apart, and not two names we know: a typo rather than another person's name."""
    if min(len(a), len(b)) < 4 or OSA.distance(a, b, score_cutoff=1) > 1:
        return False
    known = _given_names()
    return not (a in known and b in known)


def _swapped(p: PersonName) -> PersonName | None:
    """The same name with surname and given name exchanged (for names whose order the parser guessed)."""
    if p.order_certain or p.given is None or p.surname is None:
        return None
    return PersonName(
        raw=p.raw,
        surname=p.given,
        given=p.surname,
        given_initial=p.surname[:1],
        patronymic=p.patronymic,
        patronymic_initial=p.patronymic_initial,
        gender=_gender(p.patronymic_gender, p.given, p.surname),
        order_certain=False,
        surname_text=p.given_text,
        given_text=p.surname_text,
        patronymic_text=p.patronymic_text,
        patronymic_gender=p.patronymic_gender,
    )


def _compare_oriented(a: PersonName, b: PersonName) -> PersonMatch:
    if not a.usable or not b.usable:
        return PersonMatch(0.0, "none", "unusable")
    assert a.surname is not None
    assert b.surname is not None
    if a.gender is not None and b.gender is not None and a.gender != b.gender:
        return PersonMatch(0.0, "none", "gender")
    s_sur = ratio(a.surname, b.surname)
    if s_sur < _SAME_SURNAME:
        return PersonMatch(0.0, "none", "surname", s_sur)
    # given name
    if a.given and b.given:
        known = _given_names()
        s_giv = ratio(a.given, b.given)
        if s_giv < _SAME_GIVEN and _given_typo(a.given, b.given):
            s_giv = _SAME_GIVEN  # «Гаусар» is «Гаухар» mistyped; «Мурат» is not «Марат»
        if s_giv < _SAME_GIVEN or (a.given != b.given and a.given in known and b.given in known):
            # Two given names we both know are two names, however close (Айбек and Әлібек): not a typo.
            return PersonMatch(0.0, "none", "given", s_sur, s_giv)
    elif a.given_initial != b.given_initial:
        return PersonMatch(0.0, "none", "given", s_sur)
    else:
        s_giv = 100.0
    # patronymic
    s_pat: float | None = None
    if a.patronymic and b.patronymic:
        s_pat = ratio(a.patronymic, b.patronymic)
        known = _given_names()
        # A patronymic is a father's given name: two we both know are two fathers (Үсенқызы, Дүйсенқызы).
        if s_pat < 75 or (a.patronymic != b.patronymic and a.patronymic in known and b.patronymic in known):
            return PersonMatch(0.0, "none", "patronymic", s_sur, s_giv)
    elif a.patronymic_initial and b.patronymic_initial and a.patronymic_initial != b.patronymic_initial:
        return PersonMatch(0.0, "none", "patronymic", s_sur, s_giv)
    if a.given and b.given:
        tier: Tier = "full3" if a.patronymic and b.patronymic else "full2"
    else:
        tier = "initials"
    parts = [(s_sur, 0.5), (s_giv, 0.3)] + ([(s_pat, 0.2)] if s_pat is not None else [])
    score = sum(s * w for s, w in parts) / sum(w for _, w in parts)
    return PersonMatch(score, tier, None, s_sur, s_giv)


def compare(a: PersonName, b: PersonName) -> PersonMatch:
    """How well two parsed names agree; when the parser guessed an order, the other order is tried too."""
    best = _compare_oriented(a, b)
    for x, y in ((_swapped(a), b), (a, _swapped(b))):
        if x is not None and y is not None:
            other = _compare_oriented(x, y)
            if other.veto is None and (best.veto is not None or other.score > best.score):
                best = other
    return best
