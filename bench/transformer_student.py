"""Could a transformer student cut from the teacher fit the default rung's budget (<= 1 ms of
model time per text, <= 12 MB)? MiniLM's first N layers (full vocabulary, random head) as
int8 LiteRT, timed on a data set's test texts (first 600, first window, batches of 32 by
length, 2 threads) next to the CNN student of a bundle, through the same loop:

    python bench/transformer_student.py ag_news runs/bench/ag_news.textsort [--layers 1 2 6]

Prints one table row per model: MB of the .tflite and ms per text (best of 2 passes).
Accuracy is not measured here: speed alone rules a student in or out of the rung.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def ms_per_text(model: bytes, windows: list[list[int]], threads: int = 2) -> float:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=model, num_threads=threads)
    inputs = it.get_input_details()
    order = np.argsort([len(w) for w in windows])
    t0 = time.perf_counter()
    for i in range(0, len(order), 32):
        idx = order[i:i + 32]
        ids = np.zeros((len(idx), max(len(windows[j]) for j in idx)), np.int32)
        for r, j in enumerate(idx):
            ids[r, :len(windows[j])] = windows[j]
        for d in inputs:
            it.resize_tensor_input(d["index"], ids.shape)
        it.allocate_tensors()
        for d in inputs:  # MediaPipe layout: input_word_ids, input_mask, input_type_ids
            value = ids if "word" in d["name"] else np.ones_like(ids) if "mask" in d["name"] else np.zeros_like(ids)
            it.set_tensor(d["index"], value)
        it.invoke()
    return 1000 * (time.perf_counter() - t0) / len(windows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset")
    p.add_argument("bundle", help="a bundle whose student (the shipped model.tflite) is the reference")
    p.add_argument("--layers", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from bench.modelprep import data_folder
    from modelprep.bert import build_teacher
    from modelprep.data import prepare
    from modelprep.export import to_tflite
    from modelprep.teachers import read_minilm
    from tokenizers import Tokenizer

    folder = data_folder(args.dataset)
    data = prepare(folder / "train.csv", test_path=folder / "test.csv")
    source = read_minilm()
    tok = Tokenizer.from_str(source.tokenizer_json)
    tok.no_padding()
    windows = [e.ids[:128] for e in tok.encode_batch(data.test.texts[:600])]
    print(f"{args.dataset}: {len(windows)} test texts, {np.mean([len(w) for w in windows]):.1f} tokens on average\n")
    print("| model | MB | ms/text |\n|---|---|---|")
    with zipfile.ZipFile(args.bundle) as z:
        cnn = z.read(next(n for n in z.namelist() if n.endswith(".tflite")))
    print(f"| CNN student of {Path(args.bundle).name} | {len(cnn) / 1e6:.1f} | "
          f"{min(ms_per_text(cnn, windows) for _ in range(2)):.2f} |", flush=True)
    for n in args.layers:
        cut = replace(source, config=replace(source.config, num_hidden_layers=n))
        model = to_tflite(build_teacher(cut, len(data.labels)))
        print(f"| MiniLM, first {n} layer(s), int8 | {len(model) / 1e6:.1f} | "
              f"{min(ms_per_text(model, windows) for _ in range(2)):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
