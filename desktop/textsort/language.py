"""Scripts and languages: what counts as CJK, and whether a text suits a model.

Plain Python shared by the engine (explanation units), the session (a per-file warning
when an English model is given Chinese text, or the reverse), the GUI and modelprep.
"""
from __future__ import annotations

CJK_LANGUAGES = ("zh", "ja", "ko")
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "de": "German",
                  "fr": "French", "es": "Spanish"}


def is_cjk(ch: str) -> bool:
    """Han, kana and hangul characters (the scripts written without spaces)."""
    cp = ord(ch)
    return (
        0x3040 <= cp <= 0x30FF  # kana
        or 0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xAC00 <= cp <= 0xD7AF  # hangul
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x2FA1F
    )


def cjk_share(texts, sample: int = 5000) -> float:
    """Share of CJK characters among the non-space characters of (up to) `sample` texts:
    the corpus-level test (teacher choice, n-gram analyzers, a bundle's language)."""
    cjk = total = 0
    for t in list(texts)[:sample]:
        for ch in t:
            if not ch.isspace():
                total += 1
                cjk += is_cjk(ch)
    return cjk / total if total else 0.0


def cjk_letter_share(text: str, limit: int = 5000) -> float | None:
    """Share of the letters (in the first `limit` characters) that are CJK; None when
    the text has fewer than 4 letters (too short to tell)."""
    letters = [c for c in text[:limit] if c.isalpha()]
    if len(letters) < 4:
        return None
    return sum(1 for c in letters if is_cjk(c)) / len(letters)


def language_warning(text: str, language) -> str:
    """A sentence when the text is plainly in another script than the model's language
    (an English model given Chinese, or a Chinese model given English), else ''."""
    lang = str(language or "").lower()
    if not lang or lang in ("multi", "multilingual"):
        return ""
    share = cjk_letter_share(text)
    if share is None:
        return ""
    name = LANGUAGE_NAMES.get(lang, repr(lang))
    if lang in CJK_LANGUAGES and share < 0.2:
        other = "not Chinese/Japanese/Korean"
    elif lang not in CJK_LANGUAGES and share > 0.5:
        other = "Chinese/Japanese/Korean"
    else:
        return ""
    return f"language mismatch: the model reads {name}, this text is {other}, so its label says little"
