"""Domain errors with an HTTP status and a stable code; the API renders them as {"error": {code, message}}."""

from __future__ import annotations

from typing import Any


class HelplineError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class NotFound(HelplineError):
    status_code = 404
    code = "not_found"


class Unauthorized(HelplineError):
    status_code = 401
    code = "unauthorized"


class Forbidden(HelplineError):
    status_code = 403
    code = "forbidden"


class Conflict(HelplineError):
    status_code = 409
    code = "conflict"


class Invalid(HelplineError):
    status_code = 422
    code = "invalid"


class TooLarge(HelplineError):
    status_code = 413
    code = "too_large"


class TooManyRequests(HelplineError):
    status_code = 429
    code = "too_many_requests"


class Unavailable(HelplineError):
    status_code = 503
    code = "unavailable"


class UnsupportedMediaType(HelplineError):
    status_code = 415
    code = "unsupported_media_type"
