"""Scripts written once per language: a customer's message is matched among the scripts offered in their language."""

from __future__ import annotations

from helpline.bot.engine import ScriptEntry, Snapshot, fit_matchers
from helpline.bot.matching import LexicalMatcher
from helpline.bot.schemas import ScriptDefinition


def _entry(i: int, key: str, name: str, languages: list[str], examples: list[str]) -> ScriptEntry:
    definition = ScriptDefinition.model_validate(
        {"key": key, "name": name, "languages": languages, "examples": examples, "steps": []}
    )
    return ScriptEntry(i, key, name, 1, definition)


SCRIPTS = [
    _entry(1, "order-en", "Order status", ["en"], ["where is my order", "track my parcel"]),
    _entry(2, "order-pt", "Status do pedido", ["pt"], ["onde está meu pedido", "rastrear minha encomenda"]),
    _entry(3, "cancel-en", "Cancellation", ["en"], ["cancel my plan", "I want to cancel"]),
    _entry(4, "cancel-pt", "Cancelamento", ["pt"], ["cancelar meu plano", "quero cancelar"]),
    _entry(5, "hours", "Opening hours", ["en", "pt"], ["opening hours", "horário de atendimento"]),
]


def test_one_matcher_per_language_that_only_some_scripts_offer() -> None:
    everything, by_language = fit_matchers(LexicalMatcher, SCRIPTS)
    assert set(by_language) == {"en", "pt"}
    snapshot = Snapshot(fingerprint=(), matcher=everything, by_language=by_language)
    pt, en = snapshot.matcher_for("pt"), snapshot.matcher_for("en")
    assert pt is not None and en is not None
    portuguese = [key for key, _ in pt.rank("quero cancelar o plano", k=5)]
    assert portuguese[0] == "cancel-pt" and set(portuguese) == {"order-pt", "cancel-pt", "hours"}
    english = [key for key, _ in en.rank("please cancel", k=5)]
    assert english[0] == "cancel-en" and set(english) == {"order-en", "cancel-en", "hours"}
    # A language no script names, or none known yet: every script is a candidate.
    assert snapshot.matcher_for("es") is everything and snapshot.matcher_for(None) is everything


def test_scripts_all_in_one_language_train_a_single_matcher() -> None:
    everything, by_language = fit_matchers(LexicalMatcher, SCRIPTS[:1] + SCRIPTS[2:3])
    assert by_language == {}
    assert everything.rank("cancel it", k=1)[0][0] == "cancel-en"
