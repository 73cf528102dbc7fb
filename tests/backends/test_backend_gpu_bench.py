"""``bench/gpu_transformers_8b.py`` on CPU with ``--tiny``: the model it builds is a real
Llama (correct rotary buffers, finite logits) and the script writes a sane result."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

torch = pytest.importorskip("torch", reason="the [transformers] extra (torch) is not installed")
transformers = pytest.importorskip("transformers", reason="the [transformers] extra is missing")

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu_transformers_8b.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_transformers_8b", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fast_build_matches_a_normally_built_model(bench: ModuleType) -> None:
    config = transformers.LlamaConfig(**bench.TINY)
    fast = bench.build_model(config, device="cpu", dtype=torch.float32)
    reference = transformers.LlamaForCausalLM(config)
    fast_buffers = dict(fast.named_buffers())
    ref_buffers = dict(reference.named_buffers())
    assert fast_buffers.keys() == ref_buffers.keys()
    assert fast_buffers  # the rotary inv_freq at least
    for name, buffer in ref_buffers.items():
        assert torch.equal(fast_buffers[name], buffer), name
    assert [n for n, _ in fast.named_parameters()] == [n for n, _ in reference.named_parameters()]
    assert all(p.device.type == "cpu" for p in fast.parameters())
    # Random N(0, 0.02) weights, norms at 1 -- not the uninitialised memory of to_empty.
    weight = fast.model.layers[0].mlp.up_proj.weight.detach()
    assert abs(float(weight.std()) - 0.02) < 0.002
    assert torch.equal(fast.model.norm.weight, torch.ones_like(fast.model.norm.weight))
    # Same weights => same logits as the reference model: the rotary buffers are right.
    reference.load_state_dict(fast.state_dict())
    ids = torch.tensor([[5, 17, 300, 42, 7, 9]])
    with torch.inference_mode():
        assert torch.allclose(fast(input_ids=ids).logits, reference(input_ids=ids).logits)


def test_tiny_run_writes_a_sane_result(tmp_path: Path) -> None:
    out = tmp_path / "tiny.json"
    command = [
        sys.executable,
        str(SCRIPT),
        "--tiny",
        "--threads",
        "2",
        "--prompt-tokens",
        "96",
        "--decode-tokens",
        "8",
        "--draft-tokens",
        "8",
        "--reps",
        "1",
        "--out",
        str(out),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    result = json.loads(out.read_text())
    assert result["configuration"].startswith("tiny")
    assert result["device"] == "cpu"
    assert result["finite_logits"] is True
    assert result["draft_new_tokens_generated"] == 8
    assert result["prompt_tokens"] == 96
    assert result["decode_tokens_per_s"] > 0
    assert result["prefill_tokens_per_s"] > 0
    assert 0 < result["decode_fraction_of_bound"] < 1
    config = result["config"]
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    kv = 2 * config["num_hidden_layers"] * config["num_key_value_heads"] * head_dim * 4
    embed = config["vocab_size"] * config["hidden_size"] * 4
    expected = result["weight_bytes"] - embed + kv * (96 + 8 / 2)
    assert result["bytes_read_per_decoded_token"] == int(expected)
