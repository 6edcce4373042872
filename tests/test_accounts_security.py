"""Account and platform hardening (issue 10): admin login through allauth's limits, account takeover from a
stolen session, look-alike usernames, the development key on a public host, the socket's Origin check, and
two-factor authentication required of staff."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, override_settings

from accounts.usernames import LOOKS_TAKEN, MIXED_ALPHABETS
from chatsite.asgi import CsrfOriginValidator, application
from chatsite.middleware import DEV_KEY_REFUSAL

from .helpers import make_user, session_cookie

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"  # tests.helpers.make_user's
User = get_user_model()
pytestmark = pytest.mark.django_db


def signed_in(user, address: str = "127.0.0.1") -> Client:
    """A client holding the person's session, as a thief with the cookie would: no recent login on record."""
    client = Client(REMOTE_ADDR=address)
    client.force_login(user)
    return client


# ---- 1. admin login goes through allauth's limits ---------------------------------------------------------


def test_the_admin_login_form_checks_no_password_and_sends_to_allauths_login():
    make_user("admin", is_staff=True, is_superuser=True)
    attacker = Client(REMOTE_ADDR="203.0.113.21")
    for guess in [f"guess-{n}" for n in range(25)] + [PASSWORD]:
        response = attacker.post("/admin/login/?next=/admin/", {"username": "admin", "password": guess})
        # Not a form answer: a redirect to allauth's login, where the limits are. The right password too.
        assert response.status_code == 302
        assert response.headers["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert "_auth_user_id" not in attacker.session
    assert attacker.get("/admin/").headers["Location"].startswith("/admin/login/")


def test_wrong_passwords_for_admin_are_limited_and_the_right_one_is_then_refused():
    make_user("admin", is_staff=True, is_superuser=True)
    attacker = Client(REMOTE_ADDR="203.0.113.22")
    login = attacker.get("/admin/login/?next=/admin/").headers["Location"]
    for n in range(5):
        wrong = attacker.post(login, {"login": "admin", "password": f"guess-{n}"})
        assert "The username and/or password you specified are not correct." in wrong.content.decode()
    refused = attacker.post(login, {"login": "admin", "password": PASSWORD})
    assert "Too many failed login attempts. Try again later." in refused.content.decode()
    assert "_auth_user_id" not in attacker.session


def test_staff_sign_in_through_allauth_and_reach_admin():
    make_user("admin", is_staff=True, is_superuser=True)
    client = Client()
    login = client.get("/admin/login/?next=/admin/").headers["Location"]
    signed = client.post(login, {"login": "admin", "password": PASSWORD})
    assert signed.headers["Location"] == "/admin/"
    assert "Site administration" in client.get("/admin/").content.decode()


# ---- 2. account takeover from a stolen session ------------------------------------------------------------


def test_a_stolen_session_cannot_add_an_email_address_without_the_password(alice):
    thief = signed_in(alice)
    response = thief.post("/accounts/email/", {"action_add": "", "email": "thief@example.net"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/reauthenticate/")
    assert not EmailAddress.objects.filter(email="thief@example.net").exists()
    # The password is what it asks for, and a wrong one adds nothing either.
    wrong = thief.post("/accounts/reauthenticate/", {"password": "guess"})
    assert "Incorrect password." in wrong.content.decode()
    assert thief.post("/accounts/email/", {"action_add": "", "email": "thief@example.net"}).status_code == 302
    assert not EmailAddress.objects.filter(email="thief@example.net").exists()


def test_a_stolen_session_cannot_change_the_password_without_the_current_one(alice):
    thief = signed_in(alice)
    response = thief.post(
        "/accounts/password/change/",
        {"oldpassword": "guess", "password1": "thief-owns-it-now", "password2": "thief-owns-it-now"},
    )
    assert "Please type your current password." in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_the_old_address_hears_of_a_new_address_and_a_new_password(alice):
    EmailAddress.objects.create(user=alice, email=alice.email, primary=True, verified=True)
    owner = signed_in(alice)
    assert owner.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    mail.outbox.clear()
    owner.post("/accounts/email/", {"action_add": "", "email": "second@example.net"})
    told = [m for m in mail.outbox if m.to == [alice.email]]
    assert len(told) == 1 and "second@example.net has been added to your account" in told[0].body
    mail.outbox.clear()
    owner.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a-new-pass-phrase", "password2": "a-new-pass-phrase"},
    )
    assert [m.to for m in mail.outbox] == [[alice.email]]
    assert "Your password has been changed" in mail.outbox[0].body


def reset_mail_to(address: str) -> str:
    mail.outbox.clear()
    Client().post("/accounts/password/reset/", {"email": address})
    (sent,) = [m for m in mail.outbox if m.to == [address]]
    return sent.body


def test_a_password_reset_goes_only_to_a_verified_address(alice):
    EmailAddress.objects.create(user=alice, email=alice.email, primary=True, verified=True)
    # The thief's own address, added to alice's account and never verified.
    EmailAddress.objects.create(user=alice, email="thief@example.net", primary=False, verified=False)
    to_thief = reset_mail_to("thief@example.net")
    assert "/accounts/password/reset/key/" not in to_thief
    assert "No account has verified this address, so no reset link can be sent to it." in to_thief
    assert "/accounts/password/reset/key/" in reset_mail_to(alice.email)


def test_the_address_an_account_was_made_with_gets_its_reset_link_unverified(bob):
    # The default setup verifies nobody's address at sign-up: a forgotten password must still be resettable.
    EmailAddress.objects.create(user=bob, email=bob.email, primary=True, verified=False)
    assert "/accounts/password/reset/key/" in reset_mail_to(bob.email)
    carol = User.objects.create_user("carol", "carol@example.com", "pw-pw-pw-pw")  # made in admin: no rows
    assert "/accounts/password/reset/key/" in reset_mail_to(carol.email)


def test_an_address_made_primary_while_unverified_gets_no_reset_link(bob):
    # Nobody verified bob's addresses (sign-up without verification), so a thief could make theirs primary.
    EmailAddress.objects.create(user=bob, email=bob.email, primary=False, verified=False)
    EmailAddress.objects.create(user=bob, email="thief@example.net", primary=True, verified=False)
    bob.email = "thief@example.net"
    bob.save()
    assert "/accounts/password/reset/key/" not in reset_mail_to("thief@example.net")


# ---- 3. look-alike usernames ------------------------------------------------------------------------------


def sign_up(username: str) -> str:
    response = Client().post(
        "/accounts/signup/",
        {
            "username": username,
            "email": f"{abs(hash(username))}@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    return response.content.decode() if response.status_code == 200 else "signed up"


@pytest.mark.parametrize(
    ("existing", "attempt", "error"),
    [
        ("admin", "\uff41dmin", "A user with that username already exists."),  # fullwidth a: NFKC makes it "admin"
        ("alice", "\u0430lice", "Use letters from one alphabet only"),  # Cyrillic a among Latin letters
        ("poe", "\u0440\u043e\u0435", LOOKS_TAKEN),  # "poe" all in Cyrillic
        ("\u0440\u043e\u0435", "poe", LOOKS_TAKEN),  # and the other way round
        ("Poe", "\u0420\u041e\u0415", LOOKS_TAKEN),  # in any case
    ],
)
def test_a_look_alike_of_an_existing_username_is_refused_with_a_clear_message(existing, attempt, error):
    make_user(existing)
    page = sign_up(attempt)
    assert error.replace("'", "&#x27;") in page
    assert User.objects.count() == 1


def test_mixed_alphabets_are_refused_even_with_nobody_to_imitate():
    assert MIXED_ALPHABETS.replace("'", "&#x27;") in sign_up("\u0430lice")
    assert not User.objects.exists()


def test_usernames_are_stored_normalised_and_other_alphabets_are_welcome():
    make_user("alice")
    assert sign_up("\uff42ob") == "signed up"  # fullwidth b
    assert User.objects.filter(username="bob").exists()
    # Han, accented Latin, all-Cyrillic, and scripts one language writes together: Japanese (Han with kana),
    # Korean (Hangul with Han), a Latin name with Han.
    for name in ("\u674e\u660e", "jos\u00e9", "\u0440\u043e\u0435", "田中さん", "タナカ太郎", "김민수金", "john田中"):
        assert sign_up(name) == "signed up", name


# ---- 5. the public development key serves this machine only -----------------------------------------------


def manage_check(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_the_development_key_refuses_to_start_for_a_public_host():
    refused = manage_check(ALLOWED_HOSTS="127.0.0.1,chat.example.com")
    assert refused.returncode != 0
    assert "ALLOWED_HOSTS names chat.example.com, but SECRET_KEY is the public development key" in refused.stderr
    # The development default (make run), and a public host with a key of its own, both start.
    assert manage_check().returncode == 0
    assert manage_check(ALLOWED_HOSTS="chat.example.com", SECRET_KEY="x" * 50).returncode == 0


def test_the_development_key_refuses_a_client_on_another_machine():
    with override_settings(SECRET_KEY=settings.DEV_SECRET_KEY):
        # A server bound to 0.0.0.0, reached from elsewhere with a Host it accepts.
        remote = Client(REMOTE_ADDR="198.51.100.4").get("/accounts/login/", headers={"host": "localhost"})
        assert remote.status_code == 403 and remote.content.decode() == DEV_KEY_REFUSAL
        assert Client().get("/accounts/login/").status_code == 200  # this machine
    assert Client(REMOTE_ADDR="198.51.100.4").get("/accounts/login/").status_code == 200  # a real key


# ---- 6. the socket's Origin check is the CSRF check -------------------------------------------------------


async def socket_from(origin: str, host: str = "127.0.0.1:8000", user=None) -> bool:
    headers = [(b"host", host.encode()), (b"origin", origin.encode())]
    if user is not None:
        from channels.db import database_sync_to_async

        headers.append((b"cookie", f"sessionid={await database_sync_to_async(session_cookie)(user)}".encode()))
    comm = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await comm.connect()
    await comm.disconnect()
    return connected


@pytest.mark.asyncio
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("http://127.0.0.1:8000", True),  # the page's own origin
        ("http://127.0.0.1:9000", False),  # another port of the same host
        ("https://127.0.0.1:8000", False),  # another scheme
        ("http://127.0.0.1", False),  # the default port is another port
        ("http://localhost:8000", False),  # another allowed host is another origin
        ("null", False),
    ],
)
async def test_a_socket_is_accepted_only_from_the_pages_own_origin(alice, origin, accepted):
    assert await socket_from(origin, user=alice) is accepted


def origin_verified(origin: str, host: str, scheme: str = "ws", headers: tuple = ()) -> bool:
    raw = [(b"host", host.encode()), (b"origin", origin.encode()), *headers]
    return CsrfOriginValidator.origin_verified({"type": "websocket", "path": "/ws/", "scheme": scheme, "headers": raw})


@override_settings(ALLOWED_HOSTS=["chat.example.com"], CSRF_TRUSTED_ORIGINS=["https://chat.example.org"])
def test_behind_tls_the_origin_must_be_https_and_trusted_origins_count_as_for_forms():
    assert origin_verified("https://chat.example.com", "chat.example.com", scheme="wss")
    assert not origin_verified("http://chat.example.com", "chat.example.com", scheme="wss")
    assert not origin_verified("https://chat.example.com", "chat.example.com", scheme="ws")
    assert not origin_verified("https://chat.example.com:8443", "chat.example.com", scheme="wss")
    assert origin_verified("https://chat.example.org", "chat.example.com", scheme="wss")  # CSRF_TRUSTED_ORIGINS
    assert not origin_verified("https://evil.example", "evil.example", scheme="wss")  # not in ALLOWED_HOSTS
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        # A proxy that says HTTPS in a header Django is told to trust: as for a form posted through it.
        assert origin_verified(
            "https://chat.example.com", "chat.example.com", headers=[(b"x-forwarded-proto", b"https")]
        )


# ---- 8. two-factor authentication required of staff -------------------------------------------------------


@override_settings(MFA_REQUIRED_FOR_STAFF=True)
def test_staff_without_two_factor_are_sent_to_enrol_instead_of_admin():
    staff = make_user("mod", is_staff=True, is_superuser=True)
    client = signed_in(staff)
    for path in ("/admin/", "/admin/auth/user/", "/admin/moderation/report/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/accounts/2fa/totp/activate/"
    TOTP.activate(staff, generate_totp_secret())
    assert client.get("/admin/").status_code == 200
    # Non-staff see admin's usual answer (its login), not an enrolment page.
    assert signed_in(make_user("carol")).get("/admin/").headers["Location"].startswith("/admin/login/")


def test_without_the_setting_staff_reach_admin_without_two_factor():
    assert settings.MFA_REQUIRED_FOR_STAFF is False  # the development default
    assert signed_in(make_user("mod", is_staff=True, is_superuser=True)).get("/admin/").status_code == 200


def test_the_security_page_links_password_email_sessions_and_two_factor(alice):
    page = signed_in(alice).get("/accounts/security/").content.decode()
    for link in ("/accounts/password/change/", "/accounts/email/", "/accounts/sessions/", "/accounts/2fa/"):
        assert f'href="{link}"' in page
    assert "Off: set up an authenticator app" in page


@override_settings(MFA_REQUIRED_FOR_STAFF=True)
def test_turning_on_two_factor_ends_the_other_sessions_of_the_account():
    """A session signed in with the password alone, before two-factor (a stolen one, say), keeps nothing that
    now needs a code: enrolling in one session signs the others out."""
    from allauth.mfa.signals import authenticator_added
    from django.test import RequestFactory

    staff = make_user("mod", is_staff=True, is_superuser=True)
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.post("/accounts/login/", {"login": "mod", "password": "correct-horse-battery"})
        assert client.get("/accounts/security/").status_code == 200  # signed in (and its session recorded)
    request = RequestFactory().get("/")
    request.session = here.session
    authenticator = TOTP.activate(staff, generate_totp_secret()).instance
    authenticator_added.send(sender=type(authenticator), request=request, user=staff, authenticator=authenticator)
    assert here.get("/admin/").status_code == 200  # the session that enrolled goes on
    assert elsewhere.get("/accounts/security/").status_code == 302  # the other one is signed out
