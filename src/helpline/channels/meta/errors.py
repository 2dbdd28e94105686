"""Graph API errors → DeliveryError: retryable or permanent, with a reason an operator can act on.

Tables: provider-contracts.md §2.4 (WhatsApp) and §3.2 (Messenger); Meta says to build logic on `code`
(and `error_data.details`), so the subcode only refines the wording.
"""

from __future__ import annotations

from typing import Any

import httpx

from helpline.channels.base import DeliveryError

# Throughput and rate limits, and Graph's "temporary" codes: back off and try again.
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131000, 131016, 131056, 133004})
# Token expired, revoked or invalid: no retry helps until an admin re-authorises the channel.
REAUTH_CODES = frozenset({0, 102, 190})
# Messenger / Instagram "outside of allowed window" subcodes (with code 10).
WINDOW_SUBCODES = frozenset({2018278, 2018065, 2534022})

READABLE: dict[int, str] = {
    0: "the access token was expired, invalidated or revoked: re-authorise the channel",
    4: "the app hit its Graph API call rate limit; Helpline retries later",
    10: "permission denied by Meta",
    100: "Meta refused a parameter of the request",
    190: "the access token has expired or is invalid: re-authorise the channel",
    368: "the account is temporarily blocked for policy violations",
    551: "this person isn't available right now",
    613: "Meta's rate limit was hit; Helpline retries later",
    80007: "the WhatsApp Business Account hit its rate limit; Helpline retries later",
    130429: "WhatsApp's throughput limit for this number was reached; Helpline retries later",
    131026: "message undeliverable: the number is not on WhatsApp, has not accepted the terms, or uses an old app",
    131047: (
        "more than 24 hours have passed since the customer last wrote: WhatsApp only accepts an approved template now"
    ),
    131051: "WhatsApp does not support this message type",
    131056: "too many messages to this customer in a short time; Helpline retries later",
    132000: "the number of template parameters does not match the template",
    132001: "the template does not exist in this language, or is not approved",
    132005: "the template text is too long once its parameters are filled in",
    132007: "the template's content violates a WhatsApp policy",
    132012: "a template parameter has the wrong format",
    132015: "the template is paused because of low quality",
    132016: "the template is disabled",
}
WINDOW_REASON = (
    "sent outside the allowed window: Meta accepts replies only within 24 hours of the customer's last "
    "message (7 days for a person replying with the HUMAN_AGENT tag)"
)


def readable_reason(code: int | None, *, subcode: int | None = None, title: str = "", details: str = "") -> str:
    """One sentence for the operator, followed by Meta's own words for whoever debugs it."""
    if code == 10 and subcode in WINDOW_SUBCODES:
        base = WINDOW_REASON
    elif code == 10 and subcode == 2018108:
        base = "this person cannot receive messages from the Page right now"
    elif code == 10 and subcode == 2018300:
        base = "another app controls this conversation (handover protocol)"
    elif code is not None and 200 <= code <= 299:
        base = "the app lacks a permission Meta requires for this call"
    else:
        base = READABLE.get(code or -1, "Meta refused the message")
    ref = f"Meta error {code}" + (f"/{subcode}" if subcode else "")
    said = "; ".join(part for part in (title.strip(), details.strip()) if part)
    return f"{base} ({ref}{': ' + said if said else ''})"


def error_code(code: int | None, subcode: int | None) -> str:
    """Stored on the message: WhatsApp codes stand alone; generic Graph codes keep the subcode that explains them."""
    if code is None:
        return "meta_error"
    return f"{code}/{subcode}" if subcode and code < 1000 else str(code)


def classify(code: int | None, *, subcode: int | None, http_status: int, transient: bool, reason: str) -> DeliveryError:
    needs_reauth = code in REAUTH_CODES or (code is None and http_status == 401)
    retryable = not needs_reauth and (code in RETRYABLE_CODES or transient or http_status >= 500 or http_status == 429)
    if code == 10 and subcode in WINDOW_SUBCODES:
        retryable = False
    return DeliveryError(reason, retryable=retryable, code=error_code(code, subcode), needs_reauth=needs_reauth)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def error_from_response(response: httpx.Response) -> DeliveryError:
    """Parse `{"error": {message, code, error_subcode, error_data{details}, is_transient}}` of any Graph answer."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        reason = f"Graph API answered HTTP {response.status_code}: {response.text[:200]}"
        retryable = response.status_code >= 500 or response.status_code in (408, 429)
        return DeliveryError(
            reason,
            retryable=retryable,
            code=f"http_{response.status_code}",
            needs_reauth=response.status_code == 401,
        )
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    data = error.get("error_data")
    details = str(data.get("details") or "") if isinstance(data, dict) else str(data or "")
    reason = readable_reason(
        code,
        subcode=subcode,
        title=str(error.get("error_user_msg") or error.get("message") or ""),
        details=details,
    )
    return classify(
        code,
        subcode=subcode,
        http_status=response.status_code,
        transient=bool(error.get("is_transient")),
        reason=reason,
    )


def status_error(errors: Any) -> tuple[str | None, str | None]:
    """(code, reason) of a WhatsApp `failed` status webhook's errors[0] (e.g. 131047 arriving late)."""
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return "meta_error", "WhatsApp reported the message as failed without a reason"
    first = errors[0]
    code = _int(first.get("code"))
    data = first.get("error_data")
    details = str(data.get("details") or "") if isinstance(data, dict) else ""
    reason = readable_reason(code, title=str(first.get("title") or first.get("message") or ""), details=details)
    return error_code(code, None), reason
