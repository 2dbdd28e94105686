"""Every delivery error code the backend can store reads as a sentence in the operator's language (ui-guide §11:
server codes map to catalogue sentences, the provider's words beneath) — in Chromium, through views/message.js."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from helpline.channels.meta import errors as meta_errors
from helpline.delivery import handlers
from tests.web.browser.test_conversation_modules import ORIGIN, _serve, run

SOURCE = Path(handlers.__file__).parents[1]
SERVER_WORDS = "SERVER'S OWN WORDS"


def backend_codes() -> set[str]:
    """Codes the backend stores in messages.error_code: every literal a DeliveryError or a limits problem is built
    with, the delivery worker's skips, Meta's numbers (alone and the window subcodes), SMTP replies, bounces."""
    literal: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.findall(r"DeliveryError\((.*?)\)\s*(?:from|$)", text, re.S | re.M):
            literal |= set(re.findall(r'code="([a-z_]+)"', call))
    limits = (SOURCE / "channels" / "limits.py").read_text(encoding="utf-8")
    literal |= set(re.findall(r'^\s+"(text_too_long|attachment_[a-z_]+)",', limits, re.M))
    assert {"bot_paused", "no_identity"} <= set(handlers._SKIP_REASONS)
    assert {"empty", "smtp_network", "no_session", "text_too_long", "attachment_type"} <= literal
    meta = {str(code) for code in meta_errors.READABLE} | {
        meta_errors.error_code(10, sub) for sub in meta_errors.WINDOW_SUBCODES
    }
    meta |= {str(code) for code in meta_errors.RETRYABLE_CODES | meta_errors.REAUTH_CODES}
    meta |= {meta_errors.error_code(None, None), meta_errors.error_code(10, 1234), "131999"}
    return (
        literal | set(handlers._SKIP_REASONS) | meta | {"smtp_421", "smtp_550", "smtp_554", "5.1.1", "4.4.7", "bounce"}
    )


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US")
    context.route(f"{ORIGIN}/**", _serve)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{ORIGIN}/blank")
    yield tab
    context.close()
    assert not errors, errors


SCRIPT = """
const i18n = await m('/js/i18n.js');
await i18n.setLocale(arg.locale);
const { failureText } = await m('/js/views/message.js');
return Object.fromEntries(arg.codes.map((code) => [code, failureText({ error_code: code, error_reason: arg.words })]));
"""


@pytest.mark.parametrize("locale", ["en", "pt-BR"])
def test_every_stored_delivery_error_code_reads_as_a_sentence_in_each_language(page: Page, locale: str) -> None:
    codes = sorted(backend_codes())
    texts = run(page, SCRIPT, {"locale": locale, "codes": codes, "words": SERVER_WORDS})
    raw = sorted(code for code, text in texts.items() if SERVER_WORDS in text or "delivery_error." in text)
    assert not raw, f"{locale}: shown in the server's words: {raw}"
    if locale == "pt-BR":
        assert texts["131047"].startswith("Não entregue") and "janela" in texts["131047"]
        assert "servidor de e-mail" in texts["smtp_550"]
    # An unknown future code still shows the server's words rather than nothing.
    unknown = run(page, SCRIPT, {"locale": locale, "codes": ["brand_new_code"], "words": SERVER_WORDS})
    assert SERVER_WORDS in unknown["brand_new_code"]


RETRYING = """
const i18n = await m('/js/i18n.js');
await i18n.setLocale(arg.locale);
const { retryingText, failureText } = await m('/js/views/message.js');
const queued = (code) => (
  { direction: 'outbound', delivery_state: 'queued', error_code: code, error_reason: arg.words });
return {
  refused: retryingText(queued('connection_refused')),
  status: retryingText(queued('http_503')),
  fresh: retryingText({ direction: 'outbound', delivery_state: 'queued', error_code: null, error_reason: null }),
  failed: failureText({ error_code: 'http_404', error_reason: arg.words }),
};
"""


@pytest.mark.parametrize(
    ("locale", "refused", "status"),
    [
        ("en", "Not delivered yet: the receiving system refused the connection — retrying", "answered HTTP 503"),
        (
            "pt-BR",
            "Ainda não entregue: o sistema de destino recusou a conexão — tentando de novo",
            "respondeu HTTP 503",
        ),
    ],
)
def test_a_reply_the_outbox_is_retrying_says_why_in_words(page: Page, locale: str, refused: str, status: str) -> None:
    """W8: a queued reply whose last attempt failed reads "Not delivered yet: <reason> — retrying", not "Sending"."""
    texts = run(page, RETRYING, {"locale": locale, "words": SERVER_WORDS})
    assert re.sub("[\u2066-\u2069]", "", texts["refused"]) == refused
    assert status in re.sub("[\u2066-\u2069]", "", texts["status"])
    assert texts["fresh"] is None  # nothing failed yet: plain "Sending"
    assert "404" in texts["failed"] and SERVER_WORDS not in texts["failed"]
