"""Textsort: offline text classification with LiteRT. This package is the runtime;
it never imports TensorFlow or Qt (except textsort.gui, which imports Qt)."""
__version__ = "0.1.0"
