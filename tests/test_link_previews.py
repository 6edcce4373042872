"""Link previews. The fetcher's guard against server-side request forgery: every address a link's host resolves
to is checked before any connection (loopback, private, link-local, metadata, IPv6 and IPv4-in-IPv6, names that
resolve to them), on every redirect too, and the connection goes to the checked address with the host's name in
Host and TLS; its caps (redirects, time, size, content type). What a page's card says and how its picture is
written again. Then the feature: sending a link only queues the card; the worker's card reaches open sockets as
a numbered change and a catch-up brings it once; its picture comes from Roomcast, to readers of the room only;
an edit to another link drops the card; a card's text is escaped."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import ipaddress
import socket
import ssl
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult
from PIL import Image, ImageCms

from rooms import frames, services
from rooms.models import LinkPreview, Message, Room
from rooms.previews import Blocked, Card, Refused, build, card, fetch, opengraph, thumbnail
from rooms.services import previews

from .helpers import drain, frames_until, open_socket, run_queued_tasks
from .support.linked_site import LOOPBACK, LinkedSite, linked_site, page, picture  # noqa: F401 (a fixture)

HTML = {"text/html"}


@pytest.fixture
def connections(monkeypatch) -> list[str]:
    """Every address the fetcher opens a connection to."""
    opened: list[str] = []
    original = fetch._open

    def spy(family, kind, proto, sockaddr, target, deadline):
        opened.append(sockaddr[0])
        return original(family, kind, proto, sockaddr, target, deadline)

    monkeypatch.setattr(fetch, "_open", spy)
    return opened


@pytest.fixture
def loopback_allowed(settings) -> None:
    """The test setting that makes the loopback site reachable; nothing else is."""
    settings.LINK_PREVIEW_ALLOWED_NETWORKS = LOOPBACK


def resolving(monkeypatch, names: dict[str, list[str]]) -> list[str]:
    """getaddrinfo answers for these names (as a DNS server an attacker runs could); returns the names looked up."""
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        looked_up.append(host)
        if host not in names:
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in names[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


def get(url: str) -> fetch.Response:
    return fetch.fetch(url, types=HTML, max_bytes=card.PAGE_BYTES, cut=True)


# ---- the guard: addresses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1:8000/admin/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
        "http://[::ffff:169.254.169.254]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://224.0.0.1/",  # multicast
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://2130706433/",  # 127.0.0.1 as one number: getaddrinfo reads it so
        "http://0x7f.1/",
        "http://localhost/",  # a name that resolves to loopback
        "https://localhost/",
    ],
)
def test_internal_addresses_are_refused_before_any_connection(url, connections):
    with pytest.raises(Blocked):
        get(url)
    assert connections == []


def test_a_name_that_resolves_to_an_internal_address_is_refused_after_resolution(monkeypatch, connections):
    resolving(monkeypatch, {"intranet.example": ["10.1.2.3"], "mixed.example": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(Blocked, match=r"10\.1\.2\.3"):
        get("http://intranet.example/")
    # One internal address among public ones refuses the name: never "connect to the good one".
    with pytest.raises(Blocked, match=r"127\.0\.0\.1"):
        get("http://mixed.example/")
    assert connections == []


def test_the_loopback_site_is_reachable_only_through_the_test_setting(linked_site, connections, settings):
    url = linked_site.page("/news", title="News")
    with pytest.raises(Blocked):
        get(url)
    assert linked_site.requests == [] and connections == []
    settings.LINK_PREVIEW_ALLOWED_NETWORKS = LOOPBACK
    assert b"News" in get(url).body
    assert connections == ["127.0.0.1"]


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://10.0.0.1/",
        "http://[::1]:{port}/secret",
        "http://[::ffff:10.0.0.1]/",
        "http://intranet.example/",
    ],
)
def test_a_redirect_to_an_internal_address_is_refused_without_connecting(
    location, linked_site, loopback_allowed, connections, monkeypatch
):
    resolving(monkeypatch, {"intranet.example": ["192.168.0.10"]})
    url = linked_site.redirect("/moved", location.format(port=linked_site.port))
    linked_site.page("/secret", title="Only for this machine")
    with pytest.raises(Blocked):
        get(url)
    assert connections == ["127.0.0.1"] and linked_site.paths() == ["/moved"]


def test_the_connection_goes_to_the_checked_address_with_the_hosts_name(linked_site, loopback_allowed, monkeypatch):
    looked_up = resolving(monkeypatch, {"news.example": ["127.0.0.1"]})
    linked_site.page("/story", title="Story")
    linked_site.redirect("/old", "/story")
    response = get(linked_site.url("/old", host="news.example"))
    assert response.url == linked_site.url("/story", host="news.example") and b"Story" in response.body
    # Resolved once per hop (no second lookup a rebinding DNS could answer differently), named in Host.
    assert looked_up == ["news.example", "news.example"]
    assert linked_site.requests == [
        ("/old", f"news.example:{linked_site.port}"),
        ("/story", f"news.example:{linked_site.port}"),
    ]


def certificate(name: str) -> tuple[bytes, bytes, bytes]:
    """A certificate authority and a server certificate it signed for `name`: (CA, certificate, key), PEM."""
    now = dt.datetime.now(dt.UTC)

    def issue(subject, key, issuer, signer, ca: bool, extra=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )  # fmt: skip
        for extension in extra:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = issue("Test CA", ca_key, "Test CA", ca_key, ca=True)
    leaf = issue(
        name, key, "Test CA", ca_key, ca=False,
        extra=[
            x509.SubjectAlternativeName([x509.DNSName(name)]),
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
        ],
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ca.public_bytes(pem), leaf.public_bytes(pem), key_pem


@pytest.mark.parametrize("certified", ["secure.example", "someone-else.example"])
def test_over_tls_the_checked_address_is_asked_for_the_hosts_certificate(
    certified, loopback_allowed, monkeypatch, tmp_path
):
    ca, cert, key = certificate(certified)
    (tmp_path / "cert.pem").write_bytes(cert + key)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem")
    names: list[str | None] = []
    server.sni_callback = lambda _socket, name, _context: names.append(name)
    trusting = ssl.create_default_context(cadata=ca.decode())
    monkeypatch.setattr(fetch, "_tls", lambda: trusting)  # this CA instead of the system's
    resolving(monkeypatch, {"secure.example": ["127.0.0.1"]})
    site = LinkedSite(tls=server)
    try:
        url = site.page("/", title="Secure")
        url = site.url("/", host="secure.example")
        if certified == "secure.example":
            assert b"Secure" in get(url).body
            assert site.requests == [("/", f"secure.example:{site.port}")]
        else:  # the certificate must name the host the link names, not merely come from the checked address
            with pytest.raises(Refused, match="certificate"):
                get(url)
        assert names == ["secure.example"]  # SNI: the link's host, though the connection went to 127.0.0.1
    finally:
        site.close()


# ---- the guard: caps -----------------------------------------------------------------------------------------


def test_at_most_three_redirects_are_followed(linked_site, loopback_allowed):
    linked_site.page("/end", title="End")
    for n in range(4):
        linked_site.redirect(f"/r{n}", f"/r{n + 1}" if n < 3 else "/end")
    assert b"End" in get(linked_site.url("/r1")).body  # three: /r1 -> /r2 -> /r3 -> /end
    linked_site.requests.clear()
    with pytest.raises(Refused, match="more than 3 redirects"):
        get(linked_site.url("/r0"))  # four
    assert linked_site.paths() == ["/r0", "/r1", "/r2", "/r3"]  # /end never asked for


@pytest.mark.parametrize("location", ["file:///etc/passwd", "gopher://127.0.0.1:70/", "ftp://example.com/"])
def test_a_redirect_to_another_scheme_is_refused(location, linked_site, loopback_allowed, connections):
    with pytest.raises(Refused, match="scheme"):
        get(linked_site.redirect("/go", location))
    assert connections == ["127.0.0.1"]


def test_credentials_in_a_link_are_refused(connections):
    with pytest.raises(Refused, match="credentials"):
        get("http://admin:hunter2@example.com/")
    assert connections == []


@pytest.mark.parametrize("content_type", ["application/json", "image/svg+xml", "text/plain", "application/xhtml+xml"])
def test_only_html_pages_are_read(content_type, linked_site, loopback_allowed):
    with pytest.raises(Refused, match=content_type.replace("+", r"\+")):
        get(linked_site.serve("/data", b"<html><title>x</title></html>", content_type))
    assert get(linked_site.serve("/html", b"<title>x</title>", "text/html; charset=utf-8")).content_type == "text/html"


@pytest.mark.parametrize("length", [True, False])
def test_a_page_is_read_up_to_its_first_mebibyte(length, linked_site, loopback_allowed):
    head = page(title="Big").encode()
    body = head + b"x" * (card.PAGE_BYTES - len(head)) + b"<meta property='og:description' content='past the cap'>"
    body += b"y" * card.PAGE_BYTES
    response = get(linked_site.serve("/big", body, "text/html", length=length))
    assert len(response.body) == card.PAGE_BYTES and response.body.startswith(head)
    meta = opengraph.parse(response.body, None, response.url)
    assert meta.title == "Big" and meta.description == ""


@pytest.mark.parametrize("length", [True, False])
def test_a_picture_over_its_cap_is_refused(length, linked_site, loopback_allowed):
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * card.IMAGE_BYTES
    with pytest.raises(Refused, match="more than"):
        fetch.fetch(linked_site.serve("/big.png", big, "image/png", length=length), types=card.IMAGE_TYPES,
                    max_bytes=card.IMAGE_BYTES)  # fmt: skip


@pytest.mark.parametrize("stall", ["headers", "body"])
def test_a_server_that_stalls_is_given_up_on_at_the_deadline(stall, linked_site, loopback_allowed, settings):
    settings.LINK_PREVIEW_TIMEOUT = 0.5
    if stall == "headers":  # the status line and headers come, then nothing
        url = linked_site.serve("/slow", b"", "text/html", length=False, stall=True)
    else:  # a redirect first: the deadline covers the whole fetch
        linked_site.serve("/slow", b"", "text/html", length=False, stall=True)
        url = linked_site.redirect("/first", "/slow")
    started = time.monotonic()
    with pytest.raises(Refused, match=r"took longer than 0\.5 s"):
        get(url)
    assert time.monotonic() - started < 1.5


def test_a_server_that_trickles_its_headers_is_cut_off_at_the_deadline(linked_site, loopback_allowed, settings):
    """Each byte comes well within a socket timeout, so only the deadline itself can end it."""
    settings.LINK_PREVIEW_TIMEOUT = 0.5
    url = linked_site.serve("/drip", b"<title>x</title>", "text/html", trickle=0.05)
    started = time.monotonic()
    with pytest.raises(Refused, match=r"took longer than 0\.5 s"):
        get(url)
    assert time.monotonic() - started < 1.5


def test_a_compressed_body_is_refused(linked_site, loopback_allowed):
    """Never asked for (Accept-Encoding: identity), and a page that sends one anyway could unpack past any cap."""
    url = linked_site.serve(
        "/gz", gzip.compress(b"<title>x</title>" * 1000), "text/html", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(Refused, match="compressed"):
        get(url)


def test_an_ipv4_address_inside_ipv6_is_judged_as_that_ipv4_address(settings):
    mapped = ipaddress.ip_address("::ffff:127.0.0.1")
    assert not fetch.allowed(mapped) and fetch.allowed(ipaddress.ip_address("::ffff:93.184.216.34"))
    settings.LINK_PREVIEW_ALLOWED_NETWORKS = LOOPBACK  # the same machine, however it is spelled
    assert fetch.allowed(mapped) and not fetch.allowed(ipaddress.ip_address("::1"))


# ---- what a card says ----------------------------------------------------------------------------------------


def test_opengraph_tags_first_then_the_title_and_description():
    html = page(title="The & OG   title", description="What it\nis", site_name="News", image="/pics/a.png")
    meta = opengraph.parse(html.encode(), "utf-8", "https://news.example/story/1")
    assert (meta.title, meta.description, meta.site_name) == ("The & OG title", "What it is", "News")
    assert meta.image_url == "https://news.example/pics/a.png"
    plain = b"<html><head><title> Plain </title><meta name='description' content='Said plainly'></head></html>"
    assert opengraph.parse(plain, None, "https://a.example/") == opengraph.Meta("Plain", "Said plainly", "", None, "")


def test_what_a_page_says_is_trimmed_plain_text_and_its_picture_an_http_link():
    long = "word " * 100
    meta = opengraph.parse(
        page(title=long, description=long + "\x00", image="javascript:alert(1)").encode(), None, "https://a.example/"
    )
    assert len(meta.title) <= opengraph.TITLE and meta.title.endswith("word…")  # cut at a word
    assert len(meta.description) <= opengraph.DESCRIPTION and "\x00" not in meta.description
    assert meta.image_url is None
    assert (
        opengraph.parse(page(title="t", image="data:image/png;base64,AAAA").encode(), None, "https://a/").image_url
        is None
    )


def test_the_head_is_read_in_its_own_charset_and_the_body_ignored():
    latin = "<head><meta charset='iso-8859-1'><title>Café</title></head><body><meta property='og:title' content='no'>"
    assert opengraph.parse(latin.encode("latin-1"), None, "https://a.example/").title == "Café"
    assert opengraph.parse(latin.encode("latin-1"), "latin-1", "https://a.example/").title == "Café"


@pytest.mark.parametrize("charset", ["rot13", "hex", "uu", "no-such-charset"])
def test_a_charset_that_is_no_text_encoding_is_read_as_utf8(charset):
    head = f"<head><meta charset='{charset}'><title>Plain</title></head>"
    assert opengraph.parse(head.encode(), charset, "https://a.example/").title == "Plain"


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "GIF", "WEBP"])
def test_a_picture_is_written_again_small_and_without_its_metadata(kind):
    source = Image.new("RGB", (800, 400), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera Co"  # Make
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    source.save(out, kind, **({"exif": exif.tobytes(), "icc_profile": icc} if kind != "GIF" else {}))
    with Image.open(io.BytesIO(out.getvalue())) as saved:
        assert kind == "GIF" or saved.info.get("icc_profile")  # the source does carry them
    data, width, height = thumbnail(out.getvalue())
    assert (width, height) == (card.SIDE, card.SIDE // 2)
    with Image.open(io.BytesIO(data)) as written:
        assert written.format == "WEBP" and not written.getexif() and "icc_profile" not in written.info
        assert b"Secret Camera" not in data


@pytest.mark.parametrize(
    "data",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<html><script>alert(1)</script></html>",
        picture(kind="PNG")[:100],  # truncated
        picture(kind="BMP"),  # pictures, but in formats whose decoders are not exposed to what sites send
        picture(kind="TIFF"),
    ],
)
def test_anything_but_a_picture_is_refused(data):
    with pytest.raises(Refused):
        thumbnail(data)


def test_a_picture_with_too_many_pixels_is_refused(monkeypatch):
    monkeypatch.setattr(card, "MAX_PIXELS", 1000)
    with pytest.raises(Refused, match="pixels"):
        thumbnail(picture(400, 300))


def test_a_card_keeps_going_without_a_picture_it_cannot_have(linked_site, loopback_allowed):
    linked_site.serve("/not-a-picture.png", b"<html></html>", "text/html")
    made = build(linked_site.page("/p", title="Title", image="/not-a-picture.png"))
    assert made.title == "Title" and made.image is None and made.site_name == "127.0.0.1"
    with pytest.raises(Refused, match="no title"):
        build(linked_site.page("/untitled", description="No title here"))


# ---- the feature ---------------------------------------------------------------------------------------------


def queued() -> list[list]:
    """The link cards asked for (a sent message asks for a notification pass too: not these tests' business)."""
    cards = DBTaskResult.objects.filter(task_path="rooms.services.previews.fetch_preview")
    return [r.args_kwargs["args"] for r in cards.order_by("enqueued_at")]


@pytest.mark.django_db(transaction=True)
def test_sending_a_link_only_queues_its_card(people, linked_site, loopback_allowed, monkeypatch):
    url = linked_site.story()

    def no_fetching(*args, **kwargs):
        pytest.fail("the send path fetched the link")

    monkeypatch.setattr(fetch, "_connect", no_fetching)  # every fetch's one way out
    alice, general = people["alice"], people["general"]
    plain = services.post_message(alice, general.pk, "no link here, mailto:a@example.com", uuid.uuid4()).message
    assert queued() == []
    with CaptureQueriesContext(connection) as queries:  # the send, its frame rendered and broadcast on commit
        message = services.post_message(
            alice, general.pk, f"see {url} and https://second.example", uuid.uuid4()
        ).message
    # The frame does not ask for a card: a new message has none yet.
    assert not [q["sql"] for q in queries.captured_queries if "linkpreview" in q["sql"]]
    assert "link-card" not in frames.messages_frame(general.pk, [message, plain])
    assert queued() == [[message.pk, url]]  # the first link only
    longer = "https://long.example/" + "a" * LinkPreview._meta.get_field("url").max_length
    services.post_message(alice, general.pk, f"see {longer}", uuid.uuid4())
    assert queued() == [[message.pk, url]]  # longer than a card keeps: no card, and no fetch for nothing
    assert linked_site.requests == [] and not LinkPreview.objects.exists()


@pytest.mark.asyncio
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_the_card_reaches_open_pages_as_a_change_and_catch_up_brings_it_once(
    people, linked_site, loopback_allowed
):
    url = linked_site.story()
    general = people["general"]
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    await drain(bob)
    message = (
        await database_sync_to_async(services.post_message)(people["alice"], general.pk, url, uuid.uuid4())
    ).message
    sent = (await frames_until(bob, f'id="msg-{message.pk}"'))[-1]
    assert "link-card" not in sent and linked_site.requests == []

    await database_sync_to_async(run_queued_tasks)()
    frame = (await frames_until(bob, "link-card"))[-1]
    room = await Room.objects.aget(pk=general.pk)
    assert room.last_seq == message.seq + 1  # the card is the room's next change
    assert f'id="msg-{message.pk}"' in frame and f'data-changed="{room.last_seq}"' in frame
    assert "Roomcast ships" in frame and "Link cards, live." in frame and "The News" in frame
    preview = await LinkPreview.objects.aget(message=message)
    assert f'src="/link-previews/{preview.pk}/image/"' in frame and f"127.0.0.1:{linked_site.port}/pic" not in frame
    assert linked_site.paths() == ["/story", "/pic.png"]  # fetched once, by the worker

    # A page that was away since before the message gets it once, with its card.
    await bob.send_to(text_data=f'{{"action": "catch_up", "after": {message.seq - 1}}}')
    caught = (await frames_until(bob, "data-upto="))[-1]
    assert caught.count(f'id="msg-{message.pk}"') == 1 and caught.count('class="link-card"') == 1
    await bob.disconnect()


@pytest.mark.django_db(transaction=True)
def test_the_picture_comes_from_roomcast_and_only_to_readers_of_the_room(people, linked_site, loopback_allowed):
    url = linked_site.story()
    alice, bob, dm = people["alice"], people["bob"], people["dm"]
    message = services.post_message(alice, dm.pk, f"for you: {url}", uuid.uuid4()).message
    run_queued_tasks()
    preview = LinkPreview.objects.get(message=message)
    asked = list(linked_site.requests)
    as_bob, as_carol = Client(), Client()
    as_bob.force_login(bob)
    as_carol.force_login(people["carol"])
    conversation = as_bob.get("/dm/alice/").content.decode()
    image = f"/link-previews/{preview.pk}/image/"
    assert f'<img class="link-card-image" src="{image}" width="160" height="120"' in conversation
    assert f'href="{url}"' in conversation  # the title links to the page itself

    served = as_bob.get(image)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert served["X-Content-Type-Options"] == "nosniff" and served["Cache-Control"].startswith("private")
    with Image.open(io.BytesIO(served.content)) as written:
        assert written.format == "WEBP" and written.size == (160, 120)
    assert linked_site.requests == asked  # the reader's page and picture cost the site nothing

    assert as_carol.get(image).status_code == 404  # not in the conversation
    assert Client().get(image).status_code == 302  # signed out: the login page
    assert as_bob.get(f"/link-previews/{preview.pk + 1}/image/").status_code == 404
    services.delete_message(alice, message.pk)
    assert as_bob.get(image).status_code == 404  # gone with its message


@pytest.mark.django_db(transaction=True)
def test_an_edit_to_another_link_drops_the_card_and_queues_the_new_one(people, linked_site, loopback_allowed):
    url = linked_site.story()
    other = linked_site.page("/other", title="Another page")
    alice, general = people["alice"], people["general"]
    message = services.post_message(alice, general.pk, f"see {url}", uuid.uuid4()).message
    run_queued_tasks()
    edited = services.edit_message(alice, message.pk, f"see {url}, really")  # the same first link: kept
    assert "Roomcast ships" in frames.messages_frame(general.pk, [edited]) and len(queued()) == 1

    edited = services.edit_message(alice, message.pk, f"no, see {other}")
    assert "link-card" not in frames.messages_frame(general.pk, [edited])  # the edit's own frame drops it
    assert not LinkPreview.objects.exists() and queued()[-1] == [message.pk, other]
    run_queued_tasks()
    assert LinkPreview.objects.get(message=message).title == "Another page"

    services.edit_message(alice, message.pk, "no link any more")
    assert not LinkPreview.objects.exists() and len(queued()) == 2


@pytest.mark.django_db(transaction=True)
def test_the_worker_does_nothing_for_a_deleted_or_since_edited_message(people, linked_site, loopback_allowed):
    url = linked_site.story()
    alice, general = people["alice"], people["general"]
    gone = services.post_message(alice, general.pk, url, uuid.uuid4()).message
    services.delete_message(alice, gone.pk)
    moved = services.post_message(alice, general.pk, url, uuid.uuid4()).message
    Message.objects.filter(pk=moved.pk).update(html="<p>edited meanwhile</p>")  # as an edit racing the task would
    before = Room.objects.get(pk=general.pk).last_seq
    run_queued_tasks()
    assert linked_site.requests == [] and not LinkPreview.objects.exists()
    assert Room.objects.get(pk=general.pk).last_seq == before  # no change number taken
    # A card fetched meanwhile is not attached either.
    made = Card("t", "", "s", None, None, None, "")
    assert previews.attach(gone.pk, url, made) is None and previews.attach(moved.pk, url, made) is None


@pytest.mark.django_db(transaction=True)
def test_a_link_without_a_card_takes_no_change_number(people, linked_site, loopback_allowed):
    url = linked_site.page("/untitled", description="nothing to call it")
    general = people["general"]
    services.post_message(people["alice"], general.pk, url, uuid.uuid4())
    before = Room.objects.get(pk=general.pk).last_seq
    run_queued_tasks()
    assert linked_site.paths() == ["/untitled"] and Room.objects.get(pk=general.pk).last_seq == before


@pytest.mark.django_db(transaction=True)
def test_a_cards_text_is_escaped(people):
    alice, general = people["alice"], people["general"]
    message = services.post_message(alice, general.pk, "https://evil.example/", uuid.uuid4()).message
    hostile = Card(
        title='<script>alert(1)</script>"><img src=x onerror=alert(1)>',
        description="<b onmouseover=alert(1)>bold</b>",
        site_name="<i>site</i>",
        image=thumbnail(picture())[0],
        image_width=160,
        image_height=120,
        image_alt='" onload="alert(1)',
    )
    message = previews.attach(message.pk, "https://evil.example/", hostile)
    html = frames.messages_frame(general.pk, [message])
    assert "<script>" not in html and "<img src=x" not in html and "<b " not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'alt="&quot; onload=&quot;alert(1)"' in html
