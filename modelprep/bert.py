"""A plain tf-keras BERT encoder (post-LN, exact erf GELU) loaded from a TeacherSource.

Weights are assigned by their Hugging Face `BertModel` names; HF Linear weights are
[out, in] and are transposed into Keras Dense kernels. `BertClassifier` adds a
mean-pool (or CLS) head. Inputs are int32 `input_ids` / `attention_mask` [batch, length].
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
import tf_keras

from modelprep.teacher_source import BertConfig, TeacherSource

MASK_VALUE = -1e9  # added to attention scores of padding positions


def gelu(x):
    return tf.nn.gelu(x, approximate=False)


class _Linear:
    """Records HF name -> Keras Dense so loading can transpose [out, in] weights."""

    def __init__(self, registry: dict, hf_name: str, units: int, activation=None, name=None):
        self.dense = tf_keras.layers.Dense(units, activation=activation, name=name)
        registry[f"{hf_name}.weight"] = (self.dense, "kernel", True)
        registry[f"{hf_name}.bias"] = (self.dense, "bias", False)


def _layer_norm(registry: dict, hf_name: str, eps: float, name: str):
    ln = tf_keras.layers.LayerNormalization(epsilon=eps, name=name)
    for hf, attr in (("weight", "gamma"), ("bias", "beta"), ("gamma", "gamma"), ("beta", "beta")):
        registry[f"{hf_name}.{hf}"] = (ln, attr, False)
    return ln


class TransformerBlock(tf_keras.layers.Layer):
    def __init__(self, cfg: BertConfig, registry: dict, index: int, **kw):
        super().__init__(name=f"layer_{index}", **kw)
        p = f"encoder.layer.{index}"
        h = cfg.hidden_size
        self.heads = cfg.num_attention_heads
        self.head_dim = h // self.heads
        self.q = _Linear(registry, f"{p}.attention.self.query", h, name="query").dense
        self.k = _Linear(registry, f"{p}.attention.self.key", h, name="key").dense
        self.v = _Linear(registry, f"{p}.attention.self.value", h, name="value").dense
        self.attn_out = _Linear(registry, f"{p}.attention.output.dense", h, name="attn_out").dense
        self.attn_ln = _layer_norm(registry, f"{p}.attention.output.LayerNorm", cfg.layer_norm_eps, "attn_ln")
        self.ffn_in = _Linear(registry, f"{p}.intermediate.dense", cfg.intermediate_size, gelu, "ffn_in").dense
        self.ffn_out = _Linear(registry, f"{p}.output.dense", h, name="ffn_out").dense
        self.ffn_ln = _layer_norm(registry, f"{p}.output.LayerNorm", cfg.layer_norm_eps, "ffn_ln")
        self.attn_drop = tf_keras.layers.Dropout(cfg.attention_probs_dropout_prob)
        self.hidden_drop = tf_keras.layers.Dropout(cfg.hidden_dropout_prob)

    def _split(self, x, batch, length):
        x = tf.reshape(x, tf.stack([batch, length, self.heads, self.head_dim]))
        return tf.transpose(x, [0, 2, 1, 3])  # [b, heads, len, dim]

    def call(self, x, mask_add, training=False):
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        q, k, v = (self._split(f(x), batch, length) for f in (self.q, self.k, self.v))
        scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(self.head_dim) + mask_add
        probs = self.attn_drop(tf.nn.softmax(scores, axis=-1), training=training)
        ctx = tf.transpose(tf.matmul(probs, v), [0, 2, 1, 3])
        ctx = tf.reshape(ctx, tf.stack([batch, length, self.heads * self.head_dim]))
        x = self.attn_ln(x + self.hidden_drop(self.attn_out(ctx), training=training))
        y = self.hidden_drop(self.ffn_out(self.ffn_in(x)), training=training)
        return self.ffn_ln(x + y)


class BertEncoder(tf_keras.layers.Layer):
    """input_ids, attention_mask -> last hidden state [batch, length, hidden]."""

    def __init__(self, cfg: BertConfig, **kw):
        super().__init__(name="bert", **kw)
        self.cfg = cfg
        self.registry: dict = {}  # HF weight name -> (layer, attribute, transpose)
        h = cfg.hidden_size
        self.word = tf_keras.layers.Embedding(cfg.vocab_size, h, name="word_embeddings")
        self.position = tf_keras.layers.Embedding(cfg.max_position_embeddings, h, name="position_embeddings")
        self.token_type = tf_keras.layers.Embedding(cfg.type_vocab_size, h, name="token_type_embeddings")
        for hf, layer in (("word", self.word), ("position", self.position), ("token_type", self.token_type)):
            self.registry[f"embeddings.{hf}_embeddings.weight"] = (layer, "embeddings", False)
        self.emb_ln = _layer_norm(self.registry, "embeddings.LayerNorm", cfg.layer_norm_eps, "emb_ln")
        self.emb_drop = tf_keras.layers.Dropout(cfg.hidden_dropout_prob)
        self.blocks = [TransformerBlock(cfg, self.registry, i) for i in range(cfg.num_hidden_layers)]

    def call(self, input_ids, attention_mask, training=False):
        length = tf.shape(input_ids)[1]
        x = self.word(input_ids) + self.position(tf.range(length))[tf.newaxis]
        x = x + self.token_type(tf.zeros_like(input_ids))
        x = self.emb_drop(self.emb_ln(x), training=training)
        mask = tf.cast(attention_mask, x.dtype)
        mask_add = tf.expand_dims(tf.expand_dims((1.0 - mask) * MASK_VALUE, 1), 1)  # [b,1,1,len]
        for block in self.blocks:
            x = block(x, mask_add, training=training)
        return x

    def build_now(self):
        ids = tf.zeros((1, 2), tf.int32)
        self(ids, tf.ones_like(ids))

    def load_hf_weights(self, weights: dict[str, np.ndarray]) -> list[str]:
        """Assign HF-named arrays; returns the names that were not used (e.g. pooler)."""
        self.build_now()
        used, unused = set(), []
        for name, array in weights.items():
            entry = self.registry.get(name)
            if entry is None:
                unused.append(name)
                continue
            layer, attr, transpose = entry
            var = getattr(layer, attr)
            value = np.asarray(array, dtype=np.float32)
            value = value.T if transpose else value
            if tuple(var.shape) != value.shape:
                raise ValueError(f"weight {name}: shape {value.shape} does not fit {tuple(var.shape)}")
            var.assign(value)
            used.add(id(var))
        # A LayerNorm answers to weight/bias and gamma/beta: check variables, not names.
        names_of = {id(getattr(layer, attr)): n for n, (layer, attr, _) in self.registry.items()}
        missing = [n for vid, n in names_of.items() if vid not in used]
        if missing:
            raise ValueError(f"teacher weights missing: {', '.join(sorted(missing)[:5])}")
        return unused


POOLINGS = ("mean", "cls", "mean_l2")  # mean_l2: the mean L2-normalised (a sentence embedding)


class BertClassifier(tf_keras.Model):
    """BERT encoder + pooling + dropout + Dense head -> logits. `n_labels=0`: no head, the
    pooled vector is the output (modelprep.fewshot's sentence embeddings)."""

    def __init__(self, cfg: BertConfig, n_labels: int, pooling: str = "mean", dropout: float = 0.1):
        super().__init__(name="bert_classifier")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, not {pooling!r}")
        self.encoder = BertEncoder(cfg)
        self.pooling = pooling
        self.head_drop = tf_keras.layers.Dropout(dropout)
        self.head = tf_keras.layers.Dense(n_labels, name="classifier", dtype="float32") if n_labels else None

    def call(self, inputs, training=False):
        ids, mask = inputs["input_ids"], inputs["attention_mask"]
        h = tf.cast(self.encoder(ids, mask, training=training), tf.float32)  # pool in float32
        if self.pooling == "cls":
            pooled = h[:, 0]
        else:
            m = tf.cast(tf.expand_dims(mask, -1), h.dtype)
            pooled = tf.reduce_sum(h * m, axis=1) / tf.maximum(tf.reduce_sum(m, axis=1), 1.0)
        if self.pooling == "mean_l2":
            pooled = tf.math.l2_normalize(pooled, axis=-1)
        if self.head is None:
            return pooled
        return self.head(self.head_drop(pooled, training=training))


def build_teacher(source: TeacherSource, n_labels: int, pooling: str = "mean",
                  dropout: float = 0.1, load_pretrained: bool = True, precision: str = "float32") -> BertClassifier:
    """`precision="mixed_bfloat16"` computes in bfloat16 and keeps float32 variables and logits."""
    previous = tf_keras.mixed_precision.global_policy()
    tf_keras.mixed_precision.set_global_policy(precision)  # layers take the policy when built
    try:
        model = BertClassifier(source.config, n_labels, pooling, dropout)
    finally:
        tf_keras.mixed_precision.set_global_policy(previous)
    ids = tf.zeros((1, 2), tf.int32)
    model({"input_ids": ids, "attention_mask": tf.ones_like(ids)})
    if load_pretrained:
        model.encoder.load_hf_weights(source.weights)
    return model
