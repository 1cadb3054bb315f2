"""modelprep.augment: deterministic, never empty, per-character for CJK text."""
import random
import re

import pytest

from modelprep.augment import OPERATIONS, AugmentConfig, augment, join_units, units

EN = ["Free entry in 2 a weekly competition to win FA Cup final tickets on 21st May 2005",
      "Sorry I will call you later when I get home tonight"]
ZH = ["这家酒店的服务非常好，房间也很干净，下次还会再来。", "送餐太慢了，菜也凉了，不会再点"]


def test_count_order_and_determinism():
    texts = EN + ZH
    out = augment(texts, copies=3, seed=7)
    assert len(out) == 3 * len(texts)
    assert out == augment(texts, copies=3, seed=7)
    assert out != augment(texts, copies=3, seed=8)
    assert augment(texts, copies=0, seed=7) == []
    # element c * len(texts) + i is a copy of texts[i]: it shares most of its units
    for c in range(3):
        for i, t in enumerate(texts):
            new = units(out[c * len(texts) + i])
            assert len(set(new) & set(units(t))) >= len(set(new) - {"[MASK]"}) * 0.8


def test_copies_differ_from_the_original_and_each_other():
    out = augment(EN * 20, copies=2, seed=1)
    assert sum(o not in EN for o in out) >= 0.95 * len(out)
    assert len(set(out)) > len(out) / 2


def test_never_empty():
    texts = ["a b", "one", "", "   ", "好", "好的", "x" * 3]
    for seed in range(30):
        for original, new in zip(texts * 5, augment(texts, copies=5, seed=seed)):
            assert new.strip() or not original.strip()
    assert augment(["one"], 3, 0) == ["one"] * 3  # one unit: nothing to edit


def test_each_operation():
    words = [f"w{i}" for i in range(20)]
    cfg = AugmentConfig()
    for seed in range(100):
        rng = random.Random(seed)
        masked = OPERATIONS["mask"](words, rng, cfg, "<m>")
        assert len(masked) == 20 and "<m>" in masked
        assert all(m in ("<m>", w) for m, w in zip(masked, words))
        swapped = OPERATIONS["swap"](words, rng, cfg, "<m>")
        assert sorted(swapped) == sorted(words) and swapped != words
        dropped = OPERATIONS["dropout"](words, rng, cfg, "<m>")
        assert 1 <= len(dropped) < 20 and dropped == [w for w in words if w in dropped]
        crop = OPERATIONS["crop"](words, rng, cfg, "<m>")
        start = words.index(crop[0])
        assert 10 <= len(crop) <= 18 and crop == words[start:start + len(crop)]  # 50-90 %, contiguous
    assert words == [f"w{i}" for i in range(20)]  # the input list is not modified


def test_mask_token_is_used():
    out = augment(EN * 10, copies=3, seed=3, mask_token="<mask>")
    assert any("<mask>" in o for o in out) and not any("[MASK]" in o for o in out)


def test_cjk_text_is_edited_per_character():
    assert units("我爱Python编程 and 深度学习。") == ["我", "爱", "Python", "编", "程", "and", "深", "度", "学", "习", "。"]
    assert join_units(["我", "[MASK]", "Python", "and", "学", "。"]) == "我[MASK] Python and学。"
    out = augment(ZH, copies=20, seed=2)
    for o in out:
        assert " " not in re.sub(r"\[MASK\]( \[MASK\])*", "#", o)  # no spaces between characters
        assert not re.search(r"[a-z]", o.replace("[MASK]", ""))
    lengths = {len(o.replace("[MASK]", "#")) for o in out[0::2]}  # the copies of ZH[0]
    assert len(lengths) > 1  # characters (not whole sentences) were dropped or cropped


def test_negative_copies_rejected():
    with pytest.raises(ValueError):
        augment(EN, copies=-1, seed=0)
