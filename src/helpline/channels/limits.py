"""What a provider accepts in one reply — text length, file types and sizes — known before anything is sent.

Each adapter declares its numbers as `limits: ClassVar[SendLimits]` (the channel contract in channels/base.py);
domain code reads them through the registry and never names a provider. The same check runs when an
operator sends (a 422 up front) and in the adapter before the provider call (bot and system replies).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class MediaRule:
    """Files whose base content type matches one of `content_types` (fnmatch patterns) may be up to `max_bytes`."""

    kind: str  # how the provider sends them: image | video | audio | document | file
    content_types: tuple[str, ...]
    max_bytes: int

    def matches(self, content_type: str) -> bool:
        base = base_type(content_type)
        return any(fnmatch.fnmatch(base, pattern) for pattern in self.content_types)


@dataclass(frozen=True)
class SendLimits:
    """A provider's limits on one reply. `max_text_length` is in characters (None: the provider sets none);
    `media` rules are tried in order and the first match applies — a file matching none is refused; no rules
    at all means the provider takes any file (the server's own upload limits still apply)."""

    provider: str
    max_text_length: int | None
    media: tuple[MediaRule, ...] = ()

    def rule_for(self, content_type: str) -> MediaRule | None:
        return next((rule for rule in self.media if rule.matches(content_type)), None)


@dataclass(frozen=True)
class LimitProblem:
    """Why a reply would be refused: a stable code and a sentence an operator can act on."""

    code: str  # text_too_long | attachment_type | attachment_too_large
    message: str


def base_type(content_type: str) -> str:
    """`"Image/PNG; q=1"` → `"image/png"`."""
    return content_type.split(";", 1)[0].strip().lower()


def text_problem(limits: SendLimits, text: str | None) -> LimitProblem | None:
    """A text longer than the provider takes (counted after trimming, as the adapters send it), or None."""
    length = len((text or "").strip())
    if limits.max_text_length is None or length <= limits.max_text_length:
        return None
    return LimitProblem(
        "text_too_long",
        f"{limits.provider} accepts at most {limits.max_text_length} characters in a message; this reply has "
        f"{length}. Shorten it or split it into several messages.",
    )


def file_problem(limits: SendLimits, filename: str, content_type: str, size: int) -> LimitProblem | None:
    """A file of a type the provider does not take, or larger than its rule allows (`size` in bytes), or None."""
    if not limits.media:
        return None
    rule = limits.rule_for(content_type)
    if rule is None:
        accepted = ", ".join(pattern for rule in limits.media for pattern in rule.content_types)
        return LimitProblem(
            "attachment_type",
            f"{limits.provider} cannot send {filename} ({base_type(content_type)}); it accepts {accepted}",
        )
    if size > rule.max_bytes:
        return LimitProblem(
            "attachment_too_large",
            f"{filename} is {size / MB:.1f} MB; {limits.provider} accepts {rule.kind} files up to "
            f"{rule.max_bytes // MB} MB",
        )
    return None
