import pytest

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_lists_every_endpoint(client, alice) -> None:
    client.force_login(alice)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/accounts/", "/api/contacts/", "/api/touchpoints/", "/api/usage/", "/api/usage/bulk/",
                 "/api/contracts/", "/api/renewals/", "/api/metrics/"):  # fmt: skip
        assert path in paths, path


def test_the_docs_page_loads_swagger_from_our_own_static_files(client, alice) -> None:
    client.force_login(alice)
    response = client.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
