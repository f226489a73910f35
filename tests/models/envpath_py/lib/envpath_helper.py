"""Importable only through the model's python_path ("lib")."""


def triple(x):
    return x * 3
