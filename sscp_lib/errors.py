"""Errors a user can act on. The CLI prints them as one line, without a traceback."""


class UserError(Exception):
    """A problem with the inputs or set-up that the user can fix (names file, row, column)."""


class InputFileError(UserError):
    """A raw file that cannot be read or lacks what the contract requires."""

    def __init__(self, path, message: str, row: int | None = None, column: str | None = None):
        where = str(path)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.path, self.message, self.row, self.column = path, message, row, column

    def __reduce__(self):
        # As it was made, so it arrives whole from the clean stage's second process.
        return (type(self), (self.path, self.message, self.row, self.column))


class ValidationStop(UserError):
    """A critical table-level expectation failed: the chain must not go on."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report  # the ValidationReport that stopped the chain
