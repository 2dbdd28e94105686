"""OAuth 2.0 mailboxes: the refresh token is traded at the token endpoint (a scripted fake of Google's /
Microsoft's), the access token authenticates SMTP by SASL XOAUTH2 against the real aiosmtpd, is reused while
valid, and a revoked grant fails the send and flags the channel needs-reauth."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

import httpx

from helpline.channels.email import oauth
from helpline.channels.email.poller import read_mailbox, read_mailbox_forever
from helpline.channels.models import Channel
from helpline.runtime import Runtime
from tests.channels.email.conftest import MAILBOX, email_settings, make_email_channel
from tests.channels.email.fake_imap import FakeImap
from tests.channels.email.mails import customer_mail
from tests.channels.email.smtp_server import SmtpServer
from tests.channels.email.test_email_flow import conversations, messages, receive, reply
from tests.conftest import World, drain
from tests.platform.fake_peer import Peer

TOKEN_URL = "https://oauth2.example.com/token"


def oauth_settings(smtp: SmtpServer) -> dict[str, object]:
    return email_settings(
        smtp,
        auth="oauth2",
        oauth_token_url=TOKEN_URL,
        oauth_client_id="client-1",
        oauth_scope="https://mail.google.com/",
    )


async def test_xoauth2_send_refreshes_once_and_reuses_the_token(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer, peer: Peer
) -> None:
    channel = await make_email_channel(
        runtime,
        oauth_settings(smtp),
        credentials={"oauth_client_secret": "s3cret", "oauth_refresh_token": "refresh-1"},
        member_ids=[world.agent.id],
    )
    oauth.forget(channel.id)
    peer.script = [httpx.Response(200, json={"access_token": "good-token", "expires_in": 3599, "token_type": "Bearer"})]
    await receive(runtime, channel, customer_mail("o1@example.com", "oi"))
    [conversation] = await conversations(runtime, channel.id)
    await reply(client, world, conversation.id, "primeira")
    await reply(client, world, conversation.id, "segunda")
    await drain(runtime)
    assert [m.delivery_state for m in await messages(runtime, conversation.id)] == ["received", "sent", "sent"]
    assert len(smtp.mailroom.received) == 2
    assert smtp.mailroom.logins == [("xoauth2", MAILBOX), ("xoauth2", MAILBOX)]
    [token_request] = peer.requests
    assert str(token_request.url) == TOKEN_URL
    form = parse_qs(token_request.content.decode())
    assert form == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["refresh-1"],
        "client_id": ["client-1"],
        "client_secret": ["s3cret"],
        "scope": ["https://mail.google.com/"],
    }


async def test_revoked_grant_fails_the_send_and_flags_needs_reauth(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer, peer: Peer
) -> None:
    channel = await make_email_channel(
        runtime, oauth_settings(smtp), credentials={"oauth_refresh_token": "revoked"}, member_ids=[world.agent.id]
    )
    oauth.forget(channel.id)
    peer.script = [
        httpx.Response(400, json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    ]
    await receive(runtime, channel, customer_mail("o2@example.com", "oi"))
    [conversation] = await conversations(runtime, channel.id)
    await reply(client, world, conversation.id, "x")
    await drain(runtime)
    [_, failed] = await messages(runtime, conversation.id)
    assert failed.delivery_state == "failed" and failed.error_code == "oauth_invalid_grant"
    assert "Token has been expired or revoked." in str(failed.error_reason)
    async with runtime.db.reads() as session:
        row = await session.get(Channel, channel.id)
    assert row is not None and row.status == "needs_reauth"
    assert smtp.mailroom.received == []


async def test_a_wrong_access_token_is_refused_by_the_server(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer, peer: Peer
) -> None:
    channel = await make_email_channel(
        runtime, oauth_settings(smtp), credentials={"oauth_refresh_token": "r"}, member_ids=[world.agent.id]
    )
    oauth.forget(channel.id)
    peer.script = [httpx.Response(200, json={"access_token": "stale-token", "expires_in": 3600})]
    await receive(runtime, channel, customer_mail("o3@example.com", "oi"))
    [conversation] = await conversations(runtime, channel.id)
    await reply(client, world, conversation.id, "x")
    await drain(runtime)
    [_, failed] = await messages(runtime, conversation.id)
    assert failed.delivery_state == "failed" and failed.error_code == "smtp_535"
    async with runtime.db.reads() as session:
        row = await session.get(Channel, channel.id)
    assert row is not None and row.status == "needs_reauth"


def test_xoauth2_initial_response_format() -> None:
    # Google's documented example: base64("user=someuser@example.com^Aauth=Bearer ya29...^A^A").
    assert oauth.xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg") == (
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52"
        "YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
    )


async def test_imap_reader_signs_in_by_xoauth2_and_keeps_a_rotated_refresh_token(
    runtime: Runtime, smtp: SmtpServer, peer: Peer
) -> None:
    imap = FakeImap(token="imap-token", mails=[customer_mail("x1@example.com", "via OAuth")])
    await imap.start()
    try:
        settings = {**oauth_settings(smtp), "imap_host": imap.host, "imap_port": imap.port, "use_idle": False}
        channel = await make_email_channel(runtime, settings, credentials={"oauth_refresh_token": "refresh-old"})
        oauth.forget(channel.id)
        peer.script = [
            httpx.Response(200, json={"access_token": "imap-token", "expires_in": 3600, "refresh_token": "refresh-new"})
        ]
        # The first session starts at the mailbox's end; a second mail then arrives.
        await read_mailbox(runtime, channel.id, "r", once=True)
        imap.mails.append(customer_mail("x2@example.com", "segunda via OAuth"))
        await read_mailbox(runtime, channel.id, "r", once=True)
        assert imap.logins == [MAILBOX, MAILBOX]
        [conversation] = await conversations(runtime, channel.id)
        assert [m.text for m in await messages(runtime, conversation.id)] == ["segunda via OAuth"]
        async with runtime.db.reads() as session:
            row = await session.get(Channel, channel.id)
        assert row is not None and runtime.box.open(row.credentials)["oauth_refresh_token"] == "refresh-new"
        assert len(peer.requests) == 1  # the access token was reused for the second session
    finally:
        await imap.stop()


async def test_imap_refusing_the_token_flags_needs_reauth(runtime: Runtime, smtp: SmtpServer, peer: Peer) -> None:
    imap = FakeImap(token="the-right-one")
    await imap.start()
    try:
        settings = {**oauth_settings(smtp), "imap_host": imap.host, "imap_port": imap.port}
        channel = await make_email_channel(runtime, settings, credentials={"oauth_refresh_token": "r"})
        oauth.forget(channel.id)
        peer.script = [httpx.Response(200, json={"access_token": "another", "expires_in": 3600})]
        await asyncio.wait_for(read_mailbox_forever(runtime, channel.id), 30)
        async with runtime.db.reads() as session:
            row = await session.get(Channel, channel.id)
        assert row is not None and row.status == "needs_reauth" and "AUTHENTICATIONFAILED" in str(row.status_reason)
    finally:
        await imap.stop()
