"""Exceptions and warnings raised by csatkit.

Every error csatkit raises on purpose derives from :class:`CsatkitError`, so callers can catch
them all with one ``except``. Messages name the file, column, row or parameter at fault, what was
expected and what was found.
"""

from __future__ import annotations

__all__ = [
    "CsatkitError",
    "ParameterError",
    "InputError",
    "DataFileError",
    "MissingColumnError",
    "ScaleError",
    "RenderError",
    "StatisticalWarning",
]


class CsatkitError(Exception):
    """Base class of every error csatkit raises on purpose."""


class ParameterError(CsatkitError, ValueError):
    """An argument has a value csatkit cannot use."""


class InputError(CsatkitError, ValueError):
    """The data (a file, a DataFrame, a row) is not what csatkit expects."""


class DataFileError(InputError):
    """A file is missing, empty, unreadable or of an unsupported format."""


class MissingColumnError(InputError):
    """A required column is absent."""


class ScaleError(InputError):
    """A value cannot be mapped onto the points of a scale."""


class RenderError(CsatkitError):
    """A notebook could not be rendered into a report."""


class StatisticalWarning(UserWarning):
    """A result is computed but should be read with care (small n, separation, ...)."""
