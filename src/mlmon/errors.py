"""Error types that carry a user-facing title and a fix.

Every error the user can see names the failing thing, the value involved and what to do
next. The CLI prints `title` and `fix` on stderr; the TUI shows them in a toast or on the
panel whose data failed.
"""

from __future__ import annotations

from enum import StrEnum


class MlmonError(Exception):
    """An error with a one-line title and a suggested fix, both safe to show to users."""

    def __init__(self, title: str, fix: str = "") -> None:
        super().__init__(title)
        self.title = title
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.title} {self.fix}".strip()


class ConfigError(MlmonError):
    """The configuration file, an option or an environment variable is invalid."""


class InputError(MlmonError):
    """A data file given to a headless command cannot be read or has the wrong shape."""


class SourceErrorKind(StrEnum):
    """Why a request to the tracking server failed, in the words shown to the user."""

    UNREACHABLE = "unreachable"
    TIMED_OUT = "timed out"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    HOST_REJECTED = "host header rejected"
    NOT_FOUND = "not found"
    SERVER_ERROR = "server error"
    RATE_LIMITED = "rate limited"
    MALFORMED = "malformed response"
    BAD_REQUEST = "bad request"


class SourceError(MlmonError):
    """A request to a tracking store failed; `kind` classifies the failure."""

    def __init__(self, kind: SourceErrorKind, title: str, fix: str = "") -> None:
        super().__init__(title, fix)
        self.kind = kind
