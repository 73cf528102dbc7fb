"""The review pages in a real browser (Debian Chromium driven by Playwright).

One ``reportdraft serve`` subprocess on SQLite for the module, one browser for the
session, a fresh browser context (cookies) per test. Each test saves screenshots under
``out/screenshots/`` (git-ignored test artefacts).
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.helpers import CRITICAL_DICTATION, a_case
from tests.web.conftest import SCREENSHOTS, Server

pytestmark = pytest.mark.timeout(300)

MARKUP = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script>'


def iso(minutes_ago: float) -> str:
    """An acquisition time ``minutes_ago`` before now (UTC)."""
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def case(
    accession: str, *, minutes_ago: float, priority: str = "routine", **extra: Any
) -> dict[str, Any]:
    """A FAC-API case with one AI finding, acquired ``minutes_ago``."""
    data = a_case(accession, priority=priority, acquisition_time=iso(minutes_ago))
    for key, value in extra.items():
        data[key] = value
    return data


@pytest.fixture(scope="module")
def site(server: Server) -> Server:
    """The server with the module's reports created (in this order, oldest first)."""
    r = server.reports
    r["routine_old"] = server.create(case("ACC-R-OLD", minutes_ago=3 * 24 * 60))
    r["stat_near"] = server.create(
        case("ACC-STAT-NEAR", minutes_ago=25, priority="stat", dictation=CRITICAL_DICTATION)
    )
    r["stat_ok"] = server.create(case("ACC-STAT-OK", minutes_ago=5, priority="stat"))
    r["routine_new"] = server.create(case("ACC-R-NEW", minutes_ago=60))
    r["edit"] = server.create(case("ACC-EDIT", minutes_ago=90))
    r["reject"] = server.create(case("ACC-REJECT", minutes_ago=90))
    r["keyboard"] = server.create(case("ACC-KEYS", minutes_ago=90))
    markup = case("ACC-MARKUP", minutes_ago=90)
    markup["dictation"] = f"The lungs are clear. {MARKUP} No pleural effusion."
    markup["ai_findings"][0]["description"] = "nodule <b>bold</b><script>window.__pwned=3</script>"
    r["markup"] = server.create(markup)
    other = copy.deepcopy(case("ACC-OTHER-FAC", minutes_ago=90))
    other["study"]["performing_facility"]["identifier"] = "FAC-ELSEWHERE"
    r["other"] = server.create(other, role="admin")
    return server


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(browser: Any, server: Server, role: str = "attending") -> tuple[Any, Any]:
    """A new context signed in as ``role``; returns (context, page) on the worklist."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(server.url + "/")
    page.get_by_label("API key").fill(server.key(role))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/worklist"))
    return context, page


def open_report(page: Any, server: Server, key: str) -> None:
    page.goto(f"{server.url}/reports/{server.reports[key]}")


def test_sign_in_out_and_security_headers(browser: Any, site: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    response = page.goto(site.url + "/")
    assert page.url.endswith("/signin")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    shot(page, "01-signin")
    page.get_by_label("API key").fill("rd_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "That API key was not accepted."
    page.get_by_label("API key").fill(site.key("workstation"))
    page.get_by_role("button", name="Sign in").click()
    assert "cannot use the review pages" in page.get_by_role("alert").inner_text()
    page.get_by_label("API key").fill(site.key("attending"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/worklist$"))
    cookie = next(c for c in context.cookies() if c["name"] == "rd_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert site.key("attending") not in cookie["value"]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/signin$"))
    page.goto(site.url + "/worklist")
    assert page.url.endswith("/signin")
    context.close()


def test_worklist_order_and_turnaround_colours(browser: Any, site: Server) -> None:
    context, page = sign_in(browser, site)
    rows = page.locator("#worklist-rows tr")
    accessions = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    stat = [a for a in accessions if a.startswith("ACC-STAT")]
    assert accessions[: len(stat)] == ["ACC-STAT-NEAR", "ACC-STAT-OK"]
    assert accessions[len(stat)] == "ACC-R-OLD"  # then routine, longest waiting first
    assert "ACC-OTHER-FAC" not in accessions

    def level(accession: str) -> str:
        row = page.locator("#worklist-rows tr", has=page.get_by_role("link", name=accession))
        return str(row.locator(".clock").get_attribute("data-level"))

    assert level("ACC-STAT-OK") == "ok"
    assert level("ACC-STAT-NEAR") == "near"
    assert level("ACC-R-OLD") == "over"
    near = page.locator("#worklist-rows tr", has=page.get_by_role("link", name="ACC-STAT-NEAR"))
    assert "due soon" in near.inner_text()  # a word besides the colour
    assert "(not communicated)" in near.inner_text()
    colour = near.locator(".clock").evaluate("el => getComputedStyle(el).color")
    ok_row = page.locator("#worklist-rows tr", has=page.get_by_role("link", name="ACC-STAT-OK"))
    assert colour != ok_row.locator(".clock").evaluate("el => getComputedStyle(el).color")
    shot(page, "02-worklist")
    page.get_by_label("Priority").select_option("stat")
    page.clock.install()  # a fake clock, so the 15 s poll can be fast-forwarded
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert page.locator("#worklist-rows tr").count() == 2
    # htmx polls the table body (every 15 s); a refresh swaps the rows, not the page
    body = page.locator("#worklist-rows")
    assert body.get_attribute("hx-trigger") == "every 15s"
    page.evaluate("document.querySelector('#worklist-rows').setAttribute('data-marker', '1')")
    page.set_viewport_size({"width": 1280, "height": 150})
    page.evaluate("window.scrollTo(0, 100)")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0
    with page.expect_response(re.compile(r"/worklist/rows\?state=open&priority=stat")):
        page.clock.run_for(16_000)
    page.wait_for_timeout(300)
    assert page.locator("#worklist-rows tr").count() == 2
    assert body.get_attribute("data-marker") == "1"  # same element: the page was not reloaded
    assert page.evaluate("window.scrollY") == scrolled
    context.close()


def test_edit_save_and_stale_etag_conflict(browser: Any, site: Server) -> None:
    ctx_a, a = sign_in(browser, site)
    ctx_b, b = sign_in(browser, site, role="radiologist")
    open_report(a, site, "edit")
    open_report(b, site, "edit")
    chip = a.get_by_role("link", name=re.compile(r"^Source D\d+$")).first
    sentence = a.locator("#src-" + str(chip.get_attribute("data-src")))
    assert "hl" not in str(sentence.get_attribute("class"))
    chip.focus()  # focusing (or hovering) a D# chip highlights its dictated sentence
    assert "hl" in str(sentence.get_attribute("class"))
    chip.blur()
    assert "hl" not in str(sentence.get_attribute("class"))
    box_a = a.get_by_role("textbox", name="Statement S1", exact=True)
    original = box_a.input_value()
    box_a.fill("Edited by the attending: the lungs are clear.")
    with a.expect_navigation():
        a.keyboard.press("Control+s")  # the shortcut submits the save form
    assert a.get_by_role("status").filter(has_text="Saved 1 change").count() == 1
    assert (
        a.get_by_role("textbox", name="Statement S1", exact=True)
        .input_value()
        .startswith("Edited by")
    )
    b.get_by_role("textbox", name="Statement S1", exact=True).fill(
        "Edited by the resident, too late."
    )
    b.get_by_role("button", name="Save").click()
    alert = b.get_by_role("alert")
    assert "changed by someone else" in alert.inner_text()
    assert "reload" in alert.inner_text().lower()
    assert (
        b.get_by_role("textbox", name="Statement S1", exact=True).input_value()
        == "Edited by the resident, too late."
    )
    shot(b, "03-conflict")
    with site.api() as client:
        body = client.get(f"/v1/reports/{site.reports['edit']}", headers=site.headers["qa"]).json()
    texts = [s["text"] for sec in body["current"]["content"] for s in sec["statements"]]
    assert "Edited by the attending: the lungs are clear." in texts
    assert original not in texts
    # redline toggle: hidden until opened, then shows the change
    a.reload()
    details = a.locator("details#redline")
    assert not details.locator("ins").first.is_visible()
    a.get_by_text("Show redline against the draft").click()
    assert details.locator("ins").first.is_visible()
    assert "Edited" in details.inner_text()
    shot(a, "04-redline")
    a.get_by_text("Show redline against the draft").click()
    assert not details.locator("ins").first.is_visible()
    ctx_a.close()
    ctx_b.close()


def test_reject_ai_finding(browser: Any, site: Server) -> None:
    context, page = sign_in(browser, site)
    open_report(page, site, "reject")
    with page.expect_navigation():
        page.get_by_role("button", name="Reject A1").click()
    assert "Decision: rejected" in page.locator("#src-A1").inner_text()
    # a sentence of the radiologist's own, added to the impression
    page.get_by_role("textbox", name="New statement in Impression").fill(
        "Nodule reviewed and not confirmed."
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    added = page.locator("textarea[name^='text-S']").filter(has_text="Nodule reviewed")
    assert added.count() == 1
    statement = added.locator("xpath=..")
    assert "R:radiologist" in statement.inner_text()
    assert "edited" in statement.inner_text()
    context.close()


def test_sign_blocked_then_communicate_confirm_sign_and_addendum(
    browser: Any, site: Server
) -> None:
    context, page = sign_in(browser, site)
    open_report(page, site, "stat_near")
    shot(page, "05-review")
    page.get_by_role("button", name="Sign", exact=True).click()
    dialog = page.get_by_role("dialog")
    text = dialog.inner_text()
    assert "ai_finding_pending" in text
    assert "critical_communication_missing" in text
    assert dialog.get_by_role("button", name="Sign as final").is_disabled()
    shot(page, "06-sign-blocked")
    dialog.get_by_role("link", name="Cancel").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm A1").click()
    assert "Decision: confirmed" in page.locator("#src-A1").inner_text()
    form = page.get_by_role("form", name=re.compile("Communication of"))
    assert form.get_by_label("Recipient").input_value() == "Dr. Ana Ortiz"  # pre-filled
    form.get_by_label("Read back").check()
    with page.expect_navigation():
        form.get_by_role("button", name="Record communication").click()
    assert "Communicated to Dr. Ana Ortiz (ordering physician) by phone" in page.inner_text("body")
    acknowledge = page.get_by_role("button", name=re.compile(r"^Acknowledge F\d+$"))
    while acknowledge.count():
        flag = acknowledge.first.inner_text().split()[-1]
        page.get_by_label(f"Reason for {flag}").fill("Reviewed against the images.")
        with page.expect_navigation():
            page.get_by_role("button", name=f"Acknowledge {flag}").click()
    page.keyboard.press("Control+Enter")
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_role("button", name="Sign as final").is_enabled(), dialog.inner_text()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Sign as final").click()
    assert page.locator(".status-word").inner_text() == "Final"
    assert "signed by Sam Lee" in page.inner_text(".signed-banner")
    assert (
        page.get_by_role("textbox", name="Statement S1", exact=True).get_attribute("readonly")
        is not None
    )
    shot(page, "07-signed")
    pdf = page.get_by_role("link", name="PDF")
    assert pdf.is_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="Signed report").click()
    assert page.locator("iframe.pdf").count() == 1
    events = page.locator("table.audit tbody tr").all_inner_texts()
    assert any("signature" in e for e in events)
    assert any("communication" in e for e in events)
    assert "The hash chain verifies." in page.inner_text("body")
    fhir = context.request.get(
        site.url + str(page.get_by_role("link", name="FHIR").get_attribute("href"))
    )
    assert fhir.status == 200
    assert fhir.json()["resourceType"] == "Bundle"
    pdf_bytes = context.request.get(f"{site.url}/reports/{site.reports['stat_near']}/files/pdf")
    assert pdf_bytes.body()[:5] == b"%PDF-"
    assert pdf_bytes.headers["x-frame-options"] == "SAMEORIGIN"
    shot(page, "08-signed-view")
    page.get_by_role("link", name="Back to the report").click()
    page.get_by_text("Addendum", exact=True).click()
    page.get_by_label("Addendum text").fill("Outside CT reviewed: <b>unchanged</b>.")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign addendum").click()
    assert page.locator(".status-word").inner_text() == "Appended"
    assert "Outside CT reviewed: <b>unchanged</b>." in page.locator(".addendum").inner_text()
    shot(page, "09-addendum")
    with page.expect_navigation():
        page.get_by_role("link", name="Amend").click()
    page.get_by_role("textbox", name="Statement S1", exact=True).fill("Two views of the chest.")
    page.get_by_label("Reason for the amendment").fill("Technique corrected: two views.")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign amendment").click()
    assert page.locator(".status-word").inner_text() == "Amended"
    box = page.get_by_role("textbox", name="Statement S1", exact=True)
    assert box.input_value() == "Two views of the chest."
    assert box.get_attribute("readonly") is not None
    context.close()


def test_markup_in_case_text_is_inert(browser: Any, site: Server) -> None:
    context, page = sign_in(browser, site)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_report(page, site, "markup")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    dictation = page.locator(".dictation")
    assert "<script>window.__pwned=2</script>" in dictation.inner_text()
    assert '<img src=x onerror="window.__pwned=1">' in dictation.inner_text()
    assert dictation.locator("img").count() == 0
    assert page.locator("#src-A1 b").count() == 0
    assert "<b>bold</b>" in page.locator("#src-A1").inner_text()
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert errors == []
    shot(page, "10-markup")
    context.close()


def test_csrf_token_required(browser: Any, site: Server) -> None:
    context, _page = sign_in(browser, site)
    rid = site.reports["routine_new"]
    url = f"{site.url}/reports/{rid}/decide"
    missing = context.request.post(url, form={"finding": "A1", "decision": "rejected"})
    assert missing.status == 403
    wrong = context.request.post(
        url, form={"finding": "A1", "decision": "rejected", "csrf": "not-the-token"}
    )
    assert wrong.status == 403
    with site.api() as client:
        body = client.get(f"/v1/reports/{rid}", headers=site.headers["qa"]).json()
    assert body["current"]["decisions"] == []
    outside = httpx.post(f"{site.url}/signin", data={"api_key": site.key("attending")})
    assert outside.status_code == 403
    context.close()


def test_other_facility_report_not_reachable(browser: Any, site: Server) -> None:
    context, page = sign_in(browser, site)
    response = page.goto(f"{site.url}/reports/{site.reports['other']}")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert "ACC-OTHER-FAC" not in page.inner_text("body")
    pdf = context.request.get(f"{site.url}/reports/{site.reports['other']}/files/pdf")
    assert pdf.status == 404
    page.goto(f"{site.url}/reports/{site.reports['other']}/sign")
    assert "ACC-OTHER-FAC" not in page.inner_text("body")
    context.close()


def test_keyboard_only_from_worklist_to_signed(browser: Any, site: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(site.url + "/")
    page.keyboard.type(site.key("radiologist"))  # the key field has focus
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/worklist"))
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "ACC-KEYS":
            break
    else:
        pytest.fail("Tab never reached the ACC-KEYS link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/reports/"))
    page.keyboard.press("Alt+n")
    assert page.evaluate("document.activeElement.textContent") == "Confirm A1"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Decision: confirmed" in page.locator("#src-A1").inner_text()
    for _ in range(10):  # acknowledge what still needs attention, by keyboard alone
        page.keyboard.press("Alt+n")
        name = page.evaluate("document.activeElement.getAttribute('aria-label') || ''")
        if not name.startswith("Reason for"):
            break
        page.keyboard.type("Reviewed against the images.")
        with page.expect_navigation():
            page.keyboard.press("Enter")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/sign$"))
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Sign as preliminary", page.get_by_role("dialog").inner_text()
    shot(page, "11-keyboard-sign")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".status-word").inner_text() == "Preliminary"
    visible = page.evaluate(
        "getComputedStyle(document.querySelector('a'), ':focus-visible') !== null"
    )
    assert visible
    context.close()


def test_wide_screen_layout(browser: Any, site: Server) -> None:
    context = browser.new_context(viewport={"width": 3840, "height": 2160})
    page = context.new_page()
    page.goto(site.url + "/")
    page.get_by_label("API key").fill(site.key("qa"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/worklist"))
    open_report(page, site, "routine_old")
    panes = page.locator(".pane")
    assert panes.count() == 3
    boxes = [panes.nth(i).bounding_box() for i in range(3)]
    assert boxes[0]["y"] == boxes[1]["y"] == boxes[2]["y"]  # side by side
    assert page.get_by_role("button", name="Save").count() == 0  # qa reads only
    shot(page, "12-review-4k")
    context.close()
