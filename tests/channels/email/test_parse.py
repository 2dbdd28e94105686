"""Parsing real-world mail: charsets (declared, wrong, missing), hostile HTML, quoted replies, files,
malformed MIME, auto-replies and delivery reports — each with the value an operator must see."""

from __future__ import annotations

import base64

from helpline.channels.email.html import sanitize, to_text
from helpline.channels.email.parse import parse_mail
from helpline.channels.email.quotes import strip_reply

HEAD = b"From: Ana Souza <ana@example.com>\r\nTo: support@helpline.test\r\nMessage-ID: <m1@example.com>\r\n"


def test_latin1_declared_and_quoted_printable_is_decoded() -> None:
    raw = (
        HEAD + b"Subject: =?iso-8859-1?q?Pedido_n=E3o_chegou?=\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Ol=E1, meu pedido n=E3o chegou. Obrigada!\r\n"
    )
    mail = parse_mail(raw)
    assert mail.subject == "Pedido não chegou"
    assert mail.new_text == "Olá, meu pedido não chegou. Obrigada!"
    assert mail.errors == []


def test_windows_1252_labelled_utf8_is_detected() -> None:
    body = "Olá, não recebi o código €10".encode("cp1252")
    raw = HEAD + b"Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
    mail = parse_mail(raw)
    assert mail.new_text.startswith("Olá, não recebi o código")
    assert any("declared utf-8" in e for e in mail.errors)


def test_utf8_labelled_latin1_is_read_as_utf8() -> None:
    raw = HEAD + b"Subject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n" + "São Paulo ção ok".encode()
    mail = parse_mail(raw)
    assert mail.new_text == "São Paulo ção ok"


def test_unknown_charset_label_is_detected() -> None:
    text = "Здравствуйте! Мой заказ номер 42 до сих пор не пришёл. Пожалуйста, проверьте статус доставки."
    body = base64.b64encode(text.encode("koi8-r"))
    raw = (
        HEAD + b"Subject: x\r\nContent-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    mail = parse_mail(raw + body + b"\r\n")
    assert mail.new_text == text


def test_hostile_html_is_sanitised_and_remote_images_blocked() -> None:
    html = (
        '<p onclick="steal()">Hi <a href="javascript:alert(1)">click</a> <a href="https://shop.example/o/1">order</a>'
        '</p><script>alert(1)</script><img src="https://tracker.example/p.gif"><img src="cid:logo@x">'
        '<iframe src="https://evil.example"></iframe><form action="https://evil.example"><input></form>'
    )
    raw = HEAD + b"Subject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()
    mail = parse_mail(raw)
    assert mail.html is not None
    for bad in ("script", "onclick", "javascript:", "tracker.example", "iframe", "<form", "alert"):
        assert bad not in mail.html
    assert 'href="https://shop.example/o/1"' in mail.html and "noopener" in mail.html
    assert 'src="cid:logo@x"' in mail.html
    assert mail.blocked_images == 1
    assert mail.new_text == "Hi click order"


def test_remote_images_can_be_allowed() -> None:
    assert (
        "https://img.example/a.png" in sanitize('<img src="https://img.example/a.png">', allow_remote_images=True).html
    )


def test_html_to_text_keeps_line_breaks() -> None:
    assert to_text("<p>One</p><p>Two<br>Three</p><style>p{}</style>") == "One\nTwo\nThree"


def test_quoted_history_and_signature_are_stripped() -> None:
    assert strip_reply("Thanks, it works.\n\nOn Mon, 30 Nov 2026 at 10:00, Acme <s@x.com> wrote:\n> old\n") == (
        "Thanks, it works."
    )
    assert strip_reply("Obrigado!\n\nEm seg., 30 de nov. de 2026, Acme escreveu:\n> antigo") == "Obrigado!"
    assert strip_reply("See below\n-----Original Message-----\nFrom: a") == "See below"
    assert strip_reply("Yes\n\nFrom: Acme <s@x.com>\nSent: Monday\nTo: me\nSubject: Re") == "Yes"
    assert strip_reply("Fine\n-- \nAna Souza\nCEO") == "Fine"
    assert strip_reply("> only a quote") == "> only a quote"


def test_a_forward_is_the_content_and_is_never_cut() -> None:
    gmail = "FYI see below\n\n---------- Forwarded message ---------\nFrom: Bob <bob@x.com>\nDate: Mon, 30 Nov 2026\n"
    gmail += "Subject: Car\nTo: Ana <ana@x.com>\n\nBob's car was hit, policy POL-1"
    assert strip_reply(gmail) == gmail
    apple = "Begin forwarded message:\n\nFrom: Bob <bob@x.com>\nSubject: Car\nDate: 30 Nov\n\npolicy POL-1"
    assert strip_reply(apple) == apple
    pt = "Segue\n\n---------- Mensagem encaminhada ---------\nDe: Bob <bob@x.com>\nData: 30/11\n\napólice POL-1"
    assert strip_reply(pt) == pt
    # A reply quoting history is still cut.
    assert strip_reply("Yes\n\nFrom: Acme <s@x.com>\nSent: Monday\nTo: me\nSubject: Re") == "Yes"


def test_html_only_forward_keeps_the_forwarded_mail() -> None:
    html = (
        '<div>FYI</div><div class="gmail_quote">---------- Forwarded message ---------<br>From: Bob'
        "<br>Subject: Car<br><br><div>Bob's car was hit, policy POL-1</div></div>"
    )
    raw = HEAD + b"Subject: Fwd: Car\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()
    mail = parse_mail(raw)
    assert "FYI" in mail.new_text and "policy POL-1" in mail.new_text


def test_html_only_reply_drops_gmail_quote() -> None:
    html = '<div>New answer</div><div class="gmail_quote">On Mon wrote:<blockquote>old text</blockquote></div>'
    raw = HEAD + b"Subject: Re: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()
    mail = parse_mail(raw)
    assert mail.new_text == "New answer"
    assert "old text" in mail.text


def test_attachments_and_inline_image() -> None:
    pdf = b"%PDF-1.4\n%receipt\n"
    png = b"\x89PNG\r\n\x1a\n" + bytes(20)
    raw = (
        HEAD + b'Subject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b'--B\r\nContent-Type: multipart/related; boundary="R"\r\n\r\n'
        b'--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <img src="cid:img1@x"></p>\r\n'
        b"--R\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(png)
        + b"\r\n--R--\r\n"
        b"--B\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''recibo%20n%C2%BA1.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(pdf) + b"\r\n--B--\r\n"
    )
    mail = parse_mail(raw)
    assert [(f.filename, f.content_type, f.data, f.inline) for f in mail.files] == [
        ("attachment-2.png", "image/png", png, True),
        ("recibo nº1.pdf", "application/pdf", pdf, False),
    ]
    assert mail.files[0].content_id == "img1@x"
    assert mail.new_text == "See"


def test_malformed_mime_keeps_what_can_be_read() -> None:
    raw = (
        b"From: bad@example.com\r\nSubject: broken\r\nDate: not a date\r\n"
        b'Content-Type: multipart/mixed; boundary="NOPE"\r\n\r\n'
        b"--WRONG\r\nContent-Type: text/plain\r\n\r\nstill readable text\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!notbase64"
    )
    mail = parse_mail(raw)
    assert "still readable text" in mail.text
    assert mail.errors and any("defect" in e.lower() or "date" in e.lower() for e in mail.errors)
    assert mail.message_id.endswith("@helpline.invalid") and mail.date is None


def test_auto_reply_markers() -> None:
    cases = {
        b"Auto-Submitted: auto-replied\r\n": "Auto-Submitted: auto-replied",
        b"Precedence: bulk\r\n": "Precedence: bulk",
        b"List-Id: <news.example.com>\r\n": "List-Id present",
        b"X-Autoreply: yes\r\n": "X-Autoreply present",
        b"Return-Path: <>\r\n": "empty Return-Path",
    }
    for header, reason in cases.items():
        assert parse_mail(HEAD + header + b"Subject: x\r\n\r\nAway").automated == reason
    assert parse_mail(HEAD + b"Auto-Submitted: no\r\nSubject: x\r\n\r\nhi").automated is None
    noreply = b"From: <no-reply@shop.example>\r\nMessage-ID: <n@x>\r\nSubject: x\r\n\r\nhi"
    assert parse_mail(noreply).automated == "machine sender no-reply@shop.example"


def test_delivery_report_is_read() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.com\r\nReturn-Path: <>\r\nTo: support@helpline.test\r\n"
        b"Message-ID: <dsn1@mx.example.com>\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="D"\r\n\r\n'
        b"--D\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--D\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown\r\n\r\n"
        b"--D\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <out-1@helpline.test>\r\nSubject: Re: x\r\n"
        b"--D--\r\n"
    )
    mail = parse_mail(raw)
    assert mail.bounce is not None
    assert (mail.bounce.original_message_id, mail.bounce.status, mail.bounce.action) == (
        "out-1@helpline.test",
        "5.1.1",
        "failed",
    )
    assert mail.bounce.reason == "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown"
    assert mail.bounce.recipient == "gone@example.com"


def test_threading_ids_and_tokens() -> None:
    raw = (
        HEAD + b"Subject: Re: Pedido [#42]\r\nIn-Reply-To: <b@helpline.test>\r\n"
        b"References: <a@helpline.test> <b@helpline.test>\r\n\r\nok"
    )
    mail = parse_mail(raw)
    assert mail.thread_refs == ["b@helpline.test", "a@helpline.test"]
    assert mail.conversation_token([]) == 42
    assert mail.conversation_token(["c7"]) == 7


def test_a_20_mb_mail_parses_with_its_attachment() -> None:
    blob = bytes(range(256)) * (20 * 1024 * 1024 // 256)
    encoded = base64.encodebytes(blob)
    raw = (
        HEAD + b'Subject: big\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nthe video\r\n"
        b'--B\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename="v.mp4"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"\r\n--B--\r\n"
    )
    mail = parse_mail(raw)
    assert mail.new_text == "the video"
    assert len(mail.files) == 1 and mail.files[0].data == blob
