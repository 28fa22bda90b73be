"""Demo survey answers and customer-page links, so Today, the account page, the Metrics page's NPS
and exit-survey blocks, and the survey health component show something real.

Runs after the renewals and playbooks demo data (lost renewals get exit surveys) and before the
health history (the default model weighs the survey component, so calibration can show it).
"""

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

from django.contrib.auth.models import User
from django.utils import timezone

from accounts.models import Account, Contact, HealthComponent, HealthModel
from portal import services as portal
from renewals.models import ReasonCode, Renewal
from surveys import services
from surveys.models import Survey, SurveyInvite, SurveySettings

NPS_SHARE = 0.45  # of accounts asked in the last months
ANSWER_RATE = 0.6
COMMENTS = {
    "promoter": ["Support answers within the hour.", "The rollout went smoothly.", "Our team relies on it daily."],
    "passive": ["Good, but reporting could be faster.", "Fine overall; the admin pages are slow."],
    "detractor": ["Too many outages this quarter.", "We still have not seen the value we were sold.", ""],
}


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _nps_score(rng: random.Random, stage: str) -> int:
    if stage in ("at_risk", "renewal") and rng.random() < 0.6:
        return rng.randint(0, 6)
    return rng.choices(range(11), weights=[1, 1, 1, 1, 2, 3, 4, 8, 12, 14, 12])[0]


def _invite_and_answer(
    rng: random.Random, survey: Survey, contacts: list[Contact], *, answer: Callable[[], int], day: date
) -> None:
    for contact in contacts:
        invite, _ = SurveyInvite.objects.get_or_create(
            survey=survey,
            contact=contact,
            defaults={"email": contact.email.lower(), "status": "sent", "sent_at": _at(day, 9)},
        )
        if rng.random() > ANSWER_RATE:
            continue
        value = answer()
        answered = min(day + timedelta(days=rng.randint(0, 3)), timezone.localdate())
        response, _ = services.record_response(invite=invite, answer=value, now=_at(answered, 14))
        group = response.group or ("promoter" if (response.score or 0) >= 4 else "detractor")
        comment = rng.choice(COMMENTS.get(group, [""])) if rng.random() < 0.4 else ""
        if comment:
            services.add_comment(response=response, comment=comment)


def extend(*, rng: random.Random, today: date, account_ids: list[int]) -> None:
    # NPS twice a year; CSAT also after a support-heavy month (support load 8: e.g. 4 cases, 2 escalations).
    SurveySettings.objects.get_or_create(program=None, defaults={"nps_every_months": 6, "csat_support_load": 8})
    # The default model weighs survey answers a little (an admin's choice; the standard model does not).
    HealthComponent.objects.get_or_create(
        model=HealthModel.objects.default(),
        kind=HealthComponent.Kind.SURVEY,
        defaults={"weight": 5, "worst": Decimal("4"), "best": Decimal("9")},
    )
    contacts_by_account: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(account_id__in=account_ids, left_on__isnull=True).exclude(email=""):
        contacts_by_account.setdefault(contact.account_id, []).append(contact)
    accounts = list(Account.objects.filter(pk__in=account_ids).active().values_list("pk", "lifecycle_stage"))
    for account_id, stage in accounts:
        if rng.random() > NPS_SHARE:
            continue
        day = today - timedelta(days=rng.randint(0, 150))
        survey = Survey.objects.create(account_id=account_id, kind="nps", occasion=f"nps:{day}", created_on=day)
        people = [
            c for c in contacts_by_account.get(account_id, []) if c.is_decision_maker or c.is_champion
        ] or contacts_by_account.get(account_id, [])[:1]
        _invite_and_answer(rng, survey, people, answer=partial(_nps_score, rng, stage), day=day)
        if stage != "onboarding" and rng.random() < 0.3:
            csat = Survey.objects.create(
                account_id=account_id, kind="csat", occasion="csat:onboarding", created_on=day - timedelta(days=30)
            )
            _invite_and_answer(
                rng,
                csat,
                contacts_by_account.get(account_id, [])[:1],
                answer=lambda: rng.choices(range(1, 6), weights=[1, 1, 3, 6, 5])[0],
                day=day - timedelta(days=30),
            )
        if rng.random() < 0.1:  # a support-heavy month last month: the CSAT of that month
            last_month = today.replace(day=1) - timedelta(days=1)
            support = Survey.objects.create(
                account_id=account_id,
                kind="csat",
                occasion=f"csat:support:{last_month:%Y-%m}",
                created_on=last_month,
            )
            _invite_and_answer(
                rng,
                support,
                contacts_by_account.get(account_id, [])[:1],
                answer=lambda: rng.choices(range(1, 6), weights=[3, 3, 3, 2, 1])[0],
                day=last_month,
            )
    _exit_surveys(rng, today=today, contacts_by_account=contacts_by_account)
    _customer_links(today=today)


def _exit_surveys(rng: random.Random, *, today: date, contacts_by_account: dict[int, list[Contact]]) -> None:
    codes = list(ReasonCode.objects.filter(is_active=True, applies_to__in=["loss", "both"]))
    lost = Renewal.objects.filter(stage=Renewal.Stage.LOST, closed_on__gte=today - timedelta(days=365))
    for renewal in lost.select_related("contract", "reason"):
        account_id = renewal.contract.account_id
        day = renewal.closed_on or today
        survey, _ = Survey.objects.get_or_create(
            account_id=account_id,
            kind="exit",
            occasion=f"exit:{renewal.pk}",
            defaults={"renewal": renewal, "created_on": day},
        )
        people = [c for c in contacts_by_account.get(account_id, []) if c.is_decision_maker or c.is_renewal]

        def reason(renewal: Renewal = renewal) -> int:
            # Customers often name another reason than the CSM chose (the analysis shows how often).
            if renewal.reason_id and rng.random() < 0.5:
                return renewal.reason_id
            return rng.choice(codes).pk if codes else 0

        _invite_and_answer(rng, survey, people[:2], answer=reason, day=day)


def _customer_links(*, today: date) -> None:
    alice = User.objects.filter(username="alice").first()
    if alice is None:
        return
    now = _at(today, 8)
    for account in Account.objects.filter(owner=alice).active().order_by("name")[:3]:
        contact = account.contacts.filter(left_on__isnull=True).order_by("-is_primary", "name").first()
        if contact is None:
            continue
        link = portal.create_link(contact=contact, by=alice, days=30, now=now - timedelta(days=5))
        viewed = now - timedelta(days=2)
        portal.record_view(link=link, what="page", ip="203.0.113.7", user_agent="Demo browser", now=viewed)
