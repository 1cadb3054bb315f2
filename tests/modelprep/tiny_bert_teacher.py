"""A random-init 2-layer BERT (hidden 32) as a Hugging Face folder, synthetic labelled
texts over its ~30-word vocabulary, and a pipeline config small enough for unit tests."""
from __future__ import annotations

import csv
import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np

from modelprep.config import PipelineConfig

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
KEYWORDS = {"sport": ["goal", "match", "team", "score"], "tech": ["chip", "code", "robot", "phone"],
            "food": ["pizza", "soup", "bread", "salad"]}
FILLER = "the a is was and of to in on it today new big".split()
VOCAB = SPECIALS + FILLER + [w for ws in KEYWORDS.values() for w in ws] + ["##s"]
HIDDEN, LAYERS, FFN = 32, 2, 64


def write_teacher(folder: Path, seed: int = 0) -> Path:
    """config.json + model.safetensors (HF names, [out, in] Linear weights) + vocab.txt."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"model_type": "bert", "vocab_size": len(VOCAB), "hidden_size": HIDDEN, "num_hidden_layers": LAYERS,
              "num_attention_heads": 4, "intermediate_size": FFN, "max_position_embeddings": 64,
              "type_vocab_size": 2, "layer_norm_eps": 1e-12}
    w = {}

    def dense(name, out_dim, in_dim):
        w[f"{name}.weight"] = rng.normal(0, 0.05, (out_dim, in_dim)).astype(np.float32)
        w[f"{name}.bias"] = np.zeros(out_dim, np.float32)

    def ln(name):
        w[f"{name}.weight"], w[f"{name}.bias"] = np.ones(HIDDEN, np.float32), np.zeros(HIDDEN, np.float32)

    for part, rows in (("word", len(VOCAB)), ("position", 64), ("token_type", 2)):
        w[f"embeddings.{part}_embeddings.weight"] = rng.normal(0, 0.05, (rows, HIDDEN)).astype(np.float32)
    ln("embeddings.LayerNorm")
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        for qkv in ("query", "key", "value"):
            dense(f"{p}.attention.self.{qkv}", HIDDEN, HIDDEN)
        dense(f"{p}.attention.output.dense", HIDDEN, HIDDEN)
        ln(f"{p}.attention.output.LayerNorm")
        dense(f"{p}.intermediate.dense", FFN, HIDDEN)
        dense(f"{p}.output.dense", HIDDEN, FFN)
        ln(f"{p}.output.LayerNorm")
    save_file(w, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    return folder


def synthetic_rows(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    labels = sorted(KEYWORDS)
    rows = []
    for i in range(n):
        label = labels[i % len(labels)]
        words = [rng.choice(FILLER) for _ in range(rng.randint(2, 10))]
        for _ in range(rng.randint(1, 2)):
            words.insert(rng.randint(0, len(words)), rng.choice(KEYWORDS[label]))
        rows.append((" ".join(words), label))
    return rows


def write_csv(path: Path, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def tiny_config(teacher: Path) -> PipelineConfig:
    cfg = PipelineConfig()
    return replace(
        cfg,
        teacher=replace(cfg.teacher, name=str(teacher), max_length=16, max_eval_texts=20,
                        hparams=replace(cfg.teacher.hparams, batch_size=16, learning_rate=2e-3, epochs=4, patience=2,
                                        time_budget_s=60)),
        transfer=replace(cfg.transfer, augment_copies=1),
        student=replace(cfg.student, embed_dim=16, filters=16, ngram_buckets=64, ngram_dim=4),
        distill=replace(cfg.distill, hparams=replace(cfg.distill.hparams, epochs=4, batch_size=32, learning_rate=5e-3,
                                                     time_budget_s=60)),
    )
