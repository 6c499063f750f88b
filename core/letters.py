"""Letters without their accents, for the places that can only carry fewer letters than people's
names have: an X12 file (ASCII, :mod:`claimdesk.core.x12.text`) and a printed statement's PDF
font (Latin-1, :mod:`claimdesk.core.services.statement_render`); and names in the order a
clerk looks for them in a list (:func:`sort_key`).

"Nguyễn" -> "Nguyen", "Núñez" -> "Nunez", "Ｔａｎａｋａ" -> "Tanaka"; the few letters that have
no accent to drop are spelled out ("Ørsted" -> "Orsted", "Straße" -> "Strasse"). Letters of
other scripts (Жук, 李) are left as they are: whoever needs fewer letters decides what then.
"""

from __future__ import annotations

import unicodedata

#: Letters (and typographic signs) with no accent to drop, as they are spelled in Latin letters.
_SPELLED = str.maketrans({
    "ß": "ss", "ẞ": "SS", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l",
    "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "TH", "þ": "th", "ı": "i", "Ħ": "H", "ħ": "h",
    "‘": "'", "’": "'", "‐": "-", "‑": "-", "–": "-", "—": "-",
})


def without_accents(value: str) -> str:
    """``value`` with its letters' accents dropped and full-width forms as ASCII (see the module)."""
    if value.isascii():
        return value
    decomposed = unicodedata.normalize("NFKD", value.translate(_SPELLED))
    return "".join([c for c in decomposed if not unicodedata.combining(c)])


def sort_key(value: str) -> str:
    """``value`` as alphabetical lists of names order it: by its letters, case and accents
    aside ("Ángel" among the A's, "de la Cruz" among the D's, "Mcallister" before "McDonald"),
    as a clerk looks for a name, not by the byte order of its characters (which put both after
    "Zimmerman"). :func:`claimdesk.core.db.name_order` is the same order in SQL."""
    return without_accents(value).casefold()
