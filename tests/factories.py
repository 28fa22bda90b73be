from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts.models import Account, Contact, HealthCheck, HealthScore, Program, Team, Touchpoint, UsageSnapshot
from csm import roles
from playbooks.models import OnboardingItem, Task
from renewals.models import Contract, Renewal, RevenueEntry


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.LazyAttribute(lambda o: o.username.capitalize())
    email = factory.LazyAttribute(lambda o: f"{o.username}@csm.test")
    password = factory.django.Password("s3cret-pass-word")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create:
            self.groups.add(Group.objects.get_or_create(name=extracted or roles.CSM)[0])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    manager = factory.SubFactory(UserFactory, role=roles.MANAGER)


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Program {n}")
    renewal_notice_lead_days = 60


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Customer {n}")
    external_id = factory.Sequence(lambda n: f"EXT-{n:05d}")
    owner = factory.SubFactory(UserFactory)
    program = factory.SubFactory(ProgramFactory, name="Standard")
    segment = Account.Segment.MID_MARKET
    lifecycle_stage = Account.Stage.ADOPTION


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.test")
    title = "Manager"


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    account = factory.SubFactory(AccountFactory)
    program = factory.LazyAttribute(lambda o: o.account.program)
    starts_on = factory.LazyAttribute(lambda o: o.ends_on - timedelta(days=365))
    ends_on = factory.LazyFunction(lambda: date(2026, 12, 31))
    recurring_amount = Decimal("12000.00")
    status = Contract.Status.ACTIVE


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    account = factory.SubFactory(AccountFactory)
    kind = Touchpoint.Kind.CALL
    outcome = Touchpoint.Outcome.POSITIVE
    occurred_at = factory.LazyFunction(timezone.now)


class UsageSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsageSnapshot

    account = factory.SubFactory(AccountFactory)
    date = factory.LazyFunction(lambda: date(2026, 11, 1))
    licenses_purchased = 25
    licenses_active = 20
    basic_users = 15
    advanced_users = 5
    availability_pct = Decimal("99.90")


# The factories below declare only what the model cannot leave out, at fixed days (never the real
# clock): a test names every field its assertion is about.


class HealthScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HealthScore

    account = factory.SubFactory(AccountFactory)
    day = date(2026, 6, 1)
    score = 70
    band = "green"


class HealthCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HealthCheck

    account = factory.SubFactory(AccountFactory)
    held_on = date(2026, 5, 1)
    sentiment = 3


class OnboardingItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OnboardingItem

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Onboarding step {n}")
    due_on = date(2026, 6, 1)


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    due_on = date(2026, 6, 1)


class RenewalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Renewal

    contract = factory.SubFactory(ContractFactory)


class RevenueEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RevenueEntry

    account = factory.SubFactory(AccountFactory)
    kind = RevenueEntry.Kind.NEW
    amount = Decimal("12000.00")
    effective_on = date(2026, 1, 1)


def api_token(user, *, name: str | None = None) -> str:
    """A personal API token for ``user`` (through the service), as ``Authorization: Token <it>``."""
    import uuid

    from django.utils import timezone

    from csm import tokens

    return tokens.create_token(
        user=user, name=name or f"test-{uuid.uuid4().hex[:8]}", expires_on=None, now=timezone.now()
    )[1]
