"""Graph API errors in Meta's exact wire shape, raised by the fake's handlers and rendered by its app."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

# HTTP status Meta uses for a code when the call site does not say (provider-contracts §2.4).
_STATUS_BY_CODE = {0: 401, 190: 401, 10: 403, 368: 403, 131031: 403, 4: 429, 100: 400}


def fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(15).replace("-", "x").replace("_", "y")


def default_status(code: int) -> int:
    if code in _STATUS_BY_CODE:
        return _STATUS_BY_CODE[code]
    if 200 <= code <= 299:
        return 403
    return 400


@dataclass
class GraphError(Exception):
    """One Graph error response: `{"error": {message, type, code, error_subcode?, error_data?, fbtrace_id}}`."""

    code: int
    message: str
    status: int | None = None
    subcode: int | None = None
    type: str = "OAuthException"
    error_data: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if self.status is None:
            self.status = default_status(self.code)

    @property
    def http_status(self) -> int:
        return self.status or default_status(self.code)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.error_data is not None:
            error["error_data"] = self.error_data
        error.update(self.extra)
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}


def whatsapp_error(code: int, title: str, details: str, *, status: int = 400, subcode: int | None = None) -> GraphError:
    """WhatsApp Cloud API errors carry `error_data.details`; Meta says to build logic on code + details."""
    return GraphError(
        code=code,
        message=f"(#{code}) {title}",
        status=status,
        subcode=subcode,
        error_data={"messaging_product": "whatsapp", "details": details},
    )


def invalid_token(
    subcode: int | None = None, message: str = "Invalid OAuth access token - Cannot parse access token"
) -> GraphError:
    return GraphError(code=190, message=message, status=401, subcode=subcode)


def expired_token() -> GraphError:
    return GraphError(
        code=190,
        message="Error validating access token: Session has expired.",
        status=401,
        subcode=463,
    )


def invalid_parameter(message: str, *, subcode: int | None = None) -> GraphError:
    return GraphError(code=100, message=f"(#100) {message}", status=400, subcode=subcode)


def unsupported_request(path: str) -> GraphError:
    # What Graph answers for an object id it does not know or an edge that does not exist.
    return GraphError(
        code=100,
        subcode=33,
        status=400,
        type="GraphMethodException",
        message=(
            f"Unsupported request - method type: get or post on '{path}'. Object does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation."
        ),
    )


def permission_denied(message: str = "(#10) Permission denied") -> GraphError:
    return GraphError(code=10, message=message, status=403)
