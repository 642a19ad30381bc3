"""LTI Dynamic Registration against a fake Moodle 4.x registration service on loopback, and the
Canvas developer-key JSON.

The fake serves what Moodle 4.1+ serves (mod/lti/openid-configuration.php and
mod/lti/openid-registration.php), trimmed to the fields that matter:

  GET  /mod/lti/openid-configuration.php   (Authorization: Bearer <registration token>)
       -> {"issuer": <wwwroot>, "authorization_endpoint": <wwwroot>/mod/lti/auth.php,
           "token_endpoint": <wwwroot>/mod/lti/token.php, "jwks_uri": <wwwroot>/mod/lti/certs.php,
           "registration_endpoint": <wwwroot>/mod/lti/openid-registration.php,
           "scopes_supported": [...], "response_types_supported": ["id_token"],
           "id_token_signing_alg_values_supported": ["RS256"], "claims_supported": [...],
           "https://purl.imsglobal.org/spec/lti-platform-configuration":
               {"product_family_code": "moodle", "version": "4.1 (Build: 20221128)",
                "messages_supported": [{"type": "LtiResourceLinkRequest"},
                                       {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]}]}}
  POST /mod/lti/openid-registration.php    (Bearer token, JSON client registration)
       -> the registration echoed back with "client_id" added and the tool-configuration claim
          carrying "deployment_id" (Moodle's tool type id).
"""
from __future__ import annotations

import pytest
from flask import Flask, jsonify, request

from lti_app.extensions import db
from lti_app.lti import canvas
from lti_app.models import Platform
from lti_app.sandbox.server import ServerThread
from tests.lti.conftest import assert_refused, page_text

TOKEN = "moodle-registration-token"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"


# What an internal service would answer; an error page must never show it.
SECRET = "INTERNAL-SECRET-0xC0FFEE"


class FakeMoodle:
    """`base`: the URL the configuration names for the platform (default: where it listens);
    `ssl_context`: serve HTTPS; `config_changes`: fields to replace in the configuration;
    `answer_changes`: fields to replace in its answer to the registration."""

    def __init__(self, *, issuer_override: str | None = None, refuse: int | None = None,
                 base: str | None = None, ssl_context=None, config_changes: dict | None = None,
                 answer_changes: dict | None = None):
        self.requests: list[dict] = []
        app = Flask("fake_moodle")
        if ssl_context is None:
            self.server = ServerThread(app, "127.0.0.1", 0)
        else:
            self.server = _TlsServerThread(app, ssl_context)
        self.url = self.server.url
        self.base = base or self.url

        @app.get("/mod/lti/openid-configuration.php")
        def openid_configuration():
            self.requests.append({"path": request.path, "auth": request.headers.get("Authorization"),
                                  "host": request.headers.get("Host")})
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return jsonify(error="invalid registration token", detail=SECRET), 401
            base = self.base
            return jsonify({
                "issuer": issuer_override or base,
                "authorization_endpoint": f"{base}/mod/lti/auth.php",
                "token_endpoint": f"{base}/mod/lti/token.php",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "jwks_uri": f"{base}/mod/lti/certs.php",
                "registration_endpoint": f"{base}/mod/lti/openid-registration.php",
                "scopes_supported": [
                    "https://purl.imsglobal.org/spec/lti-bo/scope/basicoutcome",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
                    "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting", "openid"],
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "moodle", "version": "4.1 (Build: 20221128)",
                    "messages_supported": [{"type": "LtiResourceLinkRequest"},
                                           {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]}],
                },
                **(config_changes or {}),
            })

        @app.post("/mod/lti/openid-registration.php")
        def openid_registration():
            body = request.get_json(silent=True)
            self.requests.append({"path": request.path, "auth": request.headers.get("Authorization"),
                                  "json": body, "host": request.headers.get("Host")})
            if refuse:
                return jsonify(error="registration refused", detail=SECRET), refuse
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return jsonify(error="invalid registration token"), 401
            answer = dict(body)
            answer["client_id"] = "moodle-client-7"
            answer[TOOL_CONFIG] = {**body[TOOL_CONFIG], "deployment_id": "12"}
            return jsonify({**answer, **(answer_changes or {})})

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()


class _TlsServerThread:
    """A werkzeug HTTPS server on 127.0.0.1 in a thread (ServerThread speaks plain HTTP only)."""

    def __init__(self, app, ssl_context):
        import threading

        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
        self.port = self._server.server_port
        self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def _tls_files(tmp_path, hostname: str):
    """A CA and a certificate for `hostname` signed by it: (CA file, cert file, key file)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def allow(tool_server, *origins: str) -> None:
    """The LMS origins this tool lets register (tests run every LMS on loopback, which is refused
    unless listed, exactly as a school's Moodle on a private network would be)."""
    tool_server.app.config["GRADELOOP_REGISTRATION_ORIGINS"] = list(origins)


def register_at(tool_server, config_url: str, token: str = TOKEN):
    import requests

    return requests.get(tool_server.url + "/lti/register", timeout=30,
                        params={"openid_configuration": config_url, "registration_token": token})


def platform_count(tool_server) -> int:
    with tool_server.app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Platform))


CONFIG_PATH = "/mod/lti/openid-configuration.php"


def test_dynamic_registration_in_moodle_shape(tool_server):
    with FakeMoodle() as moodle:
        allow(tool_server, moodle.url)
        page = register_at(tool_server, moodle.url + CONFIG_PATH)
    assert page.status_code == 200, page_text(page)[:800]
    assert "org.imsglobal.lti.close" in page.text
    assert page.headers["Content-Security-Policy"] == "frame-ancestors *"
    sent = moodle.requests[-1]["json"]
    assert moodle.requests[0]["auth"] == moodle.requests[1]["auth"] == f"Bearer {TOKEN}"
    assert sent["initiate_login_uri"] == tool_server.url + "/lti/login"
    assert sent["redirect_uris"] == [tool_server.url + "/lti/launch"]
    assert sent["jwks_uri"] == tool_server.url + "/lti/jwks"
    assert sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert set(sent["scope"].split()) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"}
    tool_config = sent[TOOL_CONFIG]
    assert tool_config["domain"] == tool_server.url.split("://")[1]
    types = {m["type"]: m for m in tool_config["messages"]}
    assert types["LtiDeepLinkingRequest"]["placements"] == ["ContentArea"]
    assert "LtiResourceLinkRequest" in types
    with tool_server.app.app_context():
        platform = db.session.scalar(db.select(Platform).filter_by(issuer=moodle.url))
        assert platform.client_id == "moodle-client-7"
        assert [d.deployment_id for d in platform.deployments] == ["12"]
        assert platform.auth_login_url == moodle.url + "/mod/lti/auth.php"
        assert platform.auth_token_url == moodle.url + "/mod/lti/token.php"
        assert platform.key_set_url == moodle.url + "/mod/lti/certs.php"
        assert platform.product_family == "moodle"


@pytest.mark.parametrize("fake, token, words", [
    ({"issuer_override": f"https://{SECRET.lower()}.example"}, TOKEN, "does not match the origin"),
    ({}, "wrong-token", "answered 401"),
    ({"refuse": 400}, TOKEN, "answered 400"),
])
def test_dynamic_registration_errors_in_words(tool_server, fake, token, words):
    """The refusal says what was wrong in our words and never shows what the other side sent
    (the body of an error, the issuer): /lti/register must not be a way to read other servers."""
    with FakeMoodle(**fake) as moodle:
        allow(tool_server, moodle.url)
        page = register_at(tool_server, moodle.url + CONFIG_PATH, token)
    assert_refused(page, words)
    assert SECRET.lower() not in page.text.lower()
    assert platform_count(tool_server) == 0


def test_registration_without_parameters_or_unreachable(app):
    client = app.test_client()
    assert_refused(client.get("/lti/register"), "must send openid_configuration")
    assert_refused(client.get("/lti/register", query_string={"openid_configuration": "file:///etc/passwd"}),
                   "must be an http(s) URL")
    app.config["GRADELOOP_REGISTRATION_ORIGINS"] = ["http://127.0.0.1:9"]
    response = client.get("/lti/register", query_string={"openid_configuration": "http://127.0.0.1:9/x"})
    assert_refused(response, "Could not reach", status=400)


def test_registration_refuses_loopback_without_fetching_it(tool_server):
    """SSRF: an unauthenticated GET must not make the tool fetch a service on its own machine;
    the loopback Moodle is contacted only once its origin is listed."""
    with FakeMoodle() as moodle:
        page = register_at(tool_server, moodle.url + CONFIG_PATH)
        assert_refused(page, "loopback address", status=403)
        assert "GRADELOOP_REGISTRATION_ORIGINS" in page_text(page)
        assert moodle.requests == []
        allow(tool_server, moodle.url)
        assert register_at(tool_server, moodle.url + CONFIG_PATH).status_code == 200
    assert platform_count(tool_server) == 1


@pytest.mark.parametrize("address, words", [
    ("169.254.169.254", "link-local"),           # cloud metadata service
    ("10.1.2.3", "private-network"),
    ("192.168.0.10", "private-network"),
    ("fd00::1", "private-network"),
    ("::ffff:127.0.0.1", "loopback"),             # IPv4-mapped IPv6
    ("100.64.0.1", "reserved"),                   # carrier-grade NAT
    ("0.0.0.0", "reserved"),
])
def test_registration_refuses_names_that_resolve_to_internal_addresses(tool_server, monkeypatch, address, words):
    from lti_app.lti import registration_policy

    looked_up = []

    def resolve(host, port):
        looked_up.append(host)
        return ["93.184.215.14", address]   # one public address is not enough: all must be

    monkeypatch.setattr(registration_policy, "resolve", resolve, raising=False)
    page = register_at(tool_server, "https://moodle.school.example/mod/lti/openid-configuration.php")
    assert_refused(page, words, status=403)
    assert looked_up == ["moodle.school.example"]
    assert platform_count(tool_server) == 0


def test_registration_endpoint_and_key_urls_are_checked_too(tool_server, monkeypatch):
    """The configuration (from a listed LMS) names the URLs we POST to and fetch later: an
    unlisted registration endpoint is not contacted, an internal key set URL not stored."""
    from lti_app.lti import registration_policy

    with FakeMoodle() as victim:
        with FakeMoodle(config_changes={"registration_endpoint": victim.url + "/admin/api"}) as moodle:
            allow(tool_server, moodle.url)
            page = register_at(tool_server, moodle.url + CONFIG_PATH)
    assert_refused(page, "registration endpoint", status=403)
    # Named by the fetched configuration: its origin (what the administrator must list) is
    # shown, the rest of it is not echoed.
    assert f"on {victim.url}, which is not listed" in page_text(page)
    assert "/admin/api" not in page_text(page)
    assert victim.requests == []
    real = registration_policy.resolve
    monkeypatch.setattr(registration_policy, "resolve",
                        lambda host, port: ["10.0.0.7"] if host == "intranet.example" else real(host, port))
    with FakeMoodle(config_changes={"jwks_uri": "http://intranet.example/certs"}) as moodle:
        allow(tool_server, moodle.url)
        page = register_at(tool_server, moodle.url + CONFIG_PATH)
    assert_refused(page, "key set URL", status=403)
    assert [r["path"] for r in moodle.requests] == [CONFIG_PATH]   # nothing POSTed
    assert platform_count(tool_server) == 0


def test_registration_connects_to_the_address_it_checked(tool_server, tmp_path, monkeypatch):
    """DNS is resolved once and the request goes to that address (no rebinding between check
    and fetch), with the name kept for the Host header, TLS SNI and certificate check.
    `lms.test` does not exist in DNS: only the checked address can have reached the fake."""
    import ssl

    from lti_app.lti import registration_policy

    ca, cert, key = _tls_files(tmp_path, "lms.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    calls = []

    def resolve(host, port):
        calls.append(host)
        return ["127.0.0.1"] if host == "lms.test" else []

    monkeypatch.setattr(registration_policy, "resolve", resolve, raising=False)
    # How an operator trusts a school's own CA; the pinned session must still read it.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    with FakeMoodle(ssl_context=context, base="https://lms.test:{port}") as moodle:
        moodle.base = moodle.base.format(port=moodle.server.port)
        allow(tool_server, moodle.base)
        page = register_at(tool_server, moodle.base + CONFIG_PATH)
    assert page.status_code == 200, page_text(page)[:800]
    assert [r["host"] for r in moodle.requests] == [f"lms.test:{moodle.server.port}"] * 2
    assert calls.count("lms.test") == 4   # configuration, key set, token, registration: once each
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(Platform.issuer)) == moodle.base


def test_registration_refuses_a_certificate_for_another_name(tool_server, tmp_path, monkeypatch):
    """Pinning the address must not weaken TLS: the certificate must still be valid for the name."""
    import ssl

    from lti_app import pinned_http
    from lti_app.lti import registration_policy

    ca, cert, key = _tls_files(tmp_path, "other.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.setattr(registration_policy, "resolve", lambda host, port: ["127.0.0.1"])
    monkeypatch.setattr(pinned_http, "VERIFY", str(ca))
    with FakeMoodle(ssl_context=context, base="https://lms.test:{port}") as moodle:
        base = moodle.base.format(port=moodle.server.port)
        allow(tool_server, base)
        page = register_at(tool_server, base + CONFIG_PATH)
    assert_refused(page, "Could not reach")
    assert moodle.requests == []


def test_any_public_origin_with_a_star(app, monkeypatch):
    from lti_app.lti import registration_policy
    from lti_app.lti.errors import LaunchError

    monkeypatch.setattr(registration_policy, "resolve",
                        lambda host, port: {"lms.example": ["93.184.215.14"], "in.example": ["10.0.0.1"]}[host])
    app.config["GRADELOOP_REGISTRATION_ORIGINS"] = ["*"]
    with app.test_request_context():
        assert registration_policy.vet("https://lms.example/x", "URL") == "93.184.215.14"
        with pytest.raises(LaunchError, match="private-network"):
            registration_policy.vet("https://in.example/x", "URL")
        app.config["GRADELOOP_REGISTRATION_ORIGINS"] = ["https://moodle.school.example"]
        with pytest.raises(LaunchError, match="URL is on https://lms.example, which is not listed"):
            registration_policy.vet("https://lms.example/x", "URL")


def test_production_without_an_allowlist_refuses_registration_and_says_so_at_start(make_app, monkeypatch, caplog):
    """Decision (docs/lti.md): production keeps dynamic registration closed until the administrator
    lists the LMS origins (or `*`); a stranger's platform would otherwise frame the tool and run
    work on it. The app warns about it when it starts."""
    from lti_app.lti import registration_policy

    looked_up = []
    monkeypatch.setattr(registration_policy, "resolve", lambda host, port: looked_up.append(host) or ["93.184.215.14"])
    with caplog.at_level("WARNING"):
        app = make_app(env="production", public_url="https://gradeloop.school.example")
    assert any("GRADELOOP_REGISTRATION_ORIGINS is not set" in r.getMessage() for r in caplog.records)
    response = app.test_client().get("/lti/register", base_url="https://gradeloop.school.example", query_string={
        "openid_configuration": "https://moodle.school.example/mod/lti/openid-configuration.php"})
    assert_refused(response, "GRADELOOP_REGISTRATION_ORIGINS", status=403)
    assert looked_up == []


def test_canvas_json_names_the_public_urls(make_app):
    app = make_app(public_url="https://gradeloop.school.edu")
    config = app.test_client().get("/lti/canvas.json").get_json()
    assert config["oidc_initiation_url"] == "https://gradeloop.school.edu/lti/login"
    assert config["target_link_uri"] == "https://gradeloop.school.edu/lti/launch"
    assert config["public_jwk_url"] == "https://gradeloop.school.edu/lti/jwks"
    assert set(config["scopes"]) == set(canvas.SCOPES)
    (ext,) = config["extensions"]
    assert ext["platform"] == "canvas.instructure.com" and ext["domain"] == "gradeloop.school.edu"
    assert ext["privacy_level"] == "public"
    placements = {p["placement"]: p for p in ext["settings"]["placements"]}
    for name in ("link_selection", "assignment_selection"):
        assert placements[name]["message_type"] == "LtiDeepLinkingRequest"
        assert placements[name]["target_link_uri"] == config["target_link_uri"]
    assert config["title"] and config["description"]


def test_canvas_json_uses_request_host_when_public_url_unset(client):
    config = client.get("/lti/canvas.json", base_url="http://tool.local:8000").get_json()
    assert config["oidc_initiation_url"] == "http://tool.local:8000/lti/login"


def test_development_allows_loopback_only(make_app, monkeypatch):
    """`gradeloop run` (development): the sandbox LMS on 127.0.0.1 registers through
    /admin/register; private and link-local addresses stay refused there too."""
    from lti_app.lti import registration_policy
    from lti_app.lti.errors import LaunchError

    monkeypatch.setattr(registration_policy, "resolve",
                        lambda host, port: {"127.0.0.1": ["127.0.0.1"], "meta.example": ["169.254.169.254"]}[host])
    app = make_app(env="development")
    with app.test_request_context():
        assert registration_policy.vet("http://127.0.0.1:8100/.well-known/openid-configuration", "URL") == "127.0.0.1"
        with pytest.raises(LaunchError, match="link-local"):
            registration_policy.vet("http://meta.example/latest", "URL")


def test_canvas_places_the_assignment_picker_where_teachers_add_content(tool_server):
    """Canvas turns the registration's messages into placements: a message without placements
    gets `link_selection`, and the first message per placement wins (canvas-lms
    Lti::IMS::Registration#placements). Both of Canvas's "add content" placements must open
    Gradeloop's Deep Linking picker, not a plain launch."""
    from lti_app.lti import registration

    with tool_server.app.test_request_context():
        body = registration.tool_registration({registration.PLATFORM_CONFIG: {"product_family_code": "canvas"}})
    placed: dict[str, str] = {}
    for message in body[registration.TOOL_CONFIG]["messages"]:
        for placement in message.get("placements") or ["link_selection"]:
            placed.setdefault(placement.rsplit("/", 1)[-1], message["type"])
    assert placed["link_selection"] == placed["assignment_selection"] == "LtiDeepLinkingRequest", placed
