"""The health model admin starts from the standard components, refuses empty or all-zero weights,
and dry-runs a change on tonight's bands without saving it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import HealthComponent, HealthModel, HealthScore
from health.scoring import ModelSpec, score_inputs
from tests.factories import AccountFactory, HealthScoreFactory

pytestmark = pytest.mark.django_db
KINDS = [kind for kind, *_ in HealthComponent.DEFAULTS]


def _post(model: HealthModel | None, program, components: list[tuple], *, extra: dict | None = None, **fields) -> dict:
    """The change form's data, as the browser sends it."""
    existing = list(model.components.order_by("pk")) if model else []
    data = {
        "name": fields.get("name", model.name if model else "Premier health"),
        "program": program.pk,
        "green_min": fields.get("green_min", 70),
        "yellow_min": fields.get("yellow_min", 40),
        "drop_alert_points": 15,
        "components-TOTAL_FORMS": len(components),
        "components-INITIAL_FORMS": len(existing),
        "components-MIN_NUM_FORMS": 0,
        "components-MAX_NUM_FORMS": 1000,
    }
    for i, (kind, weight, worst, best) in enumerate(components):
        data |= {f"components-{i}-kind": kind, f"components-{i}-weight": weight}
        data |= {f"components-{i}-worst": worst, f"components-{i}-best": best}
        if i < len(existing):
            data |= {f"components-{i}-id": existing[i].pk, f"components-{i}-model": model.pk}
    return data | (extra or {})


def test_a_new_model_starts_from_the_standard_components(client, admin_user) -> None:
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_healthmodel_add")).content.decode()
    assert 'name="components-TOTAL_FORMS" value="10"' in page
    assert '<option value="adoption" selected>' in page
    assert 'name="components-0-weight" value="20"' in page


@pytest.mark.parametrize(
    ("components", "message"),
    [
        ([], "A health model needs components"),
        ([("adoption", 0, 20, 85), ("sentiment", 0, 1, 5)], "Every weight is 0"),
    ],
)
def test_empty_or_all_zero_weights_cannot_be_saved(client, admin_user, program, components, message) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("admin:accounts_healthmodel_add"), _post(None, program, components))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not HealthModel.objects.filter(program=program).exists()


def test_the_dry_run_counts_bands_before_and_after_without_saving(client, admin_user, alice, program) -> None:
    model = HealthModel.objects.create(name="Premier health", program=program)
    HealthComponent.objects.create(model=model, kind="adoption", weight=20, worst=20, best=85)
    spec = ModelSpec.of(model)
    today = timezone.localdate()
    for adoption in (30, 60, 90):  # scores 15 (red), 62 (yellow) and 100 (green)
        result = score_inputs({"adoption": adoption}, spec)
        score = HealthScoreFactory.build(
            account=AccountFactory(owner=alice, program=program),
            day=today,
            score=result.score,
            band=spec.band(result.score),
            model=model,
        )
        score.components = result.components
        score.save()
    other = AccountFactory(owner=alice)  # another program's: not this model's to move
    HealthScoreFactory(account=other, day=today, score=10, band="red")
    client.force_login(admin_user)
    url = reverse("admin:accounts_healthmodel_change", args=[model.pk])

    # Green from 55: the yellow account (62) would turn green.
    data = _post(model, program, [("adoption", 20, 20, 85)], green_min=55, extra={"_dry_run": "1"})
    page = client.post(url, data).content.decode()
    assert "Dry run: tonight's bands with the values below (nothing saved)" in page
    assert "3 accounts scored by this model; <strong>1</strong> would change band" in page
    assert '<tr><th scope="row">green</th><td>1</td><td>2</td><td>+1</td></tr>' in page
    assert '<tr><th scope="row">yellow</th><td>1</td><td>0</td><td>-1</td></tr>' in page
    model.refresh_from_db()
    assert model.green_min == 70  # nothing saved
    assert sorted(HealthScore.objects.values_list("band", flat=True)) == ["green", "red", "red", "yellow"]

    # Saving the same values applies them.
    client.post(url, _post(model, program, [("adoption", 20, 20, 85)], green_min=55))
    model.refresh_from_db()
    assert model.green_min == 55
