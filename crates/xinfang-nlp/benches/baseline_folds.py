"""The sklearn baseline (shared/bench/baseline_sklearn.py) on its own 5 folds, with the figures
`xinfang model cv` prints that the baseline leaves out (accuracy_at_coverage and ece, from the
logistic regression's predict_proba; LinearSVC has no probabilities), and the fold of every row
written to a file so the Rust bench scores on exactly the same folds:

  /tmp/skl/bin/python baseline_folds.py ../shared/bench/baseline_sklearn.py TRAIN.csv FOLDS.txt
  cargo bench -p xinfang-nlp --bench routing -- /abs/path/TRAIN.csv --folds-file /abs/path/FOLDS.txt
"""
import importlib.util, json, sys, time
import numpy as np
from sklearn.model_selection import StratifiedKFold

spec = importlib.util.spec_from_file_location("baseline", sys.argv[1])
base = importlib.util.module_from_spec(spec)
spec.loader.exec_module(base)


def coverage_and_ece(correct, conf):
    order = np.argsort(-conf, kind="stable")
    out = {}
    for q in (0.5, 0.8, 0.9):
        k = max(1, int(round(q * len(conf))))
        out[str(q)] = round(float(correct[order[:k]].mean()), 4)
    ece = 0.0
    for b in range(10):
        m = np.minimum((conf * 10).astype(int), 9) == b
        if m.any():
            ece += m.sum() / len(conf) * abs(correct[m].mean() - conf[m].mean())
    return out, round(float(ece), 4)


x_list, y_list = base.load(sys.argv[2])
x, y = np.array(x_list, dtype=object), np.array(y_list)
folds = np.zeros(len(y), dtype=int)
splits = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))
for k, (_, te) in enumerate(splits):
    folds[te] = k
with open(sys.argv[3], "w") as f:
    f.write("\n".join(str(k) for k in folds) + "\n")

for name, make in base.MODELS.items():
    t0 = time.time()
    preds = np.empty(len(y), dtype=object)
    conf = np.zeros(len(y))
    for tr, te in splits:
        a, b = base.features(list(x[tr]), list(x[te]))
        m = make().fit(a, y[tr])
        preds[te] = m.predict(b)
        if hasattr(m, "predict_proba"):
            conf[te] = m.predict_proba(b).max(axis=1)
    out = base.score(name + "_cv5", list(y), list(preds), len(y), time.time() - t0)
    if name == "logreg":
        out["accuracy_at_coverage"], out["ece"] = coverage_and_ece((preds == y).astype(float), conf)
    print(json.dumps(out, ensure_ascii=False), flush=True)
