"""Operators read words, not codes or ids: reason labels and anonymous customers' names, in both languages."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from helpline.bot.escalation import REASONS
from tests.web.browser.conftest import OpenPage
from tests.web.browser.test_conversation_modules import page, run  # noqa: F401 (the module-level page fixture)
from tests.web.browser.world import World


def test_every_reason_and_an_anonymous_customer_read_as_words_in_both_languages(page: Page) -> None:  # noqa: F811
    for locale in ("en", "pt-BR"):
        result = run(
            page,
            """
            const { setLocale } = await m('/js/i18n.js');
            await setLocale(arg.locale);
            const { contactName, customerName, reasonDetail, reasonText } = await m('/js/names.js');
            return {
              reasons: arg.reasons.map((code) => reasonText(code)),
              unknown: reasonText('brand_new_code'),
              window: reasonDetail({ reason: 'window_closed', detail: 'low_confidence' }),
              plain: reasonDetail({ reason: 'keyword', detail: '<b>refund</b>' }),
              widget: customerName({ contact: { id: 1234, name: null }, channel: { kind: 'widget' } }),
              messenger: customerName({ contact: { id: 7, name: '' }, channel: { kind: 'messenger' } }),
              api: contactName({ id: 9, name: null }, 'api:3'),
              named: customerName({ contact: { id: 5, name: 'Ana' }, channel: { kind: 'widget' } }),
            };
            """,
            {"locale": locale, "reasons": list(REASONS)},
        )
        for code, words in zip(REASONS, result["reasons"], strict=True):
            assert words and words != code and "_" not in words and "escalation." not in words, (locale, code)
        assert "brand_new_code" not in result["unknown"]
        assert "low_confidence" not in result["window"]
        assert result["plain"].endswith("<b>refund</b>")  # a detail is text (set with textContent by callers)
        if locale == "en":
            assert result["window"] == "The bot wanted to hand over (Bot unsure) after the reply window had closed."
            assert (result["widget"], result["messenger"], result["api"]) == (
                "Website visitor #1234",
                "Messenger user #7",
                "Customer #9",
            )
        else:
            assert result["widget"] == "Visitante do site #1234" and result["api"] == "Cliente #9"
        assert result["named"] == "Ana"


def test_a_nameless_messenger_customer_is_never_shown_by_their_page_scoped_id(
    ui: OpenPage, world: World, cast: dict[str, dict[str, Any]]
) -> None:
    chloe = cast["chloe"]
    psid = world.user_id("messenger", "Chloé Martin")
    friendly = f"Messenger user #{chloe['contact']['id']}"
    tab = ui(world.admin, path="/").page
    listbox = tab.get_by_role("listbox")
    expect(listbox.get_by_role("option", name=re.compile(f"^{re.escape(friendly)},"))).to_be_visible()
    expect(listbox.get_by_text(psid)).to_have_count(0)
    listbox.get_by_role("option", name=re.compile(f"^{re.escape(friendly)},")).click()
    main = tab.get_by_role("main")
    expect(main.get_by_role("heading", level=2, name=friendly)).to_be_visible()
    expect(tab.get_by_role("feed").get_by_text(psid)).to_have_count(0)
    expect(tab.get_by_role("banner").get_by_text(psid)).to_have_count(0)
