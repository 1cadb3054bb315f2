"""Textsort model preparation: fine-tune a BERT teacher, distill a small student,
quantize it to int8 LiteRT, verify it with the runtime, write one bundle."""
