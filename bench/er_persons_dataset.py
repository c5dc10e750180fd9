"""A second, independent labelled set of person mentions (ФИО), for measuring the person matcher on names,
variants and traps its tuning never saw.

    .venv/bin/python bench/er_persons_dataset.py     # writes tests/fixtures/er/persons_heldout.csv
    .venv/bin/python bench/er_eval.py tests/fixtures/er/persons_heldout.csv

Written after the matcher was tuned on `dev.csv`, by different code from `bench/er_dataset.py`: other name pools
(surnames, given names and fathers' names that set never uses, with ё, ж, ш, щ and every Kazakh letter), another
mix of renderings and transliteration schemes (passport, BGN/PCGN, GOST-like, the 2021 Kazakh Latin alphabet,
informal), and these traps:

- namesakes (surname and given name) with another father, in another organization;
- full namesakes (all three parts) in another organization;
- siblings: same surname and patronymic, given names with the same first letter, one organization;
- father and son in one organization: «Бейсенов Ғалым Бақытұлы» and «Бейсенов Бақыт Ғалымұлы» (initials swapped);
- spouses: one surname (gendered), same initials, one organization.

A person is named for one organization, sometimes two (a director who moved); contexts are written as a BIN, an
organization name in one of several spellings, or left empty. Every entity and identifier is invented
(checksum-valid IINs and BINs); any resemblance to a real person is a coincidence of common names.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.er_dataset import HEADER, make_id, mistype_id

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "er" / "persons_heldout.csv"
SEED = 31337

KZ_SURNAMES = [
    "Абдрахманов",
    "Бейсенов",
    "Габдуллин",
    "Дүйсенбаев",
    "Жақсылықов",
    "Ибраев",
    "Қарабаев",
    "Қожахметов",
    "Мамыров",
    "Нұрмағамбетов",
    "Оразбаев",
    "Төлеуов",
    "Шәкенов",
    "Әбішев",
    "Құдайбергенов",
    "Рысқұлов",
    "Сүлейменов",
    "Тұрсынов",
    "Үсенов",
    "Байғожин",
    "Ғалымжанов",
    "Еркінов",
    "Жанұзақов",
    "Иманбаев",
    "Көшербаев",
    "Мұқанов",
    "Сәрсенбаев",
    "Тілеубердиев",
    "Шайхиев",
    "Ыдырысов",
    "Өтегенов",
    "Жолдасбеков",
    "Ермекбаев",
    "Құрманов",
    "Бекбосынов",
    "Аманжолов",
]
KZ_SURNAMES_NO_SUFFIX = ["Сәрсен", "Кемел", "Бекмұрат", "Әмір", "Сейітқали", "Жұмағали"]
KZ_GIVEN_M = [
    "Айбек",
    "Бекжан",
    "Ғалымжан",
    "Дастан",
    "Ерболат",
    "Жанболат",
    "Нұржан",
    "Мақсат",
    "Ерназар",
    "Әлібек",
    "Темірлан",
    "Шерхан",
    "Азат",
    "Бағдат",
    "Еркебұлан",
    "Қуандық",
    "Мирас",
    "Нұрасыл",
    "Ринат",
    "Саят",
    "Тілек",
    "Жәнібек",
    "Ерқанат",
    "Әсет",
    "Ғалым",
    "Бекарыс",
]
KZ_GIVEN_F = [
    "Айгерім",
    "Ботагөз",
    "Гүлназ",
    "Динара",
    "Жанар",
    "Қарлығаш",
    "Мөлдір",
    "Назерке",
    "Сәуле",
    "Томирис",
    "Ұлжан",
    "Шынар",
    "Аружан",
    "Балжан",
    "Жұлдыз",
    "Көркем",
    "Ләззат",
    "Меруерт",
    "Нұргүл",
    "Салтанат",
    "Тоғжан",
    "Үміт",
    "Гүлмира",
    "Эльмира",
]
KZ_FATHERS = [
    "Абай",
    "Бақыт",
    "Ғабит",
    "Дүйсен",
    "Ерғали",
    "Жексен",
    "Кәрім",
    "Құрманғали",
    "Мәлік",
    "Нұрғали",
    "Оразалы",
    "Сағындық",
    "Тұрар",
    "Өмірзақ",
    "Үсен",
    "Шәріп",
    "Ілияс",
    "Сейілхан",
    "Қожа",
    "Жанұзақ",
    "Есім",
    "Әуезхан",
]
RU_SURNAMES = [
    "Кузнецов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Волков",
    "Соловьёв",
    "Зайцев",
    "Семёнов",
    "Голубев",
    "Виноградов",
    "Богданов",
    "Воробьёв",
    "Фёдоров",
    "Беляев",
    "Тарасов",
    "Комаров",
    "Орлов",
    "Киселёв",
    "Макаров",
    "Ковалёв",
    "Жуков",
    "Щукин",
    "Шубин",
    "Щербинин",
    "Журавлёв",
    "Шестаков",
]
RU_GIVEN_M = [
    "Пётр",
    "Семён",
    "Артём",
    "Фёдор",
    "Матвей",
    "Георгий",
    "Валерий",
    "Аркадий",
    "Эдуард",
    "Вячеслав",
    "Илья",
    "Никита",
    "Тимофей",
    "Глеб",
    "Степан",
]
RU_GIVEN_F = [
    "Алёна",
    "Наталья",
    "Ксения",
    "Юлия",
    "Евгения",
    "Жанна",
    "Людмила",
    "Светлана",
    "Дарья",
    "Полина",
    "Татьяна",
    "Оксана",
    "Вероника",
    "Елизавета",
]
RU_FATHERS = [
    "Пётр",
    "Семён",
    "Фёдор",
    "Юрий",
    "Николай",
    "Василий",
    "Аркадий",
    "Геннадий",
    "Илья",
    "Никита",
    "Валентин",
    "Анатолий",
    "Григорий",
]

ORG_WORDS = [
    "Шаңырақ",
    "Білім",
    "Жұлдыз",
    "Өркен",
    "Алтын",
    "Дала",
    "Ақниет",
    "Қыран",
    "Іңкәр",
    "Күншуақ",
    "Самұрық",
    "Мерей",
    "Тұмар",
    "Бәйшешек",
    "Жігер",
    "Нұр",
    "Сұңқар",
    "Ұмай",
    "Әлем",
    "Төрт",
    "Құлақ",
    "Қазына",
    "Ғылым",
]
CITIES = [
    "Астана",
    "Алматы",
    "Шымкент",
    "Қарағанды",
    "Ақтөбе",
    "Өскемен",
    "Павлодар",
    "Тараз",
    "Орал",
    "Қостанай",
]
FORMS = {"too": ["ТОО", "ЖШС", "LLP"], "school": ["КГУ", "КММ", "ГУ"]}

_FOLD = str.maketrans("әғқңөұүһіӘҒҚҢӨҰҮҺІёЁ", "агкноуухиАГКНОУУХИеЕ")
_COMMON = dict(zip("абвгдезиклмнопрстуф", "abvgdeziklmnoprstuf", strict=True))
_SCHEMES: dict[str, dict[str, str]] = {
    "passport": {"ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y", "й": "i", "ю": "yu", "я": "ya", "ё": "e", "ь": "", "ъ": "", "э": "e", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i"},
    "bgn": {"ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y", "й": "y", "ю": "yu", "я": "ya", "ё": "yo", "ь": "", "ъ": "", "э": "e", "ә": "a", "ғ": "gh", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i"},
    "gost": {"ж": "zh", "х": "kh", "ц": "tc", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y", "й": "i", "ю": "iu", "я": "ia", "ё": "e", "ь": "", "ъ": "", "э": "e", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i"},
    "kz2021": {"ж": "j", "х": "h", "ц": "ts", "ч": "ch", "ш": "ş", "щ": "şş", "ы": "y", "й": "i", "и": "i", "ю": "iu", "я": "ia", "ё": "io", "ь": "", "ъ": "", "э": "e", "ә": "ä", "ғ": "ğ", "қ": "q", "ң": "ñ", "ө": "ö", "ұ": "ū", "ү": "ü", "һ": "h", "і": "ı"},
    "informal": {"ж": "j", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sh", "ы": "y", "й": "y", "ю": "yu", "я": "ya", "ё": "yo", "ь": "", "ъ": "", "э": "e", "ә": "a", "ғ": "g", "қ": "q", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i"},
}  # fmt: skip


def translit(text: str, scheme: str) -> str:
    table = {**_COMMON, **_SCHEMES[scheme]}
    out = []
    for i, ch in enumerate(text):
        low = ch.lower()
        if low == "е" and (i == 0 or not text[i - 1].isalpha()) and scheme in {"passport", "bgn"}:
            rep = "ye"
        else:
            rep = table.get(low, ch)
        out.append(rep.capitalize() if ch.isupper() and rep else rep)
    return "".join(out)


def ru_patronymic(father: str, sex: str) -> str:
    father = father.replace("ё", "е")
    if father.endswith("й"):
        return father[:-1] + ("евич" if sex == "m" else "евна")
    if father.endswith(("а", "я")):
        return father[:-1] + ("ич" if sex == "m" else "инична")
    return father + ("ович" if sex == "m" else "овна")


def female(surname: str) -> str:
    return surname + "а" if surname.endswith(("ов", "ев", "ёв", "ин")) else surname


@dataclass
class Org:
    eid: str
    bin: str
    kind: str  # too | school
    name: str  # the brand or the school number
    city: str


@dataclass
class Person:
    eid: str
    sex: str
    kazakh: bool
    surname: str
    given: str
    father: str
    iin: str
    orgs: list[Org]


def render_org(o: Org, rng: random.Random) -> str:
    form = rng.choice(FORMS[o.kind])
    if o.kind == "school":
        body = rng.choice(
            [f"«Школа-лицей №{o.name}»", f"Школа-лицей № {o.name}", f"«№{o.name} мектеп-лицей»"]
        )
        city = rng.choice(
            [f"г. {o.city.translate(_FOLD)}", f"{o.city} қаласы", f"акимата г.{o.city.translate(_FOLD)}"]
        )
        return f"{form} {body} {city}"
    brand = o.name if rng.random() < 0.7 else o.name.translate(_FOLD)
    if form == "LLP":
        return f"{translit(o.name, 'bgn')} LLP" if rng.random() < 0.5 else f"«{brand}» LLP"
    return rng.choice([f"{form} «{brand}»", f'{form} "{brand}"', f"«{brand}» {form}"])


def _patronymic(p: Person, rng: random.Random) -> str:
    if not p.kazakh:
        return ru_patronymic(p.father, p.sex)
    f = p.father
    r = rng.random()
    if r < 0.45:
        return f + ("ұлы" if p.sex == "m" else "қызы")
    if r < 0.65:
        return f.translate(_FOLD) + ("улы" if p.sex == "m" else "кызы")
    if r < 0.75:
        return f + (" ұлы" if p.sex == "m" else " қызы")
    return ru_patronymic(f.translate(_FOLD), p.sex)  # Kazakh father, Russian form


def _initial(word: str) -> str:
    return word[0].upper()


def render_person(p: Person, rng: random.Random) -> str:
    sur, giv, pat = p.surname, p.given, _patronymic(p, rng)
    gi, pi = _initial(giv), _initial(pat)
    dot = rng.choice([".", ". "])
    shapes = [
        (0.22, f"{sur} {giv} {pat}"),
        (0.10, f"{giv} {pat} {sur}"),
        (0.08, f"{sur} {giv}"),
        (0.06, f"{giv} {sur}"),
        (0.06, f"{sur}, {giv} {pat}"),
        (0.14, f"{sur} {gi}{dot}{pi}."),
        (0.06, f"{sur} {gi}{pi}"),
        (0.08, f"{gi}.{pi}. {sur}"),
        (0.06, f"{gi}. {sur}"),
        (0.06, f"{sur} {giv} {pi}."),
        (0.08, f"{sur.upper()} {giv.upper()} {pat.upper()}"),
    ]
    r, acc, text = rng.random(), 0.0, shapes[0][1]
    for weight, shape in shapes:
        acc += weight
        if r < acc:
            text = shape
            break
    x = rng.random()
    if x < 0.22:
        text = translit(text, rng.choice(list(_SCHEMES)))
        if p.kazakh and rng.random() < 0.3:
            text = text.replace("uly", "-uly").replace("kyzy", "-kyzy").replace("ULY", "-ULY")
    elif x < 0.35:
        text = text.translate(_FOLD)  # Kazakh letters (and ё) written with Russian ones
    if rng.random() < 0.05:
        text = _typo(text, rng)
    return " ".join(text.split()).replace(" -", "-")


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 7 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(2, len(w) - 2)
    op = rng.randrange(3)
    if op == 0:
        w = w[:j] + w[j + 1 :]
    elif op == 1:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def make_orgs(n: int, rng: random.Random) -> list[Org]:
    out: list[Org] = []
    used: set[tuple[str, str]] = set()
    while len(out) < n:
        if rng.random() < 0.5:
            name = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_WORDS)}"
            kind = "too"
        else:
            name, kind = str(rng.randint(1, 180)), "school"
        city = rng.choice(CITIES)
        if (name, city if kind == "school" else "") in used or len(set(name.split())) < len(name.split()):
            continue
        used.add((name, city if kind == "school" else ""))
        out.append(Org(f"O{len(out) + 1}", make_id(rng), kind, name, city))
    return out


def _parts(rng: random.Random, sex: str, kazakh: bool) -> tuple[str, str, str]:
    if kazakh:
        sur = rng.choice(KZ_SURNAMES + KZ_SURNAMES_NO_SUFFIX)
        giv = rng.choice(KZ_GIVEN_M if sex == "m" else KZ_GIVEN_F)
        father = rng.choice(KZ_FATHERS)
    else:
        sur = rng.choice(RU_SURNAMES)
        giv = rng.choice(RU_GIVEN_M if sex == "m" else RU_GIVEN_F)
        father = rng.choice(RU_FATHERS)
    return (female(sur) if sex == "f" else sur), giv, father


def make_persons(n: int, orgs: list[Org], rng: random.Random) -> list[Person]:
    out: list[Person] = []

    def add(sex: str, kazakh: bool, sur: str, giv: str, father: str, where: list[Org]) -> None:
        out.append(
            Person(
                f"P{len(out) + 1}", sex, kazakh, sur, giv, father, make_id(rng, person=True, sex=sex), where
            )
        )

    while len(out) < n:
        sex, kazakh = rng.choice("mf"), rng.random() < 0.7
        sur, giv, father = _parts(rng, sex, kazakh)
        org = rng.choice(orgs)
        where = [org] + ([rng.choice(orgs)] if rng.random() < 0.15 else [])
        add(sex, kazakh, sur, giv, father, where)
        r = rng.random()
        if r < 0.10:  # namesake with another father, elsewhere
            _, _, f2 = _parts(rng, sex, kazakh)
            if f2 != father:
                add(sex, kazakh, sur, giv, f2, [rng.choice(orgs)])
        elif r < 0.14:  # full namesake, elsewhere
            add(sex, kazakh, sur, giv, father, [rng.choice(orgs)])
        elif r < 0.18:  # sibling: same first letter of the given name, one organization
            pool = [
                g
                for g in (KZ_GIVEN_M if sex == "m" else KZ_GIVEN_F)
                if kazakh and g[0] == giv[0] and g != giv
            ]
            pool += [
                g
                for g in (RU_GIVEN_M if sex == "m" else RU_GIVEN_F)
                if not kazakh and g[0] == giv[0] and g != giv
            ]
            if pool:
                add(sex, kazakh, sur, rng.choice(pool), father, [org])
        elif r < 0.22 and sex == "m" and kazakh:  # a son named after his grandfather, one organization:
            add("m", True, sur, father, giv, [org])  # «Бейсенов Айбек Ғалымұлы» / «Бейсенов Ғалым Айбекұлы»
        elif r < 0.26:  # spouse: one surname, same initial, one organization
            other = "f" if sex == "m" else "m"
            base = sur[:-1] if sex == "f" and sur.endswith(("ова", "ева", "ёва", "ина")) else sur
            pool = (
                (KZ_GIVEN_M if other == "m" else KZ_GIVEN_F)
                if kazakh
                else (RU_GIVEN_M if other == "m" else RU_GIVEN_F)
            )
            same = [g for g in pool if g[0] == giv[0]] or pool
            _, _, f2 = _parts(rng, other, kazakh)
            add(other, kazakh, female(base) if other == "f" else base, rng.choice(same), f2, [org])
    return out[:n]


def generate(n_persons: int, seed: int = SEED) -> list[list[str]]:
    rng = random.Random(seed)
    orgs = make_orgs(max(10, n_persons // 4), rng)
    org_style = {o.eid: rng.choice(["bin", "bin", "name"]) for o in orgs}
    rows: list[list[str]] = []
    for p in make_persons(n_persons, orgs, rng):
        for _ in range(max(1, min(6, int(rng.expovariate(1 / 1.8)) + 1))):
            org = rng.choice(p.orgs)
            if rng.random() < 0.15:
                context = ""
            elif org_style[org.eid] == "bin":
                context = org.bin
            else:
                context = render_org(org, rng)
            iin = ""
            r = rng.random()
            if r < 0.08:
                iin = p.iin
            elif r < 0.09:
                iin = mistype_id(p.iin, rng)
            rows.append(["", "person", render_person(p, rng), "", iin, context, p.eid])
    rng.shuffle(rows)  # input order must not matter; ids are given after shuffling
    for i, row in enumerate(rows, 1):
        row[0] = f"h{i:06d}"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--persons", type=int, default=500)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    rows = generate(args.persons, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    print(f"{args.out}: {len(rows)} records")


if __name__ == "__main__":
    main()
