"""A tiny but real Textsort bundle for tests, built in a few seconds with TensorFlow.

WordPiece tokenizer over a small vocabulary (English words, a few `##` pieces and
Chinese characters; BertPreTokenizer splits CJK per character) and a Keras model
Embedding -> Conv1D -> masked max pool -> Dense trained on synthetic keyword texts,
exported as dynamic-range int8 LiteRT with the bundle signature, written by
`textsort.core.bundle.write_bundle`. Tests may import TensorFlow; the runtime never does.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PAD_ID, UNK_ID, CLS_ID, SEP_ID = 0, 1, 2, 3
MAX_LENGTH = 32

EN_FILLER = (
    "the a you to is and it we i at for call now see please today this my your me "
    "are be will can get got just ok so on in of have that with what when"
).split()
ZH_FILLER = list("我这个东西们是了在有很吃饭店家买的也都还就")
PIECES = ["##s", "##ing", "##er", "##ed"]


@dataclass(frozen=True)
class TinySpec:
    """What a tiny bundle learns: label -> keywords that mark it."""

    name: str
    labels: tuple[str, ...]
    keywords: dict = field(default_factory=dict)
    filler: tuple[str, ...] = tuple(EN_FILLER)
    joiner: str = " "
    language: str = "en"
    plain_label: str = ""  # label of texts with no keyword at all


SPAM = TinySpec(
    name="tiny-spam",
    labels=("ham", "spam"),
    keywords={
        "ham": ["lunch", "mom", "tonight", "meeting", "thanks", "home"],
        "spam": ["free", "prize", "winner", "cash", "claim", "urgent"],
    },
    plain_label="ham",
)
REVIEWS_ZH = TinySpec(
    name="tiny-reviews-zh",
    labels=("正面", "负面", "neutral"),
    keywords={"正面": list("好棒赞爱"), "负面": list("差烂慢坏"), "neutral": list("般行普通")},
    filler=tuple(ZH_FILLER),
    joiner="",
    language="zh",
    plain_label="neutral",
)


def vocab() -> list[str]:
    words = set(EN_FILLER) | set(ZH_FILLER)
    for spec in (SPAM, REVIEWS_ZH):
        for kws in spec.keywords.values():
            words |= set(kws)
    words |= set("!?.,:;'\"()-")
    return SPECIALS + sorted(words) + PIECES


def tokenizer_json() -> str:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    v = {tok: i for i, tok in enumerate(vocab())}
    tok = Tokenizer(models.WordPiece(v, unk_token="[UNK]", continuing_subword_prefix="##"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tok.to_str()


def synthetic_texts(spec: TinySpec, n: int, seed: int = 0) -> tuple[list[str], list[int]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        y = i % (len(spec.labels) + 1)
        words = [rng.choice(spec.filler) for _ in range(rng.randint(2, 24))]
        if y == len(spec.labels):  # no keyword
            y = spec.labels.index(spec.plain_label)
        else:
            for _ in range(rng.randint(1, 2)):
                words.insert(rng.randint(0, len(words)), rng.choice(spec.keywords[spec.labels[y]]))
        texts.append(spec.joiner.join(words))
        labels.append(y)
    return texts, labels


def build_model_bytes(spec: TinySpec, tok_json: str, seed: int = 0) -> bytes:
    import numpy as np
    import tensorflow as tf
    import tf_keras as keras

    from textsort.core.encoding import TextEncoder, TokenizerSpec

    keras.utils.set_random_seed(seed)
    enc = TextEncoder.from_json(tok_json, TokenizerSpec(max_length=MAX_LENGTH, cls_id=CLS_ID, sep_id=SEP_ID))
    texts, labels = synthetic_texts(spec, 2000, seed)
    windows, _ = enc.encode_batch(texts, first_window_only=True)
    ids, mask = enc.pad(windows, MAX_LENGTH)
    y = np.asarray(labels)

    ids_in = keras.Input((None,), dtype="int32", name="input_ids")
    mask_in = keras.Input((None,), dtype="int32", name="attention_mask")
    m = keras.layers.Lambda(lambda t: tf.cast(tf.expand_dims(t, -1), tf.float32))(mask_in)
    x = keras.layers.Embedding(len(vocab()), 16)(ids_in)
    x = keras.layers.Lambda(lambda a: a[0] * a[1])([x, m])  # padding == Conv1D's zero padding
    x = keras.layers.Conv1D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.Lambda(lambda a: tf.reduce_max(a[0] * a[1] - (1.0 - a[1]) * 1e4, axis=1))([x, m])
    logits = keras.layers.Dense(len(spec.labels))(x)
    model = keras.Model([ids_in, mask_in], logits)
    model.compile(keras.optimizers.Adam(0.02), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit([ids, mask], y, epochs=6, batch_size=64, verbose=0)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, "input_ids"),
                                  tf.TensorSpec([None, None], tf.int32, "attention_mask")])
    def serve(input_ids, attention_mask):
        return {"logits": model([input_ids, attention_mask], training=False)}

    conv = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    return conv.convert()


def build_bundle(path: Path, spec: TinySpec = SPAM) -> Path:
    from textsort.core.bundle import write_bundle
    from textsort.core.encoding import TokenizerSpec

    tok_json = tokenizer_json()
    manifest = {
        "name": spec.name,
        "description": f"Tiny synthetic test model ({', '.join(spec.labels)})",
        "language": spec.language,
        "labels": list(spec.labels),
        "tokenizer": TokenizerSpec(max_length=MAX_LENGTH, cls_id=CLS_ID, sep_id=SEP_ID, pad_id=PAD_ID).to_dict(),
        "model": {"file": "model.tflite", "signature": "serving_default", "architecture": "cnn",
                  "quantization": "dynamic-int8"},
        "metrics": {"student_int8": {"accuracy": 1.0, "macro_f1": 1.0, "split": "synthetic", "n": 0}},
    }
    report = f"# {spec.name}\n\nA tiny synthetic model for tests.\n"
    return write_bundle(path, model_bytes=build_model_bytes(spec, tok_json), tokenizer_json=tok_json,
                        manifest=json.loads(json.dumps(manifest)), extra={"report.md": report})


if __name__ == "__main__":  # python tests/tinymodel.py OUT_DIR
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    for s in (SPAM, REVIEWS_ZH):
        print(build_bundle(out / f"{s.name}.textsort", s))
