"""Natural wordings of the seeded scripts' demands, in English, Portuguese and Spanish, through the whole bot
with the product's own matcher (not a test double): the right script starts — or, when the confidence is
between the thresholds (bot/matching decides those), it is the first one offered — never the fallback.
"Participar um sinistro" is how many Portuguese speakers say "report a claim"."""

from __future__ import annotations

import httpx
import pytest

from helpline.bot.language import say
from helpline.bot.pipeline import BotFrontLine, install_front_line
from helpline.bot.seeds import load_seeds
from helpline.runtime import Runtime
from tests.bot.conftest import TODAY, Chat
from tests.conftest import World
from tests.conversations.conftest import Line, add_api_channel

# (customer's words, the script's name in their language) — none of these is an example of the scripts.
WORDINGS = [
    ("quero participar um sinistro", "Abertura de sinistro"),
    ("gostaria de participar um acidente com o carro", "Abertura de sinistro"),
    ("quero cancelar a minha apólice do carro", "Cancelamento"),
    ("quero saber onde está a minha encomenda", "Status do pedido"),
    ("I want to report an accident with my car", "Insurance claim"),
    ("I need to lodge a claim for my house", "Insurance claim"),
    ("please cancel my home policy", "Cancellation"),
    ("where is my parcel?", "Order status"),
    ("quiero dar parte de un siniestro del coche", "Apertura de siniestro"),
    ("necesito abrir un siniestro por un choque", "Apertura de siniestro"),
    ("quiero cancelar la póliza del coche", "Cancelación"),
    ("dónde está mi paquete", "Estado del pedido"),
]


@pytest.fixture
async def line(client: httpx.AsyncClient, runtime: Runtime, world: World) -> Line:
    install_front_line(runtime, BotFrontLine(runtime, today=TODAY))  # the default matcher
    async with runtime.db.transaction() as session:
        await load_seeds(session, box=runtime.box)
    return await add_api_channel(client, world.admin, name="Bot line", member_ids=[world.agent.id], bot=True)


@pytest.mark.parametrize(("text", "script"), WORDINGS)
async def test_a_natural_wording_starts_its_script(
    client: httpx.AsyncClient, runtime: Runtime, line: Line, text: str, script: str
) -> None:
    [reply] = await Chat(client, runtime, line)(text)
    assert not reply.startswith(tuple(say(lang, "fallback") for lang in ("en", "pt", "es")))
    lines = reply.splitlines()
    started = lines[0] in {say(lang, "start", name=script) for lang in ("en", "pt", "es")}
    assert started or lines[1:2] == [f"1) {script}"], reply
