"""The web portal in a real headless Chromium: sign-in with TOTP, an activation that needs approval
approved in another browser, the countdown and deactivation, an administrator editing a policy and
assigning a role, hostile text rendered as text, and a form without its CSRF token refused. Every
main page is saved as a PNG under artifacts/portal/, and any JavaScript console error fails."""
import csv
import io
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pyotp
import pytest

from helpers import call, sign_in, wait_until

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("REGENT_ARTIFACTS", ROOT / "artifacts")) / "portal"
ADMIN_PASSWORD = "admin password 123"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def browsers():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opened = []

    def open_browser():
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                         "--disable-gpu"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        opened.append(driver)
        return driver

    yield open_browser
    errors = []
    for driver in opened:
        # A refused form answers with the API's status for that refusal (422 for a policy, 401 for
        # a missing MFA, …) and the page naming the field: Chromium logs that status, but it is the
        # portal working. A server error, any other failed load or a script error counts.
        errors += [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
                   and not (entry["source"] == "network" and re.search(r"status of 4\d\d", entry["message"]))]
        driver.quit()
    assert not errors, f"JavaScript console errors: {errors}"


UNLABELLED = """return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.outerHTML)"""


def screenshot(driver, name: str) -> None:
    """Saves the page as a PNG, after checking that every form field on it has a label."""
    unlabelled = driver.execute_script(UNLABELLED)
    assert not unlabelled, f"{name}: fields without a label: {unlabelled}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def fill(driver, field_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(text)


def loaded(driver) -> None:
    """Waits until the current document has finished loading."""
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def lost_node(error) -> bool:
    """chromedriver's way of saying an element's document was replaced (besides stale-element)."""
    return "does not belong to the document" in str(error)


def click(driver, element) -> None:
    from selenium.common.exceptions import WebDriverException
    try:
        element.click()
    except WebDriverException as error:
        if not lost_node(error):
            raise
        # The node was lost while chromedriver scrolled it into view or right after the click
        # navigated. Clicking through the DOM is the same user action; if the document is already
        # the next one, the click went through. The assertions after each step tell which.
        try:
            driver.execute_script("arguments[0].click()", element)
        except WebDriverException:
            pass


def submit(driver, button) -> None:
    """Clicks a button that posts its form and waits for the next page to be there, fully loaded,
    so the elements found next belong to it."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    page = driver.find_element(By.TAG_NAME, "html")
    click(driver, button)

    def replaced(_) -> bool:
        try:
            page.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if lost_node(error):
                return True
            raise

    WebDriverWait(driver, 10).until(replaced)
    loaded(driver)


def sign_in_browser(driver, server, username: str, password: str, totp: pyotp.TOTP | None = None) -> None:
    from selenium.webdriver.common.by import By
    driver.get(server.url + "/login")
    fill(driver, "username", username)
    fill(driver, "password", password)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    if totp:
        assert "Second factor" in driver.title
        fill(driver, "code", totp.now())
        submit(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert driver.current_url.endswith("/roles"), driver.current_url


def test_portal_in_a_real_browser(server_factory, browsers):
    from selenium.webdriver.common.by import By

    server = server_factory({"REGENT_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD}).start("--self-deactivation-delay", "PT0S")
    admin_token = sign_in(server, "admin", ADMIN_PASSWORD)
    for name in ("alice", "bob"):
        assert call(server.url + "/v1/principals", "POST",
                    {"kind": "user", "name": name, "password": f"{name} password 123"}, admin_token)[0] == 201
    assert call(server.url + "/v1/principals", "POST",
                {"kind": "user", "name": "mallory", "displayName": HOSTILE}, admin_token)[0] == 201
    assert call(server.url + "/v1/roles", "POST", {"name": "orders-db-admin", "description": HOSTILE},
                admin_token)[0] == 201
    assert call(server.url + "/v1/roles/orders-db-admin/policy", "PUT", {"activation": {
        "requireMfa": True, "maximumDuration": "PT2H",
        "approval": {"stages": [{"approvers": ["bob"]}]}}}, admin_token)[0] == 200
    assert call(server.url + "/v1/requests", "POST", {"action": "adminAssign", "principalId": "alice",
                                                      "roleId": "orders-db-admin", "scope": "/",
                                                      "kind": "eligible"}, admin_token)[0] == 201
    # alice enrolls TOTP (with the previous step's code, so the browser's code is a fresh one).
    alice_token = sign_in(server, "alice", "alice password 123")
    status, enrollment = call(server.url + "/v1/me/mfa/totp", "POST", None, alice_token)
    assert status == 201, enrollment
    totp = pyotp.TOTP(enrollment["secret"])
    assert call(server.url + "/v1/me/mfa/totp/confirm", "POST", {"code": totp.at(time.time() - 30)},
                alice_token)[0] == 200

    # alice signs in with her password and TOTP, and asks for the role.
    alice = browsers()
    sign_in_browser(alice, server, "alice", "alice password 123", totp)
    card = alice.find_element(By.CSS_SELECTOR, "[data-role='orders-db-admin']")
    assert "at most PT2H" in card.text
    card.find_element(By.NAME, "duration").clear()
    card.find_element(By.NAME, "duration").send_keys("PT1H")
    card.find_element(By.NAME, "justification").send_keys("INC-42 failover")
    submit(alice, card.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert "waits for approval" in alice.find_element(By.CSS_SELECTOR, ".notice").text
    screenshot(alice, "roles-pending")
    alice.get(server.url + "/requests")
    assert "pendingApproval" in alice.find_element(By.TAG_NAME, "table").text
    screenshot(alice, "requests")

    # bob approves in his own browser.
    bob = browsers()
    sign_in_browser(bob, server, "bob", "bob password 123")
    bob.get(server.url + "/approvals")
    row = bob.find_element(By.CSS_SELECTOR, "tr[data-request]")
    assert "INC-42 failover" in row.text and "orders-db-admin" in row.text
    screenshot(bob, "approvals")
    click(bob, row.find_element(By.CSS_SELECTOR, "input[type=checkbox]"))
    fill(bob, "reason", "ok, go")
    submit(bob, bob.find_element(By.CSS_SELECTOR, "button[value=approve]"))
    assert bob.find_element(By.CSS_SELECTOR, ".notice").text == "Done."
    assert "Nothing waits for you" in bob.page_source

    # bob sets up his authenticator app in the portal.
    bob.get(server.url + "/mfa")
    submit(bob, bob.find_element(By.CSS_SELECTOR, "form[action='/mfa/begin'] button"))
    assert bob.find_element(By.ID, "otpauth-uri").text.startswith("otpauth://totp/Regent:bob?secret=")
    screenshot(bob, "mfa")
    # The QR code reads back, with an independent decoder, as exactly the link beside it.
    import io
    import zxingcpp
    from PIL import Image
    picture = Image.open(io.BytesIO(bob.find_element(By.ID, "totp-qr").screenshot_as_png))
    decoded = zxingcpp.read_barcodes(picture)
    assert [code.text for code in decoded] == [bob.find_element(By.ID, "otpauth-uri").text]
    fill(bob, "confirm-code", pyotp.TOTP(bob.find_element(By.ID, "totp-secret").text).now())
    submit(bob, bob.find_element(By.CSS_SELECTOR, "form[action='/mfa/confirm'] button"))
    assert bob.find_element(By.CSS_SELECTOR, ".notice").text == "Your authenticator app is set up."

    # alice sees it active, counting down, and deactivates it.
    def active_card():
        alice.get(server.url + "/roles")
        cards = alice.find_elements(By.CSS_SELECTOR, "#active-heading ~ ul [data-role='orders-db-admin']")
        return cards[0] if cards else None
    wait_until(active_card, timeout=10, interval=0.3)
    countdown = alice.find_element(By.CSS_SELECTOR, "time.countdown")
    first = countdown.text
    wait_until(lambda: countdown.text != first, timeout=5, interval=0.2)
    assert countdown.text != first and countdown.text.startswith(("59m", "1h")), (first, countdown.text)
    screenshot(alice, "roles-active")
    submit(alice, alice.find_element(By.NAME, "deactivate"))
    assert alice.find_element(By.CSS_SELECTOR, ".notice").text == "Deactivated."
    assert not alice.find_elements(By.CSS_SELECTOR, "#active-heading ~ ul [data-role]")

    # A form posted without its CSRF token is refused, even with alice's session cookie.
    cookie = alice.get_cookie("regent_session")
    assert cookie and cookie["httpOnly"] and cookie.get("sameSite") == "Strict"
    forged = urllib.request.Request(server.url + "/deactivate", method="POST", data=b"assignment=x",
                                    headers={"Cookie": f"regent_session={cookie['value']}", "Origin": server.url,
                                             "Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=10)
    assert refused.value.code == 403

    # Recently ended: the deactivated activation is listed with why it ended.
    ended = alice.find_element(By.CSS_SELECTOR, "tr[data-ended='orders-db-admin']").text
    assert "deactivated" in ended, ended

    # The administrator edits the policy and assigns a role; hostile text stays text.
    from selenium.webdriver.support.ui import Select
    admin = browsers()
    sign_in_browser(admin, server, "admin", ADMIN_PASSWORD)
    admin.get(server.url + "/admin/roles")
    assert HOSTILE in [cell.text for cell in admin.find_elements(By.CSS_SELECTOR, "[data-role] .description")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in admin.page_source
    own = admin.find_element(By.CSS_SELECTOR, "tr[data-builtin='regent-admin']").text
    assert "managePrincipals" in own and "admin" in own
    screenshot(admin, "administration-roles")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "a[href*='role=orders-db-admin']"))
    Select(admin.find_element(By.ID, "rule-requireTicket")).select_by_value("true")
    fill(admin, "rule-stage1.timeout", "PT8H")
    fill(admin, "rule-stage1.escalationApprovers", "admin")
    fill(admin, "rule-stage1.escalationAfter", "PT2H")
    fill(admin, "rule-stage2.approvers", "admin")
    fill(admin, "rule-timeWindows", "Mon-Sun 00:00-23:59 UTC")
    fill(admin, "rule-maxActivations", "5 per P1D")
    Select(admin.find_element(By.ID, "rule-activeExpiration.mode")).select_by_value("bounded")
    fill(admin, "rule-activeExpiration.maximum", "P30D")
    Select(admin.find_element(By.ID, "rule-notifications.mode")).select_by_value("set")
    Select(admin.find_element(By.ID, "notify.activation.requester")).select_by_value("critical")
    fill(admin, "notify.activation.admins.extra", "soc@example.com")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form.policy button[type=submit]"))
    assert admin.find_element(By.CSS_SELECTOR, ".notice").text == "Policy saved."
    in_force = admin.find_element(By.CSS_SELECTOR, "#rule-maxActivations ~ .effective").text
    assert "5 per P1D" in in_force and "set at /" in in_force, in_force
    screenshot(admin, "policy")
    status, policy = call(server.url + "/v1/roles/orders-db-admin/policy", "GET", None, admin_token)
    activation = policy["effective"]["activation"]
    assert activation["requireTicket"] is True
    stages = activation["approval"]["stages"]
    assert [len(stage["approvers"]) for stage in stages] == [1, 1] and stages[0]["timeout"] == "PT8H", stages
    assert stages[0]["escalation"]["after"] == "PT2H"
    assert activation["conditions"]["maxActivations"] == {"count": 5, "window": "P1D"}, activation["conditions"]
    assert policy["effective"]["activeAssignment"]["maximumDuration"] == "P30D"
    notifications = {(n["event"], n["recipient"]): n for n in policy["effective"]["notifications"]}
    assert notifications[("activation", "requester")]["level"] == "critical"
    assert notifications[("activation", "admins")]["extraRecipients"] == ["soc@example.com"]
    # A wrong field saves nothing and says which field it was.
    fill(admin, "rule-timeWindows", "Weekdays 9-5")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form.policy button[type=submit]"))
    assert "timeWindows" in admin.find_element(By.ID, "page-error").text
    assert call(server.url + "/v1/roles/orders-db-admin/policy", "GET", None, admin_token)[1] == policy

    # Targets and roles: a webhook target, a role granting on it, its entitlement edited.
    admin.get(server.url + "/admin/targets")
    Select(admin.find_element(By.ID, "target-kind")).select_by_value("webhook")
    fill(admin, "target-name", "chat-bridge")
    fill(admin, "target-config", "url=http://127.0.0.1:9/hook")
    fill(admin, "target-secrets", "hmacKey=s3cr3t-9f2c7e")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form[action='/admin/target'].card button"))
    assert admin.find_element(By.CSS_SELECTOR, ".notice").text == "Saved."
    assert "hmacKey" in admin.find_element(By.CSS_SELECTOR, "[data-target='chat-bridge']").text
    assert "s3cr3t-9f2c7e" not in admin.page_source
    screenshot(admin, "administration-targets")
    admin.get(server.url + "/admin/roles")
    fill(admin, "role-name", "chat-admin")
    fill(admin, "role-description", "Administers the chat")
    fill(admin, "role-entitlements", "chat-bridge channel-admins")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form[action='/admin/role'].card button"))
    assert admin.find_element(By.CSS_SELECTOR, ".notice").text == "Saved."
    card = admin.find_element(By.CSS_SELECTOR, "[data-role='chat-admin']")
    click(admin, card.find_element(By.TAG_NAME, "summary"))
    fill(admin, "entitlements-chat-admin", "chat-bridge channel-owners")
    submit(admin, card.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    role = call(server.url + "/v1/roles/chat-admin", "GET", None, admin_token)[1]
    assert [e["value"] for e in role["entitlements"]] == ["channel-owners"], role

    # Assignments: assign and remove.
    admin.get(server.url + "/admin")
    fill(admin, "assign-principal", "bob")
    Select(admin.find_element(By.ID, "assign-role")).select_by_value("orders-db-admin")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form[action='/admin/assign'] button"))
    assert admin.find_element(By.CSS_SELECTOR, ".notice").text == "Assigned."
    screenshot(admin, "administration")
    status, assignments = call(server.url + "/v1/assignments?principal=bob", "GET", None, admin_token)
    [bobs] = [a for a in assignments["items"] if a["kind"] == "eligible"]
    row = admin.find_element(By.CSS_SELECTOR, f"tr[data-assignment='{bobs['id']}']")
    submit(admin, row.find_element(By.CSS_SELECTOR, "button"))
    assert admin.find_element(By.CSS_SELECTOR, ".notice").text == "Removed."
    status, assignments = call(server.url + f"/v1/assignments?principal=bob&state=ended", "GET", None, admin_token)
    assert [a["id"] for a in assignments["items"]] == [bobs["id"]]

    # Principals and groups: a new user who can sign in, a group with a member, a user disabled.
    admin.get(server.url + "/admin/directory")
    assert HOSTILE in [cell.text for cell in admin.find_elements(By.CSS_SELECTOR, "td.display-name")]
    fill(admin, "new-name", "carol")
    fill(admin, "new-password", "carol password 123")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form[action='/admin/principal'] button"))
    assert admin.find_element(By.CSS_SELECTOR, ".notice").text == "Created."
    sign_in(server, "carol", "carol password 123")
    Select(admin.find_element(By.ID, "new-kind")).select_by_value("group")
    fill(admin, "new-name", "dba-leads")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form[action='/admin/principal'] button"))
    Select(admin.find_element(By.ID, "member-group")).select_by_value("dba-leads")
    fill(admin, "member-name", "carol")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form[action='/admin/member/add'] button"))
    assert admin.find_element(By.CSS_SELECTOR, ".notice").text == "Updated."
    assert "carol" in admin.find_element(By.CSS_SELECTOR, "[data-group='dba-leads']").text
    screenshot(admin, "administration-directory")
    added = call(server.url + "/v1/audit?action=group.member_added", "GET", None, admin_token)[1]["items"]
    assert [event["actor"]["name"] for event in added] == ["admin"], added
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form[action='/admin/member/remove'] button"))
    assert "No member." in admin.find_element(By.CSS_SELECTOR, "[data-group='dba-leads']").text
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form[action='/admin/enable']:has(input[value='mallory']) button"))
    assert admin.find_element(By.CSS_SELECTOR, ".notice").text == "Updated."
    assert call(server.url + "/v1/principals/mallory", "GET", None, admin_token)[1]["enabled"] is False

    # Access reviews: the administrator defines one in the portal; bob, its reviewer, denies
    # alice's eligibility in his browser.
    admin.get(server.url + "/admin/reviews")
    fill(admin, "review-name", "orders review")
    fill(admin, "review-roles", "orders-db-admin")
    fill(admin, "review-reviewers", "bob")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "form[action='/admin/reviews'] button[type=submit]"))
    assert admin.find_element(By.CSS_SELECTOR, ".notice").text == "Created."
    assert "0 of 1 decided" in admin.find_element(By.CSS_SELECTOR, "[data-review='orders review']").text
    screenshot(admin, "administration-reviews")
    bob.get(server.url + "/reviews")
    row = bob.find_element(By.CSS_SELECTOR, "[data-review-item='alice-orders-db-admin']")
    click(bob, row.find_element(By.CSS_SELECTOR, "input[type=checkbox]"))
    fill(bob, "review-justification", "left the team")
    submit(bob, bob.find_element(By.CSS_SELECTOR, "button[value=deny]"))
    assert bob.find_element(By.CSS_SELECTOR, ".notice").text == "Done."
    assert bob.find_element(By.CSS_SELECTOR, "[data-review-item='alice-orders-db-admin'] .decided").text == "deny"
    screenshot(bob, "reviews")

    # Security alerts: the bootstrap administrator's permanent assignment is raised, and its
    # dismissal by that same administrator is refused on the page.
    def permanent_alert():
        admin.get(server.url + "/alerts")
        return admin.find_elements(By.CSS_SELECTOR, "[data-alert='permanentActiveAssignment']")
    wait_until(permanent_alert, timeout=10, interval=0.3)
    fill(admin, "reason-permanentActiveAssignment", "that is me")
    submit(admin, admin.find_element(By.CSS_SELECTOR, "[data-alert='permanentActiveAssignment'] button"))
    assert "another administrator" in admin.find_element(By.ID, "page-error").text
    screenshot(admin, "alerts")

    admin.get(server.url + "/audit")
    assert "intact" in admin.find_element(By.CSS_SELECTOR, ".chain").text
    assert "request.approved" in admin.page_source or "request.approve" in admin.page_source
    screenshot(admin, "audit")
    # The export buttons download the search as files (here: the CSV, read back with csv).
    link = admin.find_element(By.CSS_SELECTOR, "a[href*='/audit/export?'][href*='format=csv']").get_attribute("href")
    session = admin.get_cookie("regent_session")["value"]
    with urllib.request.urlopen(urllib.request.Request(link, headers={"Cookie": f"regent_session={session}"}),
                                timeout=10) as response:
        assert response.headers["Content-Disposition"].startswith("attachment; filename=\"regent-audit-")
        exported = list(csv.DictReader(io.StringIO(response.read().decode())))
    assert exported and {"seq", "hash", "prevHash"} <= set(exported[0])
    admin.set_window_size(390, 844)  # a phone
    admin.get(server.url + "/roles")
    screenshot(admin, "roles-phone")
    assert server.stop() == 0
