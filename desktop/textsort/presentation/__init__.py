"""Presentation: the model card, label colours, untrusted text on a terminal."""
