"""``vllm-offline``: vLLM's in-process ``LLM`` class, for batch evaluation on a GPU machine.

An eval suite drafts hundreds of cases; sending them to vLLM as one batch
(:meth:`VLLMOfflineBackend.generate_batch`) uses the GPU far better than one HTTP request
at a time, and needs no server. The schema constraint is vLLM's structured outputs
(``StructuredOutputsParams(json=...)``; ``GuidedDecodingParams`` on vLLM releases before
it), with ``disable_any_whitespace`` where the release has it -- vLLM's JSON grammars can
otherwise emit runaway whitespace until ``max_tokens`` (docs/ARCHITECTURE.md#model-runtimes).

Needs the extra ``reportdraft[vllm]`` and a CUDA GPU; not exercised by the CPU test suite
beyond the missing-extra error.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from reportdraft.backends.interface import Backend, BackendOptions, Generation, GenerationRequest
from reportdraft.backends.registry import register
from reportdraft.errors import BackendError, BackendUnavailableError, ConfigurationError

INSTALL_HINT = "pip install 'reportdraft[vllm]' (needs a CUDA GPU)"


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the vllm-offline backend needs vLLM: {INSTALL_HINT}"
        ) from exc
    return vllm


def _structured(schema: dict[str, Any]) -> dict[str, Any]:
    """``SamplingParams`` keyword that enforces ``schema`` on this vLLM release."""
    try:
        from vllm.sampling_params import StructuredOutputsParams

        try:
            return {
                "structured_outputs": StructuredOutputsParams(
                    json=schema, disable_any_whitespace=True
                )
            }
        except TypeError:
            return {"structured_outputs": StructuredOutputsParams(json=schema)}
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(json=schema)}


@register("vllm-offline")
class VLLMOfflineBackend(Backend):
    """vLLM ``LLM`` in process; ``model`` is an HF directory or a locally cached HF id."""

    name = "vllm-offline"
    install_hint = INSTALL_HINT

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        vllm = _import_vllm()
        if not options.model:
            raise ConfigurationError("the vllm-offline backend needs --model (an HF model)")
        self._vllm = vllm
        self._llm = vllm.LLM(model=options.model, max_model_len=options.n_ctx)
        self._lock = threading.Lock()
        self.model_id = options.model

    def generate(self, request: GenerationRequest) -> Generation:
        """One request (a batch of one; prefer :meth:`generate_batch` for many)."""
        return self.generate_batch([request])[0]

    def generate_batch(self, requests: list[GenerationRequest]) -> list[Generation]:
        """Run many requests as one vLLM batch; results in request order.

        ``seconds`` of each result is the wall time of the whole batch.
        """
        params = []
        for request in requests:
            extra = _structured(request.json_schema) if request.json_schema is not None else {}
            params.append(
                self._vllm.SamplingParams(
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    seed=request.seed,
                    **extra,
                )
            )
        conversations = [[m.model_dump() for m in r.messages] for r in requests]
        with self._lock:
            start = time.perf_counter()
            try:
                outputs = self._llm.chat(conversations, params, use_tqdm=False)
            except (RuntimeError, ValueError) as exc:
                raise BackendError(f"vLLM generation failed: {exc}") from exc
            seconds = time.perf_counter() - start
        results = []
        for out in outputs:
            completion = out.outputs[0]
            results.append(
                Generation(
                    text=completion.text,
                    model=self.model_id,
                    prompt_tokens=len(out.prompt_token_ids or []),
                    completion_tokens=len(completion.token_ids),
                    seconds=seconds,
                    finish_reason=completion.finish_reason,
                )
            )
        return results
