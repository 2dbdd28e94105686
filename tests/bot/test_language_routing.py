"""Which language's scripts a message is matched against (bot/routing.py): the message's own language when its
words or letters show it, else the most confident language's matcher with the likely language as a prior — so
short Portuguese without accents, or with words English and Spanish share, starts the Portuguese script."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest

from helpline.bot.language import say
from helpline.bot.pipeline import BotFrontLine, install_front_line
from helpline.bot.routing import PRIOR_MARGIN, message_language, route
from helpline.bot.seeds import load_seeds
from helpline.runtime import Runtime
from tests.bot.conftest import TODAY, Chat
from tests.conftest import World
from tests.conversations.conftest import Line, add_api_channel


class Fixed:
    """A matcher that ranks every message the same: one script at a fixed confidence."""

    def __init__(self, key: str, confidence: float, out_of_scope: bool = False) -> None:
        self.key, self.confidence, self.out_of_scope = key, confidence, out_of_scope

    def rank(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        return [(self.key, self.confidence)][:k]

    def is_out_of_scope(self, text: str) -> bool:
        return self.out_of_scope


def _matchers(en: float, pt: float, es: float = 0.0) -> dict[str, Fixed]:
    return {"en": Fixed("order-en", en), "pt": Fixed("order-pt", pt), "es": Fixed("order-es", es)}


@pytest.mark.parametrize(
    ("text", "sure", "likely"),
    [
        ("I want to cancel my plan", "en", "en"),  # function words
        ("quero cancelar o meu seguro", "pt", "pt"),
        ("cancela tudo", "pt", "pt"),  # letters: no function word at all
        ("hail dented the bonnet", "en", "en"),
        ("a qué hora abren", "es", "es"),  # "a", "que" are Portuguese words too
        ("pedido atrasado", None, "pt"),  # neither sure: a likely language only
        ("ok", None, None),
        ("123", None, None),
    ],
)
def test_message_language(text: str, sure: str | None, likely: str | None) -> None:
    assert message_language(text) == (sure, likely)


def test_a_sure_language_uses_its_own_matcher_even_when_another_is_more_confident() -> None:
    routed = route(Fixed("any", 0.1), _matchers(en=0.3, pt=0.95), "I want to know where my parcel is", prior="pt")
    assert routed.language == "en" and routed.ranked == [("order-en", 0.3)]


def test_an_unsure_message_goes_to_the_likely_language_unless_another_is_clearly_more_confident() -> None:
    # "pedido atrasado" leans to Portuguese: English must beat it by PRIOR_MARGIN.
    close = route(Fixed("any", 0.1), _matchers(en=0.65, pt=0.6), "pedido atrasado", prior="en")
    assert close.language == "pt"
    clear = route(Fixed("any", 0.1), _matchers(en=0.6 + PRIOR_MARGIN + 0.05, pt=0.6), "pedido atrasado", prior="en")
    assert clear.language == "en"


def test_without_any_sign_of_language_the_conversation_language_is_the_prior() -> None:
    assert route(Fixed("any", 0.1), _matchers(en=0.5, pt=0.55), "ok", prior="en").language == "en"
    assert route(Fixed("any", 0.1), _matchers(en=0.5, pt=0.55), "ok", prior="pt").language == "pt"
    # A matcher that calls the message out of scope counts as no confidence at all.
    matchers = {"en": Fixed("order-en", 0.9, out_of_scope=True), "pt": Fixed("order-pt", 0.3)}
    assert route(Fixed("any", 0.1), matchers, "ok", prior="en").language == "pt"


def test_scripts_in_one_language_only_use_the_single_matcher() -> None:
    routed = route(Fixed("all", 0.7), {}, "cancela tudo", prior="en")
    assert routed.language is None and routed.ranked == [("all", 0.7)]


# Through the whole bot with the product's matcher and the shipped scripts, on a line whose language is English
# (the company default): (customer's words, the script's name, the language the bot must answer in). None of
# these is an example of the scripts or a test paraphrase.
WORDINGS: Sequence[tuple[str, str, str]] = [
    ("a entrega atrasou", "Status do pedido", "pt"),
    ("cancela tudo", "Cancelamento", "pt"),
    ("bateram na minha moto", "Abertura de sinistro", "pt"),
    ("hail dented the roof of my car", "Insurance claim", "en"),
    ("mi pedido no llega", "Estado del pedido", "es"),
]


@pytest.fixture
async def line(client: httpx.AsyncClient, runtime: Runtime, world: World) -> Line:
    install_front_line(runtime, BotFrontLine(runtime, today=TODAY))  # the default matcher
    async with runtime.db.transaction() as session:
        await load_seeds(session, box=runtime.box)
    return await add_api_channel(client, world.admin, name="Bot line", member_ids=[world.agent.id], bot=True)


@pytest.mark.parametrize(("text", "script", "lang"), WORDINGS)
async def test_a_message_starts_the_script_of_its_language(
    client: httpx.AsyncClient, runtime: Runtime, line: Line, text: str, script: str, lang: str
) -> None:
    [reply] = await Chat(client, runtime, line)(text)
    first = reply.splitlines()
    # Started in the customer's language, or offered first in a question asked in it.
    started = first[0] == say(lang, "start", name=script)
    offered = first[0] == say(lang, "clarify") and first[1:2] == [f"1) {script}"]
    assert started or offered, reply


async def test_a_portuguese_conversation_on_an_english_line_stays_portuguese(
    client: httpx.AsyncClient, runtime: Runtime, line: Line
) -> None:
    chat = Chat(client, runtime, line)
    [menu] = await chat("Oi, bom dia")
    assert menu.startswith(say("pt", "greeting"))
    [reply] = await chat("o pacote nao chegou ainda")
    assert reply.splitlines()[0] == say("pt", "start", name="Status do pedido"), reply
    [reply] = await chat("48213")
    assert reply == "E o e-mail usado na compra?"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        # No function word to tell Portuguese from Spanish: the letters and the articles' languages do.
        ("aceitam pagamento por boleto?", "Quais formas de pagamento vocês aceitam?"),
        ("¿aceptan pagos con tarjeta de crédito?", "¿Qué formas de pago aceptan?"),
        ("can I pay by bank transfer each month", "Which payment methods do you accept?"),
    ],
)
async def test_a_knowledge_answer_comes_in_the_customer_language(
    client: httpx.AsyncClient, runtime: Runtime, line: Line, text: str, title: str
) -> None:
    [reply] = await Chat(client, runtime, line)(text)
    assert reply.splitlines()[0] == title, reply
