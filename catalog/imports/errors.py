"""Import errors: a file that cannot be read at all (422), as opposed to rows with problems (in the report)."""

from tradeloom.errors import Invalid


class UnreadableFile(Invalid):
    """Wrong encoding, broken workbook, no header, too many rows or columns."""

    default_code = "catalog.import_unreadable"


class MissingColumns(Invalid):
    """The header lacks columns that every row of this kind needs."""

    default_code = "catalog.import_missing_columns"
