"""Person names: ФИО in any order, initials, Kazakh and Russian patronymics, Latin transliterations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entities.persons import compare, parse_person

MUKHTAR = ("iliasov", "muhtar", "m", "bek", "b", "m")


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("Ильясов Мухтар Бекович", MUKHTAR),
        ("Мухтар Бекович Ильясов", MUKHTAR),
        ("ИЛЬЯСОВ МУХТАР БЕКҰЛЫ", MUKHTAR),
        ("Ильясов Мухтар Бек ұлы", MUKHTAR),
        ("Ilyasov Mukhtar Bek-uly", MUKHTAR),
        ("Ильясов, Мухтар Бекулы", MUKHTAR),
        ("Ильясов Мухтар Б.", ("iliasov", "muhtar", "m", None, "b", "m")),
        ("Ильясов М.Б.", ("iliasov", None, "m", None, "b", "m")),
        ("Ильясов М. Б.", ("iliasov", None, "m", None, "b", "m")),
        ("Ильясов МБ", ("iliasov", None, "m", None, "b", "m")),
        ("ИЛЬЯСОВ МБ", ("iliasov", None, "m", None, "b", "m")),
        ("М.Б. Ильясов", ("iliasov", None, "m", None, "b", "m")),
        ("М. Ильясов", ("iliasov", None, "m", None, None, "m")),
        ("Ilyassov Mukhtar", ("iliasov", "muhtar", "m", None, None, "m")),
        ("Мухтар Ильясов", ("iliasov", "muhtar", "m", None, None, "m")),
        ("Ilyasov Zh.", ("iliasov", None, "z", None, None, "m")),
        ("Сапарова Айгүл Нұрланқызы", ("saparova", "aigul", "a", "nurlan", "n", "f")),
        ("Saparova Aigul Nurlankyzy", ("saparova", "aigul", "a", "nurlan", "n", "f")),
        ("Сапарова Айгуль Нурлановна", ("saparova", "aigul", "a", "nurlan", "n", "f")),
        ("Сапарова Айгүл Нұрлан қызы", ("saparova", "aigul", "a", "nurlan", "n", "f")),
        ("Нұрлан Тұрсынұлы", ("tursinuli", "nurlan", "n", None, None, "m")),  # -ұлы as a surname
        ("Akmaral Tolegen", ("tolegen", "akmaral", "a", None, None, "f")),  # a suffixless surname
        (
            "Тулегенова Айнур Жаксылыкыкзы",
            ("tulegenova", "ainur", "a", "zaksilik", "z", "f"),
        ),  # mistyped ending
    ],
)
def test_parse(name: str, parsed: tuple[str | None, ...]) -> None:
    p = parse_person(name)
    assert (p.surname, p.given, p.given_initial, p.patronymic, p.patronymic_initial, p.gender) == parsed
    assert p.usable


def test_display_parts_keep_the_written_words() -> None:
    p = parse_person("Ильясов Мухтар Бек ұлы")
    assert (p.surname_text, p.given_text, p.patronymic_text) == ("Ильясов", "Мухтар", "Бек ұлы")


def test_a_surname_alone_is_not_usable() -> None:
    assert not parse_person("Ильясов").usable
    assert not parse_person("").usable


@pytest.mark.parametrize(
    ("a", "b", "tier"),
    [
        ("Ильясов Мухтар Бекович", "Ilyassov Mukhtar Bekuly", "full3"),
        ("Ильясов Мухтар Бекович", "Ильясов Мухтар", "full2"),
        ("Ильясов Мухтар Бекович", "Ильясов М.Б.", "initials"),
        ("Сапарова Айгүл Нұрланқызы", "Сапарова Айгуль Нурлановна", "full3"),
        ("Мухтар Ильясов", "Ильясов Мухтар", "full2"),
    ],
)
def test_compatible_names(a: str, b: str, tier: str) -> None:
    m = compare(parse_person(a), parse_person(b))
    assert m.veto is None
    assert m.tier == tier
    assert m.score >= 95


@pytest.mark.parametrize(
    ("a", "b", "veto"),
    [
        ("Ильясов М.Б.", "Ильясова М.Б.", "gender"),  # husband and wife
        ("Ильясов Мухтар Бекович", "Ильясов Марат Бекович", "given"),
        ("Ильясов Мухтар Бекович", "Ильясов М.С.", "patronymic"),
        ("Ильясов Мухтар Бекович", "Ильясов Мухтар Серикович", "patronymic"),
        ("Ильясов М.Б.", "Ильясов К.Б.", "given"),
        ("Жумабаев Нурлан", "Жумабаев Нурсултан", "given"),  # close, but two names
        ("Омаров Марат", "Омаров Мурат", "given"),  # one letter, but both are real names
        ("Ильясов Мухтар", "Ахметов Мухтар", "surname"),
    ],
)
def test_vetoes(a: str, b: str, veto: str) -> None:
    m = compare(parse_person(a), parse_person(b))
    assert m.veto == veto
    assert m.score == 0


def test_a_mistyped_given_name_is_not_another_name() -> None:
    m = compare(parse_person("Рахимова Гаусар Ерлановна"), parse_person("Рахимова Гаухар Ерлановна"))
    assert m.veto is None


@settings(max_examples=300)
@given(st.text())
def test_parsing_never_fails(text: str) -> None:
    p = parse_person(text)
    assert compare(p, p).veto in {None, "unusable"}


# ------------------------------------------------------------------------------------------ session 3


def test_short_russian_patronymics_place_the_surname_last() -> None:
    p = parse_person("Аркадий Ильич Орлов")
    assert (p.surname, p.given, p.patronymic_initial) == ("orlov", "arkadi", "i")
    assert compare(p, parse_person("Орлов Аркадий Ильич")).tier == "full3"
    assert parse_person("Орлов Аркадий Ильич").patronymic == parse_person("Orlov Arkadii Ilyich").patronymic


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Solovyov Nikita", "Соловьёв Никита"),
        ("Kovalyov Pyotr Nikolaevich", "Ковалёв Пётр Николаевич"),
        ("Kuznetcova Vera", "Кузнецова Вера"),
        ("Fyodorova Alyona", "Фёдорова Алёна"),
    ],
)
def test_transliterations_of_yo_and_ts_meet(a: str, b: str) -> None:
    pa, pb = parse_person(a), parse_person(b)
    assert (pa.surname, pa.given) == (pb.surname, pb.given)


def test_latin_gh_is_one_initial() -> None:
    p = parse_person("Tursynov Gh.Zh.")
    assert (p.surname, p.given, p.given_initial, p.patronymic_initial) == ("tursinov", None, "g", "z")


def test_two_known_given_names_are_two_people_however_close() -> None:
    assert compare(parse_person("Ғалымжанов Айбек"), parse_person("Ғалымжанов Әлібек")).veto == "given"
    # A typo of a known name is still the name.
    assert compare(parse_person("Ғалымжанов Айбек"), parse_person("Ғалымжанов Айбеек")).veto is None


def test_two_known_fathers_names_are_two_patronymics() -> None:
    a, b = parse_person("Ибраева Гүлмира Үсенқызы"), parse_person("Ибраева Гүлмира Дүйсенқызы")
    assert compare(a, b).veto == "patronymic"
    assert compare(a, parse_person("Ибраева Гулмира Усеновна")).veto is None
