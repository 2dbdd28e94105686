"""The hand-off card a script's case leaves in the Bot tab stays readable (label above value, values wrapping, copy
buttons inside the panel) at the desktop panel's and a phone's width, with long and hostile answers; customer text
holding direction overrides reads in the order it was sent, in the card, the timeline and the list."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.web.browser.test_conversation_modules import page, run  # noqa: F401 (the module-level page fixture)

LONG_QUESTION = (
    "Qual é o número da sua apólice de seguro, aquele que aparece no canto superior direito do seu cartão "
    "do segurado ou no e-mail de boas-vindas? (algo como POL-123456)"
)
FIELDS = [
    {"key": "policy_number", "question": LONG_QUESTION, "value": "POL-482913"},
    {"key": "incident_date", "question": "Quando aconteceu?", "value": "2026-11-28"},
    {
        "key": "description",
        "question": "Em poucas palavras, o que aconteceu?",
        "value": "Caiu uma árvore no telhado do carro enquanto ele estava estacionado na rua, durante a tempestade "
        "de ontem à noite, e quebrou o para-brisa e o teto solar.",
    },
    {"key": "phone", "question": "Em qual telefone podemos ligar?", "value": "x" * 300},
    {"key": "note", "question": "Algo mais?", "value": "\u202eevil\u202c POL-482913"},
]

# Renders the hand-off card into a side panel of `width` px with the app's style sheets, then measures each answer.
MEASURE = """
for (const href of ['/css/app.css', '/css/inbox.css', '/css/conversation.css']) {
  if (document.querySelector(`link[href="${href}"]`)) continue;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  document.head.append(link);
  await new Promise((ok) => { link.onload = ok; });
}
const { setLocale } = await m('/js/i18n.js');
await setLocale('pt-BR');
const { BotPanel } = await m('/js/views/bot_panel.js');
const said = 'Customer said: "\\u202eevil\\u202c POL-482913"';
const esc = { reason: 'tag_rule', detail: null, at: null, script: { name: 'Abertura de sinistro' }, fields: arg.fields,
  summary: `Script: Abertura de sinistro (completed). Reason: tag_rule. ${said}` };
const conversation = { handler: 'human', assignee: null, waiting_since: '2026-11-30T10:00:00Z', escalation: esc };
const panel = new BotPanel({ ctx: {}, conversation: () => conversation, lastInbound: () => [], lastBotStep: () => null,
  insert: () => {} });
document.querySelector('aside')?.remove();
const aside = document.createElement('aside');
aside.className = 'side-panel';
aside.style.width = `${arg.width}px`;
aside.style.height = '600px';
const body = document.createElement('div');
body.className = 'panel-body';
aside.append(body);
document.body.append(aside);
body.append(panel.handoff({ escalation: esc }, conversation));
const box = aside.getBoundingClientRect();
const answers = [...body.querySelectorAll('.case-fields dd')].map((dd) => {
  const value = dd.querySelector('span').getBoundingClientRect();
  const copy = dd.querySelector('button').getBoundingClientRect();
  const line = parseFloat(getComputedStyle(dd.querySelector('span')).lineHeight);
  return { width: value.width, lines: Math.round(value.height / line), copyLeft: copy.left, copyRight: copy.right,
    valueRight: value.right };
});
const summary = body.querySelector('.summary').textContent;
const note = body.querySelectorAll('.case-fields dd span')[4];
// Where "evil" lands on screen: 'e' left of 'v' when it reads in the order it was typed.
const node = note.firstChild;
const range = document.createRange();
const x = (i) => { range.setStart(node, i); range.setEnd(node, i + 1); return range.getBoundingClientRect().left; };
const at = node.textContent.indexOf('evil');
return { left: box.left, right: box.right, answers, said: summary, noteOrder: x(at) < x(at + 1) ? 'ltr' : 'rtl',
  noteText: note.textContent };
"""


@pytest.mark.parametrize("width", [320, 375])
def test_collected_answers_read_label_above_value_with_copy_inside_the_panel(page: Page, width: int) -> None:  # noqa: F811
    result: dict[str, Any] = run(page, MEASURE, {"fields": FIELDS, "width": width})
    answers = result["answers"]
    assert len(answers) == len(FIELDS)
    for field, answer in zip(FIELDS, answers, strict=True):
        # A value has most of the panel's width: the whole panel minus padding and its copy button.
        assert answer["width"] >= width - 120, (field["key"], answer)
        assert result["left"] <= answer["copyLeft"] and answer["copyRight"] <= result["right"], (field["key"], answer)
        assert answer["valueRight"] <= answer["copyLeft"], (field["key"], answer)
    policy, date, description, phone, _note = answers
    assert policy["lines"] == 1 and date["lines"] == 1, answers  # "POL-482913" and the date on one line each
    assert description["lines"] <= 6, description  # wraps as prose, not a character per line
    assert 300 * 7 / phone["width"] - 1 <= phone["lines"] <= 300 * 9 / phone["width"] + 2, phone  # unbroken: wraps


def test_a_direction_override_in_an_answer_or_a_summary_is_shown_not_obeyed(page: Page) -> None:  # noqa: F811
    result: dict[str, Any] = run(page, MEASURE, {"fields": FIELDS, "width": 320})
    assert result["noteOrder"] == "ltr", result
    assert "\u202e" not in result["noteText"] and "\u202c" not in result["noteText"]
    assert "\ufffdevil\ufffd POL-482913" in result["noteText"]
    assert "\u202e" not in result["said"] and "\ufffdevil\ufffd POL-482913" in result["said"], result["said"]


def test_customer_text_in_a_message_and_everywhere_h_sets_text_shows_its_overrides(page: Page) -> None:  # noqa: F811
    result = run(
        page,
        """
        const { renderMarkdown } = await m('/js/markdown.js');
        const { h } = await m('/js/dom.js');
        const { t } = await m('/js/i18n.js');
        const hostile = '\\u202eevil\\u202c POL-482913 \\u2067abc\\u2069 \\u202aq\\u202b';
        const message = document.createElement('div');
        message.append(renderMarkdown(hostile, { revealTargets: true }));
        const forcing = /[\\u202a-\\u202e\\u2066\\u2067]/u;
        return {
          message: forcing.test(message.textContent),
          node: forcing.test(h('span', {}, hostile).textContent),
          sentence: forcing.test(h('p', {}, t('inbox.preview.bot', { text: hostile })).textContent),
          title: forcing.test(h('span', { title: hostile, 'aria-label': hostile }).getAttribute('title')),
          plain: h('span', {}, 'Ana Souza — POL-482913').textContent,
          hebrew: h('span', {}, 'שרה').textContent,
        };
        """,
    )
    assert result == {
        "message": False,
        "node": False,
        "sentence": False,
        "title": False,
        "plain": "Ana Souza — POL-482913",
        "hebrew": "\u2068שרה\u2069",
    }, result


def test_a_number_answer_is_shown_as_typed_not_grouped_and_a_yes_no_in_words(page: Page) -> None:  # noqa: F811
    result = run(
        page,
        """
        const { setLocale } = await m('/js/i18n.js');
        const { answerValue } = await m('/js/format.js');
        const out = {};
        for (const locale of ['en', 'pt-BR']) {
          await setLocale(locale);
          out[locale] = [77120, 1234567, 2.5, '77120', true, false].map((value) => answerValue(value));
        }
        return out;
        """,
    )
    assert result == {
        "en": ["77120", "1234567", "2.5", "77120", "Yes", "No"],
        "pt-BR": ["77120", "1234567", "2,5", "77120", "Sim", "Não"],
    }
