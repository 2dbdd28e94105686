"""Knowledge answers with the default sentence encoder: the right article for a question it covers, none for
off-topic questions (the threshold is measured on the shipped off-topic questions), in English and Portuguese."""

from __future__ import annotations

import pytest

from helpline.bot.knowledge import MIN_THRESHOLD, ArticleDoc, Retriever, lexical_share, off_topic_questions
from helpline.bot.matching import knowledge_encoder

ARTICLES = [
    ArticleDoc(1, "How long does a claim take?", "Most claims are settled within 10 working days.", ("claims",), "en"),
    ArticleDoc(2, "Which payment methods do you accept?", "Credit cards, bank transfer, direct debit.", (), "en"),
    ArticleDoc(3, "Quanto tempo demora um sinistro?", "A maioria é resolvida em até 10 dias úteis.", (), "pt"),
    ArticleDoc(4, "Quais formas de pagamento vocês aceitam?", "Cartão de crédito, boleto, Pix.", (), "pt"),
    ArticleDoc(5, "How do I update my address?", "Change it in the app under Profile.", ("address",), "en"),
]


@pytest.fixture(scope="module")
def retriever() -> Retriever:
    return Retriever(ARTICLES, knowledge_encoder())


def test_the_threshold_is_measured_on_off_topic_questions(retriever: Retriever) -> None:
    assert retriever.threshold is not None and retriever.threshold >= MIN_THRESHOLD
    rejected = [q for q in off_topic_questions() if not retriever.answerable(retriever.search(q, k=1)[0], setting=0.0)]
    # The 97th percentile: at most 3 % of the calibration questions pass (rounding up on this small set).
    assert len(rejected) >= 0.96 * len(off_topic_questions())


@pytest.mark.parametrize(
    ("question", "language", "article"),
    [
        ("when will my claim be paid", "en", 1),
        ("can I pay with a credit card", "en", 2),
        ("em quantos dias vocês pagam o sinistro", "pt", 3),
        ("posso pagar com pix?", "pt", 4),
    ],
)
def test_a_covered_question_gets_its_article(retriever: Retriever, question: str, language: str, article: int) -> None:
    [best] = retriever.search(question, k=1, language=language)
    assert best.article.id == article
    assert retriever.answerable(best, setting=0.0)


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Vocês vendem pneus?", "pt"),
        ("Vocês têm vagas de emprego?", "pt"),
        ("Do you sell tyres?", "en"),
        # Shaped like a title, about something else: the content words ("haircut") decide.
        ("How long does a haircut take?", "en"),
        ("Quanto tempo demora o conserto da geladeira?", "pt"),
        ("How long does it take to bake bread?", "en"),
    ],
)
def test_off_topic_questions_get_no_article(retriever: Retriever, question: str, language: str) -> None:
    hits = retriever.search(question, k=1, language=language)
    assert not hits or not retriever.answerable(hits[0], setting=0.0)


def test_without_an_encoder_the_setting_decides() -> None:
    lexical = Retriever(ARTICLES[:2])
    assert lexical.threshold is None
    [best] = lexical.search("how long does a claim take", k=1)
    assert best.article.id == 1
    assert lexical.answerable(best, setting=0.2) and not lexical.answerable(best, setting=1.01)


def test_content_words_drop_the_question_frame() -> None:
    from helpline.bot.knowledge import content_words

    assert content_words("How long does a claim take?") == ["claim"]
    assert content_words("Quanto tempo demora para o sinistro ser pago?") == ["sinistro", "pago"]


@pytest.mark.parametrize(
    ("question", "article", "share"),
    [
        ("posso pagar com pix", "Quais formas de pagamento vocês aceitam? Cartão de crédito, boleto, Pix.", 1.0),
        ("can I pay monthly", "Payments are monthly or yearly.", 1.0),  # "pay" meets "payments"
        ("how do I restart my modem", "How do I update my address? Change it in the app under Profile.", 0.0),
        ("how do I?", "How do I update my address?", None),  # no content word at all
    ],
)
def test_lexical_share(question: str, article: str, share: float | None) -> None:
    assert lexical_share(question, article) == share


def test_a_question_sharing_no_word_with_the_title_needs_a_clearly_closer_meaning(retriever: Retriever) -> None:
    # Shaped like "How do I update my address?", about something else, not one content word in common.
    [best] = retriever.search("how do I restart my modem", k=1, language="en")
    assert best.lexical == 0.0
    assert not retriever.answerable(best, setting=0.0)


def test_the_article_is_given_in_the_customer_language_when_it_exists_in_it(retriever: Retriever) -> None:
    # An English wording from a Portuguese-speaking customer (the conversation is in Portuguese): the English
    # article scores best, its Portuguese translation is given.
    [best] = retriever.search("which payment methods do you accept", k=1, language="pt")
    assert best.article.id == 4
    assert retriever.answerable(best, setting=0.0)
    # Spanish has no article here: the best one whatever its language.
    [best] = retriever.search("how long does a claim take", k=1, language="es")
    assert best.article.id == 1
