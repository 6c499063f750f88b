"""What an 837P can carry of a name or an address: A-Z, digits and a few signs, upper case.

People's and places' names have accents (Núñez, José, Zoë); an X12 file is ASCII, and a payer
refuses anything else. :func:`x12_text` writes a name as payers expect it: its letters without
their accents ("NUNEZ", "JOSE"; :func:`claimdesk.core.letters.without_accents`). A letter of a
script with no Latin spelling (Жук, 李) is not guessed at: :class:`NotX12Text` names it, and the
claim is held until the name on file is entered in Latin letters.
"""

from __future__ import annotations

from claimdesk.core.letters import without_accents


class NotX12Text(ValueError):
    """A name or address with a character an 837P cannot carry (``char``), even without accents."""

    def __init__(self, value: str, char: str):
        super().__init__(f"{value!r} has a letter an 837P cannot carry ({char!r}): enter it in Latin letters")
        self.value, self.char = value, char


def x12_text(value: str) -> str:
    """``value`` as an 837P carries a name: upper case, accents dropped ("Núñez" -> "NUNEZ");
    :class:`NotX12Text` when a character is left that ASCII does not have."""
    return x12_id(value).upper()


def x12_id(value: str) -> str:
    """``value`` (a member id, a group number) in ASCII, its case kept: full-width characters
    as their ASCII selves ("Ｗ１２３" -> "W123"), accents dropped; :class:`NotX12Text` when a
    character is left that ASCII does not have."""
    folded = without_accents(value)
    if not folded.isascii():
        raise NotX12Text(value, next(c for c in folded if not c.isascii()))
    return folded
