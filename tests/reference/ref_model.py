"""ref_model.py: an independent PyTorch reference for the lcx engine.

Written from the formulas of docs/model.md, not from the C code and without
transformers: Llama / Mistral / Qwen2 / Qwen3 decoder layers, GQA, gated
attention (headwise / elementwise fused per KV group, Qwen3-Next
interleaved), RoPE with default / linear / dynamic / yarn / llama3 scaling.
Everything is computed in float64, so the C engine's F32 error is what the
comparison measures. Run with Debian's /usr/bin/python3 (python3-torch).

    from ref_model import load_model, forward
    m = load_model("tests/reference/models/llama_f32")
    logits, stats = forward(m, ids)
"""
import json
import math
import os
import struct

import numpy as np
import torch

ARCHS = ("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM")


# ---------------------------------------------------------------- loading

def read_safetensors(path):
    """name -> float64 tensor, parsing the format by hand."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[base + b:base + e]
        dt = info["dtype"]
        if dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        elif dt == "BF16":
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32).astype(np.float64)
        else:
            raise ValueError(f"{path}: {name}: dtype {dt}")
        out[name] = torch.from_numpy(arr.copy()).reshape(info["shape"])
    return out


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    index = os.path.join(model_dir, "model.safetensors.index.json")
    tensors = {}
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
        for fn in files:
            tensors.update(read_safetensors(os.path.join(model_dir, fn)))
    else:
        tensors = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    return {"config": cfg, "tensors": tensors}


# ---------------------------------------------------------------- RoPE

def rope_params(cfg, overrides=None):
    """The rope settings: config (rope_scaling or rope_parameters), then overrides."""
    p = {"type": "default", "theta": cfg.get("rope_theta", 10000.0),
         "prf": cfg.get("partial_rotary_factor", 1.0) or 1.0, "factor": 1.0,
         "orig": None, "beta_fast": 32.0, "beta_slow": 1.0, "mscale": None,
         "mscale_all_dim": None, "attention_factor": None, "truncate": True,
         "low_freq_factor": 1.0, "high_freq_factor": 4.0, "temperature": 1.0}
    for key in ("rope_scaling", "rope_parameters"):
        rs = cfg.get(key)
        if not rs:
            continue
        t = rs.get("rope_type", rs.get("type"))
        if t is not None:
            p["type"] = "default" if t == "none" else t
        for k_src, k_dst in (("rope_theta", "theta"), ("partial_rotary_factor", "prf"),
                             ("factor", "factor"), ("original_max_position_embeddings", "orig"),
                             ("beta_fast", "beta_fast"), ("beta_slow", "beta_slow"),
                             ("mscale", "mscale"), ("mscale_all_dim", "mscale_all_dim"),
                             ("attention_factor", "attention_factor"), ("truncate", "truncate"),
                             ("low_freq_factor", "low_freq_factor"),
                             ("high_freq_factor", "high_freq_factor")):
            if rs.get(k_src) is not None:
                p[k_dst] = rs[k_src]
    if p["type"] not in ("default", "linear", "dynamic", "yarn", "llama3"):
        raise ValueError("rope type " + p["type"])
    for k, v in (overrides or {}).items():
        p[k] = v
    if p["orig"] is None:
        p["orig"] = cfg.get("max_position_embeddings", 4096)
    return p


def yarn_mscale(s, m=1.0):
    return 1.0 if s <= 1 else 0.1 * m * math.log(s) + 1.0


def yarn_range(d, base, L, beta_fast, beta_slow, truncate):
    def corr_dim(r):
        return d * math.log(L / (r * 2 * math.pi)) / (2 * math.log(base))
    low, high = corr_dim(beta_fast), corr_dim(beta_slow)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, d - 1)
    if low == high:
        high += 0.001
    return low, high


def rope_inv_freq(p, head_dim, seq_len):
    """(inv_freq [d/2] float64, magnitude on cos and sin, d)."""
    d = int(head_dim * p["prf"])
    s = float(p["factor"])
    base = float(p["theta"])
    L = p["orig"]
    if p["type"] == "dynamic" and seq_len > L:
        base = base * ((s * seq_len / L) - (s - 1)) ** (d / (d - 2))
    i = torch.arange(0, d // 2, dtype=torch.float64)
    inv = base ** (-2 * i / d)
    mag = 1.0
    if p["type"] == "linear":
        inv = inv / s
    elif p["type"] == "yarn":
        low, high = yarn_range(d, base, L, p["beta_fast"], p["beta_slow"], p["truncate"])
        ramp = ((i - low) / (high - low)).clamp(0, 1)
        extrap = 1 - ramp
        inv = inv / s * (1 - extrap) + inv * extrap
        if p["attention_factor"] is not None:
            mag = p["attention_factor"]
        elif p["mscale"] and p["mscale_all_dim"]:
            mag = yarn_mscale(s, p["mscale"]) / yarn_mscale(s, p["mscale_all_dim"])
        else:
            mag = yarn_mscale(s)
    elif p["type"] == "llama3":
        lff, hff = p["low_freq_factor"], p["high_freq_factor"]
        wavelen = 2 * math.pi / inv
        low_w, high_w = L / lff, L / hff
        smooth = (L / wavelen - lff) / (hff - lff)
        mid = (1 - smooth) * inv / s + smooth * inv
        inv = torch.where(wavelen > low_w, inv / s, torch.where(wavelen < high_w, inv, mid))
    if p["type"] != "yarn" and p["attention_factor"] is not None:
        mag = p["attention_factor"]
    return inv, mag, d


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def apply_rope(x, cos, sin, d):
    """x [T, heads, head_dim]; rotate the first d dims (pairs i, i + d/2)."""
    xr, xp = x[..., :d], x[..., d:]
    xr = xr * cos[:, None, :] + rotate_half(xr) * sin[:, None, :]
    return torch.cat((xr, xp), dim=-1)


# ---------------------------------------------------------------- forward

def rmsnorm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def forward(model, ids, overrides=None, seq_len=None):
    """Logits [T, vocab] (float64) and per-layer probe statistics."""
    cfg, W = model["config"], model["tensors"]
    arch = cfg["architectures"][0]
    if arch not in ARCHS:
        raise ValueError(arch)
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads") or H
    G = H // KV
    hd = cfg.get("head_dim") or cfg["hidden_size"] // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    gate = ("headwise" if cfg.get("headwise_attn_output_gate") else
            "elementwise" if cfg.get("elementwise_attn_output_gate") else
            "interleaved" if cfg.get("attn_output_gate") else None)
    window = cfg.get("sliding_window") if arch == "MistralForCausalLM" else None
    ids = torch.tensor(ids, dtype=torch.long)
    T = len(ids)
    p = rope_params(cfg, overrides)
    inv, mag, d = rope_inv_freq(p, hd, seq_len or T)
    pos = torch.arange(T, dtype=torch.float64)
    freqs = pos[:, None] * inv[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos() * mag, emb.sin() * mag
    scale = 1.0 / math.sqrt(hd) / p["temperature"]

    i = torch.arange(T)
    allowed = i[None, :] <= i[:, None]
    if window:
        allowed &= i[None, :] > i[:, None] - window

    x = W["model.embed_tokens.weight"][ids]
    stats = []
    for l in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{l}."

        def lin(name, inp):
            y = inp @ W[pre + name + ".weight"].T
            b = W.get(pre + name + ".bias")
            return y if b is None else y + b

        h = rmsnorm(x, W[pre + "input_layernorm.weight"], eps)
        qg = lin("self_attn.q_proj", h)
        if gate is None:
            q, g = qg.view(T, H, hd), None
        elif gate == "interleaved":
            qg = qg.view(T, H, 2 * hd)
            q, g = qg[..., :hd], qg[..., hd:]
        else:
            gw = 1 if gate == "headwise" else hd
            qg = qg.view(T, KV, G * hd + G * gw)
            q = qg[..., :G * hd].reshape(T, H, hd)
            g = qg[..., G * hd:].reshape(T, H, gw)
        k = lin("self_attn.k_proj", h).view(T, KV, hd)
        v = lin("self_attn.v_proj", h).view(T, KV, hd)
        if arch == "Qwen3ForCausalLM":
            q = rmsnorm(q, W[pre + "self_attn.q_norm.weight"], eps)
            k = rmsnorm(k, W[pre + "self_attn.k_norm.weight"], eps)
        q = apply_rope(q, cos, sin, d)
        k = apply_rope(k, cos, sin, d)
        k = k.repeat_interleave(G, dim=1)  # head h uses kv head h // G
        v = v.repeat_interleave(G, dim=1)
        scores = torch.einsum("thd,shd->hts", q, k) * scale
        scores = scores.masked_fill(~allowed[None], float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        out = torch.einsum("hts,shd->thd", probs, v)
        st = {"sink_share": probs[:, T // 2:, 0].mean().item()}
        if g is not None:
            gs = torch.sigmoid(g)
            out = out * gs
            st["gate_mean"] = gs.mean().item()
            st["gate_low"] = (gs < 0.1).double().mean().item()
        x = x + lin("self_attn.o_proj", out.reshape(T, H * hd))
        h = rmsnorm(x, W[pre + "post_attention_layernorm.weight"], eps)
        a = lin("mlp.gate_proj", h)
        x = x + lin("mlp.down_proj", a * torch.sigmoid(a) * lin("mlp.up_proj", h))
        st["max_abs_hidden"] = x.abs().max().item()
        stats.append(st)
    x = rmsnorm(x, W["model.norm.weight"], eps)
    head = W.get("lm_head.weight")
    if head is None or cfg.get("tie_word_embeddings"):
        head = W["model.embed_tokens.weight"]
    return x @ head.T, stats
