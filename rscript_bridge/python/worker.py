"""Entry point of a Python worker: worker.py --model-dir DIR [--dataframe]."""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import modelgate_runtime  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description="modelgate Python worker")
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--dataframe", action="store_true")
    args = parser.parse_args()
    model_dir = os.path.abspath(args.model_dir)
    os.chdir(model_dir)
    return modelgate_runtime.serve(model_dir, args.dataframe)


if __name__ == "__main__":
    sys.exit(main())
