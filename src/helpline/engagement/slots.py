"""WhatsApp template slots: what each parameter of a template is, where it goes, and which values Meta accepts.

The template's `components` are stored as the WhatsApp Business Management API lists them
(`GET /{waba-id}/message_templates`, provider-contracts §2.5): a HEADER (format TEXT with at most one
placeholder, or IMAGE / VIDEO / DOCUMENT / LOCATION), a BODY, an optional FOOTER and BUTTONS. Placeholders are
positional (`{{1}}`) or named (`{{first_name}}`); examples sit in each component's `example` object
(`header_text`, `header_handle`, `body_text`, `*_named_params`, or a URL button's `example` list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
# Meta's limits on a parameter's text (WhatsApp template components reference): a header text parameter is at
# most 60 characters, a body parameter 1024, and a URL button's whole URL 2000.
HEADER_TEXT_MAX = 60
BODY_TEXT_MAX = 1024
BUTTON_URL_MAX = 2000
# Cloud API error 132018: "parameter text cannot have new-line/tab characters or more than 4 consecutive spaces".
FORBIDDEN_RUN = re.compile(r"[\n\r\t]| {5,}")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
CONTEXT_MAX = 160


@dataclass(frozen=True)
class Slot:
    """One parameter a template expects: where it goes, what kind of value it takes, and what helps fill it.

    `name` is the placeholder ("1", "2" … or a named parameter; "1" for a media or location header);
    `prefix` is the fixed start of a URL button (the value completes it); `max_length` is in characters
    (None for media and locations, which take a link or coordinates); `context` is the sentence of the
    template around the placeholder, for a form label.
    """

    component: str  # header | body | button
    kind: str  # text | image | video | document | location
    name: str
    button_index: int | None = None
    prefix: str | None = None
    example: str | None = None
    max_length: int | None = None
    context: str | None = None

    def describe(self) -> str:
        where = f"button {self.button_index}" if self.button_index is not None else self.component
        return f"{where} {{{{{self.name}}}}} ({self.kind})"

    def problem(self, text: str) -> str | None:
        """Why WhatsApp would refuse `text` for this text slot, in words, or None when it is acceptable."""
        if not text.strip():
            return "is empty"
        if self.max_length is not None and len(text) > self.max_length:
            return f"has {len(text)} characters; at most {self.max_length} are allowed"
        if FORBIDDEN_RUN.search(text):
            return "contains a line break, a tab or more than four spaces in a row, which WhatsApp refuses"
        return None


def placeholders(text: str) -> list[str]:
    """The placeholder names of `text` in order of first appearance: "Hi {{1}} {{2}} {{1}}" → ["1", "2"]."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def context_of(text: str, name: str) -> str:
    """The sentence of `text` holding `{{name}}`, shortened around it to at most ~CONTEXT_MAX characters."""
    for sentence in SENTENCE_END.split(text):
        match = next((m for m in PLACEHOLDER.finditer(sentence) if m.group(1) == name), None)
        if match is None:
            continue
        sentence = sentence.strip()
        if len(sentence) <= CONTEXT_MAX:
            return sentence
        start = max(0, match.start() - CONTEXT_MAX // 2)
        end = min(len(sentence), start + CONTEXT_MAX)
        return ("…" if start else "") + sentence[start:end].strip() + ("…" if end < len(sentence) else "")
    return text.strip()[:CONTEXT_MAX]


def _examples(component: dict[str, Any], positional_key: str, named_key: str) -> dict[str, str]:
    example = component.get("example")
    if not isinstance(example, dict):
        return {}
    found: dict[str, str] = {}
    for item in example.get(named_key) or []:
        if isinstance(item, dict) and item.get("param_name") is not None:
            found[str(item["param_name"])] = str(item.get("example") or "")
    values = example.get(positional_key) or []
    # body_text is a list holding one list of values; header_text is a flat list.
    if values and isinstance(values[0], list):
        values = values[0]
    for position, value in enumerate(values, start=1):
        found.setdefault(str(position), str(value))
    return found


def _text_slots(component: dict[str, Any], where: str, limit: int, keys: tuple[str, str]) -> list[Slot]:
    text = str(component.get("text") or "")
    examples = _examples(component, *keys)
    return [
        Slot(where, "text", name, example=examples.get(name), max_length=limit, context=context_of(text, name))
        for name in placeholders(text)
    ]


def _header_slots(component: dict[str, Any]) -> list[Slot]:
    fmt = str(component.get("format") or "TEXT").upper()
    if fmt == "TEXT":
        return _text_slots(component, "header", HEADER_TEXT_MAX, ("header_text", "header_text_named_params"))
    if fmt in MEDIA_FORMATS:
        example = component.get("example")
        handles = example.get("header_handle") if isinstance(example, dict) else None
        first = str(handles[0]) if isinstance(handles, list) and handles else None
        return [Slot("header", fmt.lower(), "1", example=first if first and first.startswith("https://") else None)]
    if fmt == "LOCATION":
        return [Slot("header", "location", "1")]
    return []


def _button_slots(component: dict[str, Any]) -> list[Slot]:
    slots: list[Slot] = []
    for index, button in enumerate(component.get("buttons") or []):
        if not isinstance(button, dict) or str(button.get("type") or "").upper() != "URL":
            continue
        url = str(button.get("url") or "")
        first = PLACEHOLDER.search(url)
        if first is None:
            continue
        # Meta allows one placeholder, at the end of the URL: what precedes it is fixed.
        prefix = url[: first.start()]
        examples = [str(e) for e in button.get("example") or [] if isinstance(e, str)]
        for name in placeholders(url):
            example = next((e[len(prefix) :] for e in examples if e.startswith(prefix) and len(e) > len(prefix)), None)
            label = str(button.get("text") or "").strip()
            slots.append(
                Slot(
                    "button",
                    "text",
                    name,
                    button_index=index,
                    prefix=prefix,
                    example=example,
                    max_length=BUTTON_URL_MAX - len(prefix),
                    context=f"{label}: {url}" if label else url,
                )
            )
    return slots


def expected_slots(components: list[dict[str, Any]]) -> list[Slot]:
    """Every parameter a send of this template must carry, in component order (header, body, buttons)."""
    slots: list[Slot] = []
    for component in components:
        kind = str(component.get("type") or "").upper()
        if kind == "HEADER":
            slots += _header_slots(component)
        elif kind == "BODY":
            slots += _text_slots(component, "body", BODY_TEXT_MAX, ("body_text", "body_text_named_params"))
        elif kind == "BUTTONS":
            slots += _button_slots(component)
    return slots


@dataclass(frozen=True)
class PreviewButton:
    """A button as the customer sees it: `type` is Meta's (url, quick_reply, phone_number, copy_code …), lowercase."""

    type: str
    text: str
    url: str | None = None
    phone_number: str | None = None


@dataclass(frozen=True)
class Preview:
    """The pieces of a template bubble, placeholders left in (`{{1}}`) for the form to fill live."""

    header_format: str | None  # text | image | video | document | location, None without a header
    header_text: str | None
    body: str
    footer: str | None
    buttons: list[PreviewButton]


def preview(components: list[dict[str, Any]]) -> Preview:
    """Header, body, footer and buttons of a template, in the shape a WhatsApp-like bubble needs."""
    header_format = header_text = footer = None
    body = ""
    buttons: list[PreviewButton] = []
    for component in components:
        kind = str(component.get("type") or "").upper()
        if kind == "HEADER":
            header_format = str(component.get("format") or "TEXT").lower()
            header_text = str(component["text"]) if component.get("text") else None
        elif kind == "BODY":
            body = str(component.get("text") or "")
        elif kind == "FOOTER":
            footer = str(component.get("text") or "") or None
        elif kind == "BUTTONS":
            buttons += [
                PreviewButton(
                    type=str(b.get("type") or "").lower(),
                    text=str(b.get("text") or ""),
                    url=str(b["url"]) if b.get("url") else None,
                    phone_number=str(b["phone_number"]) if b.get("phone_number") else None,
                )
                for b in component.get("buttons") or []
                if isinstance(b, dict)
            ]
    return Preview(header_format, header_text, body, footer, buttons)
