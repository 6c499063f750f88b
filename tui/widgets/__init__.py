"""Reusable widgets: the schema-driven form and the one-line field notice."""

from claimdesk.tui.widgets.error_line import ErrorLine  # noqa: F401
from claimdesk.tui.widgets.schema_form import FieldRow, RowsEditor, SchemaForm  # noqa: F401
