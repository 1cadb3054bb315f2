"""Keras model -> (dynamic-range int8) LiteRT flatbuffer in MediaPipe's text-classifier layout.

`serving_default` takes Model Maker's three int32 [batch, length] inputs, `input_word_ids`,
`input_mask` and `input_type_ids` (all zeros; our models ignore it), and returns
softmax `probabilities` [batch, labels]: what MediaPipe Tasks' TextClassifier expects of a
BERT-style model. `with_metadata` (modelprep.tflite_metadata) then adds the labels and the
tokenizer. The runtime reads this layout and the older logits one (textsort.core.bundle.LAYOUTS).
"""
from __future__ import annotations

import tensorflow as tf

from modelprep.config import QuantConfig

QUANT_MODES = ("dynamic-int8", "float32")
LAYOUT = "mediapipe-text-classifier"  # textsort.core.bundle.MEDIAPIPE_LAYOUT.name


def to_tflite(model, cfg: QuantConfig = QuantConfig(), output: str = "probabilities") -> bytes:
    """`output="probabilities"`: the classifier layout above; `"embeddings"`: the model's
    raw output under that name (modelprep.fewshot's sentence encoder, never a bundle)."""
    if cfg.mode not in QUANT_MODES:
        raise ValueError(f"unknown quantization mode {cfg.mode!r} (available: {', '.join(QUANT_MODES)})")
    spec = lambda name: tf.TensorSpec([None, None], tf.int32, name=name)  # noqa: E731

    @tf.function(input_signature=[spec("input_word_ids"), spec("input_mask"), spec("input_type_ids")])
    def serve(input_word_ids, input_mask, input_type_ids):
        out = model({"input_ids": input_word_ids, "attention_mask": input_mask}, training=False)
        return {output: tf.nn.softmax(out, axis=-1) if output == "probabilities" else out}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], model)
    if cfg.mode == "dynamic-int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()
