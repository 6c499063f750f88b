"""The lines of a batch posting (:mod:`claimdesk.core.services.batch_posting`): one payer
check spread over many patients, a line per patient and amount.

Lines come from a lockbox / ERA file (:func:`read_lines`: ``.csv`` or ``.json``, the CLI's
``payments post-batch --file`` and the Batch posting screen's file field) or are typed or
pasted by the clerk (:func:`parse_text`: the screen's lines box, ``--file -``)::

    patient_id,amount,memo
    1042,25.00,copay
    1077,40.00

Either way the result is a :class:`LineFile`: the lines as text (the service validates them)
that knows where each came from, so a refusal names it: ``lines.3.amount ... (row 5 of
era.csv)`` for a file, ``line 5, amount: ...`` for typed lines.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

from marshmallow import Schema, ValidationError

from claimdesk.core import files
from claimdesk.core.errors import ClaimdeskError, InputError, flatten_messages
from claimdesk.core.money import json_loads
from claimdesk.core.validation import Id, Money, Text

#: The columns of a lines file, in order; the header a typed batch may start with.
HEADER = "patient_id,amount,memo"
#: What the screens show as the expected format.
FORMAT = f"{HEADER} — one line per patient; e.g. 1042,25.00,copay"
#: The fields of a line in a clerk's words (errors on typed lines say ``line 4, patient``).
FIELD_WORDS = {"patient_id": "patient", "amount": "amount", "memo": "memo"}

_LINE_FIELD = re.compile(r"lines\.(\d+)(?:\.(\w+))?$")


class BatchLine(Schema):
    """One line of a batch: a patient and the amount drawn for them."""

    patient_id = Id(required=True)
    amount = Money(required=True, positive=True)
    memo = Text(max_length=200, load_default="")


class LineFile(list):
    """The lines of a batch file (a plain list of ``{"patient_id", "amount", "memo"?}`` with
    the values as text: the service validates them) that knows which row of the file each
    line came from, to name it in errors."""

    #: ``"file"`` (a lines file: errors keep the field path and add the file row) or
    #: ``"lines"`` (typed lines: errors say ``line 4, amount``).
    kind = "file"

    def __init__(self, lines: list, name: str, places: list[str], sha256: str = ""):
        super().__init__(lines)
        self.name = name
        self.places = places
        self.sha256 = sha256
        """The sha256 of the file's bytes: posting the same file again is refused unless confirmed."""

    def where(self, index: int) -> str:
        """``"row 7 of era.csv"`` (CSV rows counted from the header line) or ``"item 3 of lines.json"``."""
        place = self.places[index] if 0 <= index < len(self.places) else f"line {index + 1}"
        return f"{place} of {self.name}" if self.name else place

    def field_name(self, field) -> str:
        """How an error names ``field``: a file keeps the service's path (``lines.3.amount``)."""
        return str(field or "")

    def place(self, field, message: str) -> str:
        """``message`` about ``field`` with the file row added when the field is ``lines.N...``."""
        m = _LINE_FIELD.match(str(field or ""))
        return f"{message} ({self.where(int(m.group(1)))})" if m else message

    def locate(self, exc: ClaimdeskError) -> ClaimdeskError:
        """``exc`` with the file row added to every message about ``lines.N...``; ``exc``
        itself when it names no line."""
        if isinstance(exc, InputError):
            flat = flatten_messages(exc.messages)
            if not any(_LINE_FIELD.match(k) for k in flat):
                return exc
            return InputError({self.field_name(k): [self.place(k, str(m)) for m in v] for k, v in flat.items()})
        if not _LINE_FIELD.match(exc.field or ""):
            return exc
        return type(exc)(self.place(exc.field, exc.message), field=self.field_name(exc.field))


class TypedLines(LineFile):
    """Lines typed or pasted by the clerk (or piped to ``--file -``): ``line N`` is the line of
    the text as typed (header and blank lines counted, as a text box numbers them), and errors
    name it with the field in the clerk's words: ``line 4, amount: must be an amount like 12.50``."""

    kind = "lines"

    def where(self, index: int) -> str:
        """``"line 4"``: the line of the text."""
        return self.places[index] if 0 <= index < len(self.places) else f"line {index + 1}"

    def field_name(self, field) -> str:
        """``lines.2.amount`` -> ``"line 4, amount"``; any other field as it is."""
        m = _LINE_FIELD.match(str(field or ""))
        if not m:
            return str(field or "")
        word = FIELD_WORDS.get(m.group(2) or "", m.group(2))
        return f"{self.where(int(m.group(1)))}, {word}" if word else self.where(int(m.group(1)))

    def place(self, field, message: str) -> str:
        """``message`` as it is: the field name already says which line."""
        return message


def read_lines(path: str) -> LineFile:
    """The lines of a batch file: ``.csv`` with a header naming ``patient_id,amount[,memo]``
    (other columns ignored; a row with more fields than the header is refused, as an
    unquoted ``1,000.00`` would be), or ``.json``: a list of ``{"patient_id", "amount",
    "memo"}`` or ``{"lines": [...]}``. A file that cannot be read raises
    :class:`InputError` on ``file``, naming the row when one row is at fault. A file larger
    than :data:`claimdesk.core.files.BATCH_LIMIT` is refused after reading that much (a wrong
    path such as ``/dev/zero`` stops at once). Amounts in a JSON file are strings (``"12.50"``):
    a JSON number is refused by the money field, naming the line.

    ``-`` reads standard input as typed lines (:func:`parse_text`: the header optional)."""
    if path == "-":
        data = files.read_limited("-", files.BATCH_LIMIT, "file")
        try:
            return parse_text(data.decode("utf-8-sig"), name="standard input")
        except UnicodeDecodeError:
            raise InputError({"file": ["standard input is not UTF-8 text"]}) from None
    file = Path(path).expanduser()
    if file.suffix.lower() not in (".json", ".csv"):
        raise InputError({"file": [f"{path!r}: use a .csv or .json file (or - for lines on standard input)"]})
    data = files.read_limited(file, files.BATCH_LIMIT, "file")
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError({"file": [f"{path!r} is not UTF-8 text"]}) from None
    if file.suffix.lower() == ".json":
        try:
            doc = json_loads(text)
        except json.JSONDecodeError as exc:
            raise InputError({"file": [f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"]}) from None
        except RecursionError:
            raise InputError({"file": ["not valid JSON: nested too deeply"]}) from None
        lines = doc.get("lines") if isinstance(doc, dict) else doc
        if not isinstance(lines, list):
            raise InputError({"file": ["a JSON batch is a list of lines or {\"lines\": [...]}"]})
        return LineFile(lines, file.name, [f"item {i + 1}" for i in range(len(lines))], digest)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("patient_id", "amount") if c not in header]
    if missing:
        raise InputError({"file": [f"the CSV header must name patient_id,amount[,memo]; missing {', '.join(missing)}"]})
    reader.fieldnames = header
    lines, places = [], []
    for row in reader:
        if row.get(None):
            raise InputError({"file": [f"row {reader.line_num} of {file.name} has more fields than the header "
                                       f"({len(header)}); quote a memo with commas, write amounts without "
                                       f"thousands separators"]})
        line = {k: (row.get(k) or "").strip() for k in ("patient_id", "amount")}
        if (row.get("memo") or "").strip():
            line["memo"] = row["memo"].strip()
        lines.append(line)
        places.append(f"row {reader.line_num}")
    return LineFile(lines, file.name, places, digest)


# --- typed / pasted lines -------------------------------------------------------------------
def parse_text(text: str, *, name: str = "typed lines") -> TypedLines:
    """The lines a clerk typed or pasted: ``patient_id,amount[,memo]`` one line per patient,
    as in a CSV lines file but the ``patient_id,amount,memo`` header optional (with it, its
    columns name the fields; other columns are ignored). Blank lines are skipped; a tab
    between fields (a spreadsheet's copy) works as a comma does; a memo with commas is quoted.

    Every line is checked here, and an :class:`InputError` names each bad line by its line
    in the text with the field in the clerk's words (``line 4, amount: must be an amount like
    12.50``, ``line 2: 4 fields; ...``). ``sha256`` is the digest of the lines as read
    (patient, cents, memo), so the same lines typed again, spaced or quoted otherwise, are
    known as a repeat."""
    rows = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not rows:
        raise InputError({"lines": [f"type or paste at least one line: {HEADER}"]})
    delimiter = "\t" if "\t" in rows[0][1] else ","
    cells = [(n, [c.strip() for c in _split(line, delimiter)]) for n, line in rows]
    columns, errors = list(HEADER.split(",")), {}
    if "patient_id" in [c.lower() for c in cells[0][1]]:
        columns = [c.lower() for c in cells[0][1]]
        if "amount" not in columns:
            raise InputError({f"line {cells[0][0]}": ["the header must name patient_id,amount[,memo]"]})
        cells = cells[1:]
    lines, places = [], []
    for n, row in cells:
        problem = _shape_problem(row, columns)
        if problem:
            errors[f"line {n}{problem[0]}"] = [problem[1]]
            continue
        line = {k: v for k, v in zip(columns, row) if k in FIELD_WORDS and (v or k != "memo")}
        lines.append(line)
        places.append(f"line {n}")
    if not lines and not errors:
        raise InputError({"lines": [f"type or paste at least one line under the header: {HEADER}"]})
    typed = TypedLines(lines, name, places)
    try:
        clean = BatchLine(many=True).load(lines)
    except ValidationError as exc:
        errors.update(typed.locate(InputError({"lines": exc.messages})).messages)
    if errors:
        raise InputError(dict(sorted(errors.items(), key=lambda kv: int(re.match(r"line (\d+)", kv[0]).group(1)))))
    canon = "\n".join(f"{ln['patient_id']},{int(ln['amount'])},{json.dumps(ln['memo'])}" for ln in clean)
    typed.sha256 = hashlib.sha256(canon.encode()).hexdigest()
    return typed


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error:
        return [line]  # (an unclosed quote: one field, refused as a bad patient id)


def _shape_problem(row: list[str], columns: list[str]) -> tuple[str, str] | None:
    """Why a typed line cannot be read as the columns (too few or too many fields, an amount
    cut by a thousands comma): ``(", amount" or "", message)``, or None."""
    if len(row) < columns.index("amount") + 1:
        return ", amount", f"missing: type {','.join(columns)}, e.g. 1042,25.00,copay"
    if len(row) > len(columns):
        return "", (f"{len(row)} fields, more than {','.join(columns)}: quote a memo with commas, write "
                    "amounts without thousands separators (1000.00)")
    fields = dict(zip(columns, row))
    if re.fullmatch(r"\d{1,3}", fields["amount"]) and re.fullmatch(r"\d{3}(\.\d*)?", fields.get("memo", "")):
        return ", amount", (f"{fields['amount']},{fields['memo']} would read as amount {fields['amount']} and "
                            f"memo {fields['memo']}; write amounts without thousands separators (1000.00)")
    return None
