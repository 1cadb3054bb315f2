"""SetFit-style contrastive fine-tuning (cosine-similarity loss on same/different-label pairs,
ITERS positive and ITERS negative pairs per labelled text) of the few-label teacher's encoder,
then LR (C by 5-fold CV) on the labelled embeddings; test accuracy before and after.
`python bench/fewshot_levers/setfit.py RUN ITERS LR` (RUN: a bench/fewshot.py run folder)"""
import sys, os, time, numpy as np
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
REPO = __import__("pathlib").Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
import logging; logging.basicConfig(level=logging.WARNING)
import tensorflow as tf, tf_keras
from pathlib import Path
from modelprep.config import PipelineConfig
from modelprep.pipeline import StageRunner, prepare_data
from modelprep.bert import build_teacher
from modelprep.loop import pad_batch, predict_logits, seed_everything
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
run = Path(sys.argv[1]); iters = int(sys.argv[2]); lr = float(sys.argv[3])
name = run.name.split("-")[0]
p = prepare_data(StageRunner(run / "exp"), run / "labelled.csv", PipelineConfig(), REPO.parent / "shared" / "data" / name / "test.csv", run / "pool.csv")
seed_everything(0)
model = build_teacher(p.source, 0, "mean_l2")
Wt = p.test.windows; owner = p.test.owner
first = np.array([np.flatnonzero(owner == i)[0] for i in range(len(p.test.y))])
def emb(wins):
    return predict_logits(model, wins, 64, p.source.pad_id)
def evaluate(tag):
    X = emb(p.train_windows); S = emb([Wt[i] for i in first]); y = p.data.train.y
    best = max([0.25, 1, 4, 16, 64], key=lambda C: cross_val_score(LogisticRegression(C=C, max_iter=3000), X, y, cv=5).mean())
    clf = LogisticRegression(C=best, max_iter=3000).fit(X, y)
    print(tag, "C", best, "test", round(float(np.mean(clf.predict(S) == p.test.y)), 4), flush=True)
evaluate("frozen")
y = p.data.train.y; rng = np.random.default_rng(0)
pairs = []
for _ in range(iters):
    for i in range(len(y)):
        same = np.flatnonzero((y == y[i]) & (np.arange(len(y)) != i)); diff = np.flatnonzero(y != y[i])
        pairs.append((i, rng.choice(same), 1.0)); pairs.append((i, rng.choice(diff), 0.0))
pairs = [pairs[j] for j in rng.permutation(len(pairs))]
bs = 16; steps = len(pairs) // bs
sched = tf_keras.optimizers.schedules.PolynomialDecay(lr, steps, 0.0)
opt = tf_keras.optimizers.AdamW(learning_rate=sched, weight_decay=0.01)
W = p.train_windows
@tf.function(reduce_retracing=True)
def step(ia, ma, ib, mb, lab):
    with tf.GradientTape() as tape:
        a = model({"input_ids": ia, "attention_mask": ma}, training=True)
        b = model({"input_ids": ib, "attention_mask": mb}, training=True)
        loss = tf.reduce_mean((tf.reduce_sum(a * b, -1) - lab) ** 2)
    g = tape.gradient(loss, model.trainable_variables); opt.apply_gradients(zip(g, model.trainable_variables)); return loss
t = time.time()
for s in range(steps):
    batch = pairs[s * bs:(s + 1) * bs]
    ia, ma = pad_batch([W[a] for a, _, _ in batch], p.source.pad_id); ib, mb = pad_batch([W[b] for _, b, _ in batch], p.source.pad_id)
    l = step(ia, ma, ib, mb, np.array([c for _, _, c in batch], np.float32))
    if s % 50 == 0: print(s, steps, float(l), round(time.time() - t), flush=True)
print("train s", round(time.time() - t))
evaluate("setfit")
