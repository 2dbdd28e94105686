"""The Markdown subset of the operator's message view, in Chromium: what it renders, and that hostile input stays
text (only allowed elements, links only to http(s)/mailto/tel with rel=noopener noreferrer nofollow)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.web.browser.test_conversation_modules import page, run  # noqa: F401 (the module-level page fixture)

RENDER = """
const { ALLOWED_TAGS, renderMarkdown } = await m('/js/markdown.js');
const out = [];
for (const [text, options] of arg) {
  const box = document.createElement('div');
  box.append(renderMarkdown(text, options || {}));
  const nodes = [...box.querySelectorAll('*')];
  const tags = nodes.map((e) => e.localName);
  const attrs = nodes.flatMap((e) => [...e.attributes].map((a) => `${e.localName}.${a.name}=${a.value}`));
  const allowed = tags.every((t) => ALLOWED_TAGS.includes(t));
  out.push({ html: box.innerHTML, text: box.textContent, tags, attrs, allowed });
}
return out;
"""


def render(page: Page, *texts: str | tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:  # noqa: F811
    return list(run(page, RENDER, [[t, {}] if isinstance(t, str) else list(t) for t in texts]))


def test_the_subset_renders_bold_italic_code_links_lists_and_line_breaks(page: Page) -> None:  # noqa: F811
    (basic, lists, fenced, nested) = render(
        page,
        "Hi **Ana**, see *this* and `AUT-1`:\n[our hours](https://example.com/h) or https://example.com/x.",
        "Steps:\n- one\n- **two**\n\n3. third\n4. fourth",
        "```\n<b>raw</b> **not bold**\n```",
        "**bold with [a link](https://example.com) and *italic* inside**",
    )
    assert basic["html"] == (
        "<p>Hi <strong>Ana</strong>, see <em>this</em> and <code>AUT-1</code>:<br>"
        '<a href="https://example.com/h" target="_blank" rel="noopener noreferrer nofollow">our hours</a> or '
        '<a href="https://example.com/x" target="_blank" rel="noopener noreferrer nofollow">https://example.com/x</a>.</p>'
    )
    assert lists["html"] == (
        "<p>Steps:</p><ul><li>one</li><li><strong>two</strong></li></ul>"
        '<ol start="3"><li>third</li><li>fourth</li></ol>'
    )
    assert fenced["html"] == "<pre><code>&lt;b&gt;raw&lt;/b&gt; **not bold**</code></pre>"
    assert nested["html"] == (
        '<p><strong>bold with <a href="https://example.com/" target="_blank" rel="noopener noreferrer nofollow">'
        "a link</a> and <em>italic</em> inside</strong></p>"
    )


def test_hostile_input_stays_text(page: Page) -> None:  # noqa: F811
    hostile = [
        "<img src=x onerror=alert(1)>",
        "**<img src=x onerror=alert(1)>**",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](//evil.example/path)",
        '[x](https://ok.example/" onmouseover="alert(1))',
        "javascript:alert(1)",
        "- <script>alert(1)</script>\n- [a](vbscript:msgbox)",
        "***nested **deep *deeper *deepest* x* y** z***",
        "`<svg onload=alert(1)>`",
        "[**[inner](javascript:alert(1))**](https://ok.example)",
    ]
    results = render(page, *hostile)
    for text, result in zip(hostile, results, strict=True):
        assert result["allowed"], (text, result["tags"])
        assert "img" not in result["tags"] and "script" not in result["tags"] and "svg" not in result["tags"]
        for attr in result["attrs"]:
            name, _, value = attr.partition("=")
            assert name in ("a.href", "a.target", "a.rel", "ol.start"), (text, attr)
            if name == "a.href":
                assert value.startswith(("https://", "http://", "mailto:", "tel:")), (text, attr)
            if name == "a.rel":
                assert value == "noopener noreferrer nofollow"
    # The dangerous characters arrive as text, visibly.
    assert results[0]["text"] == "<img src=x onerror=alert(1)>"
    assert results[2]["text"] == "[click](javascript:alert(1))" and "a" not in results[2]["tags"]
    assert "a" not in results[4]["tags"] and "a" not in results[5]["tags"]


def test_a_customers_link_shows_where_it_really_goes(page: Page) -> None:  # noqa: F811
    (customer,) = render(page, ("[yourbank.com](https://evil.example/login)", {"revealTargets": True}))
    assert customer["text"] == "yourbank.com (evil.example)"


def test_previews_show_the_words_without_the_marks(page: Page) -> None:  # noqa: F811
    result = run(
        page,
        """
        const { plainText } = await m('/js/markdown.js');
        return arg.map((text) => plainText(text));
        """,
        [
            "Olá **Ana**! Veja:\n- item *um*\n- item `dois`",
            "[Horários](https://x.example/h) **bold *it* x**",
            "<b>x</b>",
        ],
    )
    assert result == ["Olá Ana! Veja:\nitem um\nitem dois", "Horários bold it x", "<b>x</b>"]
