"""Organization names: Kazakh letters, legal forms (the whole table), numbers, places, branches, vocabulary."""

from __future__ import annotations

import csv
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entities.config import REFERENCE_DIR
from entities.names import fold, normalize_org, places_compatible, skeleton, skeleton_text

LEGAL_FORMS = list(csv.DictReader((REFERENCE_DIR / "legal_forms.csv").open(encoding="utf-8")))


@pytest.mark.parametrize(
    "name",
    [
        'ТОО "Күнделік"',
        "Кунделик ТОО",
        "KUNDELIK LLP",
        "Күнделік ЖШС",
        "Товарищество с ограниченной ответственностью «Кунделик»",
        "«Күнделік (Kundelik)» ЖШС",
        "Жауапкершілігі шектеулі серіктестігі «Küñdelik»",
        "TОО «КУНДЕЛИК»",  # Latin T, Cyrillic ОО: a look-alike typed by hand
    ],
)
def test_spellings_of_one_company_meet(name: str) -> None:
    org = normalize_org(name)
    assert org.core == "kundelik"
    assert org.legal_type == "llp"
    assert org.legal_form == "ТОО"


@pytest.mark.parametrize(("a", "b"), [("Күнделік", "KUNDELIK"), ("Шыңғыс", "Shyngys"), ("Ильясов", "Ilyassov"),
                                      ("Жанар", "Janar"), ("Қазақстан", "Qazaqstan"), ("Дмитрий", "Dmitriy")])  # fmt: skip
def test_skeleton_is_script_independent(a: str, b: str) -> None:
    assert skeleton(a) == skeleton(b)


@pytest.mark.parametrize("row", [r for r in LEGAL_FORMS if r["type"]], ids=lambda r: r["form"])
def test_every_legal_form_in_the_table_is_found_outside_the_quotes(row: dict[str, str]) -> None:
    before = normalize_org(f"{row['form']} «Бастау»")
    after = normalize_org(f"«Бастау» {row['form']}")
    assert (before.legal_type, before.core) == (row["type"], "bastau")
    assert (after.legal_type, after.core) == (row["type"], "bastau")


@pytest.mark.parametrize("row", [r for r in LEGAL_FORMS if not r["type"]], ids=lambda r: r["form"])
def test_qualifiers_leave_the_compared_name(row: dict[str, str]) -> None:
    org = normalize_org(f"РГП {row['form']} «Бастау»")
    assert (org.legal_type, org.core) == ("republican_enterprise", "bastau")


def test_legal_form_inside_quotes_is_part_of_the_name() -> None:
    org = normalize_org("ТОО «АО Сервис»")
    assert org.legal_type == "llp"
    assert org.core == "ao servis"


def test_unquoted_short_forms_only_at_the_ends_and_two_letters_only_in_capitals() -> None:
    assert normalize_org("Ак Жол").core == "ak zol"  # «Ак» is a word, not АҚ
    assert normalize_org("ТОО Ак Жол").legal_type == "llp"
    assert normalize_org("Сервис АО Плюс").legal_type is None
    assert normalize_org("АО").core == "ao"  # a name that is only a form keeps its one word


def test_long_forms_are_found_inflected_and_mistyped() -> None:
    assert normalize_org("Филиал Товарищества с ограниченной ответственностью «Бастау»").legal_type == "llp"
    assert normalize_org("Частое учреждение «Бастау»").legal_type == "private_institution"


@pytest.mark.parametrize(
    "name", ["Школа №12", "Школа № 12", "Школа N12", "Школа No 12", "Школа 12", "Школа №012"]
)
def test_numbers_are_a_separate_feature(name: str) -> None:
    org = normalize_org(name)
    assert org.numbers == {"12"}
    assert org.core == "SCHOOL"


@pytest.mark.parametrize(
    ("name", "places"),
    [
        ("КГУ «Средняя школа №5» г. Астаны", {"c:astana"}),
        ("Средняя школа №5 города Астана", {"c:astana"}),
        ("Астана қаласы «№5 орта мектеп»", {"c:astana"}),
        ("Управление образования Алматинской области", {"r:almaty"}),
        ("Алматы облысының білім басқармасы", {"r:almaty"}),
        ("Управление образования г. Алматы", {"c:almaty"}),
        ("Отдел образования Алмалинского района г. Алматы", {"d:almalin", "c:almaty"}),
        ("Детский сад №7 г. Темрртау", {"c:temirtau"}),  # a mistyped city next to «г.»
        ("Школа №3 с. Новоселовка", {"v:novoselovk"}),  # not in our list, but after «с.»
        ("школа имени Абая", set()),  # a person, not the region
        ("ТОО «Жетісу Строй»", set()),  # «Жетісу» is a region only next to «облысы»
    ],
)
def test_places(name: str, places: set[str]) -> None:
    assert normalize_org(name).places == places


def test_a_place_in_a_brand_stays_in_the_compared_name() -> None:
    assert normalize_org("ТОО «Астана Инвест»").core == "astana invest"
    assert normalize_org("ТОО «Инвест»").core == "invest"
    assert normalize_org("Школа №5 г. Астаны").core == "SCHOOL"


def test_places_compatible() -> None:
    astana = frozenset({"c:astana"})
    assert places_compatible(astana, frozenset())
    assert places_compatible(astana, frozenset({"c:astana", "d:almal"}))
    assert not places_compatible(astana, frozenset({"c:almaty"}))
    assert not places_compatible(frozenset({"c:almaty"}), frozenset({"r:almaty"}))  # city vs region body


def test_branch_marker() -> None:
    assert normalize_org("Филиал ТОО «Кунделик» в г. Алматы").branch
    assert normalize_org("«Күнделік» ЖШС Алматы филиалы").branch
    assert normalize_org("Kundelik LLP Almaty branch").branch
    assert not normalize_org("ТОО «Кунделик»").branch


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Средняя общеобразовательная школа №12", "№12 жалпы білім беретін орта мектеп"),
        ("Ясли-сад №5", "№5 бөбекжай-бақша"),
        ("Детский сад №7", "№7 балабақша"),
        ("КГУ «Гимназия №3» отдела образования г. Астаны", "КГУ «Гимназия №3» акимата г. Астаны"),
    ],
)
def test_russian_and_kazakh_institution_words_meet(a: str, b: str) -> None:
    assert normalize_org(a).core == normalize_org(b).core


def test_vocabulary_prefers_the_exact_word_to_a_typo_of_another() -> None:
    # «управление образования» (the body) is one letter from «управления образования» (a subordinate
    # phrase that is dropped); the exact reading must win.
    assert normalize_org("Управление образования г. Алматы").core == "EDU_ADMINISTRATION"


# ----------------------------------------------------------------------------------------- properties

_CONCEPT = re.compile(r"^[A-Z_]+$")


@settings(max_examples=300)
@given(st.text())
def test_normalization_never_fails_and_lands_in_skeleton_space(text: str) -> None:
    org = normalize_org(text)
    for word in org.core.split():
        assert _CONCEPT.match(word) or skeleton(word) == word
    assert all(n.isdigit() for n in org.numbers)


@settings(max_examples=300)
@given(st.text())
def test_fold_and_skeleton_are_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    s = skeleton(text)
    assert skeleton(s) == s
    assert re.fullmatch(r"[a-z0-9]*", s)
    assert skeleton_text(skeleton_text(text)) == skeleton_text(text)


@settings(max_examples=200)
@given(
    st.text(alphabet='абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһіАБВГДЕЖЗКЛМНОПРСТӘҒҚҢӨҰҮҺІ«»"№ .-0123456789')
)
def test_normalization_is_deterministic_on_cyrillic_names(text: str) -> None:
    assert normalize_org(text) == normalize_org(text)
