"""Two levers on cached embeddings (embed_cache.py), scored on test.csv, seeds 0-2:
- the linear-probe ceiling: LR on the frozen embeddings of ALL train.csv labels;
- correcting the balanced draw's class prior to the pool's (EM, Saerens et al. 2002; BBSE from the
  out-of-fold confusion; the true pool prior) on the few-label teacher's probabilities.
`python bench/fewshot_levers/prior_and_ceiling.py waimai 16,64`"""
import os, sys
from pathlib import Path
REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
CACHE = Path(os.environ.get("TEXTSORT_LEVERS_CACHE", "/tmp/textsort-levers"))
sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
import csv, numpy as np
from modelprep import fewshot
from modelprep.config import FewShotConfig
import importlib.util
spec = importlib.util.spec_from_file_location("fs", REPO / "bench" / "fewshot.py"); fs = importlib.util.module_from_spec(spec); spec.loader.exec_module(fs)
name = sys.argv[1]; ks = [int(x) for x in sys.argv[2].split(",")]
seeds = [int(s) for s in (sys.argv[3].split(",") if len(sys.argv) > 3 else "0,1,2".split(","))]
d = np.load(CACHE / f"emb_{name}.npz"); X, S, ty, sy = d["X"], d["S"], d["ty"], d["sy"]
def read(p):
    rows = list(csv.DictReader(open(p, encoding="utf-8", newline="")))
    return [" ".join(r["text"].split()) for r in rows]
tx = read(DATA / name / "train.csv"); sx = read(DATA / name / "test.csv")
labels = sorted(set(ty)); y = np.array([labels.index(l) for l in ty]); yt = np.array([labels.index(l) for l in sy])
rows = [{"text": str(i), "label": l} for i, l in enumerate(ty)]
def em(pp, prior0, iters=100):
    pi = prior0.copy()
    for _ in range(iters):
        q = pp * (pi / prior0); q /= q.sum(1, keepdims=True)
        new = q.mean(0)
        if np.abs(new - pi).max() < 1e-6: break
        pi = new
    return pi
def bbse(oof, yl, pp, n):
    C = np.zeros((n, n))
    pred = oof.argmax(1)
    for j in range(n):
        m = yl == j
        for i in range(n): C[i, j] = np.mean(pred[m] == i)
    q = np.bincount(pp.argmax(1), minlength=n) / len(pp)
    pi = np.linalg.lstsq(C, q, rcond=None)[0]
    pi = np.clip(pi, 1e-3, None); return pi / pi.sum()
def adj(p, w):
    q = p * w; return q / q.sum(1, keepdims=True)
for k in ks:
    R = {m: [] for m in ["cur", "em", "bbse", "em_soft", "true"]}; pis = []
    for seed in seeds:
        lab, rest = fs.draw(rows, k, seed)
        L = np.array([int(q["text"]) for q in lab]); P = np.array([int(q["text"]) for q in rest])[:10000]
        n = len(labels)
        h = fewshot.choose_head(X[L], y[L], X[P], n, FewShotConfig(), [tx[i] for i in L], [tx[i] for i in P])
        logits = S @ h.weights + h.bias
        p = np.exp(logits - logits.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
        mix = fewshot._mixed(p, h.ngram.predict_proba(sx), h.weight)
        prior0 = np.bincount(y[L], minlength=n) / len(L)
        pi_em = em(h.pool_probs, prior0); pi_b = bbse(h.oof_probs, y[L], h.pool_probs, n)
        true = np.bincount(y[P], minlength=n) / len(P)
        pis.append((pi_em.round(3).tolist(), pi_b.round(3).tolist(), true.round(3).tolist()))
        acc = lambda q: float(np.mean(q.argmax(1) == yt))
        R["cur"].append(acc(mix)); R["em"].append(acc(adj(mix, pi_em / prior0))); R["bbse"].append(acc(adj(mix, pi_b / prior0)))
        R["em_soft"].append(acc(adj(mix, np.sqrt(pi_em / prior0)))); R["true"].append(acc(adj(mix, true / prior0)))
    print(name, k, {m: round(float(np.mean(v)), 4) for m, v in R.items()}, pis, flush=True)
from sklearn.linear_model import LogisticRegression
print(name, "linear-probe ceiling (all train.csv labels):",
      {C: round(float(np.mean(LogisticRegression(C=C, max_iter=5000).fit(X, y).predict(S) == yt)), 4) for C in (1, 4, 16, 64)})
