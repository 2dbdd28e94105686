"""Names for Messenger and Instagram customers: the real adapters ask the sandbox's Graph API for the user
profile of a PSID / IGSID, as they ask Meta, and get the simulated person's name (not their id)."""

from __future__ import annotations

import httpx

from helpline.channels.base import ChannelConfig
from helpline.channels.instagram.adapter import InstagramAdapter
from helpline.channels.messenger.adapter import MessengerAdapter
from helpline.sandbox.meta import MetaSandbox
from tests.sandbox.conftest import bearer

PAGE = "1122334455"
IG = "17841400000000001"
PSID = "6543210987654321"
IGSID = "1122334455667788"


def config(kind: str, setting: str, asset: str, token: str) -> ChannelConfig:
    return ChannelConfig(
        id=1,
        kind=kind,
        name=kind,
        credentials={"access_token": token},
        settings={setting: asset},
        platform={"meta_graph_url": "http://graph.test", "meta_graph_version": "v21.0"},
    )


async def test_graph_answers_the_user_profile_of_someone_who_wrote(
    sandbox: MetaSandbox, graph: httpx.AsyncClient
) -> None:
    _, token = sandbox.add_page(PAGE)
    await sandbox.customer_says(PAGE, PSID, "Oi", name="Ana Souza")
    answer = await graph.get(f"/{PSID}", params={"fields": "first_name,last_name"}, headers=bearer(token.value))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": PSID, "first_name": "Ana", "last_name": "Souza"}
    # Someone who never wrote: Graph has nothing to say about them.
    stranger = await graph.get("/7777777777777777", params={"fields": "first_name"}, headers=bearer(token.value))
    assert stranger.status_code == 400


async def test_the_real_adapters_name_simulated_customers(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, page_token = sandbox.add_page(PAGE)
    _, ig_token = sandbox.add_page(IG, kind="instagram")
    await sandbox.customer_says(PAGE, PSID, "Oi", name="Ana Souza")
    await sandbox.customer_says(IG, IGSID, "Hello", name="Liam Carter")
    messenger = MessengerAdapter(config("messenger", "page_id", PAGE, page_token.value), graph)
    instagram = InstagramAdapter(config("instagram", "ig_account_id", IG, ig_token.value), graph)
    ana = await messenger.fetch_profile(PSID)
    liam = await instagram.fetch_profile(IGSID)
    assert ana is not None and ana.name == "Ana Souza"
    assert liam is not None and liam.name == "Liam Carter"
    assert await messenger.fetch_profile("7777777777777777") is None  # withheld: the contact keeps its id
