"""The reference fit of LinearProbeTest: scikit-learn's multinomial logistic regression (Debian
python3-sklearn), L-BFGS to a tight tolerance, on the data the test wrote.
Run: python3 logistic_reference.py DATA.json OUT.json

DATA.json: {"x": [[...], ...], "y": [...], "lambda": L}. The project's objective is the mean
cross-entropy plus (L / 2) |W|^2 with the bias unpenalized, which is sklearn's with C = 1 / (n L).
OUT.json: {"coef": [[classes x features]], "intercept": [...], "objective": value of that objective}."""
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

data = json.load(open(sys.argv[1]))
x = np.array(data["x"], dtype=np.float64)
y = np.array(data["y"])
lam = data["lambda"]
n = x.shape[0]
model = LogisticRegression(multi_class="multinomial", solver="lbfgs", C=1.0 / (n * lam), tol=1e-12, max_iter=100000)
model.fit(x, y)
z = x @ model.coef_.T + model.intercept_
z -= z.max(axis=1, keepdims=True)
logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
objective = -logp[np.arange(n), y].mean() + lam / 2 * (model.coef_ ** 2).sum()
json.dump({"coef": model.coef_.tolist(), "intercept": model.intercept_.tolist(), "objective": objective,
           "sklearn": __import__("sklearn").__version__}, open(sys.argv[2], "w"))
