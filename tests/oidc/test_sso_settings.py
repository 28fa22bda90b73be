"""SSO is configured by environment only, and a half-done configuration says what is missing."""

from tests.test_startup_settings import manage

SSO_ENV = {
    "OIDC_ISSUER": "https://id.example.com/realms/corp/",
    "OIDC_CLIENT_ID": "csm",
    "OIDC_CLIENT_SECRET": "from-the-provider",
    "OIDC_ROLE_CLAIM": "realm_access.roles",
    "OIDC_ROLE_MAP": '{"csm-managers": "Manager", "csm-users": "CSM"}',
    "PASSWORD_SIGN_IN": "0",
}
SHOW = (
    "from django.conf import settings as s; "
    "print(s.OIDC_ENABLED, s.OIDC_ISSUER, s.OIDC_ROLE_CLAIM, s.OIDC_ROLE_MAP, s.PASSWORD_SIGN_IN); "
    "print(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
)


def test_the_environment_turns_sso_on_and_the_sign_out_redirect_is_allowed() -> None:
    result = manage("shell", "-c", SHOW, **SSO_ENV)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()[-2:]
    expected_map = "{'csm-managers': 'Manager', 'csm-users': 'CSM'}"
    assert first == f"True https://id.example.com/realms/corp realm_access.roles {expected_map} False"
    assert second == "[\"'self'\", 'https://id.example.com']"


def test_a_client_id_without_an_issuer_or_secret_is_refused_at_start() -> None:
    no_issuer = manage("check", **{**SSO_ENV, "OIDC_ISSUER": ""})
    assert no_issuer.returncode != 0
    assert "set OIDC_ISSUER too" in no_issuer.stderr
    no_secret = manage("check", **{**SSO_ENV, "OIDC_CLIENT_SECRET": ""})
    assert "set OIDC_CLIENT_SECRET too" in no_secret.stderr


def test_password_sign_in_cannot_be_turned_off_without_sso_nor_the_map_be_garbled() -> None:
    result = manage("check", PASSWORD_SIGN_IN="0", OIDC_CLIENT_ID="")
    assert result.returncode != 0
    assert "PASSWORD_SIGN_IN=0 needs single sign-on" in result.stderr
    garbled = manage("check", **{**SSO_ENV, "OIDC_ROLE_MAP": "csm-users=CSM"})
    assert "OIDC_ROLE_MAP must be a JSON object" in garbled.stderr
