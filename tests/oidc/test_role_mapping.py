"""The claim → csm role mapping (csm.sso.role_from_claims) and its start-up check."""

import pytest
from django.core.checks import run_checks

from csm import roles
from csm.sso import role_from_claims

MAPPING = {
    "csm-admins": roles.ADMIN,
    "csm-managers": roles.MANAGER,
    "csm-users": roles.CSM,
    "auditors": roles.READ_ONLY,
}


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"groups": ["csm-users"]}, roles.CSM),
        ({"groups": "csm-managers"}, roles.MANAGER),  # a single string
        ({"groups": ["everyone", "auditors"]}, roles.READ_ONLY),  # unmapped values are ignored
        ({"groups": ["csm-users", "csm-managers", "auditors"]}, roles.MANAGER),  # the strongest wins
        ({"groups": ["auditors", "csm-admins"]}, roles.ADMIN),
        ({"groups": ["CSM-USERS"]}, None),  # values match exactly
        ({"groups": ["everyone"]}, None),
        ({"groups": []}, None),
        ({"groups": None}, None),
        ({"groups": [1, {"csm-users": 1}]}, None),  # not strings
        ({"roles": ["csm-users"]}, None),  # another claim
        ({}, None),
    ],
)
def test_claim_values_map_to_one_role(claims, expected) -> None:
    assert role_from_claims(claims, claim="groups", mapping=MAPPING) == expected


def test_a_dotted_claim_reads_a_nested_one() -> None:
    claims = {"realm_access": {"roles": ["offline", "csm-managers"]}}
    assert role_from_claims(claims, claim="realm_access.roles", mapping=MAPPING) == roles.MANAGER
    assert role_from_claims({"realm_access": "csm-managers"}, claim="realm_access.roles", mapping=MAPPING) is None


def test_a_mapping_to_an_unknown_role_fails_the_start_up_check(settings) -> None:
    settings.OIDC_ROLE_MAP = {"csm-users": "Boss"}
    assert [error.id for error in run_checks() if error.id.startswith("csm.E00")] == ["csm.E002"]


def test_sso_on_without_a_mapping_fails_the_start_up_check(settings) -> None:
    settings.OIDC_ENABLED = True
    settings.OIDC_ROLE_MAP = {}
    assert [error.id for error in run_checks() if error.id.startswith("csm.E00")] == ["csm.E003"]


def test_sso_is_off_unless_configured(client, db) -> None:
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/").status_code == 404
    page = client.get("/login/").content.decode()
    assert "Sign in with SSO" not in page
    assert 'name="password"' in page
