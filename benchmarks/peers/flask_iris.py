"""The same sklearn model behind Flask, as users run it today, and a trivial
endpoint that returns its input (Flask's own cost). Started by
benchmarks/compare.py under gunicorn with one sync worker per core
(`nproc`), gunicorn's recommended sync setup for CPU-bound work, with
MODEL_PKL set."""
import os
import pickle

import numpy as np
from flask import Flask, jsonify, request

app = Flask(__name__)
with open(os.environ["MODEL_PKL"], "rb") as f:
    model = pickle.load(f)


@app.post("/predict")
def predict():
    x = np.asarray(request.get_json()["features"], dtype=np.float64)
    return jsonify(label=model.predict(x).tolist(), probabilities=model.predict_proba(x).tolist())


@app.post("/echo")
def echo():
    return jsonify(y=request.get_json()["x"])
