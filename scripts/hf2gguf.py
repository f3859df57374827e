#!/usr/bin/python3
"""hf2gguf.py: write a small Qwen3-style Hugging Face model as a GGUF file
that llama.cpp (llama-server, llama-bench) loads, so that lcx can be checked
against an independent engine and tokenizer (tests/test_llamacpp.sh).

    PYTHONPATH=$LLAMACPP/src/gguf-py /usr/bin/python3 scripts/hf2gguf.py \\
        models/tiny-baseline /tmp/tiny.gguf [--bf16] [--pre NAME]

LLAMACPP is the directory scripts/llamacpp.sh builds in; its gguf-py is the
GGUF writer of the same llama.cpp release that reads the file. numpy is
Debian's python3-numpy, hence /usr/bin/python3.

Input: config.json (Qwen3ForCausalLM), model.safetensors (F32, F16 or BF16),
tokenizer.json (byte-level BPE). Output: llama.cpp's "qwen3" architecture,
matrices in F32 (default) or BF16 (--bf16), norms always F32.

--pre NAME is the pre-tokenizer llama.cpp applies before BPE (its
tokenizer.ggml.pre key). Without it the name is derived from tokenizer.json:
a plain ByteLevel pre-tokenizer (GPT-2's split, as in lcx's bundled models)
is "gpt-2"; anything else must be named, e.g. --pre qwen2 for Qwen's own
tokenizers. A wrong name converts fine but tokenizes differently, which is
what comparing with `lcx tokenize` catches.

Models with an SDPA-output gate (lcx's tiny-gated, Qwen3-Next) are refused:
llama.cpp's qwen3 graph has no gate, so their logits would be wrong.
Errors are one line on stderr, exit status 2.
"""
import argparse
import json
import os
import struct
import sys

PROG = "hf2gguf"


def die(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(2)


try:
    import numpy as np
except ImportError:
    die("numpy is missing (Debian: apt-get install python3-numpy; run with /usr/bin/python3)")
try:
    import gguf
except ImportError:
    die("the gguf package is missing (PYTHONPATH=<scripts/llamacpp.sh's dir>/src/gguf-py)")


GATE_KEYS = ("headwise_attn_output_gate", "elementwise_attn_output_gate", "attn_output_gate")

# HF name inside model.layers.N -> llama.cpp name inside blk.N
LAYER_TENSORS = {
    "input_layernorm": "attn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "self_attn.q_norm": "attn_q_norm",
    "self_attn.k_norm": "attn_k_norm",
    "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die(f"{path}: {e}")


class Safetensors:
    """The tensors of one model.safetensors, read through a memory map."""

    def __init__(self, path):
        self.path = path
        try:
            with open(path, "rb") as f:
                n = struct.unpack("<Q", f.read(8))[0]
                self.header = json.loads(f.read(n))
        except (OSError, ValueError, struct.error) as e:
            die(f"{path}: unreadable safetensors header ({e})")
        self.header.pop("__metadata__", None)
        self.data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)

    def __contains__(self, name):
        return name in self.header

    def raw(self, name):
        """(dtype string, shape, the tensor's bytes as a uint8 array)"""
        if name not in self.header:
            die(f"{self.path}: tensor {name} is missing")
        t = self.header[name]
        a, b = t["data_offsets"]
        return t["dtype"], tuple(t["shape"]), self.data[a:b]

    def f32(self, name):
        dt, shape, buf = self.raw(name)
        if dt == "F32":
            x = buf.view("<f4")
        elif dt == "F16":
            x = buf.view("<f2").astype(np.float32)
        elif dt == "BF16":
            x = (buf.view("<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            die(f"{self.path}: tensor {name} has dtype {dt} (F32, F16 or BF16 expected)")
        return x.reshape(shape)

    def bf16_bits(self, name):
        """The tensor as BF16 bit patterns: BF16 as stored, others rounded
        to nearest even."""
        dt, shape, buf = self.raw(name)
        if dt == "BF16":
            return buf.view("<u2").reshape(shape).copy()
        bits = np.ascontiguousarray(self.f32(name), dtype=np.float32).view(np.uint32)
        rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
        return rounded.astype(np.uint16)


def pre_tokenizer_name(tok, path):
    """llama.cpp's name for the tokenizer's pre-tokenizer, when it is plain
    GPT-2 byte-level splitting; None when the caller must say (--pre)."""
    pre = tok.get("pre_tokenizer") or {}
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True) and not pre.get("add_prefix_space", False):
        return "gpt-2"
    return None


def bos_from_post_processor(tok):
    """The id of the special token a TemplateProcessing post-processor puts
    before the text, or None: llama.cpp's add_bos_token mirrors it."""
    pp = tok.get("post_processor") or {}
    procs = pp.get("processors", [pp]) if pp.get("type") == "Sequence" else [pp]
    for p in procs:
        if p.get("type") != "TemplateProcessing":
            continue
        single = p.get("single") or []
        if single and "SpecialToken" in single[0]:
            name = single[0]["SpecialToken"]["id"]
            ids = ((p.get("special_tokens") or {}).get(name) or {}).get("ids") or []
            if len(ids) == 1:
                return ids[0]
    return None


def write_vocab(w, tok, cfg, pre, path):
    model = tok.get("model") or {}
    if model.get("type") != "BPE" or not isinstance(model.get("vocab"), dict):
        die(f"{path}: model.type is {model.get('type')!r}; only byte-level BPE converts")
    if model.get("byte_fallback"):
        die(f"{path}: byte_fallback BPE (Llama-2 style) is not byte-level BPE")
    n = cfg["vocab_size"]
    names = [None] * n
    types = [gguf.TokenType.UNUSED] * n
    for s, i in model["vocab"].items():
        if 0 <= i < n:
            names[i], types[i] = s, gguf.TokenType.NORMAL
    for a in tok.get("added_tokens") or []:
        if 0 <= a["id"] < n:
            names[a["id"]] = a["content"]
            types[a["id"]] = gguf.TokenType.CONTROL if a.get("special") else gguf.TokenType.USER_DEFINED
    for i in range(n):  # ids the embedding has and the tokenizer never produces
        if names[i] is None:
            names[i] = f"[PAD{i}]"
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges") or []]
    if not merges:
        die(f"{path}: no merges")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(names)
    w.add_token_types(types)
    w.add_token_merges(merges)
    bos = bos_from_post_processor(tok)
    w.add_add_bos_token(bos is not None)
    if bos is None:
        bos = cfg.get("bos_token_id")
    if bos is not None:
        w.add_bos_token_id(bos)
    eos = cfg.get("eos_token_id")
    if isinstance(eos, list):
        eos = eos[0] if eos else None
    if eos is not None:
        w.add_eos_token_id(eos)
    w.add_add_eos_token(False)


def write_hparams(w, cfg, bf16, name):
    heads = cfg["num_attention_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // heads
    w.add_name(name)
    w.add_context_length(cfg.get("max_position_embeddings", 4096))
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(heads)
    w.add_head_count_kv(cfg.get("num_key_value_heads", heads))
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_freq_base(float(cfg.get("rope_theta", 10000.0)))
    w.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-6)))
    w.add_file_type(gguf.LlamaFileType.MOSTLY_BF16 if bf16 else gguf.LlamaFileType.ALL_F32)
    rs = cfg.get("rope_scaling") or cfg.get("rope_parameters") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind == "default":
        return
    if kind == "yarn":
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(float(rs["factor"]))
        w.add_rope_scaling_orig_ctx_len(int(rs["original_max_position_embeddings"]))
        if "beta_fast" in rs:
            w.add_rope_scaling_yarn_beta_fast(float(rs["beta_fast"]))
        if "beta_slow" in rs:
            w.add_rope_scaling_yarn_beta_slow(float(rs["beta_slow"]))
    elif kind == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(float(rs["factor"]))
    else:
        die(f"rope scaling type {kind!r} is not converted (default, linear or yarn)")


def main():
    ap = argparse.ArgumentParser(prog=PROG, description="Qwen3-style HF directory -> GGUF for llama.cpp")
    ap.add_argument("model_dir")
    ap.add_argument("out")
    ap.add_argument("--bf16", action="store_true", help="store matrices as BF16 (default F32)")
    ap.add_argument("--pre", metavar="NAME", help="llama.cpp pre-tokenizer name (default: from tokenizer.json)")
    a = ap.parse_args()

    d = a.model_dir
    cfg = load_json(os.path.join(d, "config.json"))
    gated = [k for k in GATE_KEYS if cfg.get(k)]
    if gated:
        die(f"{d}: gated attention ({gated[0]}) has no counterpart in llama.cpp's qwen3; only ungated models convert")
    arch = (cfg.get("architectures") or [None])[0]
    if arch != "Qwen3ForCausalLM":
        die(f"{d}: architecture {arch!r}; only Qwen3ForCausalLM converts")
    tok_path = os.path.join(d, "tokenizer.json")
    tok = load_json(tok_path)
    pre = a.pre or pre_tokenizer_name(tok, tok_path)
    if pre is None:
        die(f"{tok_path}: pre-tokenizer {(tok.get('pre_tokenizer') or {}).get('type')!r} is not plain ByteLevel; name llama.cpp's with --pre (e.g. qwen2)")
    st = Safetensors(os.path.join(d, "model.safetensors"))

    w = gguf.GGUFWriter(a.out, "qwen3")
    write_hparams(w, cfg, a.bf16, os.path.basename(os.path.normpath(d)))
    write_vocab(w, tok, cfg, pre, tok_path)

    def matrix(gg, hf):
        if a.bf16:
            bits = st.bf16_bits(hf)
            w.add_tensor(gg, bits, raw_shape=bits.shape, raw_dtype=gguf.GGMLQuantizationType.BF16)
        else:
            w.add_tensor(gg, np.ascontiguousarray(st.f32(hf), dtype=np.float32))

    def vector(gg, hf):
        w.add_tensor(gg, np.ascontiguousarray(st.f32(hf), dtype=np.float32))

    matrix("token_embd.weight", "model.embed_tokens.weight")
    vector("output_norm.weight", "model.norm.weight")
    # A tied head without its own copy is left out: llama.cpp then reuses
    # token_embd.
    if "lm_head.weight" in st:
        matrix("output.weight", "lm_head.weight")
    elif not cfg.get("tie_word_embeddings", False):
        die(f"{d}: lm_head.weight is missing and tie_word_embeddings is not set")
    for i in range(cfg["num_hidden_layers"]):
        for hf, gg in LAYER_TENSORS.items():
            put = vector if gg.endswith("norm") else matrix
            put(f"blk.{i}.{gg}.weight", f"model.layers.{i}.{hf}.weight")

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"{PROG}: wrote {a.out} (qwen3, {'BF16' if a.bf16 else 'F32'} matrices, pre-tokenizer {pre})")


if __name__ == "__main__":
    main()
