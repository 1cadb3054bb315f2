"""Rebuild the bundled models from ../shared/data (train splits; each test split only
for the numbers on the model card).

    PYTHONPATH=desktop:. python assets/models/rebuild.py [sms_spam-en] [reviews-zh]

sms_spam-en: sms_spam. reviews-zh: chnsenticorp + waimai (hotel and food-delivery
reviews, both negative/positive), joined into runs/zh/{train,test}.csv. Work folders are
runs/bundled/<name> (finished stages are reused); the bundles and cards go to runs/bundled/
to be checked, then copied here by hand.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
OUT = REPO / "runs" / "bundled"


def joined(split: str, parts: list[str]) -> Path:
    out = REPO / "runs" / "zh" / f"{split}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for part in parts:
            with (DATA / part / f"{split}.csv").open(encoding="utf-8", newline="") as src:
                w.writerows([r["text"], r["label"]] for r in csv.DictReader(src))
    return out


def sources(name: str) -> tuple[Path, Path]:
    if name == "sms_spam-en":
        return DATA / "sms_spam" / "train.csv", DATA / "sms_spam" / "test.csv"
    if name == "reviews-zh":
        return joined("train", ["chnsenticorp", "waimai"]), joined("test", ["chnsenticorp", "waimai"])
    raise SystemExit(f"unknown bundled model {name!r} (sms_spam-en, reviews-zh)")


def main(names: list[str]) -> None:
    from modelprep.cli import main as prep

    for name in names or ["sms_spam-en", "reviews-zh"]:
        train, test = sources(name)
        code = prep(["train", str(train), "--test", str(test), "--name", name,
                     "--out", str(OUT / f"{name}.textsort"), "--force", "--work", str(OUT / name)])
        if code:
            raise SystemExit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
