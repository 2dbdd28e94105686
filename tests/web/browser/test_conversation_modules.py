"""The conversation pane's modules in Chromium, without a server: the static folder is served to a fake origin and
each test imports the real ES modules (template checks, window state, author runs, rendering, timeline windowing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from helpline.web.assets import STATIC_DIR, catalogues

ORIGIN = "http://helpline.test"
TYPES = {".js": "text/javascript", ".json": "application/json", ".svg": "image/svg+xml", ".css": "text/css"}


def _serve(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN).split("?", 1)[0].lstrip("/")
    generated = {name: asset.body for name, asset in catalogues(STATIC_DIR / "i18n").items()}
    if path in generated:
        route.fulfill(status=200, body=generated[path], content_type="application/json")
        return
    file = STATIC_DIR / path
    if path and file.is_file():
        route.fulfill(status=200, body=file.read_bytes(), content_type=TYPES.get(file.suffix, "text/plain"))
    elif path in ("", "blank"):
        route.fulfill(
            status=200, body="<!doctype html><html><body><div id=app></div></body></html>", content_type="text/html"
        )
    else:
        route.fulfill(status=404, body="not found")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", timezone_id="America/Sao_Paulo")
    context.route(f"{ORIGIN}/**", _serve)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{ORIGIN}/blank")
    tab.evaluate("import('/js/i18n.js').then((m) => m.setLocale('en'))")
    yield tab
    context.close()
    assert not errors, errors


def run(page: Page, body: str, arg: Any = None) -> Any:
    """Evaluate an async function body with `m(path)` importing a module; returns its JSON-able result."""
    return page.evaluate(
        f"async (arg) => {{ const m = (path) => import(path); {body} }}",
        arg,
    )


def test_template_values_are_checked_as_meta_checks_them(page: Page) -> None:
    result = run(
        page,
        """
        const { slotProblems, joinLines } = await m('/js/views/templates.js');
        return {
          ok: slotProblems('AUT-2291-7'),
          empty: slotProblems('   '),
          long: slotProblems('x'.repeat(1025)),
          exact: slotProblems('x'.repeat(1024)),
          newline: slotProblems('a\\nb'),
          tab: slotProblems('a\\tb'),
          spaces: slotProblems('a     b'),
          four: slotProblems('a    b'),
          joined: joinLines('one\\ntwo\\t three     four'),
        };
        """,
    )
    assert result["ok"] == [] and result["exact"] == [] and result["four"] == []
    assert result["empty"] == ["Fill this in."]
    assert result["long"] == ["At most 1024 characters."]
    assert result["newline"] == ["No line breaks."]
    assert result["tab"] == ["No tabs."]
    assert result["spaces"] == ["No more than four spaces in a row."]
    assert result["joined"] == "one two three four"


def test_template_slots_come_from_the_api_or_are_parsed_from_the_components(page: Page) -> None:
    result = run(
        page,
        """
        const { slotsOf, around } = await m('/js/views/templates.js');
        const parsed = slotsOf({ components: [
          { type: 'HEADER', format: 'IMAGE' },
          { type: 'BODY', text: 'Hi {{1}}, your claim {{ claim }} was updated.' },
        ] });
        const given = slotsOf({ slots: [{ component: 'body', kind: 'text', name: '1' }], components: [] });
        return { parsed: parsed.map((s) => [s.component, s.kind, s.name]), given: given.length,
          label: around(
            'A very long sentence that goes on and on before Hi {{1}}, and then continues for a while more', '1') };
        """,
    )
    assert result["parsed"] == [["header", "image", "1"], ["body", "text", "1"], ["body", "text", "claim"]]
    assert result["given"] == 1
    assert result["label"].startswith("…") and "Hi {{1}}" in result["label"] and result["label"].endswith("…")


def test_window_state_follows_the_server_and_flips_to_closed_at_expiry(page: Page) -> None:
    result = run(
        page,
        """
        const { windowOf } = await m('/js/views/window.js');
        const now = Date.parse('2026-03-05T12:00:00Z');
        const conv = (window, kind = 'whatsapp') => ({ window, channel: { kind } });
        const pick = (w) => [w.state, w.locked, w.templates];
        return {
          none: pick(windowOf(conv(null), now)),
          open: pick(windowOf(conv({ state: 'open', expires_at: '2026-03-05T17:12:00Z' }), now)),
          closing: pick(windowOf(conv({ state: 'closing', expires_at: '2026-03-05T12:42:00Z' }), now)),
          expired: pick(windowOf(conv({ state: 'open', expires_at: '2026-03-05T11:59:00Z' }), now)),
          human: pick(windowOf(conv({ state: 'closed', expires_at: '2026-03-04T12:00:00Z',
            human_expires_at: '2026-03-10T12:00:00Z' }, 'messenger'), now)),
          nothing: pick(windowOf(conv({ state: 'closed', expires_at: '2026-03-04T12:00:00Z' }, 'messenger'), now)),
        };
        """,
    )
    assert result["none"] == [None, False, False]
    assert result["open"] == ["open", False, False]
    assert result["closing"] == ["closing", False, False]
    assert result["expired"] == ["closed", True, True]
    assert result["human"] == ["human", False, False]
    assert result["nothing"] == ["closed", True, False]


def test_one_header_per_author_run_within_five_minutes_and_pending_sends_last(page: Page) -> None:
    result = run(
        page,
        """
        const { sameRun } = await m('/js/views/message.js');
        const { order } = await m('/js/views/timeline.js');
        const msg = (id, at, kind, op = null, extra = {}) => ({ id, created_at: at, author_kind: kind,
          operator: op ? { id: op } : null, content_type: 'text', ...extra });
        const a = msg(1, '2026-03-05T12:00:00Z', 'contact');
        return {
          same: sameRun(a, msg(2, '2026-03-05T12:04:59Z', 'contact')),
          late: sameRun(a, msg(2, '2026-03-05T12:05:00Z', 'contact')),
          otherOperator: sameRun(msg(1, '2026-03-05T12:00:00Z', 'operator', 7), msg(2, '2026-03-05T12:01:00Z',
            'operator', 8)),
          event: sameRun(a, msg(2, '2026-03-05T12:01:00Z', 'contact', null, { content_type: 'event' })),
          sorted: [msg('pending:x', '2026-03-05T11:00:00Z', 'operator', 7, { pending: true }),
            msg(3, '2026-03-05T12:00:00Z', 'contact'), msg(2, '2026-03-05T12:00:00Z',
              'bot')].sort(order).map((x) => x.id),
          // A customer's message delivered late (id 9, stored last) is placed by when it happened.
          delivered_late: [msg(7, '2026-03-05T12:00:00Z', 'contact', null, { occurred_at: '2026-03-05T12:00:00Z' }),
            msg(8, '2026-03-05T12:02:00Z', 'operator', 7, { occurred_at: '2026-03-05T12:02:00Z' }),
            msg(9, '2026-03-05T12:03:00Z', 'contact', null, { occurred_at: '2026-03-05T12:01:00Z' })]
            .sort(order).map((x) => x.id),
        };
        """,
    )
    assert result["same"] is True
    assert result["late"] is False
    assert result["otherOperator"] is False
    assert result["event"] is False
    assert result["sorted"] == [2, 3, "pending:x"]
    assert result["delivered_late"] == [7, 9, 8]


def test_files_are_refused_before_upload_by_the_channels_limits(page: Page) -> None:
    result = run(
        page,
        """
        const { fileProblem } = await m('/js/views/composer.js');
        const limits = { max_files: 2, max_attachment_bytes: 100 * 1024 * 1024,
          attachment_rules: [{ kind: 'image', content_types: ['image/jpeg', 'image/png'], max_bytes: 5 * 1024 * 1024 },
            { kind: 'audio', content_types: ['audio/*'], max_bytes: 16 * 1024 * 1024 }] };
        const file = (type, size) => ({ type, size, name: 'x' });
        return [
          fileProblem(file('image/png', 1000), limits, 0),
          fileProblem(file('image/png', 6 * 1024 * 1024), limits, 0),
          fileProblem(file('audio/ogg', 1000), limits, 0),
          fileProblem(file('application/zip', 10), limits, 0),
          fileProblem(file('image/png', 10), limits, 2),
          fileProblem(file('application/zip', 10), { max_files: 10, attachment_rules: [] }, 0),
        ];
        """,
    )
    assert result[0] is None and result[2] is None and result[5] is None
    assert result[1] == "Not sent: larger than 5 MB, this channel's limit."
    assert result[3] == "Not sent: this channel doesn't take application/zip files."
    assert result[4] == "Not sent: at most 2 files per message."


def test_messages_and_events_render_customer_strings_literally_with_states_in_words(page: Page) -> None:
    hostile = "<img src=x onerror=alert(1)> & <b>bold</b>"
    result = run(
        page,
        """
        const { renderMessage } = await m('/js/views/message.js');
        const base = { conversation_id: 1, attachments: [], reply_to_id: null, created_at: '2026-03-05T12:00:00Z',
          error_code: null, error_reason: null, content: {} };
        const env = { conversation: { contact: { name: arg }, channel: { kind: 'whatsapp' } }, me: { id: 1 },
          header: true,
          byId: () => null, jump() {}, openImage() {}, retry() {}, edit() {}, asTemplate() {}, discard() {},
            templates: true,
          channelName: 'WhatsApp', when: (iso) => iso, escalation: null, identity: '+55 11 91234-5678' };
        const inbound = renderMessage({ ...base, id: 1, direction: 'inbound', author_kind: 'contact', text: arg,
          content_type: 'text', delivery_state: 'received',
          attachments: [{ id: 1, filename: arg + '.pdf', content_type: 'application/pdf', size: 2048, state: 'stored',
            url: '/api/v1/attachments/1/content' }] }, env);
        const failed = renderMessage({ ...base, id: 2, direction: 'outbound', author_kind: 'operator',
          operator: { id: 1, name: 'Me' },
          text: 'hi', content_type: 'text', delivery_state: 'failed', error_code: '131047',
          error_reason: 'Re-engagement message' }, env);
        const read = renderMessage({ ...base, id: 3, direction: 'outbound', author_kind: 'bot', text: 'Q?',
          content_type: 'text', delivery_state: 'read',
          content: { bot: { kind: 'ask', script: { name: 'Seguro auto' }, progress: { steps_done: 1,
            steps_total: 5 } } } }, env);
        const event = renderMessage({ ...base, id: 4, direction: 'outbound', author_kind: 'system', text: null,
          content_type: 'event', delivery_state: 'internal',
          content: { event: 'assigned', actor: { id: 9, name: arg }, assignee: { id: 1, name: 'Me' } } }, env);
        const unknown = renderMessage({ ...base, id: 5, direction: 'inbound', author_kind: 'contact', text: null,
          content_type: 'order', delivery_state: 'received', content: { order: {} } }, env);
        document.body.append(inbound, failed, read, event, unknown);
        return {
          images: document.querySelectorAll('img').length,
          bolds: document.querySelectorAll('b').length,
          inbound: inbound.querySelector('.message-text').textContent,
          author: inbound.querySelector('.message-author').textContent,
          identity: inbound.querySelector('.identity').textContent,
          file: inbound.querySelector('.file-name').title,
          failedTick: failed.querySelector('.ticks').textContent,
          failure: failed.querySelector('.failure-text').textContent,
          failureDetail: failed.querySelector('.failure-detail').textContent,
          failureActions: [...failed.querySelectorAll('.failure-actions button')].map((b) => b.textContent),
          readTick: read.querySelector('.ticks').textContent,
          caption: read.querySelector('.bot-caption').textContent,
          event: event.querySelector('.event-line span').textContent,
          unknown: unknown.textContent,
        };
        """,
        hostile,
    )
    assert result["images"] == 0 and result["bolds"] == 0
    assert result["inbound"] == hostile and result["author"] == hostile
    assert result["identity"] == "+55 11 91234-5678"
    assert result["file"] == hostile + ".pdf"
    assert result["failedTick"] == "Failed"
    # Meta's 131047 is said in the operator's words; the provider's own words stay beneath.
    assert result["failure"] == "Not delivered: the reply window had closed"
    assert result["failureDetail"] == "Re-engagement message"
    assert result["failureActions"] == ["Edit", "Send as template"]
    assert result["readTick"] == "Read"
    assert result["caption"] == "Seguro auto · step 2 of 5"
    assert result["event"] == f"Assigned to you by {hostile}"
    assert "Order — open it on the phone." in result["unknown"]


def test_the_timeline_keeps_at_most_300_articles_while_paging_back(page: Page) -> None:
    result = run(
        page,
        """
        const { Store } = await m('/js/store.js');
        const { Timeline } = await m('/js/views/timeline.js');
        const store = new Store();
        const map = store.messagesOf(1);
        const start = Date.parse('2026-03-01T08:00:00Z');
        for (let i = 1; i <= 600; i += 1) {
          map.set(i, { id: i, conversation_id: 1, direction: i % 2 ? 'inbound' : 'outbound',
            author_kind: i % 2 ? 'contact' : 'bot',
            operator: null, text: `m${i}`, content_type: 'text', content: {}, attachments: [], reply_to_id: null,
            delivery_state: i % 2 ? 'received' : 'sent', created_at: new Date(start + i * 600000).toISOString() });
        }
        const conversation = { id: 1, contact: { name: 'Ana' }, channel: { kind: 'whatsapp', name: 'WA' }, window: null,
          unread_count: 0 };
        const timeline = new Timeline({ ctx: { store, me: { id: 1 }, shell: { toast() {} } },
          conversation: () => conversation,
          env: () => ({}) });
        timeline.el.style.height = '400px';
        timeline.feed.style.height = '400px';
        document.body.append(timeline.el);
        timeline.show(1, { next_cursor: null });
        const counts = [timeline.feed.querySelectorAll('article').length];
        for (let i = 0; i < 12; i += 1) {
          await timeline.older();
          counts.push(timeline.feed.querySelectorAll('article').length);
        }
        const first = timeline.feed.querySelector('article').dataset.id;
        const feedOnlyArticles = [...timeline.feed.children].every((el) => el.tagName === 'ARTICLE'
          || el.getAttribute('aria-hidden') === 'true');
        return { counts, first, feedOnlyArticles, role: timeline.feed.getAttribute('role') };
        """,
    )
    assert result["counts"][0] == 50
    assert max(result["counts"]) <= 300
    assert result["counts"][-1] == 300
    assert result["first"] == "1"
    assert result["feedOnlyArticles"] is True
    assert result["role"] == "feed"


def test_snooze_presets_are_an_hour_tomorrow_and_next_monday_at_nine(page: Page) -> None:
    result = run(
        page,
        """
        const { snoozeTimes } = await m('/js/views/actions.js');
        const t = snoozeTimes(new Date(2026, 2, 9, 15, 30));  // a Monday
        const iso = (d) => [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes()];
        return { hour: iso(t.hour), tomorrow: iso(t.tomorrow), monday: iso(t.monday) };
        """,
    )
    assert result == {"hour": [2026, 3, 9, 16, 30], "tomorrow": [2026, 3, 10, 9, 0], "monday": [2026, 3, 16, 9, 0]}


def test_snooze_presets_follow_the_operators_time_zone_not_the_browsers(page: Page) -> None:
    result = run(
        page,
        """
        const { snoozeTimes } = await m('/js/views/actions.js');
        // Sunday 2026-03-08 23:30 in Tokyo (14:30 UTC) — still Sunday in São Paulo, the browser's zone.
        const now = new Date('2026-03-08T14:30:00Z');
        const tokyo = snoozeTimes(now, 'Asia/Tokyo');
        // New York leaves winter time on 2026-03-08: Monday 09:00 there is 13:00 UTC, not 14:00.
        const ny = snoozeTimes(new Date('2026-03-07T15:00:00Z'), 'America/New_York');
        return { tomorrow: tokyo.tomorrow.toISOString(), monday: tokyo.monday.toISOString(),
          nyTomorrow: ny.tomorrow.toISOString(), nyMonday: ny.monday.toISOString() };
        """,
    )
    assert result == {
        "tomorrow": "2026-03-09T00:00:00.000Z",  # Monday 09:00 in Tokyo
        "monday": "2026-03-09T00:00:00.000Z",  # Sunday night there: the next Monday is tomorrow
        "nyTomorrow": "2026-03-08T13:00:00.000Z",  # Sunday 09:00 EDT
        "nyMonday": "2026-03-09T13:00:00.000Z",
    }


def test_a_snooze_time_names_its_day_unless_it_is_today_in_the_operators_language_and_zone(page: Page) -> None:
    result = run(
        page,
        """
        const { at, setClock } = await m('/js/format.js');
        const { setLocale } = await m('/js/i18n.js');
        const now = new Date('2026-12-04T11:30:00Z');  // Friday 08:30 in São Paulo
        const out = {};
        for (const locale of ['en', 'pt-BR']) {
          await setLocale(locale);
          setClock({ timeZone: 'America/Sao_Paulo', hourCycle: 'h23' });
          out[locale] = [at(new Date('2026-12-04T12:30:00Z'), now), at(new Date('2026-12-07T12:00:00Z'), now),
            at(new Date('2027-01-04T12:00:00Z'), now)];
        }
        setClock({ timeZone: 'Asia/Tokyo', hourCycle: 'h23' });  // the operator's zone, not the browser's
        out.tokyo = at(new Date('2026-12-04T12:30:00Z'), now);
        await setLocale('en');
        setClock({});
        return out;
        """,
    )
    assert result["en"][0] == "09:30"  # today: the time alone
    assert result["en"][1] == "Mon, 7 Dec, 09:00" or result["en"][1] == "Mon, Dec 7, 09:00"
    assert "2027" in result["en"][2] and "Jan" in result["en"][2]
    assert result["pt-BR"][0] == "09:30"
    assert "seg" in result["pt-BR"][1] and "7" in result["pt-BR"][1] and "dez" in result["pt-BR"][1]
    assert "09:00" in result["pt-BR"][1]
    assert result["tokyo"] == "21:30"  # 21:30 in Tokyo is still the same day as 20:30 there


def test_catalogue_sentences_for_timeline_events_exist_in_both_languages() -> None:
    for locale in ("en", "pt-BR"):
        catalogue = json.loads(catalogues(STATIC_DIR / "i18n")[f"i18n/{locale}.json"].body)
        events = catalogue["event"]
        for name in (
            "took_over",
            "handed_back",
            "assigned",
            "assigned_by",
            "unassigned",
            "resolved",
            "reopened",
            "snoozed",
            "event_set",
            "event_cleared",
            "priority",
            "tags",
            "escalated",
        ):
            assert events[name], (locale, name)


def test_new_messages_follow_only_near_the_bottom_else_a_pill_counts_them(page: Page) -> None:
    result = run(
        page,
        """
        const { Store } = await m('/js/store.js');
        const { Timeline } = await m('/js/views/timeline.js');
        const store = new Store();
        const start = Date.parse('2026-03-01T08:00:00Z');
        const message = (i) => ({ id: i, conversation_id: 1, direction: 'inbound', author_kind: 'contact',
          operator: null,
          text: `line ${i}\\nsecond line`, content_type: 'text', content: {}, attachments: [], reply_to_id: null,
          delivery_state: 'received', created_at: new Date(start + i * 600000).toISOString() });
        for (let i = 1; i <= 40; i += 1) store.messagesOf(1).set(i, message(i));
        const conversation = { id: 1, contact: { name: 'Ana' }, channel: { kind: 'whatsapp', name: 'WA' }, window: null,
          unread_count: 0 };
        const timeline = new Timeline({ ctx: { store, me: { id: 1 }, shell: { toast() {} } },
          conversation: () => conversation, env: () => ({}) });
        timeline.el.style.height = '300px';
        timeline.feed.style.height = '300px';
        timeline.feed.style.overflowY = 'auto';
        document.body.append(timeline.el);
        timeline.show(1, { next_cursor: null });
        store.addEventListener('message', (event) => timeline.onMessage(event.detail));
        const gap = () => timeline.feed.scrollHeight - timeline.feed.scrollTop - timeline.feed.clientHeight;
        store.putMessage(message(41));
        const followed = gap();
        const pillAtBottom = timeline.pill.hidden;
        timeline.feed.scrollTop = 0;
        const before = timeline.feed.scrollTop;
        store.putMessage(message(42));
        store.putMessage(message(43));
        return { followed, pillAtBottom, pill: timeline.pill.hidden ? null : timeline.pill.textContent,
          kept: timeline.feed.scrollTop === before,
          last: [...timeline.feed.querySelectorAll('article')].pop().dataset.id };
        """,
    )
    assert result["followed"] < 80 and result["pillAtBottom"] is True
    assert result["pill"] == "2 new messages"
    assert result["kept"] is True
    assert result["last"] == "43"


def test_an_older_copy_of_a_conversation_never_replaces_a_newer_one(page: Page) -> None:
    result = run(
        page,
        """
        const { Store } = await m('/js/store.js');
        const store = new Store();
        const seen = [];
        store.addEventListener('conversation', (event) => seen.push(event.detail.tags.join(',')));
        store.putConversation({ id: 1, tags: ['vip'], last_activity_at: '2026-03-05T12:00:01.5Z' });
        store.putConversation({ id: 1, tags: [], last_activity_at: '2026-03-05T12:00:00Z' });
        store.putConversations([{ id: 1, tags: ['old'], last_activity_at: '2026-03-05T11:00:00Z' }]);
        const kept = store.conversations.get(1).tags.join(',');
        store.putConversation({ id: 1, tags: ['vip', 'new'], last_activity_at: '2026-03-05T12:00:01.5Z' });
        return { seen, kept, now: store.conversations.get(1).tags.join(',') };
        """,
    )
    assert result == {"seen": ["vip", "vip,new"], "kept": "vip", "now": "vip,new"}


def test_show_full_message_is_offered_only_when_there_is_more_to_see(page: Page) -> None:
    result = run(
        page,
        """
        const { fullMessage, versionsOf } = await m('/js/views/email.js');
        const mail = (text, email) => ({ id: Math.random(), text, content: { email: { subject: 's', ...email } } });
        const body = 'Hello,\\nmy order 1234 did not arrive.\\n\\nAna';
        const cases = {
          plainHtmlSameWords: mail(body,
            { html: '<div>Hello,</div><div>my order 1234 did not arrive.</div><p>Ana</p>' }),
          fullTextSame: mail(body, { full_text: body + '\\n' }),
          quoted: mail(body, { full_text: body + '\\n\\n> earlier',
            html: '<p>Hello,<br>my order 1234 did not arrive.</p><p>Ana</p>' }),
          bold: mail(body, { html: '<p>Hello, my order <b>1234</b> did not arrive.</p><p>Ana</p>' }),
          link: mail(body,
            { html: '<p>Hello, my order <a href="https://shop.example/1234">1234</a> did not arrive. Ana</p>' }),
          bareLink: mail('See https://shop.example/1',
            { html: '<p>See <a href="https://shop.example/1">https://shop.example/1</a></p>' }),
          moreWords: mail(body, { html: '<p>' + body + '</p><div>Sent from my phone</div>' }),
        };
        const out = {};
        for (const [name, message] of Object.entries(cases)) {
          const el = fullMessage(message);
          out[name] = { ...versionsOf(message), offered: Boolean(el),
            switcher: Boolean(el) && el.querySelector('.email-views').childElementCount > 0 };
        }
        return out;
        """,
    )
    no = {"text": False, "html": False, "offered": False, "switcher": False}
    assert result["plainHtmlSameWords"] == no
    assert result["fullTextSame"] == no
    assert result["bareLink"] == no
    assert result["quoted"] == {"text": True, "html": False, "offered": True, "switcher": False}
    assert result["bold"] == {"text": False, "html": True, "offered": True, "switcher": False}
    assert result["link"]["html"] is True
    assert result["moreWords"]["html"] is True
