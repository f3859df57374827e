"""make_models.py: small random models in every supported architecture and gate
layout, written as Hugging Face directories, with golden logits from
ref_model.py. The C test tests/test_engine_logits.c compares against them
without torch.

    /usr/bin/python3 tests/reference/make_models.py [OUT_DIR]

Each model directory gets: config.json, model.safetensors (or shards and
model.safetensors.index.json), ids.json (the input ids), logits.npy
[tokens, vocab] float32, stats.json (probe statistics per layer) and, where a
case lists overrides, logits_<name>.npy with cases.json describing them.

Big benchmark model (not committed):
    /usr/bin/python3 tests/reference/make_models.py --bench DIR
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_model  # noqa: E402

SEQ = 80    # longer than the C test's prefill chunk (32)
VOCAB = 256


def to_bytes(arr, dtype):
    a = np.ascontiguousarray(arr, dtype=np.float32)
    if dtype == "F32":
        return a.astype("<f4").tobytes()
    if dtype == "F16":
        return a.astype("<f2").tobytes()
    if dtype == "BF16":
        t = torch.from_numpy(a).to(torch.bfloat16)
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors, dtype):
    """tensors: name -> float32 array; norms stay F32, matrices use dtype."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        arr = tensors[name]
        dt = dtype if arr.ndim == 2 else ("F32" if dtype == "F32" else dtype)
        raw = to_bytes(arr, dt)
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make_tensors(cfg, rng):
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    hd = cfg.get("head_dim") or cfg["hidden_size"] // H
    D, F, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    arch = cfg["architectures"][0]
    q_rows = H * hd
    if cfg.get("headwise_attn_output_gate"):
        q_rows += H
    elif cfg.get("elementwise_attn_output_gate") or cfg.get("attn_output_gate"):
        q_rows *= 2

    def mat(r, c, std=None):
        return (rng.standard_normal((r, c)) * (std or 1.0 / np.sqrt(c))).astype(np.float32)

    def norm(n):
        return (1.0 + 0.2 * rng.standard_normal(n)).astype(np.float32)

    t = {"model.embed_tokens.weight": mat(V, D, 1.0), "model.norm.weight": norm(D)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = norm(D)
        t[p + "post_attention_layernorm.weight"] = norm(D)
        t[p + "self_attn.q_proj.weight"] = mat(q_rows, D, 2.0 / np.sqrt(D))
        t[p + "self_attn.k_proj.weight"] = mat(KV * hd, D, 2.0 / np.sqrt(D))
        t[p + "self_attn.v_proj.weight"] = mat(KV * hd, D)
        t[p + "self_attn.o_proj.weight"] = mat(D, H * hd)
        t[p + "mlp.gate_proj.weight"] = mat(F, D)
        t[p + "mlp.up_proj.weight"] = mat(F, D)
        t[p + "mlp.down_proj.weight"] = mat(D, F)
        if arch == "Qwen2ForCausalLM" or cfg.get("attention_bias"):
            t[p + "self_attn.q_proj.bias"] = (0.2 * rng.standard_normal(q_rows)).astype(np.float32)
            t[p + "self_attn.k_proj.bias"] = (0.2 * rng.standard_normal(KV * hd)).astype(np.float32)
            t[p + "self_attn.v_proj.bias"] = (0.2 * rng.standard_normal(KV * hd)).astype(np.float32)
        if cfg.get("attention_bias"):
            t[p + "self_attn.o_proj.bias"] = (0.2 * rng.standard_normal(D)).astype(np.float32)
        if arch == "Qwen3ForCausalLM":
            t[p + "self_attn.q_norm.weight"] = norm(hd)
            t[p + "self_attn.k_norm.weight"] = norm(hd)
    if not cfg.get("tie_word_embeddings"):
        t["lm_head.weight"] = mat(V, D)
    return t


def base_config(arch, **kw):
    cfg = {"architectures": [arch], "hidden_size": 64, "intermediate_size": 96,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "vocab_size": VOCAB, "max_position_embeddings": 64, "rms_norm_eps": 1e-5,
           "rope_theta": 10000.0, "tie_word_embeddings": False, "hidden_act": "silu",
           "bos_token_id": 1, "eos_token_id": 2}
    cfg.update(kw)
    return cfg


# name, dtype, config, shards, extra override cases {name: overrides}
MODELS = [
    ("llama_f32", "F32", base_config("LlamaForCausalLM"), 1,
     {"yarn4_temp": {"type": "yarn", "factor": 4.0, "orig": 32, "temperature": 1.5},
      "dynamic2": {"type": "dynamic", "factor": 2.0},
      "linear2_af": {"type": "linear", "factor": 2.0, "attention_factor": 1.2}}),
    ("mistral_f32_sharded", "F32",
     base_config("MistralForCausalLM", sliding_window=24, num_key_value_heads=1), 2, {}),
    ("qwen2_bf16", "BF16", base_config("Qwen2ForCausalLM", tie_word_embeddings=True), 1, {}),
    ("qwen3_f16", "F16", base_config("Qwen3ForCausalLM", head_dim=32,
                                     rope_scaling={"rope_type": "yarn", "factor": 4.0,
                                                   "original_max_position_embeddings": 32}), 1, {}),
    ("qwen3_gate_headwise", "F32",
     base_config("Qwen3ForCausalLM", headwise_attn_output_gate=True,
                 rope_scaling={"type": "yarn", "factor": 32.0,
                               "original_max_position_embeddings": 16, "truncate": False}), 1, {}),
    ("qwen3_gate_elementwise", "BF16",
     base_config("Qwen3ForCausalLM", elementwise_attn_output_gate=True, head_dim=24,
                 rope_parameters={"rope_type": "yarn", "rope_theta": 1000000.0, "factor": 1.0,
                                  "original_max_position_embeddings": 32}), 1, {}),
    ("llama_gate_interleaved", "F32",
     base_config("LlamaForCausalLM", attn_output_gate=True, partial_rotary_factor=0.5,
                 attention_bias=True,
                 rope_scaling={"rope_type": "yarn", "factor": 4.0, "attention_factor": 0.9,
                               "beta_fast": 16.0, "beta_slow": 2.0,
                               "original_max_position_embeddings": 32}), 1, {}),
    ("llama3_rope_f32", "F32",
     base_config("LlamaForCausalLM", num_key_value_heads=4,
                 rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 32}),
     1, {"yarn_betas": {"type": "yarn", "factor": 4.0, "orig": 32, "beta_fast": 8.0,
                        "beta_slow": 2.0, "truncate": False}}),
]


def bytelevel_tokenizer():
    """A byte-level BPE tokenizer.json with the 256 byte tokens and no merges
    (GPT-2's byte-to-unicode map), so a 256-token test model reads text."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + \
        list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    byte_char = {b: chr(c) for b, c in zip(bs, cs)}
    vocab = {byte_char[b]: b for b in range(256)}
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": None, "pre_tokenizer": bl, "post_processor": None, "decoder": bl,
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": []}}


def write_model(out, name, dtype, cfg, shards, cases, seed):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    tensors = make_tensors(cfg, rng)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    for fn in os.listdir(d):
        if fn.endswith(".safetensors") or fn.endswith(".npy") or fn.endswith(".index.json"):
            os.remove(os.path.join(d, fn))
    if shards == 1:
        write_safetensors(os.path.join(d, "model.safetensors"), tensors, dtype)
    else:
        names = sorted(tensors)
        wm = {}
        for s in range(shards):
            fn = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: tensors[n] for n in names[s::shards]}
            write_safetensors(os.path.join(d, fn), part, dtype)
            wm.update({n: fn for n in part})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": wm}, f, indent=1)
    if name == "qwen3_gate_headwise":
        with open(os.path.join(d, "tokenizer.json"), "w") as f:
            json.dump(bytelevel_tokenizer(), f, ensure_ascii=False)
    ids = [int(x) for x in rng.integers(0, VOCAB, SEQ)]
    ids[0] = 1
    with open(os.path.join(d, "ids.json"), "w") as f:
        json.dump(ids, f)
    model = ref_model.load_model(d)
    logits, stats = ref_model.forward(model, ids)
    np.save(os.path.join(d, "logits.npy"), logits.numpy().astype(np.float32))
    with open(os.path.join(d, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    for cname, ov in cases.items():
        lg, _ = ref_model.forward(model, ids, overrides=ov)
        np.save(os.path.join(d, f"logits_{cname}.npy"), lg.numpy().astype(np.float32))
    if cases:
        with open(os.path.join(d, "cases.json"), "w") as f:
            json.dump(cases, f, indent=1)
    print(f"{name}: max|logit| {logits.abs().max().item():.3f}")


# RoPE tables for tests/test_rope.c: (head_dim, prf, config rope dict, seq_len)
YARN_CASES = [
    (64, 1.0, {"rope_theta": 1e6, "max_position_embeddings": 32768,
               "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}, 1000),
    (128, 1.0, {"rope_theta": 1e6, "max_position_embeddings": 131072,
                "rope_scaling": {"rope_type": "yarn", "factor": 4.0,
                                 "original_max_position_embeddings": 32768}}, 1000),
    (128, 1.0, {"rope_theta": 1e6, "rope_scaling": {"rope_type": "yarn", "factor": 32.0,
                "original_max_position_embeddings": 4096, "truncate": False}}, 1000),
    (128, 1.0, {"rope_theta": 1e4, "rope_scaling": {"rope_type": "yarn", "factor": 40.0,
                "original_max_position_embeddings": 4096, "mscale": 1.0,
                "mscale_all_dim": 0.707, "beta_fast": 32, "beta_slow": 1}}, 1000),
    (64, 0.5, {"rope_theta": 1e4, "rope_scaling": {"rope_type": "yarn", "factor": 8.0,
               "original_max_position_embeddings": 2048, "attention_factor": 1.5}}, 1000),
    (64, 1.0, {"rope_theta": 1e4, "rope_scaling": {"rope_type": "yarn", "factor": 1.0,
               "original_max_position_embeddings": 2048}}, 1000),
    (64, 1.0, {"rope_theta": 5e5, "rope_scaling": {"rope_type": "linear", "factor": 4.0}}, 1000),
    (64, 1.0, {"rope_theta": 1e4, "max_position_embeddings": 2048,
               "rope_scaling": {"type": "dynamic", "factor": 4.0}}, 10000),
    (128, 1.0, {"rope_theta": 5e5, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
                "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                "original_max_position_embeddings": 8192}}, 1000),
]


def write_yarn_tables(path):
    out = []
    for hd, prf, cfg, seq in YARN_CASES:
        c = dict(cfg)
        c.setdefault("max_position_embeddings", 4096)
        c["partial_rotary_factor"] = prf
        p = ref_model.rope_params(c)
        inv, mag, d = ref_model.rope_inv_freq(p, hd, seq)
        out.append({"head_dim": hd, "config": c, "seq_len": seq, "rot_dim": d,
                    "magnitude": mag, "inv_freq": [float(x) for x in inv]})
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


def write_bench_model(d):
    """A small model for the engine benchmark (not committed)."""
    cfg = base_config("Qwen3ForCausalLM", hidden_size=256, intermediate_size=512,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=64,
                      num_hidden_layers=2, vocab_size=512, max_position_embeddings=32768,
                      rope_theta=1000000.0, headwise_attn_output_gate=True)
    os.makedirs(d, exist_ok=True)
    tensors = make_tensors(cfg, np.random.default_rng(7))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(d, "model.safetensors"), tensors, "BF16")
    print(f"bench model in {d}")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--bench":
        write_bench_model(sys.argv[2])
        return
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "models")
    for seed, (name, dtype, cfg, shards, cases) in enumerate(MODELS):
        write_model(out, name, dtype, cfg, shards, cases, 1000 + seed)
    write_yarn_tables(os.path.join(out, "yarn_tables.json"))


if __name__ == "__main__":
    main()
