"""Template slots from stored components: kinds, names, examples, prefixes, limits, context; and the preview."""

from __future__ import annotations

from typing import Any

import pytest

from helpline.engagement.slots import Preview, PreviewButton, Slot, context_of, expected_slots, preview

# Shaped as GET /{waba-id}/message_templates lists them (Meta's template components reference).
SHIPPING: list[dict[str, Any]] = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#42"]}},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{2}} has shipped. It arrives on {{3}}!\nThanks for shopping.",
        "example": {"body_text": [["Ana", "42", "Friday"]]},
    },
    {"type": "FOOTER", "text": "Segurozinho"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Stop"},
            {"type": "URL", "text": "Track", "url": "https://t.example/track/{{1}}",
             "example": ["https://t.example/track/A-42"]},
            {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+5511999999999"},
        ],
    },
]  # fmt: skip


def test_slots_come_in_component_order_with_examples_limits_and_context() -> None:
    assert expected_slots(SHIPPING) == [
        Slot("header", "text", "1", example="#42", max_length=60, context="Order {{1}}"),
        Slot("body", "text", "1", example="Ana", max_length=1024, context="Hi {{1}}, your order {{2}} has shipped."),
        Slot("body", "text", "2", example="42", max_length=1024, context="Hi {{1}}, your order {{2}} has shipped."),
        Slot("body", "text", "3", example="Friday", max_length=1024, context="It arrives on {{3}}!"),
        Slot(
            "button",
            "text",
            "1",
            button_index=1,
            prefix="https://t.example/track/",
            example="A-42",
            max_length=2000 - len("https://t.example/track/"),
            context="Track: https://t.example/track/{{1}}",
        ),
    ]


def test_named_parameters_media_and_location_headers() -> None:
    named = [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://scontent.example/h.jpg"]}},
        {
            "type": "BODY",
            "text": "Olá {{first_name}}, o pedido {{order}} saiu. {{first_name}}, obrigado!",
            "example": {"body_text_named_params": [
                {"param_name": "first_name", "example": "Ana"}, {"param_name": "order", "example": "42"}]},
        },
    ]  # fmt: skip
    slots = expected_slots(named)
    assert [(s.component, s.kind, s.name, s.example, s.max_length) for s in slots] == [
        ("header", "image", "1", "https://scontent.example/h.jpg", None),
        ("body", "text", "first_name", "Ana", 1024),
        ("body", "text", "order", "42", 1024),
    ]
    assert slots[1].context == "Olá {{first_name}}, o pedido {{order}} saiu."
    # Upload handles ("4::aW…") are not something an operator can preview: no example then.
    handle = [{"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": ["4::aW1hZ2U="]}}]
    assert expected_slots(handle) == [Slot("header", "document", "1")]
    assert expected_slots([{"type": "HEADER", "format": "LOCATION"}]) == [Slot("header", "location", "1")]
    assert expected_slots([{"type": "BODY", "text": "No parameters."}]) == []


def test_context_is_shortened_around_the_placeholder_in_a_long_sentence() -> None:
    text = "word " * 60 + "{{1}} " + "tail " * 60
    context = context_of(text, "1")
    assert "{{1}}" in context and context.startswith("…") and context.endswith("…")
    assert len(context) <= 162


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Ana", None),
        ("Ana  Maria    Souza", None),  # four spaces in a row are still accepted
        ("   ", "is empty"),
        ("two\nlines", "line break"),
        ("tab\there", "line break, a tab"),
        ("five     spaces", "more than four spaces"),
        ("x" * 1025, "has 1025 characters; at most 1024"),
    ],
)
def test_body_values_meta_refuses_are_named(text: str, problem: str | None) -> None:
    body = Slot("body", "text", "1", max_length=1024)
    found = body.problem(text)
    assert (found is None) if problem is None else (found is not None and problem in found)
    assert body.problem("x" * 1024) is None


def test_preview_pieces_keep_placeholders() -> None:
    assert preview(SHIPPING) == Preview(
        header_format="text",
        header_text="Order {{1}}",
        body="Hi {{1}}, your order {{2}} has shipped. It arrives on {{3}}!\nThanks for shopping.",
        footer="Segurozinho",
        buttons=[
            PreviewButton("quick_reply", "Stop"),
            PreviewButton("url", "Track", url="https://t.example/track/{{1}}"),
            PreviewButton("phone_number", "Call us", phone_number="+5511999999999"),
        ],
    )
    assert preview([{"type": "BODY", "text": "Oi"}]) == Preview(None, None, "Oi", None, [])
