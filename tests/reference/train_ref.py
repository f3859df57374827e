"""train_ref.py: an independent PyTorch reference training loop for lcx's
trainer (train/), in float64, for the golden losses of
tests/test_train_reference.c.

Written from the architecture and the optimiser's definition in PyTorch
idioms (nn.Module, autograd, torch.optim.AdamW), not ported from train/ and
without transformers. The model reads the Hugging Face directory the C side
exports (config.json and its gated-attention flags, model.safetensors), so
the fused q_proj layout is interpreted here from the released format.

Where train/ makes a choice, this file makes the same one; each is marked
"train/ choice" below:
  - loss: per-token softmax cross-entropy, WEIGHTED MEAN sum(w*l)/sum(w)
    over all B*T tokens (train/ops.c crossentropy_forward);
  - learning rate at 0-based step s: linear warmup lr*(s+1)/warmup for
    s < warmup, then cosine from lr (at s = warmup) to min_lr (at
    s = total_steps), min_lr from total_steps on (train/model.c train_lr);
  - clipping: global L2 norm over every gradient, scale clip/norm when
    norm > clip, no epsilon in the denominator (torch's clip_grad_norm_ adds
    1e-6, so it is written out here);
  - AdamW: bias-corrected m/(sqrt(v)+eps) with eps outside the square root,
    decoupled weight decay p -= lr*wd*p (scaled by the scheduled lr, as
    torch.optim.AdamW does), on matrices only: embedding, q/k/v/o
    projections, MLP projections and an untied lm_head; not on any RMSNorm
    weight;
  - the loss reported for step s is the forward before step s's update;
  - the grad norm reported is the one before clipping.

    /usr/bin/python3 tests/reference/train_ref.py DUMP_DIR OUT.json

DUMP_DIR comes from `build/tests/test_train_reference --dump DUMP_DIR`
(run.json: optimiser, batches, fingerprints; one HF directory per case).
tests/reference/make_train_fixture.py runs both. Use Debian's
/usr/bin/python3 (python3-torch).
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_model import read_safetensors  # noqa: E402  (a file reader only)

torch.set_default_dtype(torch.float64)


class RMSNorm(nn.Module):
    """Qwen3 RMSNorm: x / sqrt(mean(x^2) + eps) * weight (weight init 1, no +1)."""

    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.KV = cfg["num_key_value_heads"]
        self.hd = cfg["head_dim"]
        if cfg.get("elementwise_attn_output_gate"):
            self.gw = self.hd
        elif cfg.get("headwise_attn_output_gate"):
            self.gw = 1
        else:
            self.gw = 0
        eps = cfg["rms_norm_eps"]
        self.q_proj = nn.Linear(C, self.H * (self.hd + self.gw), bias=False)
        self.k_proj = nn.Linear(C, self.KV * self.hd, bias=False)
        self.v_proj = nn.Linear(C, self.KV * self.hd, bias=False)
        self.o_proj = nn.Linear(self.H * self.hd, C, bias=False)
        self.q_norm = RMSNorm(self.hd, eps)
        self.k_norm = RMSNorm(self.hd, eps)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        H, KV, hd, gw = self.H, self.KV, self.hd, self.gw
        G = H // KV
        # Released gated-attention layout: q_proj rows grouped per KV head,
        # each group [queries of its G heads | gates of its G heads].
        qg = self.q_proj(x).view(B, T, KV, G * (hd + gw))
        q = qg[..., :G * hd].reshape(B, T, H, hd)
        gate = qg[..., G * hd:].reshape(B, T, H, gw) if gw else None
        k = self.k_proj(x).view(B, T, KV, hd)
        v = self.v_proj(x).view(B, T, KV, hd)
        # q/k RMSNorm per head, then RoPE (rotate_half); heads first
        q = self.q_norm(q).transpose(1, 2)
        k = self.k_norm(k).transpose(1, 2)
        v = v.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # GQA: query head h reads KV head h // G
        k = k.repeat_interleave(G, dim=1)
        v = v.repeat_interleave(G, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
        y = scores.softmax(-1) @ v                     # [B, H, T, hd]
        y = y.transpose(1, 2)                          # [B, T, H, hd]
        if gate is not None:
            y = y * torch.sigmoid(gate)                # G1: SDPA output gate
        return self.o_proj(y.reshape(B, T, H * hd))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, Fd = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(C, Fd, bias=False)
        self.up_proj = nn.Linear(C, Fd, bias=False)
        self.down_proj = nn.Linear(Fd, C, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        eps = cfg["rms_norm_eps"]
        self.input_layernorm = RMSNorm(cfg["hidden_size"], eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Body(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])


class Qwen3LM(nn.Module):
    """Parameter names follow the HF checkpoint, so load_state_dict reads it."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = Body(cfg)
        self.tied = bool(cfg.get("tie_word_embeddings"))
        if not self.tied:
            self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)

    def rope(self, T):
        hd = self.cfg["head_dim"]
        theta = float(self.cfg["rope_theta"])
        inv_freq = theta ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
        ang = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
        ang = torch.cat((ang, ang), dim=-1)            # [T, hd], rotate_half layout
        return ang.cos(), ang.sin()

    def forward(self, ids):
        cos, sin = self.rope(ids.shape[1])
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        x = self.model.norm(x)
        head = self.model.embed_tokens.weight if self.tied else self.lm_head.weight
        return x @ head.T


def load(case_dir):
    with open(os.path.join(case_dir, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["architectures"] == ["Qwen3ForCausalLM"], cfg["architectures"]
    model = Qwen3LM(cfg)
    tensors = read_safetensors(os.path.join(case_dir, "model.safetensors"))
    # strict: every parameter is in the file and nothing else is
    model.load_state_dict(tensors, strict=True)
    return model


def weighted_ce(logits, targets, weights):
    """train/ choice: weighted mean over tokens, sum(w * ce) / sum(w)."""
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                         reduction="none")
    w = weights.reshape(-1)
    return (w * ce).sum() / w.sum()


def lr_at(o, step):
    """train/ choice: warmup then cosine to min_lr, 0-based step."""
    if step < o["warmup_steps"]:
        return o["lr"] * (step + 1) / o["warmup_steps"]
    if step >= o["total_steps"] or o["total_steps"] <= o["warmup_steps"]:
        return o["min_lr"]
    ratio = (step - o["warmup_steps"]) / (o["total_steps"] - o["warmup_steps"])
    return o["min_lr"] + 0.5 * (1 + math.cos(math.pi * ratio)) * (o["lr"] - o["min_lr"])


def train(model, run):
    o = run["optim"]
    B, T = run["batch"], run["seq"]
    # train/ choice: decay every matrix (embedding and lm_head included), no norm weight
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": o["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    params = decay + no_decay
    losses, norms = [], []
    for step, batch in enumerate(run["batches"][:run["steps"]]):
        ids = torch.tensor(batch["ids"]).view(B, T)
        targets = torch.tensor(batch["targets"]).view(B, T)
        weights = torch.tensor(batch["weights"], dtype=torch.float64).view(B, T)
        opt.zero_grad(set_to_none=True)
        loss = weighted_ce(model(ids), targets, weights)
        loss.backward()
        # train/ choice: global-norm clip with no epsilon
        norm = torch.sqrt(sum((p.grad ** 2).sum() for p in params)).item()
        if o["grad_clip"] > 0 and norm > o["grad_clip"]:
            for p in params:
                p.grad.mul_(o["grad_clip"] / norm)
        for g in opt.param_groups:
            g["lr"] = lr_at(o, step)
        opt.step()
        losses.append(loss.item())
        norms.append(norm)
    return losses, norms


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: train_ref.py DUMP_DIR OUT.json")
    dump_dir, out_path = sys.argv[1], sys.argv[2]
    with open(os.path.join(dump_dir, "run.json")) as f:
        run = json.load(f)
    out = {
        "about": "golden losses for tests/test_train_reference.c from tests/reference/train_ref.py "
                 "(PyTorch, float64); regenerate with "
                 "/usr/bin/python3 tests/reference/make_train_fixture.py",
        "torch": torch.__version__,
        "steps": run["steps"], "batch": run["batch"], "seq": run["seq"],
        "init_seed": run["init_seed"], "data_seed": run["data_seed"], "optim": run["optim"],
        "cases": [],
    }
    for case in run["cases"]:
        case_dir = os.path.join(dump_dir, case["dir"])
        model = load(case_dir)
        with open(os.path.join(case_dir, "config.json")) as f:
            cfg = json.load(f)
        losses, norms = train(model, run)
        dmax = max(abs(a - b) for a, b in zip(losses, case["c_losses"]))
        print(f"{case['name']:20s} loss {losses[0]:.4f} -> {losses[-1]:.4f}, "
              f"max |C - ref| {dmax:.2e}")
        gate = ("elementwise" if cfg.get("elementwise_attn_output_gate") else
                "headwise" if cfg.get("headwise_attn_output_gate") else "none")
        out["cases"].append({
            "name": case["name"], "gate": gate, "tie_word_embeddings": cfg["tie_word_embeddings"],
            "config": {k: cfg[k] for k in ("vocab_size", "hidden_size", "intermediate_size",
                                           "num_hidden_layers", "num_attention_heads",
                                           "num_key_value_heads", "head_dim", "rope_theta",
                                           "rms_norm_eps")},
            "fingerprint": case["fingerprint"],
            "losses": [float(f"{x:.12g}") for x in losses],
            "grad_norms": [float(f"{x:.12g}") for x in norms],
        })
    with open(out_path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
