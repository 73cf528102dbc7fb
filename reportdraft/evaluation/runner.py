"""Drafting every case with every system, through a cache of model outputs.

The expensive part of an evaluation is drafting (5-30 s per case with the embedded model
on a laptop CPU); metrics take milliseconds. So each draft is stored in the output
directory under a key of (system fingerprint, case hash, prompt version): re-running a
suite after changing a metric, a threshold or the report recomputes nothing but metrics,
while changing the model, the server, the prompts or the case re-drafts exactly the
affected cases. Only successful drafts are cached; an error is retried on the next run.

Cases a system has to draft are drafted ``concurrency`` at a time (threads sharing one
drafter, so one backend and one HTTP client): with a model server the time per case is
mostly waiting for it, and concurrent cases overlap that wait. The default is the
backend's (:attr:`Backend.default_concurrency`: 1 for a model in this process, whose
calls take turns anyway, 8 for a server). Outputs come back in the cases' order whatever
order they finish in, so results, reports and the cache are the same at any concurrency.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import ValidationError
from tqdm import tqdm

from reportdraft.errors import ConfigurationError, ReportDraftError
from reportdraft.evaluation.suite import EvalCase, SystemSpec, safe_name
from reportdraft.models import Case, Draft

Drafter = Callable[[Case], Draft]
"""Drafts one case (the pipeline: normalise, draft, verify, critical) and returns the draft."""

DrafterFactory = Callable[[SystemSpec], Drafter]
"""Builds a system's drafter; called only when some case of that system is not cached."""


@dataclass(frozen=True, kw_only=True)
class CaseOutput:
    """One system's output on one case: the draft, or the error that prevented it."""

    case_id: str
    draft: Draft | None
    seconds: float | None
    error: str | None = None
    error_code: str | None = None
    cached: bool = False
    skipped: bool = False


def case_hash(case: Case) -> str:
    """sha256 of the case's canonical JSON: same inputs, same hash, whatever the key order."""
    payload = json.dumps(case.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def system_fingerprint(spec: SystemSpec) -> dict[str, str | None]:
    """What makes two systems produce different drafts (the display name does not)."""
    return {
        "backend": spec.backend,
        "model": spec.model,
        "base_url": spec.base_url,
        "dialect": spec.dialect,
    }


_NOT_DRAFTING = frozenset({"evaluation", "api", "store", "render", "attest", "cli", "__pycache__"})
"""Package parts a draft does not depend on: editing them keeps cached drafts valid."""


@cache
def drafter_version(template_dirs: tuple[Path, ...] = ()) -> str:
    """Content hash of the code, rules and templates every draft depends on.

    Part of the cache key, so a re-run after upgrading or editing the drafter, verifier,
    critical-finding rules or templates (bundled, or a site's ``template_dirs``) drafts
    again instead of scoring stale drafts; a change to metrics or reports does not.
    """
    from reportdraft.resources import data_dir

    package = Path(__file__).resolve().parent.parent
    roots = [(package, "reportdraft"), (data_dir("templates"), "templates")]
    roots += [(d, f"site-templates-{i}") for i, d in enumerate(template_dirs)]
    return tree_digest(roots)


def tree_digest(roots: Sequence[tuple[Path, str]]) -> str:
    """Hash of the files under each root, less the parts drafts do not depend on."""
    digest = hashlib.sha256()
    for root, label in roots:
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(root).parts
            if (
                not path.is_file()
                or _NOT_DRAFTING & set(parts)
                or parts[:2] == ("data", "evaluation")
            ):
                continue
            digest.update(f"{label}/{'/'.join(parts)}".encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def current_prompt_version(folder: Path | None = None) -> str:
    """The version (content hash) of the prompt set in ``folder``; the bundled one when None."""
    from reportdraft.drafting import load_prompts

    return load_prompts(folder).version


class OutputCache:
    """Drafts stored as JSON files under ``<out>/cache/<system>/``."""

    def __init__(self, root: Path) -> None:
        """Use ``root`` (created on first write) as the cache directory."""
        self.root = root

    @staticmethod
    def key(spec: SystemSpec, digest: str, prompt_version: str, code_version: str) -> str:
        """The cache key of (system fingerprint, case hash, prompt and drafter versions)."""
        material = json.dumps(
            {
                "system": system_fingerprint(spec),
                "case": digest,
                "prompt": prompt_version,
                "drafter": code_version,
            },
            sort_keys=True,
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _path(self, spec: SystemSpec, key: str) -> Path:
        return self.root / safe_name(spec.name) / f"{key[:32]}.json"

    def get(self, spec: SystemSpec, key: str) -> tuple[Draft, float] | None:
        """The cached draft and its drafting time, or None (a corrupt entry is a miss)."""
        path = self._path(spec, key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry.get("key") != key:
                return None
            return Draft.model_validate(entry["draft"]), float(entry["seconds"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None

    def put(self, spec: SystemSpec, key: str, case_id: str, draft: Draft, seconds: float) -> None:
        """Store a draft atomically (write, then rename)."""
        path = self._path(spec, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "key": key,
            "system": spec.name,
            "fingerprint": system_fingerprint(spec),
            "case_id": case_id,
            "seconds": seconds,
            "draft": draft.model_dump(mode="json"),
        }
        # One temporary name per writer: two identical cases drafted at once share a key.
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        tmp.replace(path)


def default_concurrency(spec: SystemSpec) -> int:
    """Cases a system drafts at once when neither the command line nor the suite says:
    its backend's ``default_concurrency`` (1 when the name is not a known backend, e.g. a
    test's own factory)."""
    from reportdraft.backends import resolve_backend_class

    try:
        return resolve_backend_class(spec.backend).default_concurrency
    except ReportDraftError:
        return 1


def run_system(
    spec: SystemSpec,
    cases: Sequence[EvalCase],
    factory: DrafterFactory,
    *,
    cache: OutputCache | None,
    prompt_version: str,
    code_version: str | None = None,
    progress: bool = True,
    concurrency: int | None = None,
) -> list[CaseOutput]:
    """Draft every case with one system, reading and filling the cache.

    ``code_version`` is the drafter's version in the cache key (default: the installed
    package with the bundled templates, :func:`drafter_version`). ``concurrency`` is how
    many cases are drafted at once (None: the system's ``concurrency``, else
    :func:`default_concurrency`); outputs are in the order of ``cases`` whatever it is.

    The drafter is built lazily, so a fully cached re-run needs neither the model nor the
    server. A ``ReportDraftError`` on one case is recorded for that case and the run goes
    on; failing to *build* the drafter (backend unavailable) propagates: the system cannot
    be evaluated at all, and a CI gate must say so.
    """
    code = code_version or drafter_version()
    outputs: list[CaseOutput | None] = []
    todo: list[tuple[int, EvalCase, str]] = []
    bar = tqdm(
        total=len(cases),
        desc=f"draft {spec.name}",
        unit="case",
        file=sys.stderr,
        disable=not progress,
        leave=True,
    )
    with bar:
        for index, item in enumerate(cases):
            if spec.max_cases is not None and index >= spec.max_cases:
                outputs.append(
                    CaseOutput(case_id=item.case_id, draft=None, seconds=None, skipped=True)
                )
                bar.update(1)
                continue
            key = OutputCache.key(spec, case_hash(item.case), prompt_version, code)
            hit = cache.get(spec, key) if cache is not None else None
            if hit is not None:
                outputs.append(
                    CaseOutput(case_id=item.case_id, draft=hit[0], seconds=hit[1], cached=True)
                )
                bar.update(1)
                continue
            outputs.append(None)
            todo.append((index, item, key))
        if todo:
            drafter = factory(spec)
            workers = concurrency if concurrency is not None else spec.concurrency
            if workers is None:
                workers = default_concurrency(spec)
            if workers < 1:
                raise ConfigurationError(f"eval concurrency must be at least 1, got {workers}")

            ticks = threading.Lock()

            def one(job: tuple[int, EvalCase, str]) -> tuple[int, CaseOutput]:
                index, item, key = job
                output = _draft_one(spec, item, key, drafter, cache)
                with ticks:
                    bar.update(1)
                return index, output

            if workers == 1 or len(todo) == 1:
                for index, output in map(one, todo):
                    outputs[index] = output
            else:
                with ThreadPoolExecutor(
                    max_workers=min(workers, len(todo)), thread_name_prefix="rd-eval"
                ) as pool:
                    for index, output in pool.map(one, todo):
                        outputs[index] = output
    return [o for o in outputs if o is not None]


def _draft_one(
    spec: SystemSpec, item: EvalCase, key: str, drafter: Drafter, cache: OutputCache | None
) -> CaseOutput:
    """Draft one case, store a success in the cache, record a ``ReportDraftError``."""
    start = time.perf_counter()
    try:
        draft = drafter(item.case)
    except ReportDraftError as exc:
        return CaseOutput(
            case_id=item.case_id,
            draft=None,
            seconds=None,
            error=exc.message,
            error_code=exc.code,
        )
    seconds = time.perf_counter() - start
    if cache is not None:
        cache.put(spec, key, item.case_id, draft, seconds)
    return CaseOutput(case_id=item.case_id, draft=draft, seconds=seconds)


def pipeline_factory(
    template_dirs: Sequence[Path] = (),
    prompt_dirs: Mapping[str, Path | None] | None = None,
    piece_concurrency: int | None = None,
) -> DrafterFactory:
    """A factory drafting through ``reportdraft.drafting`` with the suite's backends.

    ``prompt_dirs`` maps a system name to its prompt folder (None or absent: bundled);
    ``piece_concurrency`` is the pieces of one draft sent at once (None: the backend's).
    """

    def build(spec: SystemSpec) -> Drafter:
        from reportdraft import drafting
        from reportdraft.backends import BackendOptions, create_backend
        from reportdraft.templates import site_library

        folder = (prompt_dirs or {}).get(spec.name)
        prompts = drafting.load_prompts(folder) if folder is not None else None
        backend = create_backend(
            spec.backend,
            BackendOptions(model=spec.model, base_url=spec.base_url, dialect=spec.dialect),
        )
        # Without site templates the bundled library is parsed once per process (half a
        # second of YAML), not inside every timed run of every system.
        library = site_library(template_dirs)

        def draft(case: Case) -> Draft:
            return drafting.draft_case(
                case, backend, library=library, prompts=prompts, concurrency=piece_concurrency
            ).draft

        return draft

    return build
