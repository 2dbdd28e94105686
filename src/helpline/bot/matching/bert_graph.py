"""The ONNX graph of a sentence-transformers BERT encoder, written node by node from its safetensors weights.

Own code because the usual route to an ONNX BERT is `torch.onnx.export` (or optimum, which wraps it), and torch is
a 900 MB install Helpline keeps out of its dependencies; the `onnx` package's helper API builds the same graph from
the weights directly. The computation is BERT's encoder (Devlin et al. 2019, https://arxiv.org/abs/1810.04805) as
Hugging Face's `BertModel` implements it — word + position + token-type embeddings, LayerNorm, then per layer
multi-head self-attention with the padding mask as an additive bias, residual + LayerNorm, the exact (erf) GELU
feed-forward, residual + LayerNorm — followed by sentence-transformers' mean pooling over the mask and l2
normalisation; `bert.py`'s numpy forward pass is the same computation and the test's reference. Operators follow
the ONNX operator specifications (https://onnx.ai/onnx/operators/) at opset 17, the first with
`LayerNormalization`. The GELU is written as Div(√2) → Erf → Add(1) → Mul(x) → Mul(0.5), the form onnxruntime's
graph optimiser fuses into one kernel.

Inputs: `input_ids`, `token_type_ids`, `attention_mask`, each int64 (batch, length), both dimensions dynamic.
Output: `embedding`, float32 (batch, hidden), unit length.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from helpline.bot.matching.bert import BertFolder

OPSET = 17
# Part of the disk cache's key (bert_onnx.py): bump it whenever the graph this module builds changes.
BUILDER_VERSION = 1


class _Graph:
    """Collects nodes and initializers; each helper returns the name of its output."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def constant(self, name: str, value: NDArray[np.generic]) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        return self.ops(op_type, 1, *inputs, **attributes)[0]

    def ops(self, op_type: str, outputs: int, *inputs: str, **attributes: Any) -> list[str]:
        self._count += 1
        names = [f"{op_type.lower()}_{self._count}_{n}" for n in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, **attributes))
        return names


def build(folder: BertFolder) -> onnx.ModelProto:
    """The encoder's ONNX model (opset 17, float32 weights as initializers); checked with `onnx.checker`."""
    w = folder.weights()
    g = _Graph()
    hidden, heads, eps = folder.dimension, folder.heads, folder.eps
    size = hidden // heads
    f32 = np.float32

    one = g.constant("one", np.array(1.0, f32))
    ids, types, mask = "input_ids", "token_type_ids", "attention_mask"

    # Embeddings: the first `length` rows of the position table, so any length up to the table's works.
    length = g.op("Shape", ids, start=1, end=2)
    positions = g.op(
        "Slice",
        g.constant("position_embeddings", w["embeddings.position_embeddings.weight"]),
        g.constant("start_0", np.array([0], np.int64)),
        length,
        g.constant("axis_0", np.array([0], np.int64)),
    )
    x = g.op(
        "Add",
        g.op(
            "Add",
            g.op("Gather", g.constant("word_embeddings", w["embeddings.word_embeddings.weight"]), ids),
            positions,
        ),
        g.op("Gather", g.constant("token_type_embeddings", w["embeddings.token_type_embeddings.weight"]), types),
    )

    def layer_norm(value: str, prefix: str) -> str:
        gamma = g.constant(prefix + ".weight", w[prefix + ".weight"])
        beta = g.constant(prefix + ".bias", w[prefix + ".bias"])
        return g.op("LayerNormalization", value, gamma, beta, axis=-1, epsilon=eps)

    def dense(value: str, prefix: str) -> str:
        # Hugging Face stores Linear weights as (out, in); MatMul wants (in, out).
        weight = g.constant(prefix + ".weight", w[prefix + ".weight"].T)
        return g.op("Add", g.op("MatMul", value, weight), g.constant(prefix + ".bias", w[prefix + ".bias"]))

    x = layer_norm(x, "embeddings.LayerNorm")

    # The mask as an additive bias (batch, 1, 1, length): 0 where a token is, -1e9 on padding, as bert.py does.
    float_mask = g.op("Cast", mask, to=TensorProto.FLOAT)
    bias = g.op(
        "Unsqueeze",
        g.op("Mul", g.op("Sub", one, float_mask), g.constant("minus_large", np.array(-1e9, f32))),
        g.constant("axes_1_2", np.array([1, 2], np.int64)),
    )
    split_heads = g.constant("split_heads", np.array([0, 0, 3, heads, size], np.int64))
    merge_heads = g.constant("merge_heads", np.array([0, 0, hidden], np.int64))
    scale = g.constant("scale", np.array(math.sqrt(size), f32))
    sqrt2 = g.constant("sqrt2", np.array(math.sqrt(2.0), f32))
    half = g.constant("half", np.array(0.5, f32))
    axis_0 = g.constant("axes_0", np.array([0], np.int64))

    for i in range(folder.layers):
        p = f"encoder.layer.{i}."
        # Query, key and value in one product (batch, length, 3·hidden), as bert.py fuses them: one larger
        # MatMul is cheaper than three small ones; then (3, batch, heads, length, size) split into the three.
        names = [p + "attention.self." + n for n in ("query", "key", "value")]
        qkv_weight = np.concatenate([w[n + ".weight"].T for n in names], axis=1)
        qkv_bias = np.concatenate([w[n + ".bias"] for n in names])
        qkv = g.op(
            "Add", g.op("MatMul", x, g.constant(p + "qkv.weight", qkv_weight)), g.constant(p + "qkv.bias", qkv_bias)
        )
        stacked = g.op("Transpose", g.op("Reshape", qkv, split_heads), perm=[2, 0, 3, 1, 4])
        q, k, v = (g.op("Squeeze", part, axis_0) for part in g.ops("Split", 3, stacked, axis=0))
        scores = g.op("Add", g.op("Div", g.op("MatMul", q, g.op("Transpose", k, perm=[0, 1, 3, 2])), scale), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge_heads)
        attended = dense(context, p + "attention.output.dense")
        x = layer_norm(g.op("Add", attended, x), p + "attention.output.LayerNorm")
        inner = dense(x, p + "intermediate.dense")
        gelu = g.op("Mul", g.op("Mul", inner, g.op("Add", g.op("Erf", g.op("Div", inner, sqrt2)), one)), half)
        out = dense(gelu, p + "output.dense")
        x = layer_norm(g.op("Add", out, x), p + "output.LayerNorm")

    # Mean over the real tokens, then unit length (sentence-transformers' Pooling + Normalize modules).
    summed = g.op(
        "ReduceSum",
        g.op("Mul", x, g.op("Unsqueeze", float_mask, g.constant("axes_2", np.array([2], np.int64)))),
        g.constant("axes_1", np.array([1], np.int64)),
        keepdims=0,
    )
    count = g.op("ReduceSum", float_mask, "axes_1", keepdims=1)
    pooled = g.op("Div", summed, g.op("Max", count, g.constant("tiny_count", np.array(1e-9, f32))))
    norm = g.op("ReduceL2", pooled, axes=[1], keepdims=1)
    g.nodes.append(
        helper.make_node(
            "Div", [pooled, g.op("Max", norm, g.constant("tiny_norm", np.array(1e-12, f32)))], ["embedding"]
        )
    )

    def int_input(name: str) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "length"])

    graph = helper.make_graph(
        g.nodes,
        "sentence_bert",
        [int_input(ids), int_input(types), int_input(mask)],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="helpline",
        producer_version=str(BUILDER_VERSION),
    )
    # onnxruntime 1.20+ reads IR version 10; pinning it keeps the bytes the same whichever onnx built them.
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=False)
    return model
