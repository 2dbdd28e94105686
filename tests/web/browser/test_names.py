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


def test_bidi_controls_in_a_name_cannot_reorder_the_text_around_it(page: Page) -> None:  # noqa: F811
    result = run(
        page,
        """
        const { h } = await m('/js/dom.js');
        const { t, setLocale } = await m('/js/i18n.js');
        await setLocale('en');
        // Where the words after the name land on screen: 'e' left of 'n' when "en" reads left to right.
        const order = (p) => {
          document.body.append(p);
          const node = [...p.childNodes].at(-1);
          const range = document.createRange();
          const x = (i) => {
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            return range.getBoundingClientRect().left;
          };
          const at = node.textContent.lastIndexOf('en');
          const out = x(at) < x(at + 1) ? 'ltr' : 'rtl';
          p.remove();
          return out;
        };
        const names = ['Ana \\u202eRTL', 'x\\u2069\\u202eRTL', '\\u2067\\u202eRTL', 'Ana \\u202dLTR \\u2066', 'שרה'];
        const inDom = names.map((name) => order(h('p', {}, 'Hi ', name, ' en')));
        const said = (name) => t('conversation.assigned_to', { operator: name });
        const inSentence = names.map((name) => order(h('p', {}, said(name) + ' en')));
        const plain = t('conversation.assigned_to', { operator: 'Ana Souza' });
        return { inDom, inSentence, plain };
        """,
    )
    assert result["inDom"] == ["ltr"] * 5, result
    assert result["inSentence"] == ["ltr"] * 5, result
    assert result["plain"] == "Assigned to Ana Souza"  # Latin names get no invisible marks


def test_avatar_initials_skip_markup_punctuation_and_invisible_characters(page: Page) -> None:  # noqa: F811
    result = run(
        page,
        """
        const { initials } = await m('/js/dom.js');
        return arg.map((name) => initials(name));
        """,
        [
            "Ana Souza",
            "<b>Ana",
            "<b>Ana</b> Souza",
            "\u202eAna",
            "Website visitor #12",
            "🌻 Flor",
            "...",
            "",
            "#12",
            "\u200fשרה כהן",
            "joão",
        ],
    )
    assert result == ["AS", "A", "AS", "A", "WV", "🌻F", "?", "?", "1", "שכ", "J"]


def test_a_rule_hand_off_summary_reads_in_the_operators_language(page: Page) -> None:  # noqa: F811
    esc = {
        "reason": "low_confidence",
        "detail": "2 unclear messages in a row",
        "summary": "Script: Car claim. Collected: policy_number=POL-123456; incident_date=2026-11-23. "
        'Reason: low_confidence (2 unclear messages in a row). Customer said: "hm" / "what?"',
        "fields": [],
    }
    failed = {
        "reason": "failed_answers",
        "detail": "policy_number",
        "summary": "Reason: failed_answers (policy_number).",
        "fields": [{"key": "policy_number", "question": "Número da apólice?", "value": "x"}],
    }
    out = {}
    for locale in ("en", "pt-BR"):
        out[locale] = run(
            page,
            """
            const { setLocale } = await m('/js/i18n.js');
            await setLocale(arg.locale);
            const { answerValue } = await m('/js/format.js');
            const { reasonDetail, summaryLines } = await m('/js/names.js');
            return { lines: summaryLines(arg.esc, answerValue), failed: reasonDetail(arg.failed),
              free: summaryLines({ summary: 'The customer wants a refund.' }),
              // The structured params win over the English detail text.
              counted: reasonDetail({ reason: 'low_confidence', detail: 'three strikes', params: { count: 3 } }),
              labelled: reasonDetail({ reason: 'failed_answers', detail: 'policy_number',
                params: { step: 'policy_number', step_label: 'Qual é o número da apólice?' } }) };
            """,
            {"locale": locale, "esc": esc, "failed": failed},
        )
    assert out["en"]["lines"] == [
        "Script: Car claim",
        "Collected: Policy number: POL-123456; Incident date: Nov 23, 2026",
        "Reason: Bot unsure — 2 unclear messages in a row",
        'Customer said: "hm" / "what?"',
    ]
    pt = out["pt-BR"]["lines"]
    assert pt[0] == "Roteiro: Car claim"
    assert pt[1] == "Coletado: Policy number: POL-123456; Incident date: 23 de nov. de 2026"
    assert pt[2].startswith("Motivo: ") and "2 mensagens pouco claras seguidas" in pt[2]
    assert "low_confidence" not in " ".join(pt) and "unclear" not in " ".join(pt)
    assert out["pt-BR"]["failed"] == "As respostas continuaram falhando em: Número da apólice?"
    assert out["en"]["free"] == ["The customer wants a refund."]
    assert out["en"]["counted"] == "3 unclear messages in a row"
    assert out["pt-BR"]["counted"] == "3 mensagens pouco claras seguidas"
    assert out["pt-BR"]["labelled"] == "As respostas continuaram falhando em: Qual é o número da apólice?"
