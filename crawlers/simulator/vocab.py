"""Invented vocabulary for the simulator's scenarios: companies, buyers, people, places, goods.

Every name here is made up and meant to read as made up: company brands and surnames are built on the
Kazakh and Russian words for *test*, *example*, *sample*, *draft* (сынақ, мысал, үлгі, нұсқа, макет, жоба,
черновик, эскиз, пример…); towns are invented compounds of the same roots; the ministry and the regional
education departments, whose real counterparts exist, carry the marker «(демо)». Only region names and
first names are real (a first name identifies nobody).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from entities.config import REFERENCE_DIR

# ------------------------------------------------------------------------------------------ regions


@dataclass(frozen=True)
class Region:
    code2: str
    name_ru: str
    name_kz: str
    genitive_ru: str  # «Управление образования <genitive_ru>»
    genitive_kz: str  # «<genitive_kz> білім басқармасы»
    city: bool  # a city of republican significance: places inside are districts, not towns
    weight: float  # rough share of schools, for spreading buyers


# Genitive forms and a rough size weight per region; the codes and nominative names come from the CSV.
_REGION_FORMS: dict[str, tuple[str, str, bool, float]] = {
    "10": ("области Абай", "Абай облысының", False, 0.6),
    "11": ("Акмолинской области", "Ақмола облысының", False, 0.7),
    "15": ("Актюбинской области", "Ақтөбе облысының", False, 0.9),
    "19": ("Алматинской области", "Алматы облысының", False, 1.4),
    "23": ("Атырауской области", "Атырау облысының", False, 0.7),
    "27": ("Западно-Казахстанской области", "Батыс Қазақстан облысының", False, 0.6),
    "31": ("Жамбылской области", "Жамбыл облысының", False, 1.1),
    "33": ("области Жетісу", "Жетісу облысының", False, 0.6),
    "35": ("Карагандинской области", "Қарағанды облысының", False, 1.1),
    "39": ("Костанайской области", "Қостанай облысының", False, 0.8),
    "43": ("Кызылординской области", "Қызылорда облысының", False, 0.8),
    "47": ("Мангистауской области", "Маңғыстау облысының", False, 0.7),
    "55": ("Павлодарской области", "Павлодар облысының", False, 0.7),
    "59": ("Северо-Казахстанской области", "Солтүстік Қазақстан облысының", False, 0.5),
    "61": ("Туркестанской области", "Түркістан облысының", False, 2.0),
    "62": ("области Ұлытау", "Ұлытау облысының", False, 0.25),
    "63": ("Восточно-Казахстанской области", "Шығыс Қазақстан облысының", False, 0.7),
    "71": ("города Астаны", "Астана қаласының", True, 1.5),
    "75": ("города Алматы", "Алматы қаласының", True, 2.2),
    "79": ("города Шымкента", "Шымкент қаласының", True, 1.3),
}


def load_regions() -> list[Region]:
    """The 20 top-level KATO regions of `data/reference/kato_regions.csv`, in file order."""
    path = Path(REFERENCE_DIR) / "kato_regions.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    regions = []
    for row in rows:
        gen_ru, gen_kz, city, weight = _REGION_FORMS[row["code2"]]
        regions.append(Region(row["code2"], row["name_ru"], row["name_kk"], gen_ru, gen_kz, city, weight))
    if len(regions) != 20:
        raise ValueError(f"expected 20 regions in {path}, found {len(regions)}")
    return regions


# Invented place names: 12 roots x 5 endings = 60, three per region.
PLACE_ROOTS = ("Сынақ", "Мысал", "Үлгі", "Нұсқа", "Макет", "Жоба", "Болжам", "Қиял", "Елес", "Ойдан", "Шартты", "Демо")
PLACE_ENDINGS = ("тау", "көл", "сай", "бұлақ", "жар")

# ------------------------------------------------------------------------------------------ people

MALE_KZ = ("Ерлан", "Серік", "Асхат", "Нұрлан", "Дәурен", "Бауыржан", "Ержан", "Қанат", "Мұрат", "Талғат",
           "Айдос", "Арман", "Ерболат", "Жандос", "Руслан", "Дархан", "Самат", "Әділет")
FEMALE_KZ = ("Айгүл", "Гүлнар", "Динара", "Жанар", "Әсел", "Мадина", "Сәуле", "Ақмарал", "Лаура", "Меруерт",
             "Айнұр", "Гүлмира", "Жұлдыз", "Салтанат")
MALE_RU = ("Сергей", "Андрей", "Дмитрий", "Алексей", "Виктор", "Игорь", "Павел", "Олег", "Николай", "Евгений")
FEMALE_RU = ("Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Марина", "Людмила")

# Fathers' names and the patronymics they give. Kazakh: -ұлы / -қызы written together; many Kazakhs also
# carry Russian-style patronymics (-ович / -овна), which is how the registers often spell them.
KZ_FATHERS = ("Серік", "Нұрлан", "Болат", "Қайрат", "Марат", "Ерлан", "Асқар", "Бақыт", "Ғалым", "Жомарт")
KZ_FATHERS_RU_STYLE = {"Болат": "Болат", "Марат": "Марат", "Қайрат": "Кайрат", "Ерлан": "Ерлан",
                       "Асқар": "Аскар", "Нұрлан": "Нурлан", "Серік": "Серик"}
RU_PATRONYMICS = (("Иванович", "Ивановна"), ("Петрович", "Петровна"), ("Николаевич", "Николаевна"),
                  ("Сергеевич", "Сергеевна"), ("Викторович", "Викторовна"), ("Андреевич", "Андреевна"),
                  ("Игоревич", "Игоревна"), ("Юрьевич", "Юрьевна"))

# Invented surnames: (masculine, feminine).
SURNAMES_KZ = (("Сынақбаев", "Сынақбаева"), ("Мысалбеков", "Мысалбекова"), ("Үлгібаев", "Үлгібаева"),
               ("Нұсқабеков", "Нұсқабекова"), ("Макетбаев", "Макетбаева"), ("Жобалиев", "Жобалиева"),
               ("Болжамов", "Болжамова"), ("Қиялбеков", "Қиялбекова"), ("Елесбаев", "Елесбаева"),
               ("Ойданов", "Ойданова"), ("Демобаев", "Демобаева"), ("Мысалғалиев", "Мысалғалиева"),
               ("Үлгіғалиев", "Үлгіғалиева"), ("Тестібаев", "Тестібаева"), ("Мысалұлы", "Мысалқызы"),
               ("Сынақұлы", "Сынаққызы"))
SURNAMES_RU = (("Примеров", "Примерова"), ("Образчиков", "Образчикова"), ("Выдумкин", "Выдумкина"),
               ("Вымыслов", "Вымыслова"), ("Шаблонов", "Шаблонова"), ("Черновиков", "Черновикова"),
               ("Эскизов", "Эскизова"), ("Набросков", "Наброскова"), ("Условнов", "Условнова"),
               ("Тестовский", "Тестовская"))

# ------------------------------------------------------------------------------------------ goods

CATEGORIES = ("ejournal", "platform", "hardware", "it_support", "training")
EJOURNAL, PLATFORM, HARDWARE, IT_SUPPORT, TRAINING = range(5)


@dataclass(frozen=True)
class Item:
    category: int
    name_ru: str
    name_kz: str
    enstru: str  # invented, in the dotted ЕНС ТРУ shape
    subject_type: int  # 1 goods, 2 works, 3 services (ref_subject_type)
    max_quantity: int  # goods: up to this many pieces; services: 1 or up to 12 months


ITEMS: tuple[Item, ...] = (
    Item(EJOURNAL, "Услуги по предоставлению доступа к электронному журналу и дневнику",
         "Электрондық журнал мен күнделікке қол жеткізу қызметтері", "63.11.19.00.00.00.10", 3, 12),
    Item(EJOURNAL, "Услуги информационной системы учета успеваемости обучающихся",
         "Білім алушылардың үлгерімін есепке алу ақпараттық жүйесінің қызметтері", "62.09.20.00.00.00.12", 3, 12),
    Item(PLATFORM, "Услуги доступа к цифровой образовательной платформе",
         "Цифрлық білім беру платформасына қол жеткізу қызметтері", "63.11.19.00.00.00.11", 3, 12),
    Item(PLATFORM, "Лицензия на цифровые образовательные ресурсы",
         "Цифрлық білім беру ресурстарына лицензия", "58.29.50.00.00.00.10", 1, 40),
    Item(PLATFORM, "Услуги онлайн-курсов для обучающихся",
         "Білім алушыларға арналған онлайн-курстар қызметтері", "85.59.19.00.00.00.15", 3, 1),
    Item(HARDWARE, "Интерактивная панель", "Интерактивті панель", "26.20.17.00.00.00.10", 1, 20),
    Item(HARDWARE, "Ноутбук", "Ноутбук", "26.20.11.00.00.00.10", 1, 40),
    Item(HARDWARE, "Комплект робототехники образовательный", "Білім беру робототехника жинағы",
         "32.40.39.00.00.00.20", 1, 25),
    Item(HARDWARE, "Проектор мультимедийный", "Мультимедиялық проектор", "26.70.13.00.00.00.12", 1, 15),
    Item(HARDWARE, "Оборудование кабинета цифровой лаборатории", "Цифрлық зертхана кабинетінің жабдықтары",
         "26.51.66.00.00.00.30", 1, 3),
    Item(IT_SUPPORT, "Услуги по техническому сопровождению компьютерной техники",
         "Компьютерлік техниканы техникалық сүйемелдеу қызметтері", "62.09.20.00.00.00.10", 3, 12),
    Item(IT_SUPPORT, "Услуги по обслуживанию локальной вычислительной сети",
         "Жергілікті есептеу желісіне қызмет көрсету қызметтері", "61.10.49.00.00.00.10", 3, 12),
    Item(IT_SUPPORT, "Услуги по сопровождению программного обеспечения",
         "Бағдарламалық қамтамасыз етуді сүйемелдеу қызметтері", "62.02.30.00.00.00.10", 3, 1),
    Item(TRAINING, "Услуги по повышению квалификации педагогов в сфере цифровых технологий",
         "Педагогтердің цифрлық технологиялар саласындағы біліктілігін арттыру қызметтері",
         "85.59.13.00.00.00.10", 3, 1),
    Item(TRAINING, "Услуги по обучению педагогов работе с цифровыми образовательными ресурсами",
         "Педагогтерді цифрлық білім беру ресурстарымен жұмыс істеуге оқыту қызметтері",
         "85.59.13.00.00.00.12", 3, 1),
)

# ------------------------------------------------------------------------------------------ companies


@dataclass(frozen=True)
class CompanySeed:
    brand: str  # the name inside the quotes
    kopf: str  # ТОО, АО, ЧУ, ИП
    category: int
    owner: tuple[str, int, bool] | None = None  # trading under the owner's name: (kz|ru, surname idx, female)
    weight: float = 1.0  # share of its category's awards
    role: str = "supplier"  # supplier, loser (mostly loses bids)


# The demo market's 30 companies. Brands are compounds of «example/test/sample» words.
COMPANIES: tuple[CompanySeed, ...] = (
    CompanySeed("Мысал Журнал", "ТОО", EJOURNAL, weight=3.0),
    CompanySeed("Үлгі Бағалау Жүйелері", "ТОО", EJOURNAL, weight=2.0),
    CompanySeed("Сынақ Мектеп Онлайн", "АО", EJOURNAL, weight=2.0),
    CompanySeed("Нұсқа Электронды Журнал", "ТОО", EJOURNAL, weight=1.0),
    CompanySeed("Мысал Білім Платформасы", "ТОО", PLATFORM, weight=3.0),
    CompanySeed("Қиял Сабақ", "ТОО", PLATFORM, weight=2.0),
    CompanySeed("Үлгі Контент", "ТОО", PLATFORM, weight=1.5),
    CompanySeed("Макет Академия", "ТОО", PLATFORM, weight=1.0),
    CompanySeed("Болжам EdTech", "ТОО", PLATFORM, weight=1.0),
    CompanySeed("Елес Оқулық Цифрлық", "ТОО", PLATFORM, weight=0.7),
    CompanySeed("Жоба Білім Технологиялары", "АО", PLATFORM, weight=1.2),
    CompanySeed("Сынақ Компьютерс", "ТОО", HARDWARE, weight=3.0),
    CompanySeed("Үлгі Интерактив", "ТОО", HARDWARE, weight=2.5),
    CompanySeed("Мысал Техника Снаб", "ТОО", HARDWARE, weight=2.0),
    CompanySeed("Нұсқа Робо", "ТОО", HARDWARE, weight=1.0),
    CompanySeed("Макет Электроникс", "ТОО", HARDWARE, weight=1.2),
    CompanySeed("Қиял Дисплей", "ТОО", HARDWARE, weight=0.8),
    CompanySeed("", "ИП", HARDWARE, owner=("kz", 9, False), weight=0.4),
    CompanySeed("Сынақ IT Сервис", "ТОО", IT_SUPPORT, weight=2.5),
    CompanySeed("Мысал Желі", "ТОО", IT_SUPPORT, weight=2.0),
    CompanySeed("Болжам Инфосистемс", "ТОО", IT_SUPPORT, weight=1.5),
    CompanySeed("Жоба Тех Сүйемелдеу", "ТОО", IT_SUPPORT, weight=1.0),
    CompanySeed("Елес Нет", "ТОО", IT_SUPPORT, weight=1.0),
    CompanySeed("Шартты Сервис", "ИП", IT_SUPPORT, weight=0.5),
    CompanySeed("", "ИП", IT_SUPPORT, owner=("ru", 2, True), weight=0.4),
    CompanySeed("Мысал Біліктілік Орталығы", "ТОО", TRAINING, weight=2.0),
    CompanySeed("Үлгі Педагог Орталығы", "ЧУ", TRAINING, weight=1.5),
    CompanySeed("Демо Снаб Сервис", "ТОО", HARDWARE, weight=0.3, role="loser"),
    CompanySeed("Черновик Трейд", "ТОО", IT_SUPPORT, weight=0.3, role="loser"),
    CompanySeed("", "ИП", IT_SUPPORT, owner=("ru", 6, False), weight=0.2, role="loser"),
)

# Extra brands for scale scenarios: root + field word + a number keeps them unique and obviously invented.
BRAND_FIELDS = {
    EJOURNAL: ("Журнал", "Бағалау", "Мектеп Онлайн"),
    PLATFORM: ("Білім", "Сабақ", "Контент", "Академия"),
    HARDWARE: ("Техника", "Компьютерс", "Интерактив", "Снаб"),
    IT_SUPPORT: ("IT Сервис", "Желі", "Инфосистемс"),
    TRAINING: ("Біліктілік Орталығы", "Педагог"),
}

KOPF_FORMS = {
    # kopf: (refKopfCode, short kz suffix, full ru, full kz suffix)
    "ТОО": ("ТОО", "ЖШС", "Товарищество с ограниченной ответственностью", "жауапкершілігі шектеулі серіктестігі"),
    "АО": ("АО", "АҚ", "Акционерное общество", "акционерлік қоғамы"),
    "ЧУ": ("ЧУ", "ЖМ", "Частное учреждение", "жеке мекемесі"),
    "ИП": ("ИНД", "ЖК", "Индивидуальный предприниматель", "жеке кәсіпкер"),
    "ГУ": ("ГУ", "ММ", "Государственное учреждение", "мемлекеттік мекемесі"),
    "КГУ": ("ГУ", "КММ", "Коммунальное государственное учреждение", "коммуналдық мемлекеттік мекемесі"),
    "ГККП": ("ГККП", "МКҚК", "Государственное коммунальное казенное предприятие",
             "мемлекеттік коммуналдық қазыналық кәсіпорны"),
    "НАО": ("НАО", "КЕАҚ", "Некоммерческое акционерное общество", "коммерциялық емес акционерлік қоғамы"),
}

# OKED (economic activity) codes per kind of organization.
OKED = {"school": 85310, "college": 85320, "kindergarten": 85100, "university": 85420, "ministry": 84121,
        "region_dept": 84121, "city_dept": 84121, EJOURNAL: 62010, PLATFORM: 58290, HARDWARE: 46510,
        IT_SUPPORT: 62020, TRAINING: 85590}

SCHOOL_KINDS = (("Общеобразовательная школа", "жалпы білім беретін мектебі"),
                ("Школа-гимназия", "мектеп-гимназиясы"),
                ("Школа-лицей", "мектеп-лицейі"))
COLLEGE_KINDS = (("Колледж цифровых технологий", "цифрлық технологиялар колледжі"),
                 ("Педагогический колледж", "педагогикалық колледжі"),
                 ("Политехнический колледж", "политехникалық колледжі"))
