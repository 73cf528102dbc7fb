"""Background drafting: worker threads that claim jobs from the database queue.

Each worker thread claims the most urgent job (STAT first, then arrival; see
``reportdraft.store.jobs``), drafts the case through ``reportdraft.drafting`` and stores
the draft as version 1 of the report, with its audit entries and webhook events, in one
transaction. Drafts in progress are bounded by a semaphore (``Settings.max_model_calls``),
and an in-process model (llama.cpp is not thread-safe) drafts one case at a time. Each
draft sends its pieces to a model server concurrently, bounded as in the CLI and the
evaluation (``Settings.draft_concurrency``, default the backend's: 8 for a server, 1 in
process), so at most ``max_model_calls`` × that many requests are open towards the
server, through the one client all workers share (which also spreads them over the
server's replicas, ``backends/replicas.py``).

Failure handling — a case is never lost:

* the pipeline already falls back per piece to the deterministic drafter when the model
  errs or times out (statements marked ``fallback``, with a flag);
* if the backend cannot even be built, or drafting raises anything else, the case is
  drafted with the ``rules`` backend and a ``fallback`` flag says why;
* if that fails too (e.g. no template fits the case), the report is marked ``failed``
  with the error code and message, and the job ``failed``;
* a worker that dies mid-job leaves its job ``running``; it is queued again at start-up
  or when its lease expires.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session

from reportdraft import attest
from reportdraft.api.service import critical_open, record_step
from reportdraft.api.state import AppState
from reportdraft.backends import Backend, BackendOptions, create_backend
from reportdraft.errors import ReportDraftError
from reportdraft.models import Case, Draft, Flag, FlagKind, Severity
from reportdraft.store import jobs, outbox, reports
from reportdraft.templates import site_library

log = logging.getLogger("reportdraft.api.worker")

IN_PROCESS_BACKENDS = frozenset({"llamacpp", "transformers", "vllm-offline"})
"""Backends running a model inside this process: their calls are serialised."""

SYSTEM_ACTOR = "reportdraft"
POLL_S = 0.5
REQUEUE_EVERY_S = 30.0

BackendFactory = Callable[[], Backend]


class Drafter:
    """Drafts one case: the configured backend, else the rules fallback."""

    def __init__(self, state: AppState, backend_factory: BackendFactory | None = None) -> None:
        self.state = state
        settings = state.settings
        self._factory = backend_factory or (
            lambda: create_backend(
                settings.backend,
                BackendOptions(
                    model=settings.model,
                    base_url=settings.base_url,
                    api_key=settings.api_key,
                    dialect=settings.dialect,  # type: ignore[arg-type]
                    timeout_s=settings.model_timeout_s,
                ),
            )
        )
        # Site templates (REPORTDRAFT_TEMPLATES) on top of the bundled ones, loaded when
        # the app is built: a bad site template stops the service from starting instead
        # of failing every draft.
        self.library = site_library(settings.template_dirs)
        self._backend: Backend | None = None
        self._backend_error: str | None = None
        self._build_lock = threading.Lock()
        self._calls = threading.BoundedSemaphore(max(1, settings.max_model_calls))
        self._serial = threading.Lock()

    def backend(self) -> Backend | None:
        """The configured backend, built once (None when it cannot be built)."""
        with self._build_lock:
            if self._backend is None and self._backend_error is None:
                try:
                    self._backend = self._factory()
                except ReportDraftError as exc:
                    self._backend_error = f"{exc.code}: {exc.message}"
                    log.warning("backend unavailable (%s); drafting with rules", exc.code)
            return self._backend

    @contextlib.contextmanager
    def _slot(self, backend: Backend) -> Iterator[None]:
        with self._calls:
            if backend.name in IN_PROCESS_BACKENDS:
                with self._serial:
                    yield
            else:
                yield

    def draft(self, case: Case) -> Draft:
        """Draft ``case``; fall back to rules (flagged) when the model path fails."""
        from reportdraft import drafting  # the API imports fast; drafting loads the stages

        backend = self.backend()
        reason = self._backend_error
        if backend is not None:
            try:
                with self._slot(backend):
                    return drafting.draft_case(
                        case,
                        backend,
                        library=self.library,
                        now=self.state.clock(),
                        concurrency=self.state.settings.draft_concurrency,
                    ).draft
            except ReportDraftError as exc:
                if isinstance(exc, reports.IdempotencyKeyReused):  # pragma: no cover
                    raise
                if exc.code in {"invalid_case", "empty_dictation", "template_not_found"}:
                    raise
                reason = f"{exc.code}: {exc.message}"
            except Exception as exc:  # a crash in a model runtime must not lose the case
                reason = f"{type(exc).__name__} in backend {backend.name}"
        rules = create_backend("rules", BackendOptions())
        drafted = drafting.draft_case(
            case, rules, library=self.library, now=self.state.clock()
        ).draft
        flag = Flag(
            id="F0",
            kind=FlagKind.FALLBACK,
            severity=Severity.MEDIUM,
            message=f"model drafting failed ({reason or 'unknown'}); drafted by rules"[:500],
        )
        return drafted.model_copy(update={"flags": drafting.renumber([flag, *drafted.flags])})


def store_draft(state: AppState, job: jobs.Job, draft: Draft) -> None:
    """Store ``draft`` as version 1 of the job's report and finish the job, atomically."""
    with state.db.write() as session:
        stored = reports.get(session, job.report_id)
        now = state.clock()
        if stored.state not in reports.PENDING_STATES:
            jobs.finish(session, job, now=now)
            return
        draft = flag_duplicate_accession(session, stored, draft)
        report = attest.open_report(
            stored.case, draft, by=SYSTEM_ACTOR, at=now, report_id=stored.id
        )
        reports.save(
            session,
            stored.id,
            expected_version=stored.version,
            now=now,
            state=report.status.value,
            draft=draft,
            report=report,
            critical_open=critical_open(report),
        )
        record_step(session, before=None, after=report, actor=SYSTEM_ACTOR, at=now)
        outbox.emit(
            session,
            event="report.drafted",
            data={
                "report_id": stored.id,
                "accession_number": stored.accession,
                "priority": stored.priority.value,
                "flags": len(draft.flags),
                "fallback": any(f.kind is FlagKind.FALLBACK for f in draft.flags),
            },
            facility=stored.facility,
            now=now,
        )
        jobs.finish(session, job, now=now)


def flag_duplicate_accession(session: Session, stored: reports.StoredReport, draft: Draft) -> Draft:
    """``draft`` with a low flag when other reports share its facility and accession.

    A second report for one accession is legitimate (a re-read, a corrected dictation),
    so it is not refused; but the radiologist should know the other exists before
    signing, in case it is a mix-up. The flag is appended, so earlier flag ids stay.
    """
    others = reports.same_accession(
        session, accession=stored.accession, facility=stored.facility, exclude=stored.id
    )
    if not others:
        return draft
    flag = Flag(
        id=f"F{len(draft.flags) + 1}",
        kind=FlagKind.DUPLICATE_ACCESSION,
        severity=Severity.LOW,
        message=(
            f"accession {stored.accession} at facility {stored.facility} already has "
            f"{len(others)} other report(s); check this is the intended study"
        )[:500],
        evidence=others,
    )
    return draft.model_copy(update={"flags": [*draft.flags, flag]})


def fail_job(state: AppState, job: jobs.Job, exc: Exception) -> None:
    """Mark the job and its report failed with the reason (the case stays stored)."""
    code = exc.code if isinstance(exc, ReportDraftError) else "drafting_failed"
    message = exc.message if isinstance(exc, ReportDraftError) else type(exc).__name__
    with state.db.write() as session:
        stored = reports.get(session, job.report_id)
        now = state.clock()
        if stored.state in reports.PENDING_STATES:
            reports.save(
                session,
                stored.id,
                expected_version=stored.version,
                now=now,
                state=reports.FAILED,
                error_code=code,
                error=message[:2000],
            )
            from reportdraft.store import audit_trail

            audit_trail.append(
                session,
                report_id=stored.id,
                event="drafting_failed",
                actor=SYSTEM_ACTOR,
                at=now,
                data={"code": code},
            )
        jobs.finish(session, job, now=now, failed=True, error=f"{code}: {message}"[:2000])


class WorkerPool:
    """Worker threads claiming drafting jobs until stopped."""

    def __init__(self, state: AppState, drafter: Drafter, *, threads: int, lease_s: float):
        self.state = state
        self.drafter = drafter
        self.lease_s = lease_s
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"rd-worker-{n}", daemon=True)
            for n in range(max(1, threads))
        ]

    def start(self) -> None:
        """Re-queue abandoned jobs, then start the threads."""
        requeued = jobs.requeue_abandoned(self.state.db, now=self.state.clock())
        if requeued:
            log.info("re-queued %d abandoned job(s)", len(requeued))
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the threads to stop after their current job and wait for them."""
        self._stop.set()
        self.state.wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def run_once(self, worker: str) -> bool:
        """Claim and process one job; False when the queue was empty."""
        job = jobs.claim(self.state.db, worker=worker, now=self.state.clock(), lease_s=self.lease_s)
        if job is None:
            return False
        with self.state.db.read() as session:
            case = reports.get(session, job.report_id).case
        log.info("drafting report %s (job %d, priority %d)", job.report_id, job.id, job.priority)
        try:
            draft = self.drafter.draft(case)
        except Exception as exc:
            log.warning("drafting report %s failed: %s", job.report_id, type(exc).__name__)
            fail_job(self.state, job, exc)
            return True
        store_draft(self.state, job, draft)
        return True

    def _run(self) -> None:
        worker = jobs.worker_id()
        since_requeue = 0.0
        while not self._stop.is_set():
            try:
                if self.run_once(worker):
                    continue
            except Exception as exc:  # keep the worker alive; the job's lease covers it
                log.error("worker error: %s", type(exc).__name__)
            self.state.wake.wait(POLL_S)
            self.state.wake.clear()
            since_requeue += POLL_S
            if since_requeue >= REQUEUE_EVERY_S:
                since_requeue = 0.0
                with contextlib.suppress(Exception):
                    jobs.requeue_abandoned(self.state.db, now=self.state.clock())
