"""Two-factor authentication in the browser: enrol an authenticator app (TOTP) from the account security page,
sign out, sign in with a code; and, with MFA_REQUIRED_FOR_STAFF on, staff without it are sent to enrol
instead of admin."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from .conftest import PASSWORD, instrument, live_daphne, submit_login

TOTP_PERIOD = 30  # allauth's MFA_TOTP_PERIOD default


def code_for(secret: str, counter: int | None = None) -> str:
    """What an authenticator app shows now (allauth's own TOTP arithmetic, RFC 6238)."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // TOTP_PERIOD if counter is None else counter))


def next_code(secret: str, used_counter: int) -> str:
    """A code that was not used yet: allauth refuses a code a second time, so wait for the next period."""
    while int(time.time()) // TOTP_PERIOD <= used_counter:
        time.sleep(0.5)
    return code_for(secret)


def with_verified_email(user) -> None:
    # allauth lets only an account with a verified address turn on two-factor (so nobody can lock a stranger's
    # address behind their own authenticator).
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)


def enrol(page) -> tuple[str, int]:
    """On the way to the activation page: confirm the password (allauth asks again before any change to how
    the account signs in); there, read the secret as an app would from the QR code and enter its code."""
    expect(page.get_by_role("heading", name="Confirm Access")).to_be_visible()
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("img[src^='data:image/svg+xml']")).to_be_visible()  # the QR code, under the CSP
    secret = page.locator("#authenticator_secret").input_value()
    counter = int(time.time()) // TOTP_PERIOD
    page.locator("input[name=code]").fill(code_for(secret, counter))
    page.get_by_role("button", name="Activate").click()
    return secret, counter


def test_enrol_totp_from_the_security_page_then_sign_in_with_a_code(new_context, make_user):
    with_verified_email(make_user("dana"))
    context = new_context()
    instrument(context)
    page = context.new_page()
    page.goto("/accounts/login/")
    submit_login(page, "dana")
    expect(page).to_have_url(re.compile(r"/$"))

    page.locator("header .me a").click()
    expect(page.get_by_role("heading", name="Account security")).to_be_visible()
    expect(page.get_by_text("Off: set up an authenticator app")).to_be_visible()
    page.get_by_role("link", name="Two-factor authentication").click()
    page.get_by_role("link", name="Activate").first.click()
    secret, used = enrol(page)
    # Recovery codes come with it, for a lost phone.
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    submit_login(page, "dana")
    # The password alone does not sign in: the code is asked for.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.locator("input[name=code]").fill("000000" if code_for(secret) != "000000" else "111111")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    expect(page.locator("header .me")).to_have_count(0)
    page.locator("input[name=code]").fill(next_code(secret, used))
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("header .me")).to_contain_text("dana")
    page.goto("/accounts/security/")
    expect(page.get_by_text("On: signing in asks for a code")).to_be_visible()


def test_with_two_factor_required_staff_without_it_are_sent_to_enrol_instead_of_admin(
    new_context, make_user, django_db_blocker
):
    with_verified_email(make_user("mod", superuser=True))
    with live_daphne(django_db_blocker, env={"MFA_REQUIRED_FOR_STAFF": "true"}) as server:
        context = new_context()  # on the session's server by default: every address below names this one
        instrument(context)
        page = context.new_page()
        page.goto(f"{server.url}/admin/")
        # Admin's login is allauth's; the right password is not enough to see admin.
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
        submit_login(page, "mod")
        expect(page.get_by_text("Set up two-factor authentication to use admin.")).to_be_visible()
        page.goto(f"{server.url}/admin/auth/user/")
        expect(page.get_by_text("Set up two-factor authentication to use admin.")).to_be_visible()
        expect(page.get_by_text("Site administration")).to_have_count(0)

        enrol(page)
        expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
        page.goto(f"{server.url}/admin/")
        expect(page.get_by_text("Site administration")).to_be_visible()
