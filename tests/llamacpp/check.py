#!/usr/bin/python3
"""tests/llamacpp/check.py: the JSON and HTTP work of tests/test_llamacpp.sh
(standard library only). Each command prints its result or one line
starting with "FAIL:" and exits 1.

  health URL                    exit 0 when GET URL/health answers 200
  chat URL                      print the HTTP status of a one-token chat request
                                (then the start of the reply when it is not 200)
  tokenize URL < texts.jsonl    one JSON string a line in, llama-server's
                                /tokenize ids (no special tokens) a line out
  same A B                      the two files hold the same JSON values, line by line
  texts GEN                     input + answer_prefix of every record under GEN,
                                one JSON string a line
  runtime RUN KEY               run.json's runtime.KEY
  budget RUN                    "RECORDS BYTES": the run's records and the bytes
                                of their prompts (input + answer_prefix)
  prompts RUN GEN [--bos]       every record of RUN/pred/L/T.jsonl has the input
                                and length of GEN/L/T.jsonl's record with its
                                index, and no error; --bos: and the server's
                                prompt_tokens is length + 1
  echoed RUN                    how many predictions start with their answer prefix
  agree A B CHARS               "SAME TOTAL MEAN_DELTA MAX_DELTA": of A's predictions,
                                how many equal B's for the same cell and index in
                                their first CHARS characters (0: whole), and the
                                mean and largest |score difference| of the tasks
                                in both summaries (mean row excluded)
"""
import json
import os
import sys
import urllib.error
import urllib.request


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def request(url, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def cells(base):
    """(length, task file) for every jsonl under base/<length>/"""
    for length in sorted(os.listdir(base), key=int):
        for name in sorted(os.listdir(os.path.join(base, length))):
            if name.endswith(".jsonl"):
                yield length, name


def run_records(run):
    for length, name in cells(os.path.join(run, "pred")):
        for r in records(os.path.join(run, "pred", length, name)):
            yield length, name, r


def main(argv):
    if len(argv) < 2:
        fail("usage: check.py COMMAND ARGS (see the docstring)")
    cmd, args = argv[1], argv[2:]
    if cmd == "health":
        status, _ = request(args[0] + "/health", timeout=5)
        sys.exit(0 if status == 200 else 1)
    elif cmd == "chat":
        body = {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 1}
        status, text = request(args[0] + "/v1/chat/completions", body)
        print(status if status == 200 else f"{status} {' '.join(text.split())[:200]}")
    elif cmd == "tokenize":
        for line in sys.stdin:
            status, text = request(args[0] + "/tokenize", {"content": json.loads(line), "add_special": False})
            if status != 200:
                fail(f"/tokenize answered {status}: {text[:200]}")
            print(json.dumps(json.loads(text)["tokens"], separators=(",", ":")))
    elif cmd == "same":
        with open(args[0], encoding="utf-8") as fa, open(args[1], encoding="utf-8") as fb:
            a, b = fa.read().splitlines(), fb.read().splitlines()
        if len(a) != len(b):
            fail(f"{args[0]} has {len(a)} lines, {args[1]} {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            if json.loads(x) != json.loads(y):
                fail(f"line {i + 1} differs: {x[:120]} / {y[:120]}")
        print(len(a))
    elif cmd == "texts":
        for length, name in cells(args[0]):
            for r in records(os.path.join(args[0], length, name)):
                print(json.dumps(r["input"] + r["answer_prefix"], ensure_ascii=False))
    elif cmd == "runtime":
        with open(os.path.join(args[0], "run.json"), encoding="utf-8") as f:
            v = json.load(f).get("runtime", {}).get(args[1])
        print("" if v is None else v)
    elif cmd == "budget":
        n = nbytes = 0
        for _, _, r in run_records(args[0]):
            n += 1
            nbytes += len((r["input"] + r["answer_prefix"]).encode("utf-8"))
        print(n, nbytes)
    elif cmd == "prompts":
        run, gen, bos = args[0], args[1], "--bos" in args[2:]
        n = 0
        for length, name in cells(os.path.join(run, "pred")):
            if not os.path.exists(os.path.join(gen, length, name)):
                fail(f"{length}/{name}: run, but not in lcx gen's output")
            want = {r["index"]: r for r in records(os.path.join(gen, length, name))}
            got = records(os.path.join(run, "pred", length, name))
            if sorted(r["index"] for r in got) != sorted(want):
                fail(f"{length}/{name}: samples {sorted(r['index'] for r in got)}, lcx gen has {sorted(want)}")
            for r in got:
                g, where = want[r["index"]], f"{length}/{name} sample {r['index']}"
                if r.get("error") is not None:
                    fail(f"{where}: the request failed: {r['error']}")
                if r["input"] != g["input"]:
                    fail(f"{where}: the prompt differs from lcx gen's ({len(r['input'])} and {len(g['input'])} characters)")
                if r["length"] != g["length"]:
                    fail(f"{where}: length {r['length']}, lcx gen's {g['length']}")
                if bos and r.get("prompt_tokens") != r["length"] + 1:
                    fail(f"{where}: llama-server evaluated {r.get('prompt_tokens')} tokens for a {r['length']}-token prompt plus BOS")
                n += 1
        print(n)
    elif cmd == "agree":
        a, b, chars = argv[2], argv[3], int(argv[4])
        same = total = 0
        for length, name in cells(os.path.join(a, "pred")):
            path_b = os.path.join(b, "pred", length, name)
            other = {r["index"]: r.get("pred") or "" for r in records(path_b)} if os.path.exists(path_b) else {}
            for r in records(os.path.join(a, "pred", length, name)):
                total += 1
                pa, pb = r.get("pred") or "", other.get(r["index"])
                if pb is not None and (pa == pb if chars == 0 else pa[:chars] == pb[:chars]):
                    same += 1

        def scores(run):
            out = {}
            with open(os.path.join(run, "summary.csv")) as f:
                for line in f.read().splitlines()[1:]:
                    length, task, score = line.split(",")[:3]
                    if task != "mean":
                        out[(length, task)] = float(score)
            return out

        sa, sb = scores(a), scores(b)
        deltas = [abs(sa[k] - sb[k]) for k in sa if k in sb]
        if not total or not deltas:
            fail(f"nothing to compare in {a} and {b}")
        print(f"{same} {total} {sum(deltas) / len(deltas):.2f} {max(deltas):.2f}")
    elif cmd == "echoed":
        n = k = 0
        for _, _, r in run_records(args[0]):
            n += 1
            prefix = r["answer_prefix"].strip()
            k += bool(prefix) and (r.get("pred") or "").strip().startswith(prefix)
        print(f"{k}/{n}")
    else:
        fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
