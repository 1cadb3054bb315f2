"""Cache the few-label teacher's int8 embeddings of every train and test text of a shared set:
`python bench/fewshot_levers/embed_cache.py waimai` -> $TEXTSORT_LEVERS_CACHE/emb_waimai.npz."""
import sys, time, csv, os
from pathlib import Path
REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
CACHE = Path(os.environ.get("TEXTSORT_LEVERS_CACHE", "/tmp/textsort-levers"))
sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
from modelprep.teachers import choose_teacher
from modelprep.vocab import prune_source
from modelprep.fewshot import Embedder
from modelprep.config import QuantConfig
from textsort.core.encoding import TextEncoder, TokenizerSpec
name = sys.argv[1]
def read(p):
    rows = list(csv.DictReader(open(p, encoding="utf-8", newline="")))
    return [" ".join(r["text"].split()) for r in rows], [r["label"] for r in rows]
tx, ty = read(DATA / name / "train.csv"); sx, sy = read(DATA / name / "test.csv")
src, _ = choose_teacher(tx[:200])
prefixes = [""]  # as modelprep.fewshot embeds
if src.config.vocab_size > 60000:
    src = prune_source(src, [p + t for p in prefixes for t in tx + sx])
spec = TokenizerSpec(max_length=128, cls_id=src.cls_id, sep_id=src.sep_id, pad_id=src.pad_id)
enc = TextEncoder.from_json(src.tokenizer_json, spec)
e = Embedder(src, enc, QuantConfig())
for pre in prefixes:
    t = time.perf_counter()
    X = e.embed([pre + x for x in tx]); S = e.embed([pre + x for x in sx])
    print(name, repr(pre), f"{1000*(time.perf_counter()-t)/(len(tx)+len(sx)):.1f} ms/text", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE / f"emb_{name}.npz", X=X, S=S, ty=np.array(ty), sy=np.array(sy))
