"""The ONNX MiniLM graph (built without torch, run by onnxruntime) gives the numpy forward pass's embeddings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from helpline.bot.matching.backends import minilm_available, onnx_available

if TYPE_CHECKING:
    from helpline.bot.matching.bert import MiniLM
    from helpline.bot.matching.bert_onnx import OnnxMiniLM

    Models = tuple[MiniLM, OnnxMiniLM, Path]

pytestmark = pytest.mark.skipif(
    not (minilm_available() and onnx_available()),
    reason="MiniLM weights or onnxruntime not installed (the Makefile installs both)",
)

LONG = " ".join(["my parcel was supposed to arrive last week but the tracking page has not changed since"] * 30)

SENTENCES = [
    # English
    "hello world",
    "where is my parcel",
    "I crashed my car and need to make a claim",
    "I want to cancel my subscription, it is too expensive",
    "what are your opening hours on Saturday?",
    "My card was charged twice for the same purchase!!!",
    "can you send me the invoice for order #A-77123",
    "is this a bot or a real person",
    "thanks a lot, bye",
    "The quick brown fox jumps over the lazy dog.",
    "How long does shipping take for pizza?",
    "my email is jane.doe@example.com and my phone is +44 20 7946 0958",
    "I'd like to book an appointment for next Tuesday at 3pm",
    "why hasn't my refund arrived yet",
    "CAN I TALK TO A HUMAN",
    "pls hlp my accnt is lockd",
    # Portuguese
    "onde está minha encomenda?",
    "bateram no meu carro ontem e quero abrir um sinistro",
    "quero cancelar minha assinatura",
    "qual o horário de funcionamento de vocês?",
    "Vocês vendem pneus?",
    "Olá, bom dia",
    "minha apólice é POL 771203, preciso de ajuda",
    "não consigo acessar minha conta desde anteontem",
    "obrigado pela ajuda!",
    "vocês têm vagas de emprego?",
    # Spanish
    "¿dónde está mi pedido?",
    "quiero cancelar mi suscripción",
    "necesito hablar con una persona",
    "¿a qué hora abren mañana?",
    "me cobraron dos veces en la tarjeta",
    # Emoji, symbols, other scripts
    "🚗💥 help",
    "👍",
    "thank you 🙏🙏🙏",
    "ok 😡😡 where is my money",
    "日本語のテキスト",
    "Привет, как дела?",
    "€100 — £80 — ¥5000",
    "a\tb\nc",
    # Empty-ish
    "",
    " ",
    "?",
    "...",
    "\n",
    "a",
    # Long: past the model's 256 word pieces, cut there by the tokenizer
    LONG,
    LONG + " and it is still not here",
    "x " * 600,
    "word" * 300,
    " ".join(str(n) for n in range(400)),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    from helpline.bot.matching.bert import BertFolder, MiniLM
    from helpline.bot.matching.bert_onnx import OnnxMiniLM

    folder = BertFolder.from_package()
    cache = tmp_path_factory.mktemp("model-cache")
    return MiniLM(folder), OnnxMiniLM(folder, directory=cache), cache


@pytest.fixture(scope="module")
def reference(models: Models) -> np.ndarray:
    """The numpy forward pass, one sentence at a time (no padding: a batch would pad all to 256 word pieces)."""
    numpy_model = models[0]
    return np.vstack([numpy_model.embed([s]) for s in SENTENCES])


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cosines: np.ndarray = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return cosines


def test_the_sentences_cover_truncation() -> None:
    from helpline.bot.matching.bert import BertFolder

    ids, _, mask = BertFolder.from_package().tokenize([LONG, "hello"])
    assert ids.shape == (2, 256)
    assert mask[1].sum() == 3  # [CLS] hello [SEP], the rest padding


def test_onnx_batched_embeddings_equal_numpy(models: Models, reference: np.ndarray) -> None:
    onnx_model = models[1]
    # One call: the encoder groups the texts by length, so short ones are padded together and one group pads
    # short sentences to the long ones' 256 word pieces.
    batched = onnx_model.embed(SENTENCES)
    assert batched.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    cosines = _cosines(batched, reference)
    worst = int(cosines.argmin())
    assert cosines.min() >= 0.9999, (SENTENCES[worst][:60], cosines[worst])


def test_onnx_one_by_one_equals_numpy(models: Models, reference: np.ndarray) -> None:
    numpy_model, onnx_model, _ = models
    single = np.vstack([onnx_model.embed([s]) for s in SENTENCES])
    assert _cosines(single, reference).min() >= 0.9999
    # The numpy pass batched too, against itself one by one (padding changes nothing).
    short = [s for s in SENTENCES if len(s) < 200]
    batched = numpy_model.embed(short)
    assert _cosines(batched, reference[: len(short)]).min() >= 0.9999


def test_the_graph_is_the_sentence_transformers_model(models: Models) -> None:
    _, onnx_model, _ = models
    vector = onnx_model.embed(["hello world"])[0]
    # sentence-transformers 6.2 / torch 2.13 CPU, all-MiniLM-L6-v2, "hello world", first four components.
    assert np.allclose(vector[:4], [-0.03447723, 0.03102324, 0.00673501, 0.02610899], atol=1e-4)
    assert "torch" not in sys.modules


def test_the_built_model_is_cached_and_reused(models: Models) -> None:
    from helpline.bot.matching.bert import BertFolder
    from helpline.bot.matching.bert_onnx import model_source

    _, _, cache = models
    (built,) = cache.glob("sentence-bert-*-fp32.onnx")
    assert not list(cache.glob("*.tmp"))
    stamp = built.stat().st_mtime_ns
    assert model_source(BertFolder.from_package(), quantized=False, directory=cache) == built
    assert built.stat().st_mtime_ns == stamp  # read, not rebuilt


def test_an_unwritable_cache_still_gives_the_same_model(models: Models, tmp_path: Path) -> None:
    from helpline.bot.matching.bert import BertFolder
    from helpline.bot.matching.bert_onnx import model_source

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    data = model_source(BertFolder.from_package(), quantized=False, directory=blocker / "cache")
    (built,) = models[2].glob("sentence-bert-*-fp32.onnx")
    # Built again in memory, byte for byte the cached file: the build is deterministic.
    assert data == built.read_bytes()


def test_serving_uses_one_thread() -> None:
    from helpline.bot.matching.bert_onnx import session_options

    options = session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)


def test_the_minilm_method_runs_on_onnxruntime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from helpline.bot.matching import methods
    from helpline.bot.matching.bert_onnx import CACHE_ENV, OnnxMiniLM
    from helpline.bot.matching.registry import MINILM_METHOD, minilm_encoder

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    encoder = minilm_encoder()
    assert encoder is not None
    assert isinstance(encoder.backend, OnnxMiniLM)
    assert encoder.dimension == 384
    matcher = methods()[MINILM_METHOD]()
    matcher.fit([("where is my order", "order"), ("cancel my plan", "cancel"), ("I want to file a claim", "claim")])
    assert matcher.rank("my package has not arrived")[0][0] == "order"
