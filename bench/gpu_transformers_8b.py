"""Transformers on a GPU with a Llama-3.1-8B-shaped model: prefill/decode speed vs the bound.

Where vLLM cannot be installed, this is the realistic GPU number for the ``transformers``
backend: an 8B Llama configuration (hidden 4096, 32 layers, 32 heads,
8 KV heads, intermediate 14336, vocab 128256) with *random* bf16 weights -- speed does not
depend on weight values -- timed on CUDA:

* prefill tokens/s for a ~1,500-token prompt (the size of a drafting prompt);
* decode tokens/s for 256 greedy tokens (a manual KV-cached loop, argmax per step);
* one "draft": ``model.generate`` (greedy, the call the backend makes) of 200 new tokens
  after the same prompt, i.e. prefill + 200 decoded tokens;
* the memory-bandwidth bound: each decoded token reads every weight once (the embedding
  table excepted: one row) plus the KV cache, so ``bandwidth / bytes_per_token`` tokens/s
  is the ceiling; the achieved fraction is reported. Bandwidth comes from ``--bandwidth``
  (default 3.35e12 B/s, H100 SXM HBM3), prefill is compared with ``--peak-flops``
  (default 989e12, H100 SXM dense bf16).

The weights are created on the ``meta`` device, materialised with ``to_empty`` and filled
with ``normal_(0, 0.02)`` in place (norm weights 1), which takes about a second instead of
transformers' per-module CPU init; the rotary embedding's non-persistent buffers are
rebuilt, since ``to_empty`` leaves them uninitialised.

Needs only torch and transformers (no tokenizer, no weights, no network).
``--tiny`` runs a small configuration on CPU so the script can be tested anywhere.

    python bench/gpu_transformers_8b.py                # on the GPU machine, < ~1-2 min
    python bench/gpu_transformers_8b.py --tiny         # CPU smoke run

Writes ``$OUT/gpu_transformers_8b.json`` when ``$OUT`` is set, else
``bench/results/gpu_transformers_8b.json`` (``..._tiny.json`` for ``--tiny``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM

ROOT = Path(__file__).resolve().parent.parent

CACHE_KW = (
    "cache"
    if "cache" in inspect.signature(LlamaForCausalLM.forward).parameters
    else "past_key_values"
)
"""The KV-cache argument/output name: ``cache`` in recent transformers, else the old one."""

LLAMA_31_8B: dict[str, Any] = {
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "vocab_size": 128256,
    "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-5,
    "tie_word_embeddings": False,
}
"""Llama-3.1-8B's shapes. RoPE theta/scaling are left at defaults: they do not change speed."""

TINY: dict[str, Any] = LLAMA_31_8B | {
    "hidden_size": 256,
    "num_hidden_layers": 4,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "intermediate_size": 704,
    "vocab_size": 32000,
}


def build_model(config: LlamaConfig, *, device: str, dtype: torch.dtype) -> LlamaForCausalLM:
    """A Llama with random weights on ``device``, built without a slow per-module init."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device("meta"):
            model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    model.to_empty(device=device)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight"):
                param.fill_(1.0)
            else:
                param.normal_(mean=0.0, std=0.02)
        _rebuild_rotary_buffers(model, config)
    model.train(False)  # eval mode
    return model


def _rebuild_rotary_buffers(model: torch.nn.Module, config: LlamaConfig) -> None:
    """Recompute the rotary embedding's buffers that ``to_empty`` left uninitialised.

    ``XRotaryEmbedding(config)`` is the constructor since transformers 4.45 (the minimum
    the ``[transformers]`` extra allows).
    """
    rebuilt = 0
    for module in model.modules():
        if type(module).__name__.endswith("RotaryEmbedding"):
            fresh = type(module)(config=config)  # built on the CPU, in float32
            for name, buffer in fresh.named_buffers(recurse=False):
                target = getattr(module, name)
                target.copy_(buffer.to(target.dtype))
            for attr in ("attention_scaling",):
                if hasattr(fresh, attr):
                    setattr(module, attr, getattr(fresh, attr))
            rebuilt += 1
    if rebuilt == 0:
        raise RuntimeError("no rotary embedding module found: transformers layout changed?")


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(device: str, fn: Callable[[], Any]) -> tuple[float, Any]:
    _sync(device)
    start = time.perf_counter()
    result = fn()
    _sync(device)
    return time.perf_counter() - start, result


@torch.inference_mode()
def prefill_and_decode(
    model: LlamaForCausalLM, input_ids: torch.Tensor, decode_tokens: int, device: str
) -> dict[str, Any]:
    """Time one prefill of ``input_ids`` and ``decode_tokens`` greedy KV-cached steps."""
    prefill_s, out = _timed(device, lambda: model(input_ids=input_ids, use_cache=True))
    finite = bool(torch.isfinite(out.logits[0, -1]).all())
    past = out[CACHE_KW]
    token = out.logits[:, -1:].argmax(dim=-1)

    def decode() -> int:
        nonlocal past, token
        for _ in range(decode_tokens):
            step = model(input_ids=token, use_cache=True, **{CACHE_KW: past})
            past = step[CACHE_KW]
            token = step.logits[:, -1:].argmax(dim=-1)
        return decode_tokens

    decode_s, _ = _timed(device, decode)
    return {"prefill_s": prefill_s, "decode_s": decode_s, "finite_logits": finite}


@torch.inference_mode()
def draft_latency(
    model: LlamaForCausalLM, input_ids: torch.Tensor, new_tokens: int, device: str
) -> tuple[float, int]:
    """Wall time of one greedy ``generate`` call: prefill + ``new_tokens`` decoded tokens."""
    mask = torch.ones_like(input_ids)
    seconds, output = _timed(
        device,
        lambda: model.generate(
            input_ids=input_ids,
            attention_mask=mask,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
            pad_token_id=0,
        ),
    )
    return seconds, int(output.shape[1] - input_ids.shape[1])


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the model, time it, compute the bounds; return the result document."""
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[
        args.dtype or ("bf16" if device.startswith("cuda") else "fp32")
    ]
    if device == "cpu" and args.threads:
        torch.set_num_threads(args.threads)
    shape = TINY if args.tiny else LLAMA_31_8B
    config = LlamaConfig(**shape)
    torch.manual_seed(0)
    build_s, model = _timed(device, lambda: build_model(config, device=device, dtype=dtype))

    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(
        3, config.vocab_size, (1, args.prompt_tokens), generator=generator
    ).to(device)
    warm = input_ids[:, : min(64, args.prompt_tokens)]
    prefill_and_decode(model, warm, 4, device)  # kernels, cuBLAS handles, allocator
    draft_latency(model, warm, 2, device)

    runs = [
        prefill_and_decode(model, input_ids, args.decode_tokens, device) for _ in range(args.reps)
    ]
    drafts = [draft_latency(model, input_ids, args.draft_tokens, device) for _ in range(args.reps)]
    prefill_s = statistics.median(r["prefill_s"] for r in runs)
    decode_s = statistics.median(r["decode_s"] for r in runs)
    draft_s = statistics.median(s for s, _ in drafts)

    element = torch.finfo(dtype).bits // 8
    params = sum(p.numel() for p in model.parameters())
    weight_bytes = params * element
    embed_bytes = model.get_input_embeddings().weight.numel() * element
    head_dim = config.hidden_size // config.num_attention_heads
    kv_heads = config.num_key_value_heads or config.num_attention_heads
    kv_bytes_per_position = 2 * config.num_hidden_layers * kv_heads * head_dim * element
    mean_context = args.prompt_tokens + args.decode_tokens / 2
    bytes_per_token = weight_bytes - embed_bytes + kv_bytes_per_position * mean_context
    bound_tps = args.bandwidth / bytes_per_token
    decode_tps = args.decode_tokens / decode_s
    prefill_tps = args.prompt_tokens / prefill_s
    prefill_flops = 2 * (params - embed_bytes // element) * args.prompt_tokens
    bound_draft_s = (
        prefill_flops / args.peak_flops + args.draft_tokens * bytes_per_token / args.bandwidth
    )
    result: dict[str, Any] = {
        "benchmark": "gpu_transformers_8b",
        "configuration": "tiny (CPU smoke test)" if args.tiny else "Llama-3.1-8B shapes",
        "config": shape,
        "device": device,
        "device_name": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
        "dtype": str(dtype).removeprefix("torch."),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
        "platform": platform.platform(),
        "parameters": params,
        "weight_bytes": weight_bytes,
        "build_s": round(build_s, 3),
        "prompt_tokens": args.prompt_tokens,
        "decode_tokens": args.decode_tokens,
        "draft_new_tokens": args.draft_tokens,
        "reps": args.reps,
        "prefill_s_median": round(prefill_s, 4),
        "prefill_tokens_per_s": round(prefill_tps, 1),
        "prefill_fraction_of_peak_flops": round(prefill_flops / prefill_s / args.peak_flops, 4),
        "decode_s_median": round(decode_s, 4),
        "decode_tokens_per_s": round(decode_tps, 2),
        "decode_ms_per_token": round(1000 * decode_s / args.decode_tokens, 3),
        "bandwidth_bytes_per_s": args.bandwidth,
        "peak_flops": args.peak_flops,
        "bytes_read_per_decoded_token": int(bytes_per_token),
        "bound_decode_tokens_per_s": round(bound_tps, 2),
        "bound_ms_per_token": round(1000 / bound_tps, 3),
        "decode_fraction_of_bound": round(decode_tps / bound_tps, 4),
        "draft_latency_s_median": round(draft_s, 3),
        "draft_new_tokens_generated": drafts[0][1],
        "draft_latency_bound_s": round(bound_draft_s, 4),
        "draft_fraction_of_bound": round(bound_draft_s / draft_s, 4),
        "finite_logits": all(r["finite_logits"] for r in runs),
        "samples": {
            "prefill_s": [round(r["prefill_s"], 4) for r in runs],
            "decode_s": [round(r["decode_s"], 4) for r in runs],
            "draft_s": [round(s, 4) for s, _ in drafts],
        },
    }
    if device.startswith("cuda"):
        result["max_memory_allocated_bytes"] = torch.cuda.max_memory_allocated()
    return result


def _default_out(tiny: bool) -> Path:
    name = "gpu_transformers_8b_tiny.json" if tiny else "gpu_transformers_8b.json"
    env_out = os.environ.get("OUT")
    return Path(env_out) / name if env_out else ROOT / "bench" / "results" / name


def main() -> None:
    """Parse flags, run, write the JSON and print the headline numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="small config, for CPU testing")
    parser.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    parser.add_argument("--dtype", choices=["bf16", "fp16", "fp32"], default=None)
    parser.add_argument("--prompt-tokens", type=int, default=1500)
    parser.add_argument("--decode-tokens", type=int, default=256)
    parser.add_argument("--draft-tokens", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--bandwidth", type=float, default=3.35e12, help="HBM bytes/s")
    parser.add_argument("--peak-flops", type=float, default=989e12, help="dense bf16 FLOP/s")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (CPU runs)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    result = run(args)
    out = Path(args.out) if args.out else _default_out(args.tiny)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{result['configuration']} on {result['device_name']} ({result['dtype']}): "
        f"prefill {result['prefill_tokens_per_s']} tok/s, "
        f"decode {result['decode_tokens_per_s']} tok/s "
        f"({result['decode_fraction_of_bound']:.1%} of the {result['bound_decode_tokens_per_s']} "
        f"tok/s bandwidth bound), draft {result['draft_latency_s_median']} s "
        f"(bound {result['draft_latency_bound_s']} s)  -> {out}"
    )


if __name__ == "__main__":
    main()
