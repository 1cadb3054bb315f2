"""Keras student -> dynamic-range int8 LiteRT flatbuffer with the bundle's signature."""
from __future__ import annotations

import tensorflow as tf

from modelprep.config import QuantConfig

QUANT_MODES = ("dynamic-int8", "float32")


def to_tflite(model, cfg: QuantConfig = QuantConfig()) -> bytes:
    """`serving_default`: int32 input_ids / attention_mask [batch, length] -> {"logits"}."""
    if cfg.mode not in QUANT_MODES:
        raise ValueError(f"unknown quantization mode {cfg.mode!r} (available: {', '.join(QUANT_MODES)})")

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="input_ids"),
                                  tf.TensorSpec([None, None], tf.int32, name="attention_mask")])
    def serve(input_ids, attention_mask):
        return {"logits": model({"input_ids": input_ids, "attention_mask": attention_mask}, training=False)}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], model)
    if cfg.mode == "dynamic-int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()
