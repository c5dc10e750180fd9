"""Fictional gov.kz and stat.gov.kz content that fits a goszakup scenario, for the offline simulator.

`load_other_scenario(scenario)` builds, from the goszakup scenario's own participants (`Subjects`: the
ministry, the 20 regional education departments, the companies, their heads and BINs), what the gov.kz content
API and the stat.gov.kz register would show about them:

* **gov.kz** (`/api/v1/public/content-manager/…`, SOURCE.md §2.2), for every slug of
  `data/reference/govkz_slugs.csv` (the ministries, the education departments, the akimats):
  - press releases (`news`) in Russian and Kazakh (most items in both, with the same id; some in one language
    only; the ministry also in English): mostly unrelated news (olympiads, admissions, repairs, procurement
    deliveries), appointments of department heads where the goszakup scenario changes them, and the
    memoranda below — announced in realistic ru/kk press-release wording, and later referred to;
  - documents: orders «Приказ №…-ОД от dd.mm.yyyy года "…"» (kk «… №…-НҚ бұйрық»), a memorandum published
    as a document, PPP decisions of an akimat and a department;
  - leadership (`curators`): the head of each department (the goszakup scenario's head, with the date of
    appointment in the biography) and invented deputies; akims and deputies; the ministers.
* **stat.gov.kz** (`/api/juridical/counter/api/?bin=`, SOURCE.md §3.1): a company card for every BIN of the
  scenario (name, registration date, director = the scenario's current head, KATO and address, OKED), and the
  not-found answer for any other BIN — and for one demo company on purpose (ТОО «Черновик Трейд», registered
  recently, "not yet in the statistical register").

The demo story (region Kyzylorda, KATO 43, slug `kyzylorda-bilim`), consistent with the goszakup demo data:
* ТОО «Мысал Журнал» is the region's e-journal operator from 2023 (goszakup contracts). Its director since
  2023-09-20 is Демобаева Гүлмира Ерланқызы, who headed the Abai region's education department until
  2023-08-14 (the goszakup scenario's revolving door; here the Abai department announces her successor).
* **Mid-year operator switch**: in January 2025, in the middle of the school year, the Kyzylorda department
  signs a memorandum of cooperation with АО «Сынақ Мектеп Онлайн» on moving the schools to its e-journal
  «from the third quarter»; an order on the transition follows, and the goszakup contracts of the new
  operator start in February 2025 (the old operator's contracts stop). Later press releases refer back to the
  memorandum.
* **Memorandum-only operator**: in November 2024 the same department signs a memorandum with ТОО «Үлгі
  Бағалау Жүйелері» on piloting its assessment system in the region's schools — announced, published as a
  document and referred to by a later release, but that company has no contract with any buyer in the region.
* **PPP operator in the same region**: АО «Жоба Білім Технологиялары» holds a 10-year PPP agreement (service
  contract, chosen by tender) with the department for a digital education platform: the akimat's resolution,
  the signing release and a department order evidence it.
* The switch memorandum's releases name who signed it: the department's head (the goszakup scenario's) and the
  company's head (председатель правления), each next to their organization.
* **A gift before paid work**: the demo company with the most single-source contracts with one education
  department (from the goszakup scenario; today АО «Сынақ Мектеп Онлайн» and the Mangystau department, first
  contract 2024-01-25) donated 500 software licences to that department 60 days before the first contract —
  a `donation` release (ru, kk), ground truth in `donations`.
Elsewhere: a dozen memoranda between other departments (and the ministry) and demo companies, references to
them, and near misses (a planned memorandum, a count of memoranda signed at a forum) that are not memoranda.

Ground truth for tests: `memoranda` (each with the news ids that announce it, the ids that only refer to it,
the documents that are the memorandum, the parties' BINs and the signing day), `near_misses`, `ppp`, `story`,
`expected(kind, slug, lang, since)` (what a complete crawl must store), `statgov_found` / `statgov_missing`.

Invented or unverified [U], beyond what SOURCE.md shows: the curators' and documents' field values, the
`slug` and `preview_image` values of news, the `registerDate` time (midnight Almaty, in UTC like the sample),
the KRP/KSE/KFS codes and names of the cards, and every name, text and number (all fictional).
"""

from __future__ import annotations

import functools
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from crawlers.simulator import vocab
from crawlers.simulator.scenario import Scenario, load_scenario
from crawlers.spiders.govkz import HUMAN_PATHS, load_slugs

LANGS = ("ru", "kk", "en")
FIRST_DAY, LAST_DAY = date(2023, 1, 9), date(2026, 1, 9)  # the goszakup scenario's "now" is 2026-01-12
NEWS_BASE, DOCUMENT_BASE, CURATOR_BASE = 1_100_000, 1_000_000, 40_000
STORY_REGION = "43"
STORY_OLD, STORY_NEW = "Мысал Журнал", "Сынақ Мектеп Онлайн"
STORY_PILOT, STORY_PPP = "Үлгі Бағалау Жүйелері", "Жоба Білім Технологиялары"
NOT_IN_REGISTER = "Черновик Трейд"  # a demo company the statistical register does not (yet) list
NOT_FOUND = {"success": False, "obj": None, "description": "Не найдено"}

MONTHS_RU = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
             "ноября", "декабря")
MONTHS_RU_IN = ("январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе", "сентябре", "октябре",
                "ноябре", "декабре")
MONTHS_KK = ("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан",
             "қараша", "желтоқсан")
_LOCATIVE = {"қаңтар": "қаңтарда", "ақпан": "ақпанда", "наурыз": "наурызда", "сәуір": "сәуірде", "мамыр": "мамырда",
             "маусым": "маусымда", "шілде": "шілдеде", "тамыз": "тамызда", "қыркүйек": "қыркүйекте",
             "қазан": "қазанда", "қараша": "қарашада", "желтоқсан": "желтоқсанда"}
_ADJECTIVAL = {k: v[:-2] + ("дағы" if v.endswith("да") else "дегі" if v.endswith("де") else "тағы" if v.endswith("та")
                            else "тегі") for k, v in _LOCATIVE.items()}


# ------------------------------------------------------------------------------------------ truth shapes
@dataclass(frozen=True)
class MemorandumFact:
    """One memorandum of cooperation and every item that evidences it."""

    memo_id: str
    slug: str  # the publishing entity
    signed_on: date
    party_bins: tuple[str, ...]  # the public body first, then the company
    party_names: tuple[str, ...]  # as the Russian releases name them (nominative)
    subject_ru: str
    languages: tuple[str, ...]  # languages of the announcing release
    announced_in: tuple[int, ...]  # news ids whose text reports the signing
    referenced_in: tuple[int, ...] = ()  # later news ids that only refer to it
    documents: tuple[int, ...] = ()  # document ids that are the memorandum itself
    story: str | None = None  # "switch", "memorandum_only" or None


@dataclass(frozen=True)
class NearMiss:
    news_id: int
    slug: str
    why: str  # planned | count | ppp_agreement | procurement


@dataclass(frozen=True)
class DonationFact:
    """A gift announced in a press release, before the donor's paid single-source contracts with the recipient."""

    news_id: int
    slug: str
    given_on: date
    donor_bin: str
    recipient_bin: str
    first_paid_contract: date  # the first single-source contract between the two (goszakup scenario)


@dataclass(frozen=True)
class PPPFact:
    project_ru: str
    project_kk: str
    state_partner_bin: str
    state_partner_name: str
    private_partner_bin: str
    private_partner_name: str
    signed_on: date
    term_years: int
    amount_kzt: int
    ppp_form: str  # service contract
    selection_method: str  # tender
    level: str  # local
    region_code2: str
    news_ids: tuple[int, ...]
    document_ids: tuple[int, ...]


@dataclass(frozen=True)
class Story:
    region_code2: str
    slug: str
    department_bin: str
    old_operator_bin: str
    new_operator_bin: str
    switch_memorandum_on: date
    new_operator_first_contract: date
    memorandum_only_bin: str
    ppp_operator_bin: str
    revolving_person: str  # the former Abai education head who now directs the old operator
    revolving_left_department: date


# ------------------------------------------------------------------------------------------ building blocks
@dataclass
class _Org:
    bin: str
    name_ru: str  # as a press release writes it: «Управление образования … (демо)» or ТОО «…»
    name_kk: str  # «… білім басқармасы (демо)» or «…» ЖШС
    kopf: str
    head: str  # current head, title case
    head_since: date
    prev_head: str | None = None
    prev_until: date | None = None
    region: str = ""


@dataclass
class _Item:
    kind: str  # news, documents, curators
    slug: str
    created: datetime | None
    texts: dict[str, dict[str, Any]]  # lang → the language-specific fields
    common: dict[str, Any] = field(default_factory=dict)
    id: int = 0


def _inner(name: str) -> str:
    """The text between the first and the last double quote: `ГУ "X"` → X."""
    first, last = name.find('"'), name.rfind('"')
    return name[first + 1:last] if 0 <= first < last else name


def _title(fio: str) -> str:
    return fio.title() if fio.isupper() else fio


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def date_ru(day: date) -> str:
    return f"{day.day} {MONTHS_RU[day.month - 1]} {day.year} года"


def date_kk(day: date) -> str:
    return f"{day.year} жылғы {day.day} {_LOCATIVE[MONTHS_KK[day.month - 1]]}"


def month_ru(day: date) -> str:
    return f"{MONTHS_RU_IN[day.month - 1]} {day.year} года"


def month_kk(day: date) -> str:
    return f"{day.year} жылғы {_LOCATIVE[MONTHS_KK[day.month - 1]]}"


def iso(moment: datetime) -> str:
    """gov.kz's datetime text: `2026-02-17T10:00:00.000+00:00`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


_TRANSLIT = str.maketrans({
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "і": "i", "к": "k", "қ": "k", "л": "l", "м": "m", "н": "n", "ң": "n", "о": "o", "ө": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "u", "ү": "u", "ф": "f", "х": "kh", "һ": "h", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya"})


def _latin(text: str) -> str:
    return "".join(c for c in text.lower().translate(_TRANSLIT) if c in string.ascii_lowercase)


# ------------------------------------------------------------------------------------------ texts
# Unrelated releases: (title ru, body ru, title kk, body kk). {reg_ru}: «Кызылординской области» (genitive),
# {reg_kk}: «Қызылорда облысының»; the department speaks of itself generically, as real releases do.
UNRELATED: tuple[tuple[str, str, str, str], ...] = (
    ("Школьники {reg_ru} завоевали {n} медалей на республиканской олимпиаде",
     "<p>По итогам заключительного этапа республиканской олимпиады по общеобразовательным предметам учащиеся "
     "{reg_ru} завоевали {n} медалей, в том числе {m} золотых.</p><p>Победителей и их наставников наградили "
     "благодарственными письмами управления образования.</p>",
     "{reg_kk} оқушылары республикалық олимпиадада {n} медаль жеңіп алды",
     "<p>Жалпы білім беретін пәндер бойынша республикалық олимпиаданың қорытынды кезеңінде {reg_kk} оқушылары "
     "{n} медаль, оның ішінде {m} алтын медаль жеңіп алды.</p><p>Жеңімпаздар мен олардың жетекшілері білім "
     "басқармасының алғыс хаттарымен марапатталды.</p>"),
    ("Школы региона готовы к новому учебному году",
     "<p>Завершена приёмка организаций образования к новому учебному году: комиссии проверили {n} школ и {m} "
     "детских садов.</p><p>Во всех школах проведены санитарная обработка и проверка систем отопления.</p>",
     "Өңір мектептері жаңа оқу жылына дайын",
     "<p>Білім беру ұйымдарын жаңа оқу жылына қабылдау аяқталды: комиссиялар {n} мектеп пен {m} балабақшаны "
     "тексерді.</p><p>Барлық мектептерде санитариялық өңдеу және жылу жүйелерін тексеру жүргізілді.</p>"),
    ("Начался приём заявлений в первый класс",
     "<p>С 1 апреля по 1 августа родители могут подать заявление о зачислении ребёнка в первый класс через "
     "портал электронного правительства.</p><p>В школах {reg_ru} откроется {n} первых классов.</p>",
     "Бірінші сыныпқа өтініш қабылдау басталды",
     "<p>1 сәуірден 1 тамызға дейін ата-аналар баланы бірінші сыныпқа қабылдау туралы өтінішті электрондық "
     "үкімет порталы арқылы бере алады.</p><p>{reg_kk} мектептерінде {n} бірінші сынып ашылады.</p>"),
    ("Летним отдыхом охвачено более {n} тысяч детей",
     "<p>На территории {reg_ru} в летний период работают {m} пришкольных лагерей и загородные оздоровительные "
     "центры.</p><p>Особое внимание уделяется детям из многодетных и малообеспеченных семей.</p>",
     "Жазғы демалыспен {n} мыңнан астам бала қамтылды",
     "<p>Жазғы кезеңде {reg_kk} аумағында {m} мектеп жанындағы лагерь мен қала сыртындағы сауықтыру "
     "орталықтары жұмыс істейді.</p><p>Көп балалы және аз қамтылған отбасылардың балаларына ерекше назар "
     "аударылады.</p>"),
    ("Определены победители регионального конкурса «Лучший педагог»",
     "<p>В финал конкурса вышли {n} учителей из городов и районов региона.</p><p>Победитель представит {reg_ru} "
     "на республиканском этапе.</p>",
     "«Үздік педагог» өңірлік конкурсының жеңімпаздары анықталды",
     "<p>Конкурстың финалына өңірдің қалалары мен аудандарынан {n} мұғалім шықты.</p><p>Жеңімпаз "
     "республикалық кезеңде өңір атынан қатысады.</p>"),
    ("В {n} школах завершён капитальный ремонт",
     "<p>В рамках подготовки к учебному году в {n} школах региона завершён капитальный ремонт, ещё в {m} — "
     "текущий.</p><p>Работы выполнены за счёт местного бюджета.</p>",
     "{n} мектепте күрделі жөндеу аяқталды",
     "<p>Оқу жылына дайындық аясында өңірдің {n} мектебінде күрделі жөндеу, тағы {m} мектепте ағымдағы жөндеу "
     "аяқталды.</p><p>Жұмыстар жергілікті бюджет есебінен жүргізілді.</p>"),
    ("Открыта новая школа на {n} ученических мест",
     "<p>В новом микрорайоне открылась школа на {n} мест с кабинетами физики, химии и робототехники.</p>"
     "<p>Строительство велось в рамках программы по ликвидации дефицита ученических мест.</p>",
     "{n} орындық жаңа мектеп ашылды",
     "<p>Жаңа шағын ауданда физика, химия және робототехника кабинеттері бар {n} орындық мектеп ашылды.</p>"
     "<p>Құрылыс оқушы орындарының тапшылығын жою бағдарламасы аясында жүргізілді.</p>"),
    ("Выпускники региона показали результаты ЕНТ",
     "<p>Средний балл выпускников {reg_ru} на едином национальном тестировании составил {n} баллов.</p>"
     "<p>{m} выпускников набрали более 130 баллов.</p>",
     "Өңір түлектері ҰБТ нәтижелерін көрсетті",
     "<p>{reg_kk} түлектерінің ұлттық бірыңғай тестілеудегі орташа балы {n} балл болды.</p>"
     "<p>{m} түлек 130 балдан астам жинады.</p>"),
    ("Руководитель управления образования провёл приём граждан",
     "<p>В ходе приёма рассмотрено {n} обращений: о зачислении в школы и детские сады, о подвозе учащихся, о "
     "трудоустройстве педагогов.</p><p>По {m} обращениям даны поручения.</p>",
     "Білім басқармасының басшысы азаматтарды қабылдады",
     "<p>Қабылдау барысында {n} өтініш қаралды: мектептер мен балабақшаларға қабылдау, оқушыларды тасымалдау, "
     "педагогтерді жұмысқа орналастыру мәселелері бойынша.</p><p>{m} өтініш бойынша тапсырма берілді.</p>"),
    ("Расширяется сеть кабинетов психолого-педагогической поддержки",
     "<p>В этом году в школах региона открыто ещё {n} кабинетов поддержки инклюзивного образования.</p>"
     "<p>Специалисты прошли обучение по работе с детьми с особыми образовательными потребностями.</p>",
     "Психологиялық-педагогикалық қолдау кабинеттерінің желісі кеңейеді",
     "<p>Биыл өңір мектептерінде инклюзивті білім беруді қолдаудың тағы {n} кабинеті ашылды.</p>"
     "<p>Мамандар ерекше білім беру қажеттіліктері бар балалармен жұмыс бойынша оқудан өтті.</p>"),
    ("Учащиеся приняли участие в фестивале робототехники",
     "<p>В фестивале приняли участие {n} команд из школ и колледжей региона.</p><p>Лучшие команды поедут на "
     "республиканский чемпионат.</p>",
     "Оқушылар робототехника фестиваліне қатысты",
     "<p>Фестивальге өңірдің мектептері мен колледждерінен {n} команда қатысты.</p><p>Үздік командалар "
     "республикалық чемпионатқа барады.</p>"),
    ("Стартовала профилактическая акция «Внимание, дети!»",
     "<p>Акция проводится совместно с полицией: в школах проходят занятия по правилам дорожного движения.</p>"
     "<p>К акции присоединились {n} организаций образования.</p>",
     "«Назар аударыңыз, балалар!» профилактикалық акциясы басталды",
     "<p>Акция полициямен бірлесіп өткізіледі: мектептерде жол жүру ережелері бойынша сабақтар өтуде.</p>"
     "<p>Акцияға {n} білім беру ұйымы қосылды.</p>"),
    ("Педагоги прошли курсы повышения квалификации",
     "<p>{n} учителей региона прошли курсы повышения квалификации по предметной методике и цифровой "
     "грамотности.</p><p>Обучение организовано филиалом центра повышения квалификации.</p>",
     "Педагогтер біліктілікті арттыру курстарынан өтті",
     "<p>Өңірдің {n} мұғалімі пәндік әдістеме және цифрлық сауаттылық бойынша біліктілікті арттыру курстарынан "
     "өтті.</p><p>Оқуды біліктілікті арттыру орталығының филиалы ұйымдастырды.</p>"),
    ("В школы поступило {n} интерактивных панелей",
     "<p>Оборудование приобретено по итогам государственных закупок и установлено в {m} школах.</p>"
     "<p>Поставщик провёл обучение учителей работе с панелями.</p>",
     "Мектептерге {n} интерактивті панель түсті",
     "<p>Жабдық мемлекеттік сатып алу қорытындысы бойынша сатып алынып, {m} мектепке орнатылды.</p>"
     "<p>Жеткізуші мұғалімдерге панельдермен жұмыс істеуді үйретті.</p>"),
    ("Родителям напомнили о порядке доступа к электронному дневнику",
     "<p>Доступ родителей к электронному журналу и дневнику предоставляется бесплатно; логин и пароль выдаёт "
     "классный руководитель.</p><p>По вопросам работы системы можно обратиться на горячую линию.</p>",
     "Ата-аналарға электрондық күнделікке қол жеткізу тәртібі еске салынды",
     "<p>Ата-аналардың электрондық журнал мен күнделікке қол жеткізуі тегін; логин мен құпиясөзді сынып "
     "жетекшісі береді.</p><p>Жүйенің жұмысы бойынша сұрақтармен жедел желіге хабарласуға болады.</p>"),
)

# Memorandum subjects: (ru, accusative-free), (kk nominative), (kk accusative).
SUBJECTS: tuple[tuple[str, str, str], ...] = (
    ("внедрение цифровой образовательной платформы в школах региона",
     "өңір мектептеріне цифрлық білім беру платформасын енгізу",
     "өңір мектептеріне цифрлық білім беру платформасын енгізуді"),
    ("обучение педагогов работе с цифровыми образовательными ресурсами",
     "педагогтерді цифрлық білім беру ресурстарымен жұмыс істеуге оқыту",
     "педагогтерді цифрлық білім беру ресурстарымен жұмыс істеуге оқытуды"),
    ("проведение онлайн-курсов подготовки к ЕНТ для выпускников",
     "түлектерге ҰБТ-ға дайындық онлайн-курстарын өткізу",
     "түлектерге ҰБТ-ға дайындық онлайн-курстарын өткізуді"),
    ("открытие кабинетов робототехники в сельских школах",
     "ауыл мектептерінде робототехника кабинеттерін ашу",
     "ауыл мектептерінде робототехника кабинеттерін ашуды"),
    ("повышение квалификации учителей информатики",
     "информатика мұғалімдерінің біліктілігін арттыру",
     "информатика мұғалімдерінің біліктілігін арттыруды"),
)
PILOT_SUBJECT = ("пилотное внедрение системы оценивания учебных достижений в 12 школах региона",
                 "өңірдің 12 мектебінде оқу жетістіктерін бағалау жүйесін пилоттық енгізу",
                 "өңірдің 12 мектебінде оқу жетістіктерін бағалау жүйесін пилоттық енгізуді")
SWITCH_SUBJECT = ("переход школ региона на информационную систему электронного журнала с третьей четверти",
                  "өңір мектептерін үшінші тоқсаннан бастап электрондық журналдың ақпараттық жүйесіне көшіру",
                  "өңір мектептерін үшінші тоқсаннан бастап электрондық журналдың ақпараттық жүйесіне көшіруді")

ORDERS: tuple[tuple[str, str], ...] = (
    ("Об утверждении плана работы управления образования на {year} год",
     "Білім басқармасының {year} жылға арналған жұмыс жоспарын бекіту туралы"),
    ("О проведении регионального этапа олимпиады школьников",
     "Мектеп оқушылары олимпиадасының өңірлік кезеңін өткізу туралы"),
    ("Об организации летнего отдыха детей", "Балалардың жазғы демалысын ұйымдастыру туралы"),
    ("О подготовке организаций образования к новому учебному году",
     "Білім беру ұйымдарын жаңа оқу жылына дайындау туралы"),
    ("Об утверждении состава аттестационной комиссии", "Аттестаттау комиссиясының құрамын бекіту туралы"),
    ("О проведении конкурса «Лучший педагог»", "«Үздік педагог» конкурсын өткізу туралы"),
    ("Об утверждении графика приёма граждан", "Азаматтарды қабылдау кестесін бекіту туралы"),
    ("О мерах по обеспечению безопасности в организациях образования",
     "Білім беру ұйымдарында қауіпсіздікті қамтамасыз ету жөніндегі шаралар туралы"),
)


# ------------------------------------------------------------------------------------------ the scenario
class OtherScenario:
    """gov.kz items and stat.gov.kz cards for one goszakup scenario, with ground truth (module docstring)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.rand = random.Random(scenario.seed * 7919 + 404)
        self.regions = {r.code2: r for r in vocab.load_regions()}
        self.slugs = load_slugs()
        self._subjects = {s["bin"]: s for s in scenario.records("Subjects") if s.get("bin")}
        self._by_iin = {s["iin"]: s for s in scenario.records("Subjects") if s.get("iin")}
        self._items: list[_Item] = []
        self.memoranda: list[MemorandumFact] = []
        self.near_misses: list[NearMiss] = []
        self.ppp: list[PPPFact] = []
        self._pending_memos: list[dict[str, Any]] = []
        self._pending_ppp: list[dict[str, Any]] = []
        self._pending_near: list[tuple[_Item, str]] = []
        self.donations: list[DonationFact] = []
        self._pending_donations: list[tuple[_Item, str, str, date, date]] = []
        self.bodies = self._public_bodies()
        self.companies = {_inner(s["nameRu"]): self._org(s) for s in self._subjects.values() if s.get("supplier")}
        self.story = self._story() if scenario.name == "demo" else None
        self._generate()
        self._index()

    # ------------------------------------------------------------------ who is who
    def _org(self, subject: dict[str, Any]) -> _Org:
        heads = [e for e in subject.get("Employees", []) if e.get("role") == 1]
        current = next((e for e in heads if e.get("endDate") is None), heads[-1] if heads else None)
        previous = next((e for e in heads if e.get("endDate") is not None), None)
        kopf = subject.get("refKopfCode") or ""
        inner_ru, inner_kk = _inner(subject["nameRu"]), _inner(subject["nameKz"])
        legal = subject["nameRu"].split('"', 1)[0].strip()
        kk_form = subject["nameKz"].rsplit('"', 1)[-1].strip()
        is_body = legal in ("ГУ", "КГУ")
        return _Org(
            bin=subject["bin"],
            name_ru=inner_ru if is_body else f"{legal} «{inner_ru}»",
            name_kk=inner_kk if is_body else f"«{inner_kk}» {kk_form}",
            kopf=kopf,
            head=_title(current["fio"]) if current else "",
            head_since=_day(current["startDate"]) if current else FIRST_DAY,
            prev_head=_title(previous["fio"]) if previous else None,
            prev_until=_day(previous["endDate"]) if previous else None,
            region=(subject.get("katoList") or [""])[0][:2],
        )

    def _public_bodies(self) -> dict[str, _Org | None]:
        """slug → the goszakup subject it stands for (ministry, department), or None (sci, akimats)."""
        bodies: dict[str, _Org | None] = {}
        departments: dict[str, dict[str, Any]] = {}
        ministry: dict[str, Any] | None = None
        for candidate in self._subjects.values():
            name = candidate["nameRu"]
            if name.startswith('ГУ "Управление образования'):
                departments[(candidate.get("katoList") or [""])[0][:2]] = candidate
            elif name.startswith('ГУ "Министерство просвещения'):
                ministry = candidate
        for row in self.slugs:
            subject: dict[str, Any] | None = None
            if row.kind == "education_department":
                subject = departments.get(row.region_code2)
            elif row.slug == "edu":
                subject = ministry
            bodies[row.slug] = self._org(subject) if subject is not None else None
        return bodies

    def _company(self, brand: str) -> _Org:
        return self.companies[brand]

    def _story(self) -> Story:
        """The demo story's facts, checked against the goszakup data so the two never disagree."""
        slug = next(r.slug for r in self.slugs if r.kind == "education_department" and r.region_code2 == STORY_REGION)
        department = self.bodies[slug]
        assert department is not None
        old, new = self._company(STORY_OLD), self._company(STORY_NEW)
        pilot, ppp = self._company(STORY_PILOT), self._company(STORY_PPP)
        in_region: dict[str, list[date]] = {}
        for row in self.scenario.truth():
            customer = self._subjects.get(row.customer_bin)
            region = (customer.get("katoList") or [""])[0][:2] if customer else ""
            if row.signed_on is not None and STORY_REGION in (row.region, region):
                in_region.setdefault(row.supplier_biin, []).append(row.signed_on)
        if pilot.bin in in_region:
            raise AssertionError(f"story: {STORY_PILOT} must have no contract in region {STORY_REGION}")
        new_days = sorted(d for d in in_region.get(new.bin, []) if d >= date(2025, 1, 1))
        if not new_days or not in_region.get(old.bin) or max(in_region[old.bin]) >= new_days[0] + timedelta(days=60):
            raise AssertionError("story: the goszakup scenario no longer shows the Kyzylorda e-journal switch")
        signed = _weekday(new_days[0] - timedelta(days=15))
        abay = self.bodies[next(r.slug for r in self.slugs if r.kind == "education_department"
                                and r.region_code2 == "10")]
        assert abay is not None
        assert abay.prev_head is not None
        assert abay.prev_until is not None
        if old.head != abay.prev_head:
            raise AssertionError("story: the old operator's director must be the former Abai education head")
        return Story(STORY_REGION, slug, department.bin, old.bin, new.bin, signed, new_days[0], pilot.bin, ppp.bin,
                     abay.prev_head, abay.prev_until)

    # ------------------------------------------------------------------ generation
    def _moment(self, day: date) -> datetime:
        hour, minute = self.rand.randint(3, 11), self.rand.choice((0, 0, 15, 30, 45))
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)

    def _random_day(self, low: date = FIRST_DAY, high: date = LAST_DAY) -> date:
        return _weekday(low + timedelta(days=self.rand.randrange((high - low).days + 1)))

    def _news(self, slug: str, day: date, texts: dict[str, tuple[str, str]]) -> _Item:
        created = self._moment(day)
        item = _Item("news", slug, created, {
            lang: {"title": title, "body": body} for lang, (title, body) in texts.items()})
        self._items.append(item)
        return item

    def _document(self, slug: str, day: date, texts: dict[str, str], publisher: dict[str, str],
                  section: dict[str, str]) -> _Item:
        created = self._moment(day)
        item = _Item("documents", slug, created, {
            lang: {"title": title, "publisher": publisher[lang], "section": section[lang]}
            for lang, title in texts.items()})
        self._items.append(item)
        return item

    def _generate(self) -> None:
        for row in self.slugs:
            body = self.bodies[row.slug]
            region = self.regions.get(row.region_code2)
            count = {"education_department": 24, "akimat": 7, "ministry": 30 if row.slug == "edu" else 8}[row.kind]
            for _ in range(count):
                self._unrelated(row.slug, region)
            self._orders(row, body, region)
            self._curators(row, body, region)
            if body is not None and body.prev_head is not None and body.prev_until is not None:
                self._appointment(row.slug, body)
        self._ordinary_memoranda()
        if self.story is not None:
            self._story_items(self.story)
        self._near_miss_items()
        if self.story is not None:
            self._donation()

    def _fill(self, text: str, region: vocab.Region | None, n: int, m: int) -> str:
        reg_ru = region.genitive_ru if region else "страны"
        reg_kk = region.genitive_kz if region else "Қазақстанның"
        return text.format(reg_ru=reg_ru, reg_kk=reg_kk, n=n, m=m)

    def _unrelated(self, slug: str, region: vocab.Region | None) -> None:
        title_ru, body_ru, title_kk, body_kk = self.rand.choice(UNRELATED)
        n, m = self.rand.randint(5, 60), self.rand.randint(2, 20)
        texts = {"ru": (self._fill(title_ru, region, n, m), self._fill(body_ru, region, n, m)),
                 "kk": (self._fill(title_kk, region, n, m), self._fill(body_kk, region, n, m))}
        draw = self.rand.random()
        if draw < 0.08:
            del texts["kk"]  # published in Russian only
        elif draw < 0.14:
            del texts["ru"]  # published in Kazakh only
        if slug == "edu" and self.rand.random() < 0.3 and "ru" in texts:
            texts["en"] = (f"Education news: {n} schools", f"<p>The Ministry reports on {n} schools and {m} "
                                                          f"colleges.</p>")
        self._news(slug, self._random_day(), texts)

    def _appointment(self, slug: str, body: _Org) -> None:
        assert body.prev_until is not None
        gen_ru = body.name_ru.replace("Управление образования", "управления образования", 1)
        self._news(slug, body.prev_until, {
            "ru": (f"Назначен руководитель {gen_ru}",
                   f"<p>Распоряжением акима руководителем {gen_ru} назначен(а) {body.head}.</p>"
                   f"<p>Ранее эту должность занимал(а) {body.prev_head}, освобождённый(ая) от должности в связи с "
                   f"переходом на другую работу.</p>"),
            "kk": (f"{body.name_kk} басшысы тағайындалды",
                   f"<p>Әкімнің өкімімен {body.name_kk} басшысы болып {body.head} тағайындалды.</p>"
                   f"<p>Бұған дейін бұл лауазымды атқарған {body.prev_head} басқа жұмысқа ауысуына байланысты "
                   f"лауазымынан босатылды.</p>"),
        })

    def _orders(self, row: Any, body: _Org | None, region: vocab.Region | None) -> None:
        publisher = self._publisher(row, body, region)
        section = {"ru": region.name_ru if region else "Республика Казахстан",
                   "kk": region.name_kz if region else "Қазақстан Республикасы"}
        count = 10 if row.kind != "akimat" else 3
        for k in range(count):
            day = self._random_day()
            ru, kk = self.rand.choice(ORDERS)
            number = 20 + k * 17 + self.rand.randint(0, 15)
            self._document(row.slug, day, {"ru": order_title_ru(number, day, ru.format(year=day.year)),
                                           "kk": order_title_kk(number, day, kk.format(year=day.year))},
                           publisher, section)

    def _publisher(self, row: Any, body: _Org | None, region: vocab.Region | None) -> dict[str, str]:
        if body is not None:
            return {"ru": body.name_ru, "kk": body.name_kk, "en": body.name_ru}
        if row.kind == "akimat" and region is not None:
            return {"ru": f"Акимат {region.genitive_ru} (демо)", "kk": f"{region.genitive_kz} әкімдігі (демо)",
                    "en": f"Akimat of {region.name_ru} (demo)"}
        return {"ru": f"{row.name_ru} (демо)", "kk": f"{row.name_ru} (демо)", "en": f"{row.name_ru} (demo)"}

    # ------------------------------------------------------------------ people
    def _invented_person(self) -> tuple[str, str, str]:
        r = self.rand
        female = r.random() < 0.45
        if r.random() < 0.7:
            last = r.choice(vocab.SURNAMES_KZ)[1 if female else 0]
            first = r.choice(vocab.FEMALE_KZ if female else vocab.MALE_KZ)
            middle = r.choice(vocab.KZ_FATHERS) + ("қызы" if female else "ұлы")
        else:
            last = r.choice(vocab.SURNAMES_RU)[1 if female else 0]
            first = r.choice(vocab.FEMALE_RU if female else vocab.MALE_RU)
            middle = r.choice(vocab.RU_PATRONYMICS)[1 if female else 0]
        return last, first, middle

    def _curators(self, row: Any, body: _Org | None, region: vocab.Region | None) -> None:
        people: list[tuple[tuple[str, str, str], str, str, str, date]] = []  # (fio parts, role, ru, kk, since)
        if row.kind == "education_department":
            org_ru = body.name_ru if body else row.name_ru
            org_kk = body.name_kk if body else row.name_ru
            gen_ru = org_ru.replace("Управление образования", "управления образования", 1)
            head = _split_fio(body.head) if body and body.head else self._invented_person()
            since = body.head_since if body else self._random_day(date(2019, 1, 1), date(2023, 6, 30))
            people.append((head, "head", f"Руководитель {gen_ru}", f"{org_kk} басшысы", since))
            people.extend((self._invented_person(), "deputy", f"Заместитель руководителя {gen_ru}",
                           f"{org_kk} басшысының орынбасары", self._random_day(date(2018, 1, 1), date(2024, 12, 1)))
                          for _ in range(2))
        elif row.kind == "akimat":
            assert region is not None
            people.append((self._invented_person(), "head", f"Аким {region.genitive_ru}", f"{region.genitive_kz} әкімі",
                           self._random_day(date(2019, 1, 1), date(2024, 6, 1))))
            people.extend((self._invented_person(), "deputy", f"Заместитель акима {region.genitive_ru}",
                           f"{region.genitive_kz} әкімінің орынбасары", self._random_day(date(2019, 1, 1), date(2025, 6, 1)))
                          for _ in range(3))
        else:
            minister_ru = "Министр просвещения" if row.slug == "edu" else "Министр науки и высшего образования"
            minister_kk = "Оқу-ағарту министрі" if row.slug == "edu" else "Ғылым және жоғары білім министрі"
            head = _split_fio(body.head) if body and body.head else self._invented_person()
            people.append((head, "head", f"{minister_ru} Республики Казахстан (демо)",
                           f"Қазақстан Республикасының {minister_kk} (демо)",
                           body.head_since if body else date(2023, 2, 1)))
            people.extend((self._invented_person(), "deputy", "Вице-министр (демо)", "Вице-министр (демо)",
                           self._random_day(date(2020, 1, 1), date(2025, 3, 1)))
                          for _ in range(3 if row.slug == "edu" else 2))
        for order, ((last, first, middle), role, position_ru, position_kk, since) in enumerate(people, start=1):
            born = self.rand.randint(1965, 1987)
            email = f"{_latin(first)[:1]}.{_latin(last)}@{row.slug}.ashyq-demo.example"
            bio_ru = (f"<p>Родился(ась) в {born} году.</p><p>Окончил(а) педагогический университет.</p>"
                      f"<p>С {since:%d.%m.%Y} года — {position_ru[0].lower()}{position_ru[1:]}.</p>")
            bio_kk = (f"<p>{born} жылы туған.</p><p>Педагогикалық университетті бітірген.</p>"
                      f"<p>{since:%d.%m.%Y} бастап — {position_kk}.</p>")
            directions = {"ru": "Образование", "kk": "Білім беру", "en": "Education"}
            texts = {
                "ru": {"lastname": last, "name": first, "middlename": middle, "position": position_ru,
                       "level": {"items": [{"position": "Руководитель" if role == "head" else "Заместитель"}]},
                       "biography": bio_ru, "biography_details": f"<p>{position_ru} с {since:%d.%m.%Y}.</p>",
                       "cur_directions": {"items": [{"title": directions["ru"]}]}},
                "kk": {"lastname": last, "name": first, "middlename": middle, "position": position_kk,
                       "level": {"items": [{"position": "Басшы" if role == "head" else "Орынбасар"}]},
                       "biography": bio_kk, "biography_details": f"<p>{since:%d.%m.%Y} бастап {position_kk}.</p>",
                       "cur_directions": {"items": [{"title": directions["kk"]}]}},
            }
            if row.kind != "education_department":
                texts["en"] = {"lastname": _latin(last).title(), "name": _latin(first).title(),
                               "middlename": _latin(middle).title(), "position": f"{role.title()} (demo)",
                               "level": {"items": [{"position": role.title()}]},
                               "biography": f"<p>Born in {born}. In office since {since:%d.%m.%Y}.</p>",
                               "biography_details": "", "cur_directions": {"items": [{"title": directions["en"]}]}}
            common = {"order": order, "email": email,
                      "photo": f"/uploads/{since.year}/{since.month}/{since.day}/{self._hex()}_photo.jpg",
                      "phone": f"+7 7{self.rand.randint(10, 99)} {self.rand.randint(100, 999)} 00 {order:02d}",
                      "public_reception_phone": f"+7 7{self.rand.randint(10, 99)} 000 00 00", "since": since}
            self._items.append(_Item("curators", row.slug, None, texts, common))

    def _hex(self) -> str:
        return "".join(self.rand.choice("0123456789abcdef") for _ in range(16))

    # ------------------------------------------------------------------ memoranda
    def _memo(self, slug: str, body: _Org, company: _Org, day: date, subject: tuple[str, str, str],
              variant: int, langs: tuple[str, ...] = ("ru", "kk"), story: str | None = None,
              references: tuple[tuple[date, int, dict[str, str]], ...] = (),
              signatories: bool = False) -> dict[str, Any]:
        texts = memorandum_texts(variant, body, company, day, subject, signatories)
        item = self._news(slug, day, {lang: texts[lang] for lang in langs})
        refs = []
        for ref_day, ref_variant, extra in references:
            ref_texts = reference_texts(ref_variant, body, company, day, extra)
            refs.append(self._news(slug, ref_day, ref_texts))
        memo = {"slug": slug, "day": day, "body": body, "company": company, "subject": subject, "langs": langs,
                "item": item, "refs": refs, "documents": [], "story": story}
        self._pending_memos.append(memo)
        return memo

    def _ordinary_memoranda(self) -> None:
        candidates = [c for name, c in sorted(self.companies.items())
                      if c.kopf in ("ТОО", "АО", "ЧУ") and name not in (STORY_OLD, STORY_NEW, STORY_PILOT, STORY_PPP)]
        departments = [r.slug for r in self.slugs if r.kind == "education_department"
                       and r.region_code2 != STORY_REGION and self.bodies[r.slug] is not None]
        self.rand.shuffle(departments)
        for k, slug in enumerate(departments[:10]):
            body = self.bodies[slug]
            assert body is not None
            company = self.rand.choice(candidates)
            day = self._random_day(date(2023, 3, 1), date(2025, 10, 31))
            subject = self.rand.choice(SUBJECTS)
            langs = ("kk",) if k == 3 else ("ru",) if k == 6 else ("ru", "kk")
            refs: tuple[tuple[date, int, dict[str, str]], ...] = ()
            if k % 3 == 0:
                refs = ((_weekday(day + timedelta(days=self.rand.randint(60, 200))), 2, {"n": "14"}),)
            self._memo(slug, body, company, day, subject, k % 3, langs, references=refs)
        ministry = self.bodies.get("edu")
        if ministry is not None:
            company = self._company("Мысал Білім Платформасы")
            self._memo("edu", ministry, company, date(2024, 3, 12), SUBJECTS[0], 0, ("ru", "kk"),
                       references=((date(2025, 2, 20), 3, {}),))

    def _story_items(self, story: Story) -> None:
        slug = story.slug
        department = self.bodies[slug]
        assert department is not None
        old, new = self._company(STORY_OLD), self._company(STORY_NEW)
        pilot, ppp = self._company(STORY_PILOT), self._company(STORY_PPP)
        region = self.regions[STORY_REGION]
        publisher = {"ru": department.name_ru, "kk": department.name_kk}
        section = {"ru": region.name_ru, "kk": region.name_kz}
        # The old operator at work (no memorandum: procurement contracts).
        self._news(slug, date(2023, 9, 6), {
            "ru": ("Школы региона работают с электронным журналом",
                   f"<p>С начала учебного года школы {region.genitive_ru} ведут электронный журнал и дневник в "
                   f"системе {old.name_ru}, услуги которого приобретены по итогам государственных закупок.</p>"),
            "kk": ("Өңір мектептері электрондық журналмен жұмыс істейді",
                   f"<p>Оқу жылының басынан бастап {region.genitive_kz} мектептері электрондық журнал мен "
                   f"күнделікті {old.name_kk} жүйесінде жүргізеді, оның қызметтері мемлекеттік сатып алу "
                   f"қорытындысы бойынша сатып алынған.</p>")})
        # Memorandum-only operator: announced, published as a document, referred to later; no contract.
        pilot_day = date(2024, 11, 14)
        memo = self._memo(slug, department, pilot, pilot_day, PILOT_SUBJECT, 0, story="memorandum_only",
                          references=((date(2025, 5, 22), 1, {"n": "12"}),))
        memo["documents"].append(self._document(slug, pilot_day, {
            "ru": f"Меморандум о сотрудничестве между {instrumental_ru(department.name_ru)} и {pilot.name_ru} "
                  f"(БИН {pilot.bin})",
            "kk": f"{department.name_kk} мен {pilot.name_kk} (БСН {pilot.bin}) арасындағы ынтымақтастық туралы "
                  f"меморандум"}, publisher, section))
        # Mid-year switch: memorandum in January, an order on the transition, then the third quarter.
        signed = story.switch_memorandum_on
        self._memo(slug, department, new, signed, SWITCH_SUBJECT, 2, story="switch",
                   references=((_weekday(story.new_operator_first_contract + timedelta(days=3)), 0, {"n": "286"}),
                               (date(2025, 9, 3), 3, {})), signatories=True)
        order_day = _weekday(signed + timedelta(days=6))
        self._document(slug, order_day, {
            "ru": order_title_ru(17, order_day, "О переходе организаций образования на информационную систему "
                                                f"электронного журнала {new.name_ru}"),
            "kk": order_title_kk(17, order_day, f"Білім беру ұйымдарын {new.name_kk} электрондық журналының "
                                                "ақпараттық жүйесіне көшіру туралы")}, publisher, section)
        # The PPP operator: the akimat's resolution, the signing release, a department order.
        project_ru = f"Цифровая образовательная платформа для школ {region.genitive_ru} (демо)"
        project_kk = f"{region.genitive_kz} мектептеріне арналған цифрлық білім беру платформасы (демо)"
        akimat = next(r.slug for r in self.slugs if r.kind == "akimat" and r.region_code2 == STORY_REGION)
        akimat_publisher = {"ru": f"Акимат {region.genitive_ru} (демо)", "kk": f"{region.genitive_kz} әкімдігі (демо)"}
        resolution_day = date(2024, 3, 18)
        resolution = self._document(akimat, resolution_day, {
            "ru": f"Постановление акимата {region.genitive_ru} (демо) от {resolution_day:%d.%m.%Y} года № 112 "
                  f"«О реализации проекта государственно-частного партнерства «{project_ru}»»",
            "kk": f"{region.genitive_kz} әкімдігінің (демо) {resolution_day:%d.%m.%Y} жылғы № 112 қаулысы "
                  f"«{project_kk}» мемлекеттік-жекешелік әріптестік жобасын іске асыру туралы»"},
            akimat_publisher, section)
        ppp_day, term, amount = date(2024, 6, 24), 10, 1_850_000_000
        signing = self._news(slug, ppp_day, {
            "ru": ("Подписан договор государственно-частного партнерства в сфере цифрового образования",
                   f"<p>{date_ru(ppp_day)} {department.name_ru} и {ppp.name_ru} заключили договор "
                   f"государственно-частного партнерства по проекту «{project_ru}». Срок действия договора — "
                   f"{term} лет, объём инвестиций частного партнёра — {amount:,} тенге.</p><p>Частный партнёр "
                   f"определён по итогам конкурса.</p>".replace(",", " ")),
            "kk": ("Цифрлық білім беру саласында мемлекеттік-жекешелік әріптестік шартына қол қойылды",
                   f"<p>{date_kk(ppp_day)} {department.name_kk} мен {ppp.name_kk} «{project_kk}» жобасы бойынша "
                   f"мемлекеттік-жекешелік әріптестік шартын жасасты. Шарттың қолданылу мерзімі — {term} жыл.</p>"),
        })
        self._pending_near.append((signing, "ppp_agreement"))
        group_day = date(2024, 7, 8)
        group = self._document(slug, group_day, {
            "ru": order_title_ru(64, group_day, "О создании рабочей группы по мониторингу исполнения договора "
                                                f"государственно-частного партнерства с {ppp.name_ru}"),
            "kk": order_title_kk(64, group_day, f"{ppp.name_kk} мемлекеттік-жекешелік әріптестік шартының орындалуын "
                                                "мониторингтеу жөніндегі жұмыс тобын құру туралы")},
            publisher, section)
        self._pending_ppp.append({"project_ru": project_ru, "project_kk": project_kk, "department": department,
                                  "company": ppp, "day": ppp_day, "term": term, "amount": amount,
                                  "news": [signing], "documents": [resolution, group]})
        # PPP noise elsewhere: kindergartens in other akimats' documents, no company named.
        for row in [r for r in self.slugs if r.kind == "akimat" and r.region_code2 in ("35", "59")]:
            other = self.regions[row.region_code2]
            day = self._random_day(date(2023, 4, 1), date(2025, 6, 30))
            self._document(row.slug, day, {
                "ru": f"Постановление акимата {other.genitive_ru} (демо) от {day:%d.%m.%Y} года № 58 «О реализации "
                      f"проекта ГЧП «Строительство и эксплуатация детского сада на 320 мест»»",
                "kk": f"{other.genitive_kz} әкімдігінің (демо) {day:%d.%m.%Y} жылғы № 58 қаулысы «320 орындық "
                      f"балабақша салу және пайдалану» МЖӘ жобасын іске асыру туралы»"},
                {"ru": f"Акимат {other.genitive_ru} (демо)", "kk": f"{other.genitive_kz} әкімдігі (демо)"},
                {"ru": other.name_ru, "kk": other.name_kz})

    def _near_miss_items(self) -> None:
        departments = [r.slug for r in self.slugs if r.kind == "education_department"]
        for slug in self.rand.sample(departments, 4):
            item = self._news(slug, self._random_day(date(2023, 6, 1), date(2025, 12, 1)), {
                "ru": ("Обсуждены направления сотрудничества с IT-компаниями",
                       "<p>В управлении образования обсудили с представителями отечественных IT-компаний "
                       "возможные направления сотрудничества в сфере цифровизации школ.</p><p>По итогам встречи "
                       "стороны намерены подготовить проект меморандума.</p>"),
                "kk": ("IT-компаниялармен ынтымақтастық бағыттары талқыланды",
                       "<p>Білім басқармасында отандық IT-компаниялардың өкілдерімен мектептерді цифрландыру "
                       "саласындағы ынтымақтастықтың ықтимал бағыттары талқыланды.</p><p>Кездесу қорытындысы "
                       "бойынша тараптар меморандум жобасын дайындауға ниетті.</p>")})
            self._pending_near.append((item, "planned"))
        for slug in self.rand.sample(departments, 3):
            n = self.rand.randint(8, 20)
            item = self._news(slug, self._random_day(date(2023, 6, 1), date(2025, 12, 1)), {
                "ru": (f"На форуме «Цифровая школа» подписано {n} меморандумов",
                       f"<p>По итогам регионального форума «Цифровая школа» между организациями образования и "
                       f"бизнесом подписано {n} меморандумов.</p><p>В форуме приняли участие более 300 "
                       f"педагогов.</p>"),
                "kk": (f"«Цифрлық мектеп» форумында {n} меморандумға қол қойылды",
                       f"<p>«Цифрлық мектеп» өңірлік форумының қорытындысы бойынша білім беру ұйымдары мен бизнес "
                       f"арасында {n} меморандумға қол қойылды.</p><p>Форумға 300-ден астам педагог қатысты.</p>")})
            self._pending_near.append((item, "count"))

    def _donation(self) -> None:
        """One gift before paid work: a company donates software to a department that later buys its support from
        it by single-source contracts (goszakup). The pair is the department–company pair with the most
        single-source contracts whose first one leaves 60 days after FIRST_DAY for the gift (ties: the lower
        BINs), so the release follows the goszakup scenario instead of assuming one of its pairs."""
        departments = {o.bin: (slug, o) for slug, o in self.bodies.items() if o is not None
                       and any(r.slug == slug and r.kind == "education_department" for r in self.slugs)}
        contracts: dict[tuple[str, str], list[date]] = {}
        for row in self.scenario.truth():
            if row.legal_basis == "single_source" and row.signed_on is not None and row.customer_bin in departments:
                contracts.setdefault((row.customer_bin, row.supplier_biin), []).append(row.signed_on)
        by_bin = {c.bin: c for c in self.companies.values()}
        pairs = sorted(((-len(days), dept, firm), min(days)) for (dept, firm), days in contracts.items()
                       if firm in by_bin and min(days) >= FIRST_DAY + timedelta(days=60))
        if not pairs:
            return
        (_, dept_bin, firm_bin), first = pairs[0]
        slug, body = departments[dept_bin]
        company = by_bin[firm_bin]
        day = _weekday(first - timedelta(days=60))
        region_ru = genitive_ru(body.name_ru)
        item = _Item("news", slug, datetime.combine(day, time(6, 0), tzinfo=UTC), {
            "ru": {"title": f"{company.name_ru} передало школам лицензии на программное обеспечение",
                   "body": f"<p>{company.name_ru} безвозмездно передало {_dative_ru(body.name_ru)} 500 лицензий на "
                           f"программное обеспечение для кабинетов информатики.</p><p>Лицензии распределены между "
                           f"школами региона; руководство {region_ru} поблагодарило компанию за помощь.</p>"},
            "kk": {"title": f"{company.name_kk} мектептерге бағдарламалық қамтамасыз етуге лицензиялар берді",
                   "body": f"<p>{company.name_kk} {with_dative_kk(body.name_kk)} информатика кабинеттеріне арналған "
                           f"бағдарламалық қамтамасыз етудің 500 лицензиясын сыйға тартты.</p><p>Лицензиялар өңір "
                           f"мектептеріне бөлінді.</p>"},
        })
        self._items.append(item)
        self._pending_donations.append((item, dept_bin, firm_bin, day, first))

    # ------------------------------------------------------------------ ids, payloads, truth
    def _index(self) -> None:
        for kind, base in (("news", NEWS_BASE), ("documents", DOCUMENT_BASE)):
            items = sorted((i for i in self._items if i.kind == kind), key=lambda i: (i.created, i.slug))
            next_id = base
            for item in items:
                next_id += self.rand.randint(1, 40)
                item.id = next_id
        next_id = CURATOR_BASE
        for item in (i for i in self._items if i.kind == "curators"):
            next_id += self.rand.randint(1, 9)
            item.id = next_id
        self._lists: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._by_id: dict[tuple[str, int, str], tuple[str, dict[str, Any]]] = {}
        self._created: dict[tuple[str, int], datetime] = {}
        for item in self._items:
            for lang in item.texts:
                payload = self._payload(item, lang)
                self._lists.setdefault((item.kind, item.slug, lang), []).append(payload)
                self._by_id[(item.kind, item.id, lang)] = (item.slug, payload)
            if item.created is not None:
                self._created[(item.kind, item.id)] = item.created
        for (kind, _, _), rows in self._lists.items():
            if kind == "curators":
                rows.sort(key=lambda p: p["order"])
            else:
                rows.sort(key=lambda p: (p["created_date"], p["id"]), reverse=True)
        for memo in self._pending_memos:
            body, company = memo["body"], memo["company"]
            self.memoranda.append(MemorandumFact(
                memo_id=f"{memo['slug']}:{memo['day']}:{company.bin}", slug=memo["slug"], signed_on=memo["day"],
                party_bins=(body.bin, company.bin), party_names=(body.name_ru, company.name_ru),
                subject_ru=memo["subject"][0], languages=tuple(memo["langs"]), announced_in=(memo["item"].id,),
                referenced_in=tuple(r.id for r in memo["refs"]), documents=tuple(d.id for d in memo["documents"]),
                story=memo["story"]))
        for item, why in self._pending_near:
            self.near_misses.append(NearMiss(item.id, item.slug, why))
        for item, dept_bin, firm_bin, day, first in self._pending_donations:
            self.donations.append(DonationFact(item.id, item.slug, day, firm_bin, dept_bin, first))
        for p in self._pending_ppp:
            self.ppp.append(PPPFact(
                project_ru=p["project_ru"], project_kk=p["project_kk"], state_partner_bin=p["department"].bin,
                state_partner_name=p["department"].name_ru, private_partner_bin=p["company"].bin,
                private_partner_name=p["company"].name_ru, signed_on=p["day"], term_years=p["term"],
                amount_kzt=p["amount"], ppp_form="service_contract", selection_method="tender", level="local",
                region_code2=STORY_REGION, news_ids=tuple(i.id for i in p["news"]),
                document_ids=tuple(d.id for d in p["documents"])))

    def _payload(self, item: _Item, lang: str) -> dict[str, Any]:
        text = item.texts[lang]
        if item.kind == "news":
            assert item.created is not None
            created = iso(item.created)
            return {"id": item.id, "slug": f"news-{item.id}", "title": text["title"], "body": text["body"],
                    "created_date": created, "publish_date": created, "projects": [item.slug],
                    "preview_image": f"/uploads/{item.created:%Y/%m/%d}/{item.id:x}_preview.jpg",
                    "visual_content": []}
        if item.kind == "documents":
            assert item.created is not None
            return {"id": item.id, "title": text["title"], "created_date": iso(item.created),
                    "gosorgan": {"items": [{"project_name": text["publisher"]}]},
                    "activities": {"items": [{"title": text["section"]},
                                             {"title": "Приказы" if lang == "ru" else "Бұйрықтар"}]},
                    "full_text": [{"document": f"/uploads/{item.created:%Y/%m/%d}/{item.id:x}_original.pdf"}],
                    "projects": [item.slug]}
        common = {k: v for k, v in item.common.items() if k != "since"}
        return {"id": item.id, **text, **common}

    # ------------------------------------------------------------------ serving
    def page(self, kind: str, slug: str, lang: str, gt: datetime | None, page: int, size: int,
             ascending: bool = False) -> list[dict[str, Any]]:
        """One page of a list, newest first (or oldest first), after the `created_date=gt:` filter."""
        rows = self._lists.get((kind, slug, lang), [])
        if gt is not None:
            bound = iso(gt)
            rows = [r for r in rows if r["created_date"] > bound]
        if ascending:
            rows = rows[::-1]
        start = (page - 1) * size
        return rows[start:start + size]

    def item(self, kind: str, item_id: int, lang: str) -> tuple[str, dict[str, Any]] | None:
        """(slug, payload) of one item in one language, or in any language if that one does not exist."""
        found = self._by_id.get((kind, item_id, lang))
        if found is None:
            found = next((self._by_id[(kind, item_id, other)] for other in LANGS if (kind, item_id, other) in self._by_id),
                         None)
        return found

    def expected(self, kind: str, slugs: list[str], langs: list[str], since: date | None = None) -> set[str]:
        """External ids (`<id>:<lang>`) a complete crawl of these slugs and languages must store."""
        ids = set()
        for slug in slugs:
            for lang in langs:
                for row in self._lists.get((kind, slug, lang), []):
                    created = self._created.get((kind, row["id"]))
                    if since is None or created is None or created.date() >= since:
                        ids.add(f"{row['id']}:{lang}")
        return ids

    def human_path(self, kind: str, slug: str, item_id: int, lang: str) -> str:
        return HUMAN_PATHS[kind].format(slug=slug, id=item_id, lang=lang)

    # ------------------------------------------------------------------ stat.gov.kz
    @property
    def statgov_missing(self) -> set[str]:
        return {c.bin for name, c in self.companies.items() if name == NOT_IN_REGISTER}

    @property
    def statgov_found(self) -> set[str]:
        return set(self._subjects) - self.statgov_missing

    def statgov_answer(self, bin_or_iin: str) -> dict[str, Any]:
        subject = self._subjects.get(bin_or_iin) or self._by_iin.get(bin_or_iin)
        if subject is None or bin_or_iin in self.statgov_missing:
            return dict(NOT_FOUND)
        return {"success": True, "obj": statgov_card(subject), "description": None}


# ------------------------------------------------------------------------------------------ text helpers
def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _split_fio(fio: str) -> tuple[str, str, str]:
    parts = fio.split()
    return parts[0], parts[1] if len(parts) > 1 else "", " ".join(parts[2:])


def instrumental_ru(name: str) -> str:
    """«Управление образования …» → «Управлением образования …»; «Министерство …» → «Министерством …»."""
    for nominative, instrumental in (("Управление ", "Управлением "), ("Министерство ", "Министерством ")):
        if name.startswith(nominative):
            return instrumental + name[len(nominative):]
    return name


def _dative_ru(name: str) -> str:
    """«Управление образования …» → «управлению образования …» (the only dative the demo needs)."""
    for nominative, dative in (("Управление ", "управлению "), ("Министерство ", "министерству ")):
        if name.startswith(nominative):
            return dative + name[len(nominative):]
    return name


def with_dative_kk(name: str) -> str:
    """«… білім басқармасы (демо)» → «… білім басқармасына (демо)»: the dative on the head word."""
    head, marker, tail = name.partition(" (")
    return f"{head}на{marker}{tail}" if head.endswith(("ы", "і")) else name


def genitive_ru(name: str) -> str:
    for nominative, genitive in (("Управление ", "управления "), ("Министерство ", "Министерства ")):
        if name.startswith(nominative):
            return genitive + name[len(nominative):]
    return name


def with_kk(name: str) -> str:
    """The Kazakh comitative of a company name: «…» ЖШС-пен, «…» АҚ-пен, «…» ЖМ-мен."""
    return name + ("-мен" if name.endswith(("ЖМ", "ЖК")) else "-пен")


def order_title_ru(number: int, day: date, subject: str) -> str:
    return f"Приказ №{number}-ОД от {day:%d.%m.%Y} года \"{subject}\""


def order_title_kk(number: int, day: date, subject: str) -> str:
    return f"{day.year} жылғы {day.day} {_ADJECTIVAL[MONTHS_KK[day.month - 1]]} №{number}-НҚ бұйрық «{subject}»"


def memorandum_texts(variant: int, body: _Org, company: _Org, day: date,
                     subject: tuple[str, str, str], signatories: bool = False) -> dict[str, tuple[str, str]]:
    """A release announcing the signing, in three wordings per language; `signatories` adds a sentence naming
    who signed, each next to their organization (the body's head and the company's head)."""
    ceo_ru = f"директор {company.head}" if company.head else "директор компании"
    if variant == 0:
        ru = (f"Подписан меморандум о сотрудничестве с {company.name_ru}",
              f"<p>{date_ru(day)} между {instrumental_ru(body.name_ru)} и {company.name_ru} подписан меморандум о "
              f"сотрудничестве.</p><p>Документ предусматривает {subject[0]}.</p><p>Со стороны управления меморандум "
              f"подписал(а) {body.head}, со стороны компании — {ceo_ru}.</p>")
        kk = (f"{with_kk(company.name_kk)} ынтымақтастық туралы меморандумға қол қойылды",
              f"<p>{date_kk(day)} {body.name_kk} мен {company.name_kk} арасында ынтымақтастық туралы меморандумға "
              f"қол қойылды.</p><p>Құжат {subject[2]} көздейді.</p><p>Меморандумға басқарма тарапынан {body.head}, "
              f"компания тарапынан {company.head} қол қойды.</p>")
    elif variant == 1:
        ru = (f"{body.name_ru} и {company.name_ru} подписали меморандум",
              f"<p>Руководитель {genitive_ru(body.name_ru)} {body.head} и {ceo_ru} {company.name_ru} подписали "
              f"меморандум о взаимном сотрудничестве.</p><p>Стороны договорились о совместной работе: {subject[0]}."
              f"</p><p>Меморандум вступает в силу со дня подписания и действует три года.</p>")
        kk = (f"{body.name_kk} мен {company.name_kk} өзара ынтымақтастық туралы меморандум жасасты",
              f"<p>Меморандумға {body.name_kk} басшысы {body.head} және {company.name_kk} директоры {company.head} "
              f"қол қойды.</p><p>Тараптар бірлескен жұмыс туралы уағдаласты: {subject[1]}.</p><p>Меморандум қол "
              f"қойылған күннен бастап күшіне енеді және үш жыл бойы әрекет етеді.</p>")
    else:
        ru = ("В управлении образования состоялось подписание меморандума",
              f"<p>Сегодня, {date_ru(day)}, состоялось подписание меморандума о сотрудничестве между "
              f"{instrumental_ru(body.name_ru)} и {company.name_ru}.</p><p>Меморандум предусматривает "
              f"{subject[0]}.</p><p>Компания проведёт обучение педагогов и обеспечит техническую поддержку.</p>")
        kk = ("Білім басқармасында меморандумға қол қою рәсімі өтті",
              f"<p>Бүгін, {date_kk(day)}, {body.name_kk} мен {company.name_kk} арасында ынтымақтастық туралы "
              f"меморандумға қол қойылды.</p><p>Меморандум {subject[2]} көздейді.</p><p>Компания педагогтерді "
              f"оқытып, техникалық қолдау көрсетеді.</p>")
    if signatories and body.head and company.head:
        chair_ru, chair_kk = ("председатель правления", "басқарма төрағасы") if company.kopf == "АО" else (
            "директор", "директоры")
        ru = (ru[0], ru[1] + f"<p>Меморандум подписали руководитель {genitive_ru(body.name_ru)} {body.head} и "
                             f"{chair_ru} {company.name_ru} {company.head}.</p>")
        kk = (kk[0], kk[1] + f"<p>Меморандумға {body.name_kk} басшысы {body.head} және {company.name_kk} "
                             f"{chair_kk} {company.head} қол қойды.</p>")
    return {"ru": ru, "kk": kk}


def reference_texts(variant: int, body: _Org, company: _Org, signed: date,
                    extra: dict[str, str]) -> dict[str, tuple[str, str]]:
    """A later release that only refers to the memorandum signed on `signed`."""
    n = extra.get("n", "10")
    if variant == 0:  # the switch happened
        return {
            "ru": (f"С третьей четверти школы региона работают на платформе {company.name_ru}",
                   f"<p>С начала третьей четверти {n} школ региона перешли на информационную систему электронного "
                   f"журнала {company.name_ru}.</p><p>Переход проводится в рамках меморандума о сотрудничестве, "
                   f"подписанного {date_ru(signed)} между {instrumental_ru(body.name_ru)} и {company.name_ru}.</p>"
                   f"<p>Для родителей и педагогов организованы обучающие вебинары.</p>"),
            "kk": (f"Үшінші тоқсаннан бастап өңір мектептері {company.name_kk} платформасында жұмыс істейді",
                   f"<p>Үшінші тоқсанның басынан бастап өңірдің {n} мектебі {company.name_kk} электрондық "
                   f"журналының ақпараттық жүйесіне көшті.</p><p>Көшу {date_kk(signed)} {body.name_kk} мен "
                   f"{company.name_kk} арасында қол қойылған ынтымақтастық туралы меморандум аясында жүргізілуде."
                   f"</p>")}
    if variant == 1:  # pilot results
        return {
            "ru": ("Подведены итоги пилотного проекта по оцениванию учебных достижений",
                   f"<p>В рамках меморандума между {instrumental_ru(body.name_ru)} и {company.name_ru}, подписанного "
                   f"в {month_ru(signed)}, в {n} школах региона прошёл пилотный проект.</p><p>Результаты пилота "
                   f"обсуждены на совещании директоров школ.</p>"),
            "kk": ("Оқу жетістіктерін бағалау бойынша пилоттық жобаның қорытындысы шығарылды",
                   f"<p>{month_kk(signed)} {body.name_kk} мен {company.name_kk} арасында қол қойылған меморандум "
                   f"аясында өңірдің {n} мектебінде пилоттық жоба өтті.</p><p>Пилоттың нәтижелері мектеп "
                   f"директорларының кеңесінде талқыланды.</p>")}
    if variant == 2:  # the cooperation goes on
        return {
            "ru": (f"Продолжается сотрудничество с {company.name_ru}",
                   f"<p>Напомним, в {month_ru(signed)} {body.name_ru} и {company.name_ru} подписали меморандум о "
                   f"сотрудничестве. За это время к проекту подключились {n} школ.</p>"),
            "kk": (f"{with_kk(company.name_kk)} ынтымақтастық жалғасуда",
                   f"<p>Еске сала кетейік, {month_kk(signed)} {body.name_kk} мен {company.name_kk} ынтымақтастық "
                   f"туралы меморандумға қол қойған болатын. Осы уақыт ішінде жобаға {n} мектеп қосылды.</p>")}
    return {  # a new school year under the memorandum
        "ru": ("Новый учебный год: цифровые сервисы для школ",
               f"<p>В новом учебном году школы продолжат работу с {company.name_ru} в рамках меморандума, "
               f"подписанного с {instrumental_ru(body.name_ru)} {date_ru(signed)}.</p>"),
        "kk": ("Жаңа оқу жылы: мектептерге арналған цифрлық сервистер",
               f"<p>Жаңа оқу жылында мектептер {date_kk(signed)} {body.name_kk} мен {company.name_kk} арасында "
               f"қол қойылған меморандум аясында жұмысын жалғастырады.</p>")}


# ------------------------------------------------------------------------------------------ stat.gov.kz cards
OKED_NAMES = {
    62010: "Деятельность в области компьютерного программирования", 58290: "Издание прочего программного обеспечения",
    46510: "Оптовая торговля компьютерами, периферийным оборудованием и программным обеспечением",
    62020: "Консультационные услуги в области информационных технологий",
    85590: "Прочие виды образования, не включенные в другие группировки",
    84121: "Регулирование деятельности учреждений, обеспечивающих предоставление услуг в области образования",
    85310: "Общее среднее образование", 85320: "Техническое и профессиональное среднее образование",
    85100: "Дошкольное образование", 85420: "Высшее образование",
}
_SECOND_OKEDS = {62010: "62020,63110", 58290: "62010,85590", 46510: "47410,33120", 62020: "62090,95110",
                 85590: "85600", 84121: "", 85310: "85320", 85320: "", 85100: "", 85420: "72190"}


def statgov_card(subject: dict[str, Any]) -> dict[str, Any]:
    """A stat.gov.kz card (`obj`) for a goszakup subject, with the sample's field names (SOURCE.md §3.1)."""
    heads = [e for e in subject.get("Employees", []) if e.get("role") == 1 and e.get("endDate") is None]
    oked = int(subject.get("okedList") or 0)
    address = (subject.get("Address") or [{}])[0]
    kato = str(address.get("katoCode") or (subject.get("katoList") or [""])[0])
    registered = datetime.fromisoformat(subject["regdate"]).date()
    company = bool(subject.get("supplier"))
    entrepreneur = subject.get("refKopfCode") == "ИНД"
    return {
        "id": 0,
        "bin": subject.get("bin") or subject.get("iin"),
        "name": subject["nameRu"],
        # Midnight Almaty of the registration day, written in UTC like the sample ("…T18:00:00.000+0000").
        "registerDate": f"{registered - timedelta(days=1):%Y-%m-%d}T18:00:00.000+0000",
        "okedCode": str(oked),
        "okedName": OKED_NAMES.get(oked, ""),
        "secondOkeds": _SECOND_OKEDS.get(oked, ""),
        "krpCode": "105" if company else "215",
        "krpName": "Малые предприятия (<= 5)" if company else "Средние предприятия (101 - 150)",
        "krpBfCode": "105" if company else "215",
        "krpBfName": "Малые предприятия (<= 5)" if company else "Средние предприятия (101 - 150)",
        "kseCode": "1122" if company else "1313",
        "kseName": "Национальные частные нефинансовые корпорации – ОПП" if company
        else "Местные органы государственного управления",
        "kfsCode": "19" if company else "2",
        "kfsName": "Собственность предприятий без государственного участия и иностранного участия" if company
        else "Государственная собственность",
        "katoCode": kato,
        "katoId": 200_000 + int(kato[:6] or 0) % 100_000,
        "katoAddress": address.get("address") or "",
        "fio": heads[0]["fio"].upper() if heads else "",
        "ip": entrepreneur,
    }


@functools.lru_cache(maxsize=4)
def _for(scenario: Scenario) -> OtherScenario:
    return OtherScenario(scenario)


def load_other_scenario(scenario: Scenario | str = "demo") -> OtherScenario:
    """The gov.kz / stat.gov.kz content of a goszakup scenario, built once per scenario object (scenarios are
    immutable, and `load_scenario` hands out one shared instance per name)."""
    return _for(load_scenario(scenario) if isinstance(scenario, str) else scenario)


def iter_items(other: OtherScenario, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(slug, lang, payload) of every served item of a kind."""
    for (k, slug, lang), rows in other._lists.items():
        if k == kind:
            for row in rows:
                yield slug, lang, row


# ------------------------------------------------------------------------------------------ labelled sets
class PressReleaseSet(OtherScenario):
    """gov.kz content made of given press releases only (a labelled evaluation set), served like the scenario.

    Each release is `{"id", "lang", "date" (ISO instant), "title", "body"}`; an empty body makes it a document
    (a title-only item, as gov.kz documents are). gov.kz serves the Russian and the Kazakh text of one release
    as ONE item (one id, `Accept-Language` picks the text): releases with the same `item_key` become one item,
    the first one's date and kind deciding. Items are numbered in the given order from the usual bases, under one
    `slug`; `id_of(label)` maps a labelled id to the served id. Nothing of the goszakup scenario is generated;
    stat.gov.kz answers «not found» to every BIN.
    """

    def __init__(self, releases: list[dict[str, Any]], slug: str = "unseen-press",
                 item_key: Callable[[dict[str, Any]], str] | None = None) -> None:
        # Deliberately not calling OtherScenario.__init__: no goszakup scenario stands behind a labelled set.
        self.rand = random.Random(0)
        self.slug = slug
        self._items = []
        self._subjects, self._by_iin, self.companies = {}, {}, {}
        self.memoranda, self.near_misses, self.ppp, self.story = [], [], [], None
        self.donations = []
        self.labels: dict[str, int] = {}
        counters = {"news": NEWS_BASE, "documents": DOCUMENT_BASE}
        grouped: dict[str, _Item] = {}
        for release in releases:
            key = item_key(release) if item_key else str(release["id"])
            item = grouped.get(key)
            if item is None:
                kind = "news" if (release.get("body") or "").strip() else "documents"
                counters[kind] += 1
                created = datetime.fromisoformat(str(release["date"]).replace("Z", "+00:00")).astimezone(UTC)
                item = grouped[key] = _Item(kind, slug, created, {}, id=counters[kind])
                self._items.append(item)
            lang = str(release["lang"])
            if item.kind == "news":
                item.texts[lang] = {"title": release["title"], "body": release.get("body") or ""}
            else:
                publisher = {"ru": "Орган (демо)", "kk": "Орган (демо)", "en": "Body (demo)"}[lang]
                item.texts[lang] = {"title": release["title"], "publisher": publisher, "section": "Документы"}
            self.labels[str(release["id"])] = item.id
        self._lists, self._by_id, self._created = {}, {}, {}
        for item in self._items:
            for lang in item.texts:
                payload = self._payload(item, lang)
                self._lists.setdefault((item.kind, item.slug, lang), []).append(payload)
                self._by_id[(item.kind, item.id, lang)] = (item.slug, payload)
            assert item.created is not None
            self._created[(item.kind, item.id)] = item.created
        for rows in self._lists.values():
            rows.sort(key=lambda p: (p["created_date"], p["id"]), reverse=True)

    def id_of(self, label: str) -> int:
        return self.labels[label]
