"""make_train_fixture.py: regenerate tests/reference/train/losses.json, the
golden first 20 losses of tests/test_train_reference.c.

    /usr/bin/python3 tests/reference/make_train_fixture.py

from the repository root. It builds build/tests/test_train_reference, runs
it with --dump (the C side's seeded initial weights as Hugging Face
directories, and the batches and optimiser settings in run.json), then
trains the same runs in PyTorch, float64 (tests/reference/train_ref.py) and
writes the losses with the C side's fingerprint of its inputs. Needs
Debian's python3-torch; CI needs only the committed JSON.
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "reference", "train", "losses.json")


def main():
    os.chdir(ROOT)
    subprocess.run(["make", "--no-print-directory", "build/tests/test_train_reference"],
                   check=True)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with tempfile.TemporaryDirectory() as dump:
        subprocess.run(["build/tests/test_train_reference", "--dump", dump], check=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "reference", "train_ref.py"),
                        dump, OUT], check=True)
    print("wrote", os.path.relpath(OUT, ROOT))


if __name__ == "__main__":
    main()
