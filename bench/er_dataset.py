"""Labelled entity-resolution data: organizations and persons as Kazakhstan's sources write them.

A seeded generator, so the labelled sets in `tests/fixtures/er/` can be rebuilt byte for byte:

    .venv/bin/python bench/er_dataset.py                 # writes dev.csv and heldout.csv
    .venv/bin/python bench/er_dataset.py --scale 1000000  # (used by bench/er_bench.py, in memory)

Every entity is invented (checksum-valid BINs/IINs, invented names). Each mention is one rendering of its
entity: legal form short/long, Russian/Kazakh/English, before or after the name, «», "" or no quotes; Kazakh
letters kept or folded to Russian ones; Latin transliteration in several schemes; upper case; typos; word
order; initials with and without dots; Kazakh and Russian patronymics. Hard negatives are built in on purpose:
schools that differ only by number, the same number in different cities, ИП and ТОО of one brand, branches
with their own BIN, namesakes in different organizations, relatives and spouses in one organization.

Two profiles guard against tuning on the test: `dev` (what the matcher was tuned on) and `heldout` (a different
seed, the other half of every name pool, a different mix of variants, and variations `dev` never produces:
the 2021 Kazakh Latin alphabet, the «СОШ» abbreviation, villages missing from our place list, names written
Surname-first with a comma, and more mentions whose context is an organization name rather than a BIN).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from entities.identifiers import control_digit

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "er"
HEADER = ["record_id", "kind", "name", "bin", "iin", "context", "entity"]


# ------------------------------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class Profile:
    name: str
    seed: int
    half: int  # which half of each name pool
    p_bin: float  # a mention carries the entity's BIN
    p_bad_bin: float  # … a mistyped (invalid) BIN instead
    p_typo: float
    p_latin: float
    p_upper: float
    p_fold: float  # Kazakh letters written as Russian ones
    p_context_name: float  # a person's context is an organization name rather than a BIN
    p_no_context: float
    p_iin: float
    p_second_org: float  # a person named for a second organization too
    latin_schemes: tuple[str, ...]
    extra: bool  # the variations dev never produces
    scale: bool = False  # millions of entities: invented brand words, school numbers up to 2000


BENCH = Profile(
    "bench",
    990001,
    0,
    0.25,
    0.02,
    0.08,
    0.10,
    0.10,
    0.35,
    0.25,
    0.06,
    0.15,
    0.05,
    ("passport", "simple", "bgn"),
    True,
    scale=True,
)
PROFILES = {
    "dev": Profile(
        "dev", 20240601, 0, 0.25, 0.02, 0.08, 0.10, 0.10, 0.35, 0.25, 0.06, 0.15, 0.05, ("passport", "simple"), False
    ),
    "heldout": Profile(
        "heldout", 777013, 1, 0.20, 0.03, 0.10, 0.12, 0.12, 0.45, 0.35, 0.08, 0.12, 0.06,
        ("passport", "bgn", "kz2021"), True,
    ),
}  # fmt: skip


# ------------------------------------------------------------------------------------------- name pools


def _pool(words: str) -> list[str]:
    return words.split()


BRAND_WORDS = _pool(
    """Күнделік Білім Дарын Зерде Оқу Мектеп Санат Ұстаз Сана Ақыл Жұлдыз Нұр Сәуле Алтын Дала Орда Қазына Береке
Шапағат Арман Болашақ Өркен Самға Талап Бастау Жігер Өрлеу Тұлпар Ақсұңқар Шұғыла Айбын Ерлік Қыран Бірлік Ынтымақ
Мейір Нұрлы Жол Жарық Көктем Ақниет Асыл Алаш Ұлағат Даналық Тамыр Көкжиек Кемел Ұшқын Сапа Шыңжан Айдын Ақжайық
Парасат Тағылым Шабыт Қанат Бәйтерек Ақбота Жайна Таңшолпан Самұрық Алтынсарин Іргетас Әлем Өнеге Жасұлан Керуен"""
)
LATIN_BRANDS = _pool(
    """Bilim Kundelik Daryn Zerde Smart Edu Soft Tech Media Group Digital Systems Service Line Net Pro Lab Academy
School Solutions Vision Logic Data Cloud Point Nova Alpha Orion Vector Sigma Astra Terra Quantum Prime Mega Inter Trans
Global Unity Bright Future Step Level Track Mind Spark Code Skill Class Kids Teach Learn Study Book Print Ink Byte"""
)
RU_WORDS = _pool(
    """Строй Сервис Инвест Трейд Плюс Центр Снаб Комплект Техно Инфо Транс Про Торг Маркет Альянс Партнер Стандарт
Профи Вектор Капитал Ресурс Проект Консалт Дизайн Медиа Принт Офис Мебель Системс Электро Энерго Компьютер Софт
Логистик Импорт Экспорт Эксперт Лидер Успех Развитие Знание Гарант Лига Мастер"""
)

KZ_SURNAMES_M = _pool(
    """Ильясов Ахметов Сапаров Жумабаев Нурланов Касымов Абенов Байжанов Серикбаев Токтаров Омаров Мухамедов
Бекмуханов Есенов Жакупов Искаков Кенжебаев Мусин Нургалиев Оспанов Рахимов Сагинтаев Тулегенов Утепов Шарипов
Ержанов Алиев Байтурсынов Досмагамбетов Жусупов Калиев Куанышев Маханов Нуртазин Смагулов Темирханов Уалиев
Хасенов Шаймерденов Ыбыраев Әбдіров Қасенов Құлбаев Өмірзақов Ұзақов Сейітов Тәжібаев Бектұров Жолдасов"""
)
RU_SURNAMES_M = _pool(
    """Иванов Петров Смирнов Кузнецов Попов Соколов Лебедев Козлов Новиков Морозов Волков Соловьев Васильев
Зайцев Павлов Семенов Голубев Виноградов Богданов Воробьев Федоров Михайлов Беляев Тарасов Белов Комаров Орлов
Киселев Макаров Андреев Ковалев Ильин Гусев Титов Кузьмин Кудрявцев Баранов Куликов Алексеев Степанов"""
)
SUFFIXLESS_KZ = _pool(
    """Сейтқали Жақып Әбіл Төлеген Нұрмағамбет Серікбай Дәулетхан Бексұлтан Оразалы Жанғали"""
)
KZ_GIVEN_M = _pool(
    """Мухтар Ерлан Серик Болат Нурлан Бауыржан Асхат Марат Даурен Ержан Канат Кайрат Талгат Арман Дамир Азамат
Ермек Берик Жандос Нурсултан Санжар Алмас Бахыт Габит Даулет Ербол Жомарт Куаныш Мейрам Олжас Рустем Самат
Тимур Улан Айдос Ілияс Шыңғыс Дархан Мадияр Әділет Нұрбек Ақжол Бекзат Ерасыл Жасұлан Қайсар"""
)
KZ_GIVEN_F = _pool(
    """Айгуль Айгерим Жанар Сауле Гульнара Динара Асель Мадина Салтанат Жулдыз Айнур Алия Гаухар Дана Меруерт
Назгуль Раушан Шолпан Эльмира Ботагоз Айжан Акмарал Камила Карлыгаш Ляззат Малика Сымбат Толкын Улжан Зарина
Айдана Аружан Балжан Гүлім Жазира Мөлдір Назерке Сания Тоғжан Ұлдана Әсел Құралай Інжу Нұрсұлу Ақерке"""
)
RU_GIVEN_M = _pool(
    """Александр Алексей Андрей Антон Артем Борис Вадим Виктор Владимир Дмитрий Евгений Игорь Константин Максим
Михаил Николай Олег Павел Роман Сергей Юрий Виталий Геннадий Григорий Денис Кирилл Леонид Станислав Федор Ярослав"""
)
RU_GIVEN_F = _pool(
    """Анна Елена Ольга Наталья Ирина Татьяна Светлана Марина Юлия Екатерина Людмила Галина Оксана Валентина
Лариса Вера Надежда Виктория Алена Кристина Полина Дарья Ксения Евгения Маргарита Лидия Тамара Нина Жанна Инна"""
)
FATHERS_KZ = _pool(
    """Бек Болат Серік Нұрлан Ерлан Мұрат Қайрат Асқар Жұмабай Төлеген Сапар Омар Әбен Ермек Қасым Тоқтар
Арман Дәулет Бауыржан Марат Жақсылық Есен Қуаныш Талғат Нұрсұлтан Рахым Оспан Ахмет Мұхтар Сейіт"""
)
FATHERS_RU = _pool(
    """Иван Петр Сергей Николай Александр Владимир Михаил Алексей Андрей Виктор Юрий Павел Борис Олег Геннадий
Анатолий Василий Григорий Дмитрий Евгений"""
)

SCHOOL_KINDS = [  # (Russian name, Kazakh name, English, legal type)
    ("Средняя общеобразовательная школа №{n}", "№{n} жалпы білім беретін орта мектеп", "Secondary school No.{n}", "state_institution"),
    ("Школа-гимназия №{n}", "№{n} мектеп-гимназия", "School-gymnasium No.{n}", "state_institution"),
    ("Гимназия №{n}", "№{n} гимназия", "Gymnasium No.{n}", "state_institution"),
    ("Школа-лицей №{n}", "№{n} мектеп-лицей", "School-lyceum No.{n}", "state_institution"),
    ("Основная средняя школа №{n}", "№{n} негізгі орта мектеп", "Basic secondary school No.{n}", "state_institution"),
    ("Ясли-сад №{n}", "№{n} бөбекжай-бақша", "Nursery No.{n}", "municipal_treasury_enterprise"),
    ("Детский сад №{n}", "№{n} балабақша", "Kindergarten No.{n}", "municipal_treasury_enterprise"),
    ("Колледж №{n}", "№{n} колледж", "College No.{n}", "municipal_treasury_enterprise"),
]  # fmt: skip


@dataclass(frozen=True)
class City:
    nom: str  # Алматы
    gen: str  # Алматы (города …)
    kk: str  # Алматы
    latin: str
    region_adj_gen: str  # Алматинской (области)
    in_gazetteer: bool = True


CITIES = [
    City("Астана", "Астаны", "Астана", "Astana", "Акмолинской"),
    City("Алматы", "Алматы", "Алматы", "Almaty", "Алматинской"),
    City("Шымкент", "Шымкента", "Шымкент", "Shymkent", "Туркестанской"),
    City("Караганда", "Караганды", "Қарағанды", "Karaganda", "Карагандинской"),
    City("Актобе", "Актобе", "Ақтөбе", "Aktobe", "Актюбинской"),
    City("Тараз", "Тараза", "Тараз", "Taraz", "Жамбылской"),
    City("Павлодар", "Павлодара", "Павлодар", "Pavlodar", "Павлодарской"),
    City("Усть-Каменогорск", "Усть-Каменогорска", "Өскемен", "Oskemen", "Восточно-Казахстанской"),
    City("Семей", "Семея", "Семей", "Semey", "Абайской"),
    City("Атырау", "Атырау", "Атырау", "Atyrau", "Атырауской"),
    City("Костанай", "Костаная", "Қостанай", "Kostanay", "Костанайской"),
    City("Кызылорда", "Кызылорды", "Қызылорда", "Kyzylorda", "Кызылординской"),
    City("Уральск", "Уральска", "Орал", "Oral", "Западно-Казахстанской"),
    City("Петропавловск", "Петропавловска", "Петропавл", "Petropavl", "Северо-Казахстанской"),
    City("Актау", "Актау", "Ақтау", "Aktau", "Мангистауской"),
    City("Темиртау", "Темиртау", "Теміртау", "Temirtau", "Карагандинской"),
    City("Туркестан", "Туркестана", "Түркістан", "Turkistan", "Туркестанской"),
    City("Кокшетау", "Кокшетау", "Көкшетау", "Kokshetau", "Акмолинской"),
    City("Талдыкорган", "Талдыкоргана", "Талдықорған", "Taldykorgan", "Жетысуской"),
    City("Экибастуз", "Экибастуза", "Екібастұз", "Ekibastuz", "Павлодарской"),
    City("Рудный", "Рудного", "Рудный", "Rudny", "Костанайской"),
    City("Жезказган", "Жезказгана", "Жезқазған", "Zhezkazgan", "Улытауской"),
]
VILLAGES = [  # not in entities' place list: the held-out set checks the marker-based fallback
    City("Коктобе", "Коктобе", "Көктөбе", "Koktobe", "Алматинской", False),
    City("Шахан", "Шахана", "Шахан", "Shakhan", "Карагандинской", False),
    City("Бесагаш", "Бесагаша", "Бесағаш", "Besagash", "Алматинской", False),
    City("Аксай", "Аксая", "Ақсай", "Aksai", "Западно-Казахстанской", False),
    City("Жанатас", "Жанатаса", "Жаңатас", "Zhanatas", "Жамбылской", False),
    City("Иртышск", "Иртышска", "Ертіс", "Irtyshsk", "Павлодарской", False),
]

LEGAL_RENDER = {  # type → [(text, language, short?)]
    "llp": [("ТОО", "ru", True), ("ЖШС", "kk", True), ("LLP", "en", True), ("Товарищество с ограниченной ответственностью", "ru", False), ("Жауапкершілігі шектеулі серіктестігі", "kk", False), ("Limited Liability Partnership", "en", False)],
    "jsc": [("АО", "ru", True), ("АҚ", "kk", True), ("JSC", "en", True), ("Акционерное общество", "ru", False), ("Акционерлік қоғамы", "kk", False), ("Joint Stock Company", "en", False)],
    "ie": [("ИП", "ru", True), ("ЖК", "kk", True), ("IE", "en", True), ("Индивидуальный предприниматель", "ru", False), ("Жеке кәсіпкер", "kk", False)],
    "state_institution": [("КГУ", "ru", True), ("ГУ", "ru", True), ("КММ", "kk", True), ("Коммунальное государственное учреждение", "ru", False), ("Коммуналдық мемлекеттік мекемесі", "kk", False), ("Государственное учреждение", "ru", False)],
    "municipal_treasury_enterprise": [("ГККП", "ru", True), ("МКҚК", "kk", True), ("Государственное коммунальное казенное предприятие", "ru", False), ("Мемлекеттік коммуналдық қазыналық кәсіпорны", "kk", False)],
    "republican_enterprise": [("РГП на ПХВ", "ru", True), ("РГП", "ru", True), ("ШЖҚ РМК", "kk", True), ("Республиканское государственное предприятие на праве хозяйственного ведения", "ru", False)],
    "nonprofit_jsc": [("НАО", "ru", True), ("КЕАҚ", "kk", True), ("NJSC", "en", True), ("Некоммерческое акционерное общество", "ru", False), ("Коммерциялық емес акционерлік қоғамы", "kk", False)],
    "public_association": [("ОО", "ru", True), ("ҚБ", "kk", True), ("Общественное объединение", "ru", False), ("Қоғамдық бірлестігі", "kk", False)],
    "fund": [("ОФ", "ru", True), ("Общественный фонд", "ru", False), ("Қоғамдық қоры", "kk", False)],
    "private_institution": [("ЧУ", "ru", True), ("Частное учреждение", "ru", False), ("Жеке меншік мекемесі", "kk", False)],
}  # fmt: skip


def _half(pool: list[str], half: int) -> list[str]:
    return pool[half::2]


# ----------------------------------------------------------------------------------- identifiers


def make_id(rng: random.Random, *, person: bool = False, branch: bool = False, sex: str = "m") -> str:
    """A checksum-valid, invented BIN (YYMM, type 4, head office 0 / branch 1) or IIN (YYMMDD, century/sex)."""
    while True:
        if person:
            year = rng.randint(1950, 2003)
            head = f"{year % 100:02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            century = (3 if year < 2000 else 5) + (0 if sex == "m" else 1)
            first11 = f"{head}{century}{rng.randint(0, 9999):04d}"
        else:
            first11 = f"{rng.randint(0, 24):02d}{rng.randint(1, 12):02d}4{1 if branch else 0}{rng.randint(0, 99999):05d}"
        digit = control_digit(first11)
        if digit is not None:
            return first11 + str(digit)


def mistype_id(value: str, rng: random.Random) -> str:
    """One digit changed: the control digit no longer matches (what a typing slip looks like)."""
    while True:
        i = rng.randrange(12)
        wrong = value[:i] + str((int(value[i]) + rng.randint(1, 9)) % 10) + value[i + 1 :]
        d = control_digit(wrong[:11])
        if d is None or d != int(wrong[11]):
            return wrong


# --------------------------------------------------------------------------------------- spelling

_KK_FOLD = str.maketrans("әғқңөұүһіӘҒҚҢӨҰҮҺІ", "агкноуухиАГКНОУУХИ")
_SCHEMES: dict[str, dict[str, str]] = {
    # Kazakh passports (ICAO-like), with Kazakh letters reduced
    "passport": {"ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y", "й": "i", "ю": "yu", "я": "ya", "ё": "e", "ь": "", "ъ": "", "э": "e", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i"},
    # informal English-looking Kazakh
    "simple": {"ж": "j", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sh", "ы": "y", "й": "y", "ю": "yu", "я": "ya", "ё": "yo", "ь": "", "ъ": "", "э": "e", "ә": "a", "ғ": "gh", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i"},
    # BGN/PCGN
    "bgn": {"ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y", "й": "y", "ю": "yu", "я": "ya", "ё": "yo", "ь": "", "ъ": "", "э": "e", "ә": "a", "ғ": "gh", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i"},
    # the 2021 Kazakh Latin alphabet
    "kz2021": {"ж": "j", "х": "h", "ц": "ts", "ч": "ç", "ш": "ş", "щ": "şş", "ы": "y", "й": "i", "и": "i", "ю": "iu", "я": "ia", "ё": "io", "ь": "", "ъ": "", "э": "e", "ә": "ä", "ғ": "ğ", "қ": "q", "ң": "ñ", "ө": "ö", "ұ": "ū", "ү": "ü", "һ": "h", "і": "ı"},
}  # fmt: skip
_BASE = dict(zip("абвгдезиклмнопрстуф", "abvgdeziklmnoprstuf", strict=True))


def translit(text: str, scheme: str, rng: random.Random) -> str:
    table = {**_BASE, **_SCHEMES[scheme]}
    out = []
    for i, ch in enumerate(text):
        low = ch.lower()
        if low == "е" and (i == 0 or not text[i - 1].isalpha()) and scheme in {"passport", "bgn"}:
            rep = "ye"
        elif (
            low == "с"
            and scheme == "passport"
            and 0 < i < len(text) - 1
            and text[i - 1] in "аеиоуыэюяәөұүі"
            and text[i + 1] in "аеиоуыэюяәөұүі"
            and rng.random() < 0.5
        ):
            rep = "ss"  # Ilyassov: passports double an s between vowels
        else:
            rep = table.get(low, ch if not ("а" <= low <= "я") else low)
        out.append(rep.capitalize() if ch.isupper() and rep else rep)
    return "".join(out)


def typo(word: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    if len(letters) < 5:
        return word
    i = rng.choice(letters[1:-1])
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1 :]  # dropped
    if op == 1:
        return word[:i] + word[i] + word[i:]  # doubled
    if op == 2 and i + 1 < len(word) and word[i + 1].isalpha():
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swapped
    alphabet = (
        "аеиоунртсл" if "а" <= word[i].lower() <= "я" or word[i].lower() in "әғқңөұүһі" else "aeiounrtsl"
    )
    rep = rng.choice(alphabet)
    return word[:i] + (rep.upper() if word[i].isupper() else rep) + word[i + 1 :]


def _typo_somewhere(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 5]
    if not long_words:
        return text
    i = rng.choice(long_words)
    words[i] = typo(words[i], rng)
    return " ".join(words)


# --------------------------------------------------------------------------------------- organizations


@dataclass
class OrgEntity:
    eid: str
    category: str  # company, ie_brand, ie_person, school, body, university, ngo, branch
    legal_type: str
    name: str  # the name proper, in its main script (Kazakh Cyrillic, Russian or Latin)
    bin: str
    number: int | None = None
    city: City | None = None
    kind_index: int = 0  # for schools: which SCHOOL_KINDS
    parent: OrgEntity | None = None
    region: bool = False  # a regional body (области) rather than a city one
    aliases: list[str] = field(default_factory=list)


def _quote(name: str, rng: random.Random) -> str:
    style = rng.choices(["«»", '""', "“”", ""], weights=[5, 4, 1, 1])[0]
    return f"{style[0]}{name}{style[1]}" if style else name


def _legal(etype: str, rng: random.Random) -> tuple[str, bool]:
    forms = LEGAL_RENDER[etype]
    weights = [6 if short else 1.5 for _, _, short in forms]
    text, _, short = rng.choices(forms, weights=weights)[0]
    return text, short


def _apply_script(text: str, rng: random.Random, profile: Profile) -> str:
    r = rng.random()
    if r < profile.p_latin:
        return translit(text, rng.choice(profile.latin_schemes), rng)
    if r < profile.p_latin + profile.p_fold:
        return text.translate(_KK_FOLD)
    return text


def _city_phrase(city: City, rng: random.Random, profile: Profile, *, kazakh: bool = False) -> str:
    if kazakh:
        return rng.choice([f"{city.kk} қаласы", f"{city.kk} қ.", f"{city.kk} қаласының"])
    options = [f"г. {city.gen}", f"города {city.gen}", f"г.{city.nom}", f"{city.nom}"]
    if profile.extra:
        options += [f"{city.kk} қаласы", f"гор. {city.nom}"]
    return rng.choice(options)


def render_org(e: OrgEntity, rng: random.Random, profile: Profile) -> str:
    """One mention of an organization."""
    if e.category == "school":
        assert e.city is not None
        ru, kk, _, _ = SCHOOL_KINDS[e.kind_index]
        style = rng.random()
        legal, short = _legal(e.legal_type, rng)
        if style < 0.15:  # Kazakh
            name = kk.format(n=e.number)
            place = (
                f"{e.city.kk} қаласы әкімдігінің білім бөлімінің"
                if rng.random() < 0.5
                else _city_phrase(e.city, rng, profile, kazakh=True)
            )
            text = f"{place} {_quote(name, rng)} {legal}"
        else:
            name = ru.format(n=rng.choice([e.number, f" {e.number}"]) if rng.random() < 0.8 else e.number)
            if rng.random() < 0.15:
                name = name.replace("№", rng.choice(["N", "№ ", ""]))
            if profile.extra and e.kind_index == 0 and rng.random() < 0.2:
                name = f"СОШ №{e.number}"
            tail = rng.choice(
                [
                    f"отдела образования {_city_phrase(e.city, rng, profile)}",
                    f"акимата {_city_phrase(e.city, rng, profile)}",
                    _city_phrase(e.city, rng, profile),
                    f"управления образования {_city_phrase(e.city, rng, profile)}",
                ]
            )
            # a third without legal form or quotes
            text = f"{name} {tail}" if rng.random() < 0.3 else f"{legal} {_quote(name, rng)} {tail}"
        if rng.random() < 0.5 * profile.p_latin:
            text = translit(text, rng.choice(profile.latin_schemes), rng)
        elif rng.random() < profile.p_fold:
            text = text.translate(_KK_FOLD)
    elif e.category == "body":
        assert e.city is not None
        legal, _ = _legal("state_institution", rng)
        if e.region:
            name = rng.choice(
                [
                    f"Управление образования {e.city.region_adj_gen} области",
                    f"Управление образования {e.city.region_adj_gen} обл.",
                ]
            )
        else:
            body = (
                "Отдел образования" if int(e.bin[-2]) % 2 else "Управление образования"
            )  # one body per entity
            name = f"{body} {_city_phrase(e.city, rng, profile)}"
        text = f"{legal} {_quote(name, rng)}" if rng.random() < 0.7 else name
        text = _apply_script(text, rng, profile) if rng.random() < 0.5 else text
    elif e.category == "ie_person":
        legal, _ = _legal("ie", rng)
        text = f"{legal} {_apply_script(e.name, rng, profile)}"
    else:
        name = rng.choice([e.name, *e.aliases]) if e.aliases else e.name
        name = _apply_script(name, rng, profile)
        words = name.split()
        if len(words) >= 2 and rng.random() < 0.08:
            words[0], words[1] = words[1], words[0]
            name = " ".join(words)
        legal, short = _legal(e.legal_type, rng)
        r = rng.random()
        if r < 0.45:
            text = f"{legal} {_quote(name, rng)}"
        elif r < 0.8:
            text = f"{_quote(name, rng)} {legal}"
        elif r < 0.9 or not short:
            text = f"{legal} {name}"
        else:
            text = f"{name} {legal}"
        if e.category == "branch":
            assert e.city is not None
            text = rng.choice(
                [
                    f"Филиал {text} в {_city_phrase(e.city, rng, profile)}",
                    f"Филиал {text} по {_city_phrase(e.city, rng, profile)}",
                    f"{text} {e.city.kk} филиалы",
                ]
            )
    if rng.random() < profile.p_typo:
        text = _typo_somewhere(text, rng)
    if rng.random() < profile.p_upper:
        text = text.upper()
    if profile.extra and rng.random() < 0.05:
        text = "  " + text.replace(" ", "  ", 1) + " ."
    return text


_SYLLABLES = _pool(
    "ба бе би бо бу да де ди до ду жа же жи жо за зе ка ке ки ко кұ қа ла ле ли ло ма ме ми мо мұ на не ни но нұ "
    "ра ре ри ро са се си со сұ та те ти то тұ ша ше шы ақ ан ар ас ат ай ал ер ес ой ор ұл ым ін ег"
)


def _invented_word(rng: random.Random) -> str:
    word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
    return word.capitalize()


def _brand(rng: random.Random, profile: Profile, used: set[str]) -> str:
    kz, lat, ru = (
        _half(BRAND_WORDS, profile.half),
        _half(LATIN_BRANDS, profile.half),
        _half(RU_WORDS, profile.half),
    )
    while True:
        if profile.scale and rng.random() < 0.9:  # a million companies need more names than our pools hold
            kz = [_invented_word(rng) for _ in range(3)]
        shape = rng.random()
        if shape < 0.3:
            name = rng.choice(kz)
        elif shape < 0.5:
            name = f"{rng.choice(kz)} {rng.choice(ru)}"
        elif shape < 0.7:
            name = f"{rng.choice(lat)} {rng.choice(lat)}"
        elif shape < 0.85:
            name = f"{rng.choice(kz)}-{rng.choice(ru)}"
        else:
            name = f"{rng.choice(lat)} {rng.choice(lat)} {rng.choice(lat)}"
        key = " ".join(sorted(name.lower().replace("-", " ").split()))  # «Media Level» = «Level Media»
        if key not in used:
            used.add(key)
            return name


def org_entities(n: int, rng: random.Random, profile: Profile) -> list[OrgEntity]:
    """About n organization entities, hard negatives included."""
    out: list[OrgEntity] = []
    used: set[str] = set()
    cities = CITIES + (VILLAGES if profile.extra else [])
    school_slots: set[tuple[int, int, str]] = set()

    def new_id() -> str:
        return f"O{len(out) + 1}"

    while len(out) < n:
        r = rng.random()
        if r < 0.38:  # companies
            etype = rng.choices(["llp", "jsc"], weights=[8, 2])[0]
            brand = _brand(rng, profile, used)
            e = OrgEntity(new_id(), "company", etype, brand, make_id(rng))
            out.append(e)
            if rng.random() < 0.12:  # the same brand as an individual entrepreneur: a different entity
                out.append(OrgEntity(new_id(), "ie_brand", "ie", brand, make_id(rng, person=True)))
            if rng.random() < 0.04:  # АО and ТОО of one brand
                other = "jsc" if etype == "llp" else "llp"
                out.append(OrgEntity(new_id(), "company", other, brand, make_id(rng)))
            if rng.random() < 0.08:  # branches with their own BIN, in two cities
                base = len(out)
                branches = [
                    OrgEntity(
                        f"O{base + 1 + i}",
                        "branch",
                        etype,
                        brand,
                        make_id(rng, branch=True),
                        city=city,
                        parent=e,
                    )
                    for i, city in enumerate(rng.sample(CITIES, 2))
                ]
                out.extend(branches)
        elif r < 0.46:  # individual entrepreneurs trading under their own name
            sur, given, pat, _ = _person_parts(rng, profile, rng.choice("mf"))
            out.append(
                OrgEntity(new_id(), "ie_person", "ie", f"{sur} {given} {pat}", make_id(rng, person=True))
            )
        elif r < 0.86:  # schools and kindergartens: many share numbers and cities
            kind_index = rng.randrange(len(SCHOOL_KINDS))
            city = rng.choice(cities[:8]) if rng.random() < 0.6 else rng.choice(cities)
            number = (
                rng.randint(1, 40) if rng.random() < 0.7 else rng.randint(41, 2000 if profile.scale else 180)
            )
            slot = (kind_index, number, city.nom)
            if slot in school_slots:
                continue
            school_slots.add(slot)
            etype = SCHOOL_KINDS[kind_index][3]
            out.append(
                OrgEntity(
                    new_id(),
                    "school",
                    etype,
                    "",
                    make_id(rng),
                    number=number,
                    city=city,
                    kind_index=kind_index,
                )
            )
        elif r < 0.92:  # education authorities of cities and regions
            city = rng.choice(CITIES)
            region = rng.random() < 0.4
            if (city.nom, region) in used:
                continue
            used.add((city.nom, region))  # type: ignore[arg-type]
            out.append(
                OrgEntity(new_id(), "body", "state_institution", "", make_id(rng), city=city, region=region)
            )
        else:  # universities, NGOs, funds
            etype = rng.choice(
                [
                    "republican_enterprise",
                    "nonprofit_jsc",
                    "public_association",
                    "fund",
                    "private_institution",
                ]
            )
            brand = _brand(rng, profile, used)
            if etype in {"republican_enterprise", "nonprofit_jsc"}:
                brand = rng.choice([f"{brand} университеті", f"Университет {brand}", f"{brand} колледжі"])
            out.append(OrgEntity(new_id(), "ngo", etype, brand, make_id(rng)))
    return out[:n]


# ------------------------------------------------------------------------------------------------ persons


def _female(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ин")):
        return surname + "а"
    return surname


def _russian_patronymic(father: str, sex: str) -> str:
    stem = father[:-1] + "е" if father.endswith("й") else father
    if father.endswith("й"):
        return stem + ("вич" if sex == "m" else "вна")
    if father.endswith(("а", "я")):
        return father[:-1] + ("ич" if sex == "m" else "ична")
    return father + ("ович" if sex == "m" else "овна")


def _person_parts(rng: random.Random, profile: Profile, sex: str) -> tuple[str, str, str, str]:
    """(surname, given, patronymic, father) in the mention's main form."""
    h = profile.half
    if rng.random() < 0.75:  # Kazakh
        surname = rng.choice(_half(KZ_SURNAMES_M, h) + _half(SUFFIXLESS_KZ, h))
        given = rng.choice(_half(KZ_GIVEN_M if sex == "m" else KZ_GIVEN_F, h))
        father = rng.choice(_half(FATHERS_KZ, h))
        patronymic = father + ("ұлы" if sex == "m" else "қызы")
    else:
        surname = rng.choice(_half(RU_SURNAMES_M, h))
        given = rng.choice(_half(RU_GIVEN_M if sex == "m" else RU_GIVEN_F, h))
        father = rng.choice(_half(FATHERS_RU, h))
        patronymic = _russian_patronymic(father, sex)
    if sex == "f":
        surname = _female(surname)
    return surname, given, patronymic, father


@dataclass
class PersonEntity:
    eid: str
    sex: str
    surname: str
    given: str
    patronymic: str
    father: str
    kazakh: bool
    iin: str
    contexts: list[str]  # organization entity ids


def _initial(word: str) -> str:
    return word[0].upper()


def render_person(p: PersonEntity, rng: random.Random, profile: Profile) -> str:
    sur, giv, pat = p.surname, p.given, p.patronymic
    if p.kazakh and rng.random() < 0.5:  # the patronymic in another accepted form
        f, folded = p.father, p.father.translate(_KK_FOLD)
        if p.sex == "m":
            pat = rng.choice([f"{folded}улы", f"{f} ұлы", _russian_patronymic(folded, "m")])
        else:
            pat = rng.choice([f"{folded}кызы", f"{f} қызы", _russian_patronymic(folded, "f")])
    shape = rng.random()
    if shape < 0.30:
        text = f"{sur} {giv} {pat}"
    elif shape < 0.42:
        text = f"{sur} {giv}"
    elif shape < 0.60:
        sep = rng.choice([".", ". ", "."])
        text = (
            f"{sur} {_initial(giv)}{sep}{_initial(pat)}."
            if rng.random() < 0.8
            else f"{sur} {_initial(giv)}{_initial(pat)}"
        )
    elif shape < 0.70:
        text = f"{_initial(giv)}.{_initial(pat)}. {sur}" if rng.random() < 0.6 else f"{_initial(giv)}. {sur}"
    elif shape < 0.80:
        text = f"{giv} {pat} {sur}" if not p.kazakh or rng.random() < 0.5 else f"{giv} {sur}"
    elif shape < 0.88:
        text = f"{sur} {giv} {_initial(pat)}."
    else:
        text = f"{sur}, {giv} {pat}" if profile.extra else f"{sur} {giv} {pat}"
    text = _apply_script(text, rng, profile)
    if rng.random() < profile.p_typo * 0.5:
        text = _typo_somewhere(text, rng)
    if rng.random() < profile.p_upper:
        text = text.upper()
    return text


def person_entities(
    n: int, orgs: list[OrgEntity], rng: random.Random, profile: Profile
) -> list[PersonEntity]:
    """About n persons: namesakes across organizations, relatives and spouses within one."""
    out: list[PersonEntity] = []
    employers = [o for o in orgs if o.category in {"company", "school", "body", "ngo"}]
    while len(out) < n:
        sex = rng.choice("mf")
        sur, giv, pat, father = _person_parts(rng, profile, sex)
        kazakh = pat.endswith(("ұлы", "қызы"))
        org = rng.choice(employers)
        contexts = [org.eid] + ([rng.choice(employers).eid] if rng.random() < profile.p_second_org else [])
        p = PersonEntity(
            f"P{len(out) + 1}",
            sex,
            sur,
            giv,
            pat,
            father,
            kazakh,
            make_id(rng, person=True, sex=sex),
            contexts,
        )
        out.append(p)
        r = rng.random()
        if r < 0.15:  # a namesake (surname and given name) with another father, elsewhere
            _, _, pat2, father2 = _person_parts(rng, profile, sex)
            if kazakh == pat2.endswith(("ұлы", "қызы")) and father2 != father:
                out.append(
                    PersonEntity(
                        f"P{len(out) + 1}",
                        sex,
                        sur,
                        giv,
                        pat2,
                        father2,
                        kazakh,
                        make_id(rng, person=True, sex=sex),
                        [rng.choice(employers).eid],
                    )
                )
        elif r < 0.20:  # a full namesake, elsewhere
            out.append(
                PersonEntity(
                    f"P{len(out) + 1}",
                    sex,
                    sur,
                    giv,
                    pat,
                    father,
                    kazakh,
                    make_id(rng, person=True, sex=sex),
                    [rng.choice(employers).eid],
                )
            )
        elif (
            r < 0.22
        ):  # a sibling with the same first initial in the same organization (above a realistic rate)
            pool = (
                (KZ_GIVEN_M if sex == "m" else KZ_GIVEN_F)
                if kazakh
                else (RU_GIVEN_M if sex == "m" else RU_GIVEN_F)
            )
            same_initial = [g for g in pool if g[0] == giv[0] and g != giv]
            if same_initial:
                out.append(
                    PersonEntity(
                        f"P{len(out) + 1}",
                        sex,
                        sur,
                        rng.choice(same_initial),
                        pat,
                        father,
                        kazakh,
                        make_id(rng, person=True, sex=sex),
                        [org.eid],
                    )
                )
        elif r < 0.27:  # a spouse: same surname (gendered), same initials, same organization
            other = "f" if sex == "m" else "m"
            base = sur[:-1] if sex == "f" and sur.endswith(("ова", "ева", "ина")) else sur
            s2 = _female(base) if other == "f" else base
            pool = (
                (KZ_GIVEN_M if other == "m" else KZ_GIVEN_F)
                if kazakh
                else (RU_GIVEN_M if other == "m" else RU_GIVEN_F)
            )
            same_initial = [g for g in pool if g[0] == giv[0]] or pool
            _, _, pat2, father2 = _person_parts(rng, profile, other)
            out.append(
                PersonEntity(
                    f"P{len(out) + 1}",
                    other,
                    s2,
                    rng.choice(same_initial),
                    pat2,
                    father2,
                    pat2.endswith(("ұлы", "қызы")),
                    make_id(rng, person=True, sex=other),
                    [org.eid],
                )
            )
    return out[:n]


# ----------------------------------------------------------------------------------------------- datasets


def generate(
    profile: Profile, n_orgs: int, n_persons: int, *, mentions_per_entity: float = 2.6
) -> Iterator[list[str]]:
    """Rows of a labelled set: `record_id, kind, name, bin, iin, context, entity`."""
    rng = random.Random(profile.seed)
    orgs = org_entities(n_orgs, rng, profile)
    by_id = {o.eid: o for o in orgs}
    org_name_style: dict[str, str] = {}
    counter = 0

    def next_id() -> str:
        nonlocal counter
        counter += 1
        return f"r{counter:07d}"

    def mention_count() -> int:
        return max(1, min(12, int(rng.expovariate(1 / mentions_per_entity)) + 1))

    for e in orgs:
        for _ in range(mention_count()):
            bin_ = ""
            r = rng.random()
            if r < profile.p_bin:
                bin_ = e.bin
            elif r < profile.p_bin + profile.p_bad_bin:
                bin_ = mistype_id(e.bin, rng)
            yield [next_id(), "organization", render_org(e, rng, profile), bin_, "", "", e.eid]
    persons = person_entities(n_persons, orgs, rng, profile)
    for p in persons:
        for _ in range(max(1, mention_count() - (1 if rng.random() < 0.3 else 0))):
            org = by_id[rng.choice(p.contexts)]
            if rng.random() < profile.p_no_context:
                context = ""
            else:
                style = org_name_style.setdefault(
                    org.eid, "name" if rng.random() < profile.p_context_name else "bin"
                )
                context = org.bin if style == "bin" else render_org(org, rng, profile)
            iin = ""
            r = rng.random()
            if r < profile.p_iin:
                iin = p.iin
            elif r < profile.p_iin + 0.01:
                iin = mistype_id(p.iin, rng)
            yield [next_id(), "person", render_person(p, rng, profile), "", iin, context, p.eid]


def write(path: Path, rows: Iterator[list[str]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for row in rows:
            w.writerow(row)
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=FIXTURES)
    parser.add_argument("--orgs", type=int, default=480, help="organization entities per set")
    parser.add_argument("--persons", type=int, default=300, help="person entities per set")
    args = parser.parse_args()
    for name, profile in PROFILES.items():
        n = write(args.out / f"{name}.csv", generate(profile, args.orgs, args.persons))
        print(f"{args.out / f'{name}.csv'}: {n} records")


if __name__ == "__main__":
    main()
