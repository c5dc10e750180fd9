"""What kind of organization a record describes, and its legal form, from the code and name the source gives.

Kinds: `company`, `individual_entrepreneur`, `individual` (a natural person supplying without IP status),
`school`, `kindergarten`, `college`, `university`, `public_body`, `ngo`, `foreign`. The education kinds are what
the tracker's users search by; they are read from the name because no goszakup code says "this is a school".
A simple table for now: the resolver (a later issue) takes over legal-form parsing with Kazakh folding.
"""

from __future__ import annotations

import re

# Legal form abbreviations (Russian, Kazakh, Latin) → canonical Russian code. Kazakh equivalents from DESIGN §7.
LEGAL_FORMS: dict[str, str] = {
    "тоо": "ТОО", "жшс": "ТОО", "llp": "ТОО", "too": "ТОО",
    "ао": "АО", "ақ": "АО", "jsc": "АО",
    "ооо": "ООО", "llc": "ООО",
    "ип": "ИП", "жк": "ИП", "инд": "ИП", "ie": "ИП",
    "гу": "ГУ", "мм": "ГУ",
    "кгу": "КГУ", "кмм": "КГУ",
    "ргу": "РГУ", "рмм": "РГУ",
    "гккп": "ГККП", "мкқк": "ГККП",
    "кгп": "КГП",
    "ргп": "РГП", "рмк": "РГП",
    "ргкп": "РГКП",
    "нао": "НАО", "кеақ": "НАО",
    "чу": "ЧУ",
    "оо": "ОО",
    "оф": "ОФ",
}  # fmt: skip

# Long forms, matched at the start of the casefolded name.
LONG_FORMS: tuple[tuple[str, str], ...] = (
    ("товарищество с ограниченной ответственностью", "ТОО"),
    ("жауапкершілігі шектеулі серіктестігі", "ТОО"),
    ("акционерное общество", "АО"),
    ("некоммерческое акционерное общество", "НАО"),
    ("индивидуальный предприниматель", "ИП"),
    ("коммунальное государственное учреждение", "КГУ"),
    ("республиканское государственное учреждение", "РГУ"),
    ("государственное учреждение", "ГУ"),
    ("государственное коммунальное казенное предприятие", "ГККП"),
    ("коммунальное государственное казенное предприятие", "ГККП"),
    ("коммунальное государственное предприятие", "КГП"),
    ("республиканское государственное предприятие", "РГП"),
    ("республиканское государственное казенное предприятие", "РГКП"),
    ("частное учреждение", "ЧУ"),
    ("общественное объединение", "ОО"),
    ("общественный фонд", "ОФ"),
)

COMMERCIAL_FORMS = frozenset({"ТОО", "АО", "ООО"})
STATE_FORMS = frozenset({"ГУ", "КГУ", "РГУ", "ГККП", "КГП", "РГП", "РГКП"})
NONPROFIT_FORMS = frozenset({"НАО", "ЧУ", "ОО", "ОФ"})

_EDUCATION_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kindergarten", re.compile(r"детск\w*\s+сад|\bясли|балабақша|бөбекжай|мини-центр")),
    ("college", re.compile(r"колледж|college")),
    ("university", re.compile(r"университет|академи|институт|university")),
    ("school", re.compile(r"школ|гимнази|лице[йяю]|мектеп|мектеб|school")),
)
_PUBLIC_BODY = re.compile(
    r"министерств|министрлі|акимат|әкімдігі|аппарат\w* аким|управлени\w* образовани|отдел\w* образовани"
    r"|департамент|комитет|білім басқармасы|білім бөлімі"
)
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


def legal_form(kopf_code: str | None, name: str | None) -> str | None:
    """The canonical legal form from goszakup's `refKopfCode`, else from the name's first or last word."""
    if kopf_code:
        code = kopf_code.strip()
        return LEGAL_FORMS.get(code.casefold(), code[:40] or None)
    if not name:
        return None
    folded = name.casefold().strip(" \"'«»")
    for long_form, code in LONG_FORMS:
        if folded.startswith(long_form):
            return code
    # A form sits outside the quotes: 'ТОО "Альфа"' or '"Альфа" ЖШС'.
    tokens = _TOKEN.findall(re.sub(r"[\"«“].*?[\"»”]", " ", folded))
    for token in (tokens[:1] + tokens[-1:]) if tokens else []:
        if token in LEGAL_FORMS:
            return LEGAL_FORMS[token]
    return None


def organization_kind(
    *, type_supplier: int | None, form: str | None, name: str | None, non_resident: bool = False
) -> str:
    """The kind of an organization; see the module docstring for the vocabulary."""
    if type_supplier == 3 or form == "ИП":
        return "individual_entrepreneur"
    if type_supplier == 2:
        return "individual"
    if non_resident:
        return "foreign"
    if form in COMMERCIAL_FORMS:
        return "company"  # an "online school" LLP is a company, not a school
    folded = (name or "").casefold()
    for kind, pattern in _EDUCATION_KINDS:
        if pattern.search(folded):
            return kind
    if form in STATE_FORMS or _PUBLIC_BODY.search(folded):
        return "public_body"
    if form in NONPROFIT_FORMS:
        return "ngo"
    return "company"
