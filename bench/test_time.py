"""How long ``make test`` takes, phase by phase, in a fresh clone.

``make test`` is four Makefile targets run in order; this clones the repository (its
committed ``HEAD``) into a scratch folder and times each one there:

1. ``install-dev``  the virtual environment with the development extras (pip; CPU torch
   first, xgrammar without triton);
2. ``lint``         ruff check, ruff format --check, mypy (strict, no cache in a fresh clone);
3. ``pytest``       the whole suite, ``PYTEST_ARGS`` (default ``-n auto``: every core);
4. ``eval-examples`` the QA suite over the examples (rules and the embedded model).

Baseline, measured in the same run: the pytest phase again in one process
(``PYTEST_ARGS=-n0``, what ``make test`` ran before pytest-xdist), so the JSON gives the
ratio serial / parallel on the same machine at the same time. ``--no-baseline`` skips it
(it adds the serial suite's whole time).

It also records what the README's promise depends on: the machine (cores, memory, load
average before and after every phase: other work on the machine slows every phase), the
venv's size and largest packages, whether pip downloaded any CUDA package (``nvidia-*``,
``triton``, a torch other than the pinned CPU build), and the pytest summary line.

    python bench/test_time.py                                   # the full thing (~15 min)
    python bench/test_time.py --venv /path/to/.venv --phases lint pytest \\
        --pytest-args "-n auto tests/test_io.py"                # a quick check of the script

``--venv`` reuses an existing environment (no install phase; the clone's code is put first
on ``PYTHONPATH`` so the phases test the clone, not the environment's editable install).
The install phase is the only one that leaves the machine (pip's package indexes); every
other phase is what ``make test`` runs, loopback only.

Output: ``bench/results/test_time.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "test_time.json"
PHASES = ("install-dev", "lint", "pytest", "eval-examples")
TORCH_PIN = "2.13.0"
TAIL_CHARS = 3000


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages (empty where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    """What the timings depend on: cores, memory, Python, OS."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
    try:
        meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
        total = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
        if total:
            info["mem_total_gib"] = round(int(total.group(1)) / 2**20, 1)
    except OSError:
        pass
    return info


def run_phase(
    name: str, command: list[str], cwd: Path, env: dict[str, str], log_dir: Path
) -> dict[str, Any]:
    """Run one phase, timing it; its whole output goes to ``log_dir/<name>.log``."""
    log = log_dir / f"{name}.log"
    before = load_average()
    start = time.perf_counter()
    with log.open("wb") as out:
        done = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    text = log.read_text(encoding="utf-8", errors="replace")
    result: dict[str, Any] = {
        "command": shlex.join(command),
        "seconds": round(seconds, 1),
        "returncode": done.returncode,
        "load_before": before,
        "load_after": load_average(),
        "log": str(log),
    }
    summary = pytest_summary(text)
    if summary:
        result["pytest_summary"] = summary
    if done.returncode != 0:
        result["output_tail"] = text[-TAIL_CHARS:]
    print(f"{name}: {seconds:.1f} s (rc {done.returncode})", file=sys.stderr)
    return result


def pytest_summary(text: str) -> str | None:
    """The last ``N passed ... in Xs`` line of a pytest run, if any."""
    found = re.findall(r"^=*\s*(\d+ (?:passed|failed|error).* in [\d.]+s.*?)\s*=*$", text, re.M)
    return found[-1] if found else None


def cuda_downloads(install_log: str) -> list[str]:
    """Lines where pip fetched a CUDA package or a torch other than the pinned CPU build."""
    bad: list[str] = []
    for line in install_log.splitlines():
        fetched = re.search(r"(?:Downloading|Processing|Using cached)\s+(\S+)", line)
        if not fetched:
            continue
        name = Path(fetched.group(1)).name.lower()
        cuda = name.startswith(("nvidia_", "nvidia-", "triton-", "cuda_", "cuda-"))
        other_torch = name.startswith("torch-") and not name.startswith(f"torch-{TORCH_PIN}+cpu")
        if cuda or other_torch:
            bad.append(line.strip())
    return bad


def venv_report(venv: Path) -> dict[str, Any]:
    """Size of the environment, its ten largest packages, and the CUDA packages in it."""
    site = next(venv.glob("lib/python*/site-packages"), None)
    if site is None:
        return {}
    sizes = {p.name: tree_bytes(p) for p in site.iterdir() if p.is_dir()}
    largest = sorted(sizes.items(), key=lambda kv: -kv[1])[:10]
    cuda = sorted(
        p.name
        for p in site.glob("*.dist-info")
        if p.name.lower().startswith(("nvidia_", "triton-", "cuda_"))
    )
    return {
        "path": str(venv),
        "size_mib": round(tree_bytes(venv) / 2**20),
        "largest_mib": {name: round(size / 2**20) for name, size in largest},
        "cuda_packages": cuda,
    }


def tree_bytes(path: Path) -> int:
    """Bytes of the regular files under ``path`` (symlinks not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            file = Path(root) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="repository to clone (HEAD)")
    parser.add_argument("--workdir", type=Path, help="where to clone (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the clone and its venv")
    parser.add_argument("--venv", type=Path, help="reuse this environment (no install phase)")
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument("--pytest-args", default="-n auto", help="PYTEST_ARGS of the pytest phase")
    parser.add_argument("--no-baseline", action="store_true", help="skip the serial pytest run")
    parser.add_argument("--no-pip-cache", action="store_true", help="install with PIP_NO_CACHE_DIR")
    parser.add_argument("--data", type=Path, help="REPORTDRAFT_DATA (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="reportdraft-test-time-"))
    clone = workdir / "reportdraft"
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    subprocess.run(["git", "clone", "-q", str(args.repo.resolve()), str(clone)], check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.strip()

    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env["REPORTDRAFT_DATA"] = str(args.data or args.repo.resolve().parent / "shared" / "data")
    if args.no_pip_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    make = ["make", "--no-print-directory"]
    phases = [p for p in PHASES if p in args.phases]
    if args.venv is not None:
        # Use the given environment as it is: never let make reinstall into it.
        venv = args.venv.resolve()
        marker = venv / ".dev-installed"
        make += [f"VENV={venv}", "-o", str(marker), "-o", str(venv / "bin" / "python")]
        env["PYTHONPATH"] = str(clone)
        phases = [p for p in phases if p != "install-dev"]
    else:
        venv = clone / ".venv"

    results: dict[str, Any] = {}
    for phase in phases:
        command = [*make, phase]
        if phase == "pytest":
            command.append(f"PYTEST_ARGS={args.pytest_args}")
        results[phase] = run_phase(phase, command, clone, env, logs)
    baseline = None
    if "pytest" in phases and not args.no_baseline:
        serial = re.sub(r"(^|\s)-n\s*\S+", " ", args.pytest_args).strip()
        command = [*make, "pytest", f"PYTEST_ARGS=-n0 {serial}".strip()]
        baseline = run_phase("pytest-serial", command, clone, env, logs)

    report: dict[str, Any] = {
        "what": "make test, phase by phase, in a fresh clone (bench/test_time.py)",
        "commit": commit,
        "machine": machine(),
        "note": (
            "Wall-clock seconds on a machine that may be shared: load_before/load_after are "
            "the load averages around each phase; compare ratios, not seconds, across runs."
        ),
        "venv_reused": args.venv is not None,
        "pip_cache": not args.no_pip_cache,
        "pytest_args": args.pytest_args,
        "phases": results,
        "total_seconds": round(sum(r["seconds"] for r in results.values()), 1),
        "wall_seconds_with_clone": round(time.perf_counter() - start, 1),
        "venv": venv_report(venv),
    }
    if "install-dev" in results:
        log = Path(results["install-dev"]["log"]).read_text(encoding="utf-8", errors="replace")
        report["cuda_downloads"] = cuda_downloads(log)
    if baseline is not None:
        report["baseline_pytest_serial"] = baseline
        parallel = results["pytest"]["seconds"]
        report["ratio_pytest_serial_over_parallel"] = (
            round(baseline["seconds"] / parallel, 2) if parallel else None
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    if not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r["returncode"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
