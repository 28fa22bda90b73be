"""The demo book has survey answers, exit surveys beside reason codes, and customer-page links."""

import pytest
from django.core.management import call_command

from portal.models import CustomerLink
from surveys.models import SurveyResponse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("development_mode")]


def test_the_demo_seeds_survey_answers_and_customer_links() -> None:
    call_command("seed_demo", accounts=80)
    answers = SurveyResponse.objects.all()
    assert answers.filter(kind="nps").count() >= 10
    assert answers.filter(kind="nps", score__lte=6).exists()
    assert answers.filter(kind="nps", score__gte=9).exists()
    assert answers.exclude(comment="").exists()
    assert answers.filter(kind="exit", reason__isnull=False).exists()
    assert answers.filter(kind="csat", invite__survey__occasion__startswith="csat:support:").exists()
    assert CustomerLink.objects.filter(views__isnull=False).exists()
