"""Scripts and languages: what counts as CJK, and whether a text suits a model.

Plain Python shared by the engine (explanation units), the session (a per-file warning
when an English model is given Chinese text, or the reverse), the GUI and modelprep.
"""
from __future__ import annotations

CJK_LANGUAGES = ("zh", "ja", "ko")
WRONG_LANGUAGE = "wrong language"  # how a mismatch starts, everywhere it is shown
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
    return f"{WRONG_LANGUAGE}: the model reads {name}, this text is {other}, so its label says little"


# Words that never decide a text on their own: explanations leave them out (they are still
# part of what the model reads). Negations and degree words ("not", "never", 不, 没有, 很,
# 太) stay out of these lists: in sentiment they are often what decides.
STOPWORDS_EN = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself of off on once only or other our ours ourselves out over own same she should so some such
than that the their theirs them themselves then there these they this those through to too under
until up us was we were what when where which while who whom why will with would you your yours
yourself yourselves s t d ll m re ve im i'm it's that's there's you're we're they're i've you've
we've i'll you'll i'd you'd he's she's let's
""".split())
STOPWORDS_ZH = frozenset("""
的 了 是 在 和 与 及 或 而 且 也 就 都 又 还 把 被 让 给 对 从 向 于 以 之 其 这 那 这个 那个 这些 那些
这样 那样 我 你 您 他 她 它 我们 你们 他们 她们 它们 自己 一 一个 个 些 上 下 中 里 着 过 吧 呢 吗 啊 呀
哦 嗯 么 啦 地 得 等 等等 就是 还是 但是 可是 而且 因为 所以 如果 然后 已经 一下 一些 什么 怎么 这里 那里
""".split())


def is_filler(word: str) -> bool:
    """Punctuation, symbols and spaces only, or a stop-word (English or Chinese)."""
    w = word.strip()
    if not any(ch.isalnum() for ch in w):
        return True
    key = w.casefold().replace("\u2019", "'")
    return key in STOPWORDS_EN or key in STOPWORDS_ZH
