"""Fine-tuning the few-label teacher's encoder, from a finished bench/fewshot.py run folder
(labelled.csv, pool.csv, stages/teacher): its head initialises the Dense layer, then
- soft: the labelled texts (hard) + N pool texts with the mixed teacher's probabilities (KL);
- lab: the labelled texts only; - mixw: labelled repeated R times + pool soft;
the test split is the early-stopping set here (optimistic for the lever). Prints the encoder
model alone and mixed with the run's n-gram half, before and after.
`python bench/fewshot_levers/encoder_finetune.py RUN N_POOL EPOCHS LR soft|lab|mixw [R]`"""
import sys, os, time, pickle, json, numpy as np
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
REPO = __import__("pathlib").Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "desktop"), str(REPO)]
import logging; logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
from modelprep.config import PipelineConfig
from modelprep.pipeline import StageRunner, prepare_data
from modelprep import fewshot
from modelprep.config import DistillConfig, HParams
from modelprep.loop import Examples, fit, predict_texts
from modelprep.ngram import load_model
run = sys.argv[1]; npool = int(sys.argv[2]); epochs = int(sys.argv[3]); lr = float(sys.argv[4]); mode = sys.argv[5]
name = run.split("/")[-1].split("-")[0]
work = __import__("pathlib").Path(run)
cfg = PipelineConfig()
p = prepare_data(StageRunner(work / "exp"), work / "labelled.csv", cfg, REPO.parent / "shared" / "data" / name / "test.csv", work / "pool.csv")
saved = np.load(work / "stages/teacher/head.npz"); ngram = load_model(work / "stages/teacher/ngram.pkl")
rec = json.load(open(work / "stages/teacher/stage.json")); w = float(rec["weight"])
head = fewshot.Head(saved["kernel"], saved["bias"], 1.0, saved["oof"], {})
model = fewshot.teacher_model(p.source, len(p.labels), head)
texts_test = list(p.data.test.texts); yt = p.data.test.y
ng_test = ngram.predict_proba(texts_test)
def score(tag):
    probs = predict_texts(model, p.test, 64, p.source.pad_id)
    mix = w * probs + (1 - w) * ng_test
    print(tag, "model", round(float(np.mean(probs.argmax(1) == yt)), 4), "mix", round(float(np.mean(mix.argmax(1) == yt)), 4), flush=True)
score("before")
pl = saved["pool_logits"]; ok = np.flatnonzero(~np.isnan(pl).any(1))
rng = np.random.default_rng(0); sub = rng.permutation(ok)[:npool]
pw = p.encoder.encode_batch([p.pool[i] for i in sub], first_window_only=True)[0]
L = len(p.train_windows)
if mode == "soft":
    ex = Examples(list(p.train_windows) + list(pw), np.concatenate([p.data.train.y, -np.ones(len(sub), int)]),
                  np.vstack([np.full((L, len(p.labels)), np.nan, np.float32), pl[sub]]))
    s, soft = HParams(batch_size=32, learning_rate=lr, epochs=epochs, class_weights=False, patience=99), DistillConfig(temperature=1.0, alpha=1.0)
elif mode == "lab":
    ex = Examples(list(p.train_windows), p.data.train.y)
    s, soft = HParams(batch_size=16, learning_rate=lr, epochs=epochs, class_weights=False, patience=99), None
elif mode == "mixw":  # labelled hard repeated + pool soft
    rep = int(sys.argv[6])
    ex = Examples(list(p.train_windows) * rep + list(pw), np.concatenate([np.tile(p.data.train.y, rep), -np.ones(len(sub), int)]),
                  np.vstack([np.full((L * rep, len(p.labels)), np.nan, np.float32), pl[sub]]))
    s, soft = HParams(batch_size=32, learning_rate=lr, epochs=epochs, class_weights=False, patience=99), DistillConfig(temperature=1.0, alpha=0.5)
else:  # hard pseudo labels
    ex = Examples(list(p.train_windows) + list(pw), np.concatenate([p.data.train.y, pl[sub].argmax(1)]))
    s, soft = HParams(batch_size=32, learning_rate=lr, epochs=epochs, class_weights=False, patience=99), None
t = time.time()
hist, _ = fit(model, ex, p.test, len(p.labels), s, p.source.pad_id, desc="ft", distill=soft
print("fit s", round(time.time() - t), [h["val_macro_f1"] for h in hist["history"]])
score("after")
