"""Demo data: a realistic book built with bulk inserts, fast enough for 100,000 accounts.

``seed_core`` makes the foundation (people, programs, accounts, contacts, contracts,
usage, touchpoints). Other apps add their part in ``<app>/demo.py`` with
``extend(*, rng, today, account_ids)``; the ``seed_demo`` command calls each in turn.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.models import Account, Contact, Program, Team, Touchpoint, UsageSnapshot
from csm import roles
from renewals.models import Contract

BATCH = 5000

PREFIXES = [
    "Acme",
    "Blue",
    "North",
    "Bright",
    "Silver",
    "Iron",
    "Summit",
    "Harbor",
    "Cedar",
    "Granite",
    "Nova",
    "Polar",
    "Crimson",
    "Golden",
    "Swift",
    "Quantum",
    "Atlas",
    "Vertex",
    "Pioneer",
    "Evergreen",
    "Maple",
    "Orbit",
    "Falcon",
    "Copper",
    "Lumen",
    "Horizon",
    "Beacon",
    "Echo",
    "Delta",
]
SUFFIXES = [
    "Logistics",
    "Analytics",
    "Health",
    "Foods",
    "Robotics",
    "Energy",
    "Bank",
    "Media",
    "Labs",
    "Retail",
    "Systems",
    "Pharma",
    "Motors",
    "Insurance",
    "Travel",
    "Software",
    "Foundry",
    "Networks",
    "Studios",
    "Capital",
    "Farms",
    "Airlines",
    "Telecom",
    "Learning",
]
FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Yara",
    "Zane",
]
LAST = [
    "Adams",
    "Brown",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jones",
    "Khan",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Patel",
    "Rossi",
    "Silva",
    "Tanaka",
    "Weber",
]
TITLES = {
    "is_decision_maker": "VP Operations",
    "is_renewal": "Procurement Manager",
    "is_billing": "Accounts Payable",
    "is_champion": "Team Lead",
    "is_technical": "IT Administrator",
    "is_executive_sponsor": "Chief Operating Officer",
}

PEOPLE = (
    # username, first, last, role, staff
    ("admin", "Ada", "Admin", roles.ADMIN, True),
    ("alice", "Alice", "Martin", roles.CSM, False),
    ("bob", "Bob", "Nguyen", roles.CSM, False),
    ("dave", "Dave", "Okoro", roles.CSM, False),
    ("erin", "Erin", "Walsh", roles.CSM, False),
    ("carol", "Carol", "Lindqvist", roles.MANAGER, False),
    ("rita", "Rita", "Reader", roles.READ_ONLY, False),
)

PROGRAMS = (
    # name, reviews, seats, hours, support, health cadence, touch cadence, lead days
    ("Essentials", 1, 2, 0, Program.SupportLevel.STANDARD, 180, 60, 60),
    ("Professional", 2, 5, 10, Program.SupportLevel.PRIORITY, 90, 30, 75),
    ("Enterprise", 4, 20, 40, Program.SupportLevel.PREMIUM, 90, 14, 90),
)
SEGMENT_PROGRAM: dict[str, str] = {
    Account.Segment.SMB: "Essentials",
    Account.Segment.MID_MARKET: "Professional",
    Account.Segment.ENTERPRISE: "Enterprise",
}
SEGMENT_AMOUNT: dict[str, tuple[int, int]] = {
    Account.Segment.SMB: (3_000, 20_000),
    Account.Segment.MID_MARKET: (20_000, 90_000),
    Account.Segment.ENTERPRISE: (90_000, 600_000),
}


@dataclass
class SeedResult:
    account_ids: list[int]
    users: dict[str, User]


def demo_currency(account_id: int) -> str:
    """Most demo customers pay in USD, some in EUR and GBP (chosen by id: the random stream is unchanged)."""
    return {0: "EUR", 5: "EUR", 7: "GBP"}.get(account_id % 12, "USD")


def seed_people() -> dict[str, User]:
    users = {}
    for username, first, last, role, staff in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@csm.example"},
        )
        if created:
            user.set_password(settings.CSM_DEMO_PASSWORD)
        user.is_staff = staff
        user.is_superuser = username == "admin"
        user.save()
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    team, _ = Team.objects.get_or_create(name="North America", defaults={"manager": users["carol"]})
    team.members.add(*(users[name] for name in ("alice", "bob", "dave", "erin")))
    return users


def seed_programs() -> dict[str, Program]:
    programs = {}
    for name, reviews, seats, hours, support, health, touch, lead in PROGRAMS:
        programs[name], _ = Program.objects.get_or_create(
            name=name,
            defaults={
                "business_reviews_per_year": reviews,
                "training_seats": seats,
                "success_hours": hours,
                "support_level": support,
                "health_check_cadence_days": health,
                "touch_cadence_days": touch,
                "renewal_notice_lead_days": lead,
            },
        )
    return programs


def _person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return f"{first} {last}", f"{first}.{last}".lower()


@transaction.atomic
def seed_core(*, accounts: int, today: date, rng: random.Random) -> SeedResult:
    users = seed_people()
    programs = seed_programs()
    csms = [users[name] for name in ("alice", "bob", "dave", "erin")]
    start_index = Account.objects.count()
    account_ids: list[int] = []
    # Chunks keep memory flat: 100,000 accounts never sit in memory as model instances at once.
    for chunk_start in range(start_index, start_index + accounts, BATCH):
        chunk_end = min(chunk_start + BATCH, start_index + accounts)
        account_ids += _seed_chunk(range(chunk_start, chunk_end), today=today, rng=rng, csms=csms, programs=programs)
    return SeedResult(account_ids=account_ids, users=users)


def _seed_chunk(
    indexes: range, *, today: date, rng: random.Random, csms: list[User], programs: dict[str, Program]
) -> list[int]:
    segments = [Account.Segment.SMB] * 6 + [Account.Segment.MID_MARKET] * 3 + [Account.Segment.ENTERPRISE]
    new_accounts = []
    for i in indexes:
        segment: str = rng.choice(segments)
        # Alice owns every twentieth account; the other CSMs share the rest.
        owner = csms[0] if i % 20 == 0 else rng.choice(csms[1:])
        new_accounts.append(
            Account(
                name=f"{rng.choice(PREFIXES)} {rng.choice(SUFFIXES)} {i + 1}",
                external_id=f"ACC-{i + 1:07d}",
                segment=segment,
                owner=owner,
                program=programs[SEGMENT_PROGRAM[segment]],
                lifecycle_stage=rng.choice(
                    [Account.Stage.ONBOARDING] + [Account.Stage.ADOPTION] * 2 + [Account.Stage.MATURE] * 4
                ),
            )
        )
    Account.objects.bulk_create(new_accounts, batch_size=BATCH)
    rows = list(
        Account.objects.filter(external_id__in=[a.external_id for a in new_accounts])
        .order_by("pk")
        .values_list("pk", "segment", "program_id")
    )

    contacts, contracts, usage, touchpoints = [], [], [], []
    for account_id, segment, program_id in rows:
        domain = f"customer{account_id}.example"
        # Most accounts have the three renewal roles; some have only one, a few none current.
        shape = rng.random()
        role_sets = [
            {"is_decision_maker": True, "is_executive_sponsor": shape < 0.3},
            {"is_renewal": True},
            {"is_billing": True},
            {"is_champion": True, "is_technical": rng.random() < 0.5},
        ]
        if shape > 0.9:
            role_sets = [{"is_decision_maker": True, "is_renewal": True}, {"is_champion": True}]
        for index, flags in enumerate(role_sets):
            name, local = _person(rng)
            departed = rng.random() < 0.07
            contacts.append(
                Contact(
                    account_id=account_id,
                    name=name,
                    email=f"{local}{index}@{domain}",
                    title=TITLES[next(field for field, on in flags.items() if on)],
                    is_primary=index == 0,
                    left_on=today - timedelta(days=rng.randint(5, 300)) if departed else None,
                    email_opt_out=rng.random() < 0.02,
                    **flags,
                )
            )
        low, high = SEGMENT_AMOUNT[segment]
        amount = Decimal(rng.randrange(low, high, 500))
        ends_on = today + timedelta(days=rng.randint(-20, 540))
        starts_on = ends_on - timedelta(days=365)
        status = Contract.Status.ACTIVE if ends_on >= today else Contract.Status.EXPIRED
        contracts.append(
            Contract(
                account_id=account_id,
                program_id=program_id,
                starts_on=starts_on,
                ends_on=ends_on,
                recurring_amount=amount,
                currency=demo_currency(account_id),
                auto_renew=rng.random() < 0.3,
                status=status,
            )
        )
        # Adoption: a latent engagement level drives usage, touchpoints and (later) renewal outcomes.
        engagement = rng.betavariate(2.2, 1.4)
        purchased = {
            "smb": rng.randint(5, 40),
            "mid_market": rng.randint(40, 250),
            "enterprise": rng.randint(250, 2000),
        }[segment]
        for weeks_ago in (12, 8, 4, 1, 0):
            drift = 1 - 0.02 * weeks_ago * (0.5 - engagement)
            active = max(0, min(purchased, round(purchased * engagement * drift)))
            advanced = round(active * engagement * 0.6)
            usage.append(
                UsageSnapshot(
                    account_id=account_id,
                    date=today - timedelta(weeks=weeks_ago),
                    licenses_purchased=purchased,
                    licenses_active=active,
                    basic_users=active - advanced,
                    advanced_users=advanced,
                    availability_pct=Decimal(str(round(min(100.0, 97 + 3 * rng.random()), 2))),
                    open_support_cases=rng.randint(0, 2 if engagement > 0.5 else 6),
                    escalations=0 if rng.random() < 0.9 else 1,
                )
            )
        touch_count = round(engagement * 6)
        for _ in range(touch_count):
            when = today - timedelta(days=rng.randint(1, 150))
            outcome_roll = rng.random()
            outcome = (
                Touchpoint.Outcome.POSITIVE
                if outcome_roll < engagement * 0.9
                else Touchpoint.Outcome.NEGATIVE
                if outcome_roll > 0.85
                else Touchpoint.Outcome.NEUTRAL
            )
            touchpoints.append(
                Touchpoint(
                    account_id=account_id,
                    kind=rng.choice(list(Touchpoint.Kind.values)),
                    outcome=outcome,
                    notes="",
                    occurred_at=timezone.make_aware(datetime.combine(when, time(hour=rng.randint(8, 17)))),
                )
            )
    Contact.objects.bulk_create(contacts, batch_size=BATCH)
    Contract.objects.bulk_create(contracts, batch_size=BATCH)
    UsageSnapshot.objects.bulk_create(usage, batch_size=BATCH)
    Touchpoint.objects.bulk_create(touchpoints, batch_size=BATCH)
    account_ids = [row[0] for row in rows]
    services.refresh_last_touch(account_ids=account_ids)  # bulk_create sends no save signals
    return account_ids
