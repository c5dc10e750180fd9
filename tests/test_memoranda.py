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


# ------------------------------------------------------------- unrealized signings, tallies, party-less signings
# General rules (session 3): a signing word in a modal, hedged, proposed, hoped-for or conditional form, a denied,
# cancelled or asked one, and a count in words or a plural tally is no memorandum — whichever party is named.

_CO_RU = "ТОО «Пример Тех»"
_CO_KK = "«Пример Тех» ЖШС"
_DEPT_RU = "Управление образования Костанайской области"
_DEPT_KK = "Қостанай облысының білім басқармасы"


@pytest.mark.parametrize(
    ("lang", "body"),
    [
        # possibility, obligation, subjunctive
        ("ru", f"<p>Меморандум между {_DEPT_RU} и {_CO_RU} может быть подписан в следующем месяце.</p>"),
        ("ru", f"<p>Меморандум с {_CO_RU} может быть заключён до конца года.</p>"),
        ("ru", f"<p>Меморандум с {_CO_RU} должен быть подписан до 1 сентября.</p>"),
        ("ru", f"<p>{_DEPT_RU} подписало бы меморандум с {_CO_RU}, если бы компания дала гарантии.</p>"),
        # proposed, agreed to sign, ready, called for, hoped for, planned, to be agreed
        ("ru", f"<p>На встрече предлагается подписать меморандум о сотрудничестве с {_CO_RU}.</p>"),
        ("ru", f"<p>Стороны договорились подписать меморандум о сотрудничестве с {_CO_RU} до конца года.</p>"),
        ("ru", f"<p>Стороны готовы подписать меморандум о сотрудничестве с {_CO_RU}.</p>"),
        ("ru", f"<p>Министр призвал подписать меморандум о сотрудничестве с {_CO_RU}.</p>"),
        ("ru", f"<p>Стороны выразили надежду на подписание меморандума с {_CO_RU}.</p>"),
        ("ru", f"<p>Подписание меморандума с {_CO_RU} запланировано на март.</p>"),
        ("ru", f"<p>Меморандум о сотрудничестве с {_CO_RU} предполагается подписать осенью.</p>"),
        ("ru", f"<p>Меморандум о сотрудничестве с {_CO_RU} находится на согласовании.</p>"),
        ("ru", f"<p>Стороны обсудили условия будущего меморандума с {_CO_RU}.</p>"),
        ("ru", f"<p>«Мы подпишем меморандум с {_CO_RU} в ближайшие недели», — сказал руководитель.</p>"),
        # conditions
        ("ru", f"<p>В случае подписания меморандума с {_CO_RU} школы получат доступ к платформе.</p>"),
        ("ru", f"<p>Если стороны договорятся, меморандум с {_CO_RU} подпишут в мае.</p>"),
        # denied, did not take place, cancelled, asked
        ("ru", f"<p>{_DEPT_RU} опровергло информацию о подписании меморандума с {_CO_RU}.</p>"),
        ("ru", f"<p>Сообщения о том, что управление подписало меморандум с {_CO_RU}, не соответствуют действительности.</p>"),
        ("ru", f"<p>Подписание меморандума с {_CO_RU} не состоялось.</p>"),
        ("ru", f"<p>Подписание меморандума с {_CO_RU} отменено.</p>"),
        ("ru", f"<p>Меморандум с {_CO_RU} так и не подписали.</p>"),
        ("ru", f"<p>Подписан ли меморандум с {_CO_RU}, пока неизвестно.</p>"),
        # Kazakh: possible, must, proposed, agreed to, ready, on the agenda, «we will sign», conditions
        ("kk", f"<p>{_DEPT_KK} мен {_CO_KK} арасында меморандумға қол қойылуы мүмкін.</p>"),
        ("kk", f"<p>Келесі айда {_CO_KK}-мен меморандумға қол қойылуы тиіс.</p>"),
        ("kk", f"<p>{_CO_KK}-мен меморандумға қол қою керек.</p>"),
        ("kk", f"<p>{_CO_KK}-мен ынтымақтастық туралы меморандумға қол қою ұсынылды.</p>"),
        ("kk", f"<p>Тараптар {_CO_KK}-мен меморандумға қол қоюға келісті.</p>"),
        ("kk", f"<p>{_CO_KK}-мен меморандумға қол қоюға дайын екендіктерін білдірді.</p>"),
        ("kk", f"<p>{_CO_KK}-мен меморандумға қол қою туралы мәселе талқыланды.</p>"),
        ("kk", f"<p>{_CO_KK}-мен меморандумға қол қою күн тәртібінде тұр.</p>"),
        ("kk", f"<p>«{_CO_KK}-мен меморандумға қол қоямыз», — деді басшы.</p>"),
        ("kk", f"<p>{_CO_KK}-мен меморандумға қол қойылған жағдайда мектептер платформаға қосылады.</p>"),
        ("kk", f"<p>Егер тараптар келіссе, {_CO_KK}-мен меморандум жасалуы мүмкін.</p>"),
        # Kazakh: denied, did not take place, asked
        ("kk", f"<p>Басқарма {_CO_KK}-мен меморандумға қол қойылды деген хабарды жоққа шығарды.</p>"),
        ("kk", f"<p>{_CO_KK}-мен меморандумға қол қою рәсімі өтпеді.</p>"),
        ("kk", f"<p>{_CO_KK}-мен меморандумға қол қойылды ма, әлі белгісіз.</p>"),
        # tallies in words, plural with no organization named
        ("ru", "<p>Подписано двенадцать меморандумов о сотрудничестве.</p>"),
        ("ru", "<p>Подписаны меморандумы с вузами и колледжами региона.</p>"),
        ("ru", "<p>За год управление подписало меморандумы о сотрудничестве с двенадцатью организациями.</p>"),
        ("kk", "<p>Жыл ішінде бірнеше меморандумға қол қойылды.</p>"),
        ("kk", "<p>Көптеген ынтымақтастық туралы меморандумдарға қол қойылды.</p>"),
        # other instruments
        ("ru", f"<p>{_DEPT_RU} и {_CO_RU} подписали договор государственно-частного партнерства.</p>"),
        ("ru", f"<p>{_DEPT_RU} и {_CO_RU} заключили договор о государственных закупках.</p>"),
        ("ru", "<p>С учителями заключены трудовые договоры.</p>"),
        ("kk", f"<p>{_DEPT_KK} мен {_CO_KK} мемлекеттік-жекешелік әріптестік туралы шартқа қол қойды.</p>"),
    ],
)
def test_unrealized_denied_and_counted_signings_are_no_memorandum(lang: str, body: str) -> None:
    assert extract(item("Новости", body, lang=lang)) is None


@pytest.mark.parametrize(
    ("lang", "body", "parties"),
    [
        # the cue words in their other senses, next to a real signing
        ("ru", f"<p>Сегодня {_DEPT_RU} и {_CO_RU} подписали меморандум о сотрудничестве и выразили надежду на "
               "плодотворную работу.</p>", [_DEPT_RU, _CO_RU]),
        ("ru", f"<p>{_DEPT_RU} и {_CO_RU} подписали меморандум о сотрудничестве, в рамках которого запланировано "
               "обучение 300 учителей.</p>", [_DEPT_RU, _CO_RU]),
        ("ru", f"<p>Если в прошлом учебном году школы закупали контент сами, то теперь {_DEPT_RU} и {_CO_RU} "
               "подписали меморандум.</p>", [_DEPT_RU, _CO_RU]),
        ("ru", f"<p>{_DEPT_RU} и {_CO_RU} подписали меморандум, стороны готовы к дальнейшему сотрудничеству.</p>",
         [_DEPT_RU, _CO_RU]),
        ("ru", f"<p>Между {_DEPT_RU} и {_CO_RU} подписан меморандум о сотрудничестве сроком на три года.</p>",
         [_DEPT_RU, _CO_RU]),
        ("kk", f"<p>Салтанатты жағдайда {_DEPT_KK} мен {_CO_KK} ынтымақтастық туралы меморандумға қол қойды.</p>",
         [_DEPT_KK, _CO_KK]),
        ("kk", f"<p>Бүгін {_DEPT_KK} мен {_CO_KK} меморандумға қол қойды, бұл жоба мектептер үшін қажет.</p>",
         [_DEPT_KK, _CO_KK]),
        ("kk", f"<p>Егер былтыр мектептер өздері сатып алса, биыл {_DEPT_KK} мен {_CO_KK} меморандумға қол "
               "қойды.</p>", [_DEPT_KK, _CO_KK]),
    ],
)
def test_cue_words_in_other_senses_leave_a_signing_alone(lang: str, body: str, parties: list[str]) -> None:
    found = extract(item("Меморандум", body, lang=lang))
    assert found is not None
    assert found.kind == "new"
    assert sorted(party_key(n) for n in names(found)) == sorted(party_key(n) for n in parties)


def test_kazakh_possessive_is_not_a_plural_tally() -> None:
    # «меморандумы» is a Russian plural but the Kazakh singular with a possessive: «… меморандумы аясында»
    found = extract(item("Нәтижелер", f"<p>{_CO_KK} меморандумы аясында мектептерде кабинеттер ашылды.</p>", lang="kk"))
    assert found is not None
    assert found.kind == "reference"


def test_a_signing_that_names_no_party_is_not_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.memoranda as memoranda

    anonymous = item("Подписан договор", "<p>Сегодня подписан договор о научно-техническом сотрудничестве.</p>")
    assert extract(anonymous) is None
    monkeypatch.setattr(memoranda, "REQUIRE_PARTY_FOR_NEW", False)
    found = extract(anonymous)  # the switch is what drops it: the signing itself is recognized
    assert found is not None
    assert found.kind == "new"
    assert found.parties == ()


def test_a_party_less_signing_falls_back_to_the_named_earlier_memorandum() -> None:
    body = (
        "<p>Сегодня подписан договор о научно-техническом сотрудничестве.</p>"
        f"<p>Работа идет в рамках меморандума между {_DEPT_RU} и {_CO_RU}.</p>"
    )
    found = extract(item("Новости", body))
    assert found is not None
    assert found.kind == "reference"
    assert sorted(party_key(n) for n in names(found)) == sorted(party_key(n) for n in (_DEPT_RU, _CO_RU))


@pytest.mark.parametrize(
    ("lang", "body"),
    [
        # a memorandum and its party in a sentence that speaks of signing it as a thing to do, or of the future
        ("ru", f"<p>Управление рассчитывает подписать меморандум с {_CO_RU} в новом учебном году.</p>"),
        ("ru", f"<p>{_CO_RU} выступило с инициативой заключить меморандум о сотрудничестве с {_DEPT_RU}.</p>"),
        ("ru", f"<p>Вопрос о целесообразности меморандума с {_CO_RU} будет вынесен на коллегию.</p>"),
        ("ru", f"<p>Директора школ высказались за подписание меморандума с {_CO_RU}.</p>"),
        ("kk", f"<p>{_DEPT_KK} {_CO_KK}-мен меморандум жасасу жөнінде келіссөз жүргізуде.</p>"),
        ("kk", f"<p>Мектеп директорлары {_CO_KK}-мен меморандумға қол қоюды қолдады.</p>"),
        # called false; asked indirectly
        ("ru", f"<p>Информация о подписании меморандума с {_CO_RU} является ложной.</p>"),
        ("kk", f"<p>{_CO_KK} арасында меморандумға қол қойылғаны туралы ақпарат жалған.</p>"),
        ("ru", f"<p>Будет ли подписан меморандум с {_CO_RU}, станет известно позже.</p>"),
        ("kk", f"<p>{_CO_KK}-мен меморандумға қол қойыла ма, кейін белгілі болады.</p>"),
    ],
)
def test_a_memorandum_only_talked_about_is_no_reference(lang: str, body: str) -> None:
    assert extract(item("Новости", body, lang=lang)) is None


@pytest.mark.parametrize(
    ("lang", "body"),
    [
        # realized frames: the signing happened, so the named memorandum exists
        ("ru", f"<p>После подписания меморандума с {_CO_RU} в школах открыли 10 кабинетов.</p>"),
        ("ru", f"<p>Действие меморандума с {_CO_RU} прекращено по соглашению сторон.</p>"),
        ("kk", f"<p>{_CO_KK}-мен меморандум аясында жыл соңына дейін 10 кабинет ашылады.</p>"),
    ],
)
def test_a_memorandum_that_happened_is_still_a_reference(lang: str, body: str) -> None:
    found = extract(item("Новости", body, lang=lang))
    assert found is not None
    assert found.kind == "reference"


@pytest.mark.parametrize(
    ("lang", "body"),
    [
        ("kk", f"<p>Хабарлаймыз: {_DEPT_KK} {_CO_KK}-мен ешқандай меморандум жасаған жоқ.</p>"),
        ("kk", f"<p>{_DEPT_KK} {_CO_KK}-мен меморандумға қол қойған жоқ.</p>"),
        ("ru", f"<p>Управление никаких меморандумов с {_CO_RU} не заключало.</p>"),
        ("ru", f"<p>Меморандум между {_DEPT_RU} и {_CO_RU} ожидает подписания.</p>"),
    ],
)
def test_denied_with_no_any_and_awaiting_signature_are_no_memorandum(lang: str, body: str) -> None:
    assert extract(item("Новости", body, lang=lang)) is None
