"""The student: a CNN over token embeddings (the teacher's tokenizer, so one tokenizer),
with a wide bag-of-n-grams branch beside it.

Deep: embeddings (initialised from a PCA of the teacher's word-embedding table) -> Conv1D
of each width (ReLU, 'same' padding) -> max over the real tokens.
Wide (`ngram_buckets > 0`): the mean of the token embeddings and the mean of hashed
token-bigram embeddings over the real tokens: the counts-and-averages signal that a
TF-IDF model uses and a max-pool drops.
Both -> dropout -> Dense logits. The hash is int32 arithmetic inside the graph
(`(a * m + b) mod buckets`), so the LiteRT model needs nothing but token ids.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras

from modelprep.config import StudentConfig


def pca_embeddings(table: np.ndarray, dim: int, target_std: float = 0.05) -> np.ndarray:
    """Project the teacher table [vocab, hidden] onto its top `dim` principal components."""
    table = np.asarray(table, np.float32)
    centred = table - table.mean(axis=0, keepdims=True)
    dim_used = min(dim, *centred.shape)
    # Right singular vectors of a [vocab, hidden] table: SVD of the small Gram matrix.
    _, vecs = np.linalg.eigh(centred.T @ centred)
    proj = centred @ vecs[:, ::-1][:, :dim_used]
    out = np.zeros((table.shape[0], dim), np.float32)
    out[:, :dim_used] = proj * (target_std / max(float(proj.std()), 1e-12))
    if dim_used < dim:  # a teacher narrower than the student: fill the rest randomly
        out[:, dim_used:] = np.random.default_rng(0).normal(0, target_std, (table.shape[0], dim - dim_used))
    return out


def bigram_multiplier(vocab_size: int) -> int:
    """The largest m with (vocab-1) * m + (vocab-1) < 2**31: the hash never overflows int32
    (and is collision-free before the modulo when m >= vocab)."""
    return max(2, (2**31 - 1 - vocab_size) // max(vocab_size, 1))


class CnnStudent(tf_keras.Model):
    def __init__(self, vocab_size: int, n_labels: int, cfg: StudentConfig):
        super().__init__(name="cnn_student")
        self.embed = tf_keras.layers.Embedding(vocab_size, cfg.embed_dim, name="embeddings")
        self.convs = [tf_keras.layers.Conv1D(cfg.filters, w, padding="same", activation="relu", name=f"conv{w}")
                      for w in cfg.conv_widths]
        self.buckets, self.multiplier = cfg.ngram_buckets, bigram_multiplier(vocab_size)
        self.bigrams = (tf_keras.layers.Embedding(cfg.ngram_buckets, cfg.ngram_dim, name="bigrams",
                                                  embeddings_initializer=tf_keras.initializers.RandomNormal(0, 0.05))
                        if cfg.ngram_buckets else None)
        self.drop = tf_keras.layers.Dropout(cfg.dropout)
        self.head = tf_keras.layers.Dense(n_labels, name="logits")

    def call(self, inputs, training=False):
        ids = inputs["input_ids"]
        mask = tf.cast(tf.expand_dims(inputs["attention_mask"], -1), tf.float32)  # [b, len, 1]
        x = self.embed(ids) * mask
        # ReLU outputs are >= 0 and every window has [cls]: max of (h * mask) is the masked max.
        features = [tf.reduce_max(conv(x) * mask, axis=1) for conv in self.convs]
        if self.bigrams is not None:
            count = tf.reduce_sum(mask, axis=1)                               # [b, 1]
            features.append(tf.reduce_sum(x, axis=1) / tf.maximum(count, 1.0))  # mean token embedding
            pair = tf.math.floormod(ids[:, :-1] * self.multiplier + ids[:, 1:], self.buckets)
            pair_mask = mask[:, 1:]  # masks are prefixes: a pair is real when its second token is
            bag = tf.reduce_sum(self.bigrams(pair) * pair_mask, axis=1)
            features.append(bag / tf.maximum(tf.reduce_sum(pair_mask, axis=1), 1.0))
        return self.head(self.drop(tf.concat(features, axis=-1), training=training))


def build_student(vocab_size: int, n_labels: int, cfg: StudentConfig,
                  teacher_table: np.ndarray | None = None) -> CnnStudent:
    if cfg.arch != "cnn":
        raise ValueError(f"unknown student architecture {cfg.arch!r} (available: cnn)")
    model = CnnStudent(vocab_size, n_labels, cfg)
    ids = tf.zeros((1, 2), tf.int32)
    model({"input_ids": ids, "attention_mask": tf.ones_like(ids)})
    if teacher_table is not None:
        model.embed.embeddings.assign(pca_embeddings(teacher_table, cfg.embed_dim))
    model.embed.trainable = not cfg.freeze_embeddings
    return model
