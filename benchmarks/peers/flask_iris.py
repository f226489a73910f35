"""The same sklearn model behind Flask, run by gunicorn with 2 sync workers as
users run it today. Started by benchmarks/compare.py with MODEL_PKL set."""
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
