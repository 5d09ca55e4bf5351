"""Background jobs that build the stock report.

The report stands in for a query against a slow warehouse system: it takes
``REPORT_SECONDS`` (app config, 2.5 s by default) however little data there is, so the
report page shows "Preparing report…" and polls until the job is done. The example suite
keeps that delay on purpose: it is one of its genuinely slow scenarios.

Used by ``api.py``; one ``ReportJobs`` per app.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from .db import Database
from .service import stock_report


class ReportJobs:
    def __init__(self, database: Database, seconds: float) -> None:
        self.database = database
        self.seconds = seconds
        self._jobs: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self) -> int:
        with self._lock:
            job_id = next(self._ids)
            self._jobs[job_id] = {"id": job_id, "status": "running", "report": None}
        worker = threading.Thread(
            target=self._run, args=(job_id,), name=f"stock-report-{job_id}", daemon=True
        )
        worker.start()
        return job_id

    def get(self, job_id: int) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return dict(job) if job else None

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()

    def stop(self) -> None:
        """Let running jobs end at once (they see the event instead of sleeping on)."""
        self._stopping.set()

    def _run(self, job_id: int) -> None:
        started = time.monotonic()
        try:
            report = stock_report(self.database)
            remaining = self.seconds - (time.monotonic() - started)
            if remaining > 0:
                self._stopping.wait(remaining)
            result = {"status": "done", "report": report}
        except Exception as error:  # noqa: BLE001 - the page must show the failure, not poll forever
            result = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].update(result)
