"""The review pages behind ``reportdraft serve --workers 2``: a session is the database's.

With sessions in each process's memory a browser signed in on one worker was signed out
whenever a new connection of its reached the other (uvicorn's workers share the port;
the kernel picks one per connection). Here a browser signs in once and then opens the
worklist on fresh connections, several at once, so both workers serve it.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import httpx

from reportdraft.store import Database, upgrade
from reportdraft.store.signing_keys import KekRing, KeyEncryptionKey
from tests.api.helpers import seed_keys
from tests.api.server import children, serve_process

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def test_a_signed_in_browser_stays_signed_in_on_every_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pages.db'}"
    db = Database(url)
    upgrade(db)
    secret = seed_keys(db, KekRing(KeyEncryptionKey.generate()))["qa"]["Authorization"][7:]
    db.dispose()
    options = ("--workers", "2", "--no-drafting", "--log-level", "warning")
    with serve_process(url, tmp_path / "serve.log", *options) as (base, pid):
        assert len(children(pid)) >= 2, "expected two worker processes"
        form = httpx.get(f"{base}/signin", timeout=10)
        match = CSRF.search(form.text)
        assert match is not None
        signed = httpx.post(
            f"{base}/signin",
            data={"csrf": match.group(1), "api_key": secret},
            cookies=form.cookies,
            timeout=10,
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == "/worklist"
        cookie = {"rd_session": signed.cookies["rd_session"]}
        codes: list[int] = []
        lock = threading.Lock()

        def browser() -> None:
            for _ in range(6):  # a fresh connection each time
                page = httpx.get(f"{base}/worklist", cookies=cookie, timeout=10)
                with lock:
                    codes.append(page.status_code)

        threads = [threading.Thread(target=browser) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert codes == [200] * 24  # a signed-out page is a 303 to /signin
