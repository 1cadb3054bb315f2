"""The student: a CNN over token embeddings (the teacher's tokenizer, so one tokenizer).

Embeddings (initialised from a PCA of the teacher's word-embedding table) -> Conv1D of
each width (ReLU, 'same' padding) -> max over the real tokens -> dropout -> Dense logits.
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


class CnnStudent(tf_keras.Model):
    def __init__(self, vocab_size: int, n_labels: int, cfg: StudentConfig):
        super().__init__(name="cnn_student")
        self.embed = tf_keras.layers.Embedding(vocab_size, cfg.embed_dim, name="embeddings")
        self.convs = [tf_keras.layers.Conv1D(cfg.filters, w, padding="same", activation="relu", name=f"conv{w}")
                      for w in cfg.conv_widths]
        self.drop = tf_keras.layers.Dropout(cfg.dropout)
        self.head = tf_keras.layers.Dense(n_labels, name="logits")

    def call(self, inputs, training=False):
        mask = tf.cast(tf.expand_dims(inputs["attention_mask"], -1), tf.float32)  # [b, len, 1]
        x = self.embed(inputs["input_ids"]) * mask
        # ReLU outputs are >= 0 and every window has [cls]: max of (h * mask) is the masked max.
        pooled = tf.concat([tf.reduce_max(conv(x) * mask, axis=1) for conv in self.convs], axis=-1)
        return self.head(self.drop(pooled, training=training))


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
