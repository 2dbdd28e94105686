"""Public HTML pages: the privacy policy and terms (from a file or a default text), rendered escaped."""

from __future__ import annotations

import html
import re
from pathlib import Path

from helpline.settings import Settings

_STYLE = (
    "body{font:16px/1.55 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "h1,h2,h3{line-height:1.25}code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}"
)


def page(title: str, body_html: str) -> str:
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n{body_html}\n</body></html>"
    )


_BULLET = re.compile(r"^\s*[-*] ")


def render_text(source: str) -> str:
    """A small, safe subset of Markdown: #-headings, '-'/'*' lists, paragraphs, **bold**. Everything is escaped
    first, so a policy file can never inject markup into the page."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", source.strip()):
        lines = [line.rstrip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(_BULLET.match(line) for line in lines):
            items = "".join(f"<li>{_inline(_BULLET.sub('', line))}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
            continue
        heading = re.match(r"(#{1,3}) (.*)", lines[0])
        if heading and len(lines) == 1:
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            continue
        # Lines of one paragraph are joined, as in Markdown, so a policy file can be wrapped at any width.
        blocks.append("<p>" + " ".join(_inline(line.strip()) for line in lines) + "</p>")
    return "\n".join(blocks)


def _inline(text: str) -> str:
    escaped = html.escape(text)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)


def default_privacy_policy(settings: Settings) -> str:
    company = settings.company_name
    contact = settings.privacy_contact_email or "the contact address on our website"
    base = settings.base_url
    return f"""# Privacy policy

{company} uses Helpline to answer the messages you send us on WhatsApp, Facebook Messenger, Instagram, e-mail,
our website chat and by phone.

## What we collect

- Your name, profile picture, phone number or e-mail address, and the account id the messaging service gives us.
- The messages, pictures and files you send us, and our replies.
- When messages were sent, delivered and read.

## Why

Only to answer you, to continue a conversation across channels, and to improve our service. We do not sell
your data and we do not use it for advertising.

## Who sees it

Our customer-care staff, and automated assistants that answer simple questions. Messages travel through the
messaging provider you chose (for example Meta for WhatsApp, Messenger and Instagram), under that provider's
own terms.

## How long we keep it

For as long as needed to serve you and meet our legal duties; then it is deleted or anonymised.

## Your rights and deleting your data

You can ask us for a copy of your data, to correct it, or to delete it, by writing to {contact}. If you used
Messenger or Instagram, you can also remove our app in your Facebook settings and choose "Send request" to
delete your data: we erase it and give you a confirmation code whose status you can check at
{base}/meta/data-deletion/status/<code>.

## Contact

{company} — {contact}
"""


def default_terms(settings: Settings) -> str:
    return f"""# Terms of service

When you write to {settings.company_name} through any of our channels, our staff and automated assistants
answer on behalf of {settings.company_name}. Do not send passwords or card numbers in a chat. Our privacy
policy is at {settings.base_url}/privacy.
"""


def load_text(path: Path | None, default: str) -> str:
    if path is None:
        return default
    return path.read_text(encoding="utf-8")
