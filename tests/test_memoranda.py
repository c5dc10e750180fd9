"""Memorandum detection and extraction (pipeline.memoranda) on gov.kz-style items, and the measured quality gate."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.memoranda import (
    MAX_INPUT_CHARS,
    SourceText,
    extract,
    extract_donation,
    find_organizations,
    find_signatories,
    from_govkz_item,
    html_to_text,
    nominative,
    party_key,
    split_sentences,
)

FIXTURES = Path(__file__).parent / "fixtures" / "memoranda"
URL = "https://www.gov.kz/memleket/entities/atyrau-bilim/press/news/details/1?lang=ru"


def item(
    title: str, body: str, *, lang: str = "ru", published: str = "2026-03-10T09:00:00.000+00:00"
) -> SourceText:
    return SourceText(title=title, body_html=body, published=published, language=lang, url=URL)


def names(finding: object) -> list[str]:
    assert finding is not None
    return [p.name for p in finding.parties]  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ HTML


def test_html_to_text_drops_scripts_and_decodes_entities() -> None:
    html = (
        "<p>ТОО&nbsp;&laquo;Тест&raquo; <b>и</b> управление</p><script>alert('меморандум')</script>"
        "<style>p{}</style><ul><li>один</li><li>два</li></ul><p>конец<br>строки</p>"
    )
    assert html_to_text(html) == "ТОО «Тест» и управление\nодин\nдва\nконец\nстроки"


def test_html_to_text_survives_broken_markup_and_caps_size() -> None:
    assert html_to_text("<p>незакрытый <b>тег <i>и <a href='x'>ссылка") == "незакрытый тег и ссылка"
    huge = "<p>" + "а" * (MAX_INPUT_CHARS + 10)
    assert len(html_to_text(huge)) <= MAX_INPUT_CHARS


def test_sentences_keep_initials_and_abbreviations() -> None:
    text = "Подписан меморандум с Национальной академией имени Ы. Алтынсарина. Управление г. Алматы сообщает."
    assert split_sentences(text) == [
        "Подписан меморандум с Национальной академией имени Ы. Алтынсарина.",
        "Управление г. Алматы сообщает.",
    ]


# ------------------------------------------------------------------------------------- detection


def test_new_signing_russian_with_bin_and_date() -> None:
    found = extract(
        item(
            "Подписан меморандум",
            "<p>13 января 2026 года между Управлением образования Атырауской области и ТОО «ЗердеТех» "
            "(БИН 150340601819) подписан меморандум о сотрудничестве в сфере цифрового образования.</p>",
            published="2026-01-14T09:00:00.000+00:00",
        )
    )
    assert found is not None
    assert found.kind == "new"
    assert found.instrument == "memorandum"
    assert names(found) == ["Управлением образования Атырауской области", "ТОО «ЗердеТех»"]
    company = found.parties[1]
    assert company.bin == "150340601819"
    assert company.bin_valid is True
    assert found.parties[0].bin is None
    assert found.signed_on == date(2026, 1, 13)
    assert found.date_basis == "stated"
    assert found.language == "ru"
    assert found.source_url == URL
    assert "меморандум о сотрудничестве в сфере цифрового образования" in (found.subject or "")


def test_new_signing_kazakh_with_case_suffix_and_today() -> None:
    found = extract(
        item(
            "Меморандумға қол қойылды",
            "<p>Бүгін Батыс Қазақстан облысының білім басқармасы «QazCode Academy» ЖШС-мен ынтымақтастық "
            "туралы меморандумға қол қойды.</p>",
            lang="kk",
            published="2026-01-16T10:00:00.000+00:00",
        )
    )
    assert found is not None
    assert found.kind == "new"
    assert names(found) == ["Батыс Қазақстан облысының білім басқармасы", "«QazCode Academy» ЖШС"]
    assert found.signed_on == date(2026, 1, 16)
    assert found.date_basis == "relative"


def test_yesterday_and_publication_date_fallback() -> None:
    yesterday = extract(
        item(
            "", "<p>Вчера Управление образования Костанайской области и ТОО «Nexus» подписали меморандум.</p>"
        )
    )
    assert yesterday is not None
    assert yesterday.signed_on == date(2026, 3, 9)
    undated = extract(
        item("", "<p>Управление образования Костанайской области и ТОО «Nexus» подписали меморандум.</p>")
    )
    assert undated is not None
    assert (undated.signed_on, undated.date_basis) == (date(2026, 3, 10), "publication")


def test_reference_to_an_earlier_memorandum_is_not_a_new_one() -> None:
    found = extract(
        item(
            "Школы продолжат работу с платформой",
            "<p>В рамках подписанного ранее меморандума между Управлением образования Карагандинской области и "
            "ТОО «SabaqLab» школы продолжат пользоваться платформой.</p>",
        )
    )
    assert found is not None
    assert found.kind == "reference"
    assert names(found) == ["Управлением образования Карагандинской области", "ТОО «SabaqLab»"]


def test_recap_of_a_signing_months_ago_is_a_reference() -> None:
    found = extract(
        item(
            "",
            "<p>Напомним, в сентябре 2025 года управление образования Кызылординской области и ОЮЛ «Ассоциация "
            "цифрового образования» подписали меморандум о сотрудничестве.</p>",
        )
    )
    assert found is not None
    assert found.kind == "reference"
    assert (found.signed_on, found.date_precision) == (date(2025, 9, 1), "month")


@pytest.mark.parametrize(
    ("lang", "body"),
    [
        ("ru", "<p>В апреле планируется подписать меморандум о сотрудничестве с ТОО «Oqu Digital».</p>"),
        ("ru", "<p>Меморандум с ТОО «Oqu Digital» не был подписан: стороны не согласовали условия.</p>"),
        ("ru", "<p>Подписание меморандума с ТОО «BilimTrack» перенесено на неопределенный срок.</p>"),
        ("ru", "<p>За год подписано 14 меморандумов с инвесторами на сумму 96 млрд тенге.</p>"),
        ("ru", "<p>Учащиеся обсудили роль Будапештского меморандума в истории Казахстана.</p>"),
        ("ru", "<p>Суд утвердил мировое соглашение между сотрудником и школой № 45.</p>"),
        ("kk", "<p>«Oqu Digital» ЖШС-мен меморандумға қол қою жоспарлануда.</p>"),
        ("kk", "<p>«Oqu Digital» ЖШС-мен меморандумға қол қойылмады.</p>"),
        ("kk", "<p>Жақын арада колледждермен меморандумға қол қойылады.</p>"),
        ("en", "<p>The Ministry of Education plans to sign a memorandum of understanding in April.</p>"),
    ],
)
def test_planned_refused_counted_and_other_senses_are_not_memoranda(lang: str, body: str) -> None:
    assert extract(item("Новости", body, lang=lang)) is None


def test_a_document_titled_as_the_memorandum_is_the_memorandum() -> None:
    doc = SourceText(
        title="Меморандум о сотрудничестве между Управлением образования ВКО и ТОО «TalimSoft»",
        body_html="",
        published="2026-01-28T09:00:00.000+00:00",
        language="ru",
        url="https://www.gov.kz/memleket/entities/vko-bilim/documents/details/7?lang=ru",
        item_kind="document",
    )
    found = extract(doc)
    assert found is not None
    assert found.kind == "new"
    assert names(found) == ["Управлением образования ВКО", "ТОО «TalimSoft»"]
    assert found.date_basis == "publication"


def test_organizer_of_the_venue_is_not_a_party() -> None:
    found = extract(
        item(
            "",
            "<p>В рамках форума «Цифровой Алтай», организованного акиматом Восточно-Казахстанской области, "
            "управление образования ВКО и ТОО «Oqu Digital» подписали меморандум о сотрудничестве.</p>",
        )
    )
    assert names(found) == ["управление образования ВКО", "ТОО «Oqu Digital»"]


def test_parties_listed_after_a_colon() -> None:
    found = extract(
        item(
            "",
            "<p>На полях форума подписан меморандум о сотрудничестве.</p><p>Подписантами выступили:</p>"
            "<ul><li>Управление образования города Алматы;</li><li>ТОО «Qalam Systems».</li></ul>",
        )
    )
    assert names(found) == ["Управление образования города Алматы", "ТОО «Qalam Systems»"]


def test_excerpt_is_verbatim_text() -> None:
    body = "<p>Первый абзац о другом.</p><p>Управление образования Жамбылской области и Федерация шахмат Жамбылской области подписали меморандум.</p>"
    found = extract(item("Развитие спорта", body))
    assert found is not None
    assert found.excerpt in html_to_text(body)
    assert found.excerpt.startswith("Управление образования Жамбылской области")


def test_invalid_bin_is_kept_and_flagged() -> None:
    found = extract(
        item(
            "",
            "<p>Управление образования Атырауской области и ТОО «Тест» (БИН 150340601818) подписали меморандум.</p>",
        )
    )
    assert found is not None
    company = next(p for p in found.parties if "Тест" in p.name)
    assert (company.bin, company.bin_valid) == ("150340601818", False)


def test_generic_department_without_a_place_is_not_named() -> None:
    found = extract(
        item("", "<p>Сегодня управление образования подписало меморандум с ТОО «EduNova Kazakhstan».</p>")
    )
    assert names(found) == ["ТОО «EduNova Kazakhstan»"]
    assert found is not None
    assert found.publisher_implied  # the caller adds the publishing department


def test_organization_names_in_three_languages() -> None:
    ru = "Министерство просвещения Республики Казахстан, Министерство науки и высшего образования и ТОО «Q» подписали."
    spans = find_organizations(ru, "ru")
    assert [ru[s:e] for s, e in spans] == [
        "Министерство просвещения Республики Казахстан",
        "Министерство науки и высшего образования",
        "ТОО «Q»",
    ]
    kk = "Қазақстан Республикасы Ғылым және жоғары білім министрлігі мен «Дала Телеком» АҚ қол қойды."
    assert [kk[s:e] for s, e in find_organizations(kk, "kk")] == [
        "Қазақстан Республикасы Ғылым және жоғары білім министрлігі",
        "«Дала Телеком» АҚ",
    ]
    en = "The Education Department of Kostanay Region and EduNova Kazakhstan LLP signed it."
    assert [en[s:e] for s, e in find_organizations(en, "en")] == [
        "The Education Department of Kostanay Region",
        "EduNova Kazakhstan LLP",
    ]


def test_party_key_ignores_case_endings_legal_form_order_and_descriptors() -> None:
    assert party_key("Управлением образования Атырауской области") == party_key(
        "Управление образования Атырауской области"
    )
    assert party_key("ТОО «ZerdeTech»") == party_key("«ZerdeTech» ЖШС")
    assert party_key("Общественный фонд «Болашақ жастары»") == party_key("«Болашақ жастары» қоғамдық қорымен")
    assert party_key("Управление образования города Алматы") != party_key(
        "Управление образования города Астаны"
    )


# ------------------------------------------------------------------------------------------ gov.kz items


def test_govkz_sample_items_build_urls_and_are_not_memoranda() -> None:
    sample = json.loads((FIXTURES / "govkz_sample_items.json").read_text(encoding="utf-8"))
    news = from_govkz_item(sample["news_item"], slug="abay", language="ru")
    assert news.url == "https://www.gov.kz/memleket/entities/abay/press/news/details/1163144?lang=ru"
    assert news.published == "2026-02-17T10:00:00.000+00:00"
    assert extract(news) is None
    doc = from_govkz_item(sample["document_item"], slug="economy", language="ru", item_kind="document")
    assert doc.url.endswith("/economy/documents/details/1072256?lang=ru")
    assert (
        doc.publisher == "Департамент Комитета по регулированию естественных монополий по Жамбылской области"
    )
    assert extract(doc) is None


def test_govkz_item_with_a_memorandum() -> None:
    raw = {
        "id": 555,
        "title": "Меморандум&nbsp;о сотрудничестве подписан",
        "body": "<p>Отдел образования города Тараза подписал меморандум о взаимопонимании с КГКП «Таразский колледж сервиса».</p>",
        "created_date": "2026-02-10T09:00:00.000+00:00",
    }
    found = extract(from_govkz_item(raw, slug="zhambyl-bilim", language="ru"))
    assert found is not None
    assert found.title == "Меморандум о сотрудничестве подписан"
    assert names(found) == ["Отдел образования города Тараза", "КГКП «Таразский колледж сервиса»"]
    assert found.published_on == date(2026, 2, 10)


# ------------------------------------------------------------------------------------------ quality gate


def _bench() -> object:
    spec = importlib.util.spec_from_file_location(
        "memoranda_eval", Path(__file__).parents[1] / "bench" / "memoranda_eval.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["dev", "heldout", "heldout2", "heldout3"])
def test_labelled_sets_meet_the_issue_target(name: str) -> None:
    """Issue 4: memoranda found with precision ≥ 0.95 and recall ≥ 0.9, with their parties. The held-out sets
    were unseen when first measured (figures in tests/fixtures/memoranda/README.md); they guard regressions now."""
    bench = _bench()
    items = bench.load_set(name)  # type: ignore[attr-defined]
    assert len(items) >= 40
    report = bench.score(items)["all"]  # type: ignore[attr-defined]
    assert report.found.precision >= 0.95
    assert report.found.recall >= 0.9
    assert report.parties.precision >= 0.9
    assert report.parties.recall >= 0.9


def test_labelled_sets_cover_both_languages_and_every_kind() -> None:
    bench = _bench()
    items = bench.load_set("dev")  # type: ignore[attr-defined]
    assert len(items) >= 150
    by = {(x.item.language, x.kind) for x in items}
    for lang in ("ru", "kk"):
        for kind in ("new", "reference", "none"):
            assert (lang, kind) in by


# ------------------------------------------------------------------------------------------ robustness


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "body",
    [
        "<p>" + "меморандум подписан между ТОО «А» и ТОО «Б» " * 2000 + "</p>",
        "<p>" + "«" * 5000 + "</p>",
        "<p>" + "Управление образования " * 5000 + ".</p>",
        "<p>" + "в рамках " * 20000 + "меморандума</p>",
        "<p>" + "а. " * 20000 + "</p>",
    ],
)
def test_hostile_input_stays_fast(body: str) -> None:
    """Untrusted text: huge sentences, thousands of mentions or quotes are cut, not matched quadratically."""
    import time

    started = time.monotonic()
    extract(item("t", body))
    assert time.monotonic() - started < 5


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list('меморандумподписалиқолқойдыТОО«»ЖШС"<>/p .,:;\n0123456789БИНәіңұ')),
        max_size=400,
    )
)
def test_any_text_gives_a_consistent_finding_or_none(body: str) -> None:
    found = extract(item("", body))
    if found is not None:
        assert found.kind in ("new", "reference")
        assert found.excerpt
        for party in found.parties:
            assert party.name
            assert party.key == party_key(party.name)


# ------------------------------------------------------------------ session 2: nominative, hearsay, donations, signers
@pytest.mark.parametrize(
    ("written", "lang", "expected"),
    [
        ("Управлением образования Кызылординской области", "ru", "Управление образования Кызылординской области"),
        ("управления образования области Абай", "ru", "управление образования области Абай"),
        ("Министерством просвещения Республики Казахстан", "ru", "Министерство просвещения Республики Казахстан"),
        ("акиматом города Шымкент", "ru", "акимат города Шымкент"),
        ("Общественным объединением «Учебного центра»", "ru", "Общественное объединение «Учебного центра»"),
        ("Қызылорда облысының білім басқармасымен", "kk", "Қызылорда облысының білім басқармасы"),
        ("Маңғыстау облысының білім басқармасына (демо)", "kk", "Маңғыстау облысының білім басқармасы (демо)"),
        ("«Тараз Софт Групп» ЖШС-мен", "kk", "«Тараз Софт Групп» ЖШС"),
        ("Атырау облысының білім басқармасы", "kk", "Атырау облысының білім басқармасы"),
        ("ТОО «Altyn Dala»", "ru", "ТОО «Altyn Dala»"),
    ],
)
def test_party_names_go_back_to_the_nominative_outside_quotes(written: str, lang: str, expected: str) -> None:
    assert nominative(written, lang) == expected


def test_hearsay_and_questions_are_no_signing() -> None:
    rumour = item("Подписан договор о научно-техническом сотрудничестве?", (
        "<p>В СМИ появилась информация о якобы подписанном меморандуме с ТОО «Пример». Управление образования "
        "сообщает, что никаких меморандумов не подписывало.</p>"))
    assert extract(rumour) is None
    said = item("Меморандум", "<p>ТОО «Пример» ЖШС-мен меморандумға қол қойылды деген ақпарат тарады.</p>", lang="kk")
    assert extract(said) is None


def test_a_signatory_is_tied_to_the_organization_named_next_to_them() -> None:
    ru = find_signatories(
        "Руководитель управления образования Павлодарской области (демо) Тестов Тест Тестович и председатель "
        "правления АО «Пример Онлайн» Примеров Пример Примерович подписали меморандум.", "ru")
    assert [(s.name, s.title, s.key) for s in ru] == [
        ("Тестов Тест Тестович", "Руководитель", party_key("управления образования Павлодарской области")),
        ("Примеров Пример Примерович", "председатель правления", party_key("АО «Пример Онлайн»")),
    ]
    kk = find_signatories(
        "Меморандумға Павлодар облысының білім басқармасының басшысы Тестов Тест Тестұлы және «Пример Онлайн» АҚ "
        "басқарма төрағасы Примеров Пример Примерұлы қол қойды.", "kk")
    assert [(s.title, s.key) for s in kk] == [
        ("басшысы", party_key("Павлодар облысының білім басқармасының")),
        ("басқарма төрағасы", party_key("«Пример Онлайн» АҚ")),
    ]
    # no organization next to the name, or no signing in the sentence: nobody
    assert find_signatories("Со стороны управления меморандум подписал Тестов Тест Тестович.", "ru") == []
    assert find_signatories("Руководитель ТОО «Пример» Тестов Тест Тестович посетил школу.", "ru") == []


@pytest.mark.parametrize(
    ("body", "lang", "donor", "recipient"),
    [
        ("<p>ТОО «Пример Софт» безвозмездно передало средней школе № 14 компьютерный класс.</p>", "ru",
         "ТОО «Пример Софт»", "средней школе № 14"),
        ("<p>АО «Сынақ Мектеп Онлайн» в дар управлению образования Мангистауской области передало 10 ноутбуков.</p>",
         "ru", "АО «Сынақ Мектеп Онлайн»", "управлению образования Мангистауской области"),
        ("<p>«Пример Софт» ЖШС № 3 мектепке 25 компьютер сыйға тартты.</p>", "kk", "«Пример Софт» ЖШС", None),
    ],
)
def test_donations_name_the_donor_and_the_recipient(body: str, lang: str, donor: str, recipient: str | None) -> None:
    assert extract(item("Подарок", body, lang=lang)) is None  # not a memorandum
    found = extract_donation(item("Подарок", body, lang=lang))
    assert found is not None
    assert found.instrument == "donation"
    assert [p.name for p in found.parties][:1] == [donor]
    assert [p.name for p in found.parties][1:] == ([recipient] if recipient else [])
    assert found.publisher_implied == (recipient is None)


@pytest.mark.parametrize(
    "body",
    [
        "<p>ТОО «Пример Софт» планирует безвозмездно передать школам ноутбуки.</p>",
        "<p>Школе № 5 безвозмездно переданы учебники.</p>",  # no donor named
        "<p>Акимат района безвозмездно передал школе автобус.</p>",  # the state giving to itself
    ],
)
def test_planned_or_anonymous_or_state_gifts_are_no_donation(body: str) -> None:
    assert extract_donation(item("Новости", body)) is None
