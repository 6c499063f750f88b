"""Reusable widgets: the schema-driven form."""

from claimdesk.tui.widgets.schema_form import FieldRow, RowsEditor, SchemaForm  # noqa: F401
