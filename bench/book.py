"""The book of contracts the renewal benchmarks share (notices, lifecycle): one account per
contract in three programs, each contract with its open renewal, loaded set-based on PostgreSQL."""

from collections.abc import Callable
from datetime import date

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from bench.db import bulk_load, vacuum_analyze

PROGRAMS = (("Essentials", 60), ("Professional", 75), ("Enterprise", 90))
SPREAD_DAYS = 396  # contract ends spread evenly over 13 months


def build_book(
    scale: int,
    *,
    today: date,
    first_end: int = 0,
    auto_renew_every: int = 0,
    auto_renew_from: int = 0,
    grace_days: int | None = None,
    contacts: bool = False,
    ledger: bool = False,
    then: Callable[[CursorWrapper], None] | None = None,
) -> None:
    """``scale`` accounts with one active 365-day contract each, ending ``first_end`` days from
    ``today`` onwards, spread over ``SPREAD_DAYS``; one in ``auto_renew_every`` auto-renews (0:
    none), among those ending ``auto_renew_from`` days or more after the first end.
    ``contacts``: four contacts per account (decision maker, renewal, billing, champion; 3 % left,
    1 % opted out, 5 % one person in every renewal role). ``ledger``: each contract's ``new``
    entry. ``then`` runs last inside the same bulk load."""
    from accounts.models import Account, Contact, Program, StageChange
    from renewals.models import Contract, Renewal, RevenueEntry

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE renewals_renewalnotice, renewals_revenueentry, renewals_renewal, renewals_contract, "
            "playbooks_task, accounts_contact, accounts_touchpoint, accounts_usagesnapshot, accounts_account, "
            f"{Contract.history.model._meta.db_table}, {Renewal.history.model._meta.db_table}, "  # type: ignore[attr-defined]
            f"{StageChange.history.model._meta.db_table}, notifications_notification "  # type: ignore[attr-defined]
            "RESTART IDENTITY CASCADE"
        )
    programs = []
    for name, lead in PROGRAMS:
        defaults: dict[str, int] = {"renewal_notice_lead_days": lead}
        if grace_days is not None:
            defaults["renewal_grace_days"] = grace_days
        program, _ = Program.objects.update_or_create(name=name, defaults=defaults)
        programs.append(program.pk)
    now = timezone.now()
    models = [Account, Contract, Renewal] + ([Contact] if contacts else []) + ([RevenueEntry] if ledger else [])
    with bulk_load(*models), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM auth_user ORDER BY id LIMIT 1")
        row = cursor.fetchone()
        owner = row[0] if row else None
        if owner is None:
            cursor.execute(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
                "is_active, date_joined) "
                "VALUES ('!', false, 'bench', 'Bench', 'CSM', 'bench@csm.test', false, true, %s) RETURNING id",
                [now],
            )
            owner = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO accounts_account (name, external_id, segment, owner_id, program_id, lifecycle_stage,
                                          created_at, updated_at)
            SELECT 'Customer ' || g, 'B-' || g, 'smb', %s, (ARRAY[%s, %s, %s])[1 + g %% 3], 'mature', %s, %s
            FROM generate_series(1, %s) AS g
            """,
            [owner, *programs, now, now, scale],
        )
        if contacts:
            cursor.execute(
                """
                INSERT INTO accounts_contact (account_id, name, email, title, is_decision_maker, is_renewal,
                    is_billing, is_champion, is_technical, is_executive_sponsor, is_primary, left_on, email_opt_out,
                    email_opt_out_source, email_bad_reason, created_at)
                SELECT a.id, 'Person ' || p, 'p' || p || '.' || CASE WHEN a.id %% 20 = 0 AND p < 3 THEN 0 ELSE p END
                           || '@c' || a.id || '.test',
                       '', p = 0, p = 1, p = 2, p = 3, false, false, p = 0,
                       CASE WHEN (a.id + p) %% 33 = 0 THEN %s::date - 30 END, (a.id * 7 + p) %% 100 = 0, '', '', %s
                FROM accounts_account a CROSS JOIN generate_series(0, 3) AS p
                """,
                [today, now],
            )
        cursor.execute(
            """
            INSERT INTO renewals_contract (account_id, program_id, starts_on, ends_on, recurring_amount, currency,
                                           auto_renew, status, created_at)
            SELECT a.id, a.program_id, %(today)s::date + (a.id %% %(spread)s)::int + %(first)s - 365,
                   %(today)s::date + (a.id %% %(spread)s)::int + %(first)s, 12000, 'USD',
                   %(every)s > 0 AND a.id %% GREATEST(%(every)s, 1) = 0 AND a.id %% %(spread)s >= %(from)s,
                   'active', %(now)s
            FROM accounts_account a
            """,
            {
                "today": today,
                "spread": SPREAD_DAYS,
                "first": first_end,
                "every": auto_renew_every,
                "from": auto_renew_from,
                "now": now,
            },
        )
        cursor.execute(
            """
            INSERT INTO renewals_renewal (contract_id, stage, owner_id, forecast_amount, uplift_pct, probability,
                                          close_date, reason_notes, contact_coverage, updated_at)
            SELECT c.id, 'upcoming', %s, c.recurring_amount, 0, 50, c.ends_on, '', '', %s FROM renewals_contract c
            """,
            [owner, now],
        )
        if ledger:
            cursor.execute(
                """
                INSERT INTO renewals_revenueentry (account_id, contract_id, kind, amount, currency, effective_on,
                                                   note, created_at)
                SELECT c.account_id, c.id, 'new', c.recurring_amount, c.currency, c.starts_on, 'New customer', %s
                FROM renewals_contract c
                """,
                [now],
            )
        if then is not None:
            then(cursor)
    vacuum_analyze()
