"""Fits the example model (LogisticRegression on iris); writes 1/model.pkl. Run by `make models`."""
import pickle
import sys

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

out = sys.argv[1] if len(sys.argv) > 1 else "1/model.pkl"
iris = load_iris()
model = LogisticRegression(max_iter=1000).fit(iris.data, iris.target)
with open(out, "wb") as f:
    pickle.dump(model, f)
