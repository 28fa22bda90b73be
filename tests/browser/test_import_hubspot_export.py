"""A manager imports a HubSpot companies export in the browser: the upload goes to the mapping
step with HubSpot's headers recognised, the manager maps the custom columns and ignores HubSpot's own
lifecycle stage after its row errors, fixes the one bad owner in the file, and the second upload
(same headers) reuses the remembered mapping, previews the rows and imports them all."""

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from imports.models import ColumnMapping, ImportJob
from playbooks.models import ChecklistTemplateItem, OnboardingItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# HubSpot's export of companies (its own column names), saved from a spreadsheet with semicolons.
HEADER = '"Record ID";"Company name";"Company Domain Name";"Company owner";"Annual Revenue";"Lifecycle Stage";' \
    '"CS Segment";"Service tier";"Create Date"'  # fmt: skip
ROWS = [
    '"5012345601";"Umbrella Corp";"umbrella.test";"alice@csm.test";"$12,000.00";"Customer";"Mid-market";'
    '"Professional";"03/15/2025 09:12"',
    '"5012345602";"Wayne Enterprises";"wayne.test";"bob@csm.test";"$240,500.00";"Customer";"Enterprise";'
    '"Professional";"04/01/2025 14:30"',
    '"5012345603";"Stark Industries";"stark.test";"{owner}";"$1,200.00";"Customer";"SMB";"Professional";'
    '"11/20/2025 08:05"',
]


def export(owner: str) -> bytes:
    lines = [HEADER, *(row.replace("{owner}", owner) for row in ROWS)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()  # Excel's UTF-8 CSV: a BOM and CRLF


def upload(page, content: bytes) -> None:
    page.goto("/imports/")
    page.get_by_label("What the file holds").select_option("accounts")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "hubspot-crm-exports-all-companies.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Check the file").click()


def field_of(page, header: str):
    return page.locator("table.import-mapping").get_by_label(header, exact=True)


def test_a_manager_maps_checks_and_imports_a_hubspot_export(page, sign_in, carol, alice, bob, program) -> None:
    alice.last_name = "Anderson"
    alice.save()
    ChecklistTemplateItem.objects.create(program=program, title="Kick-off call", due_offset_days=7, position=0)
    sign_in("carol")

    # 1. The upload stops at the mapping step, HubSpot's headers already filled in.
    upload(page, export(owner="tony@former-rep.example"))
    page.wait_for_url("**/imports/*/mapping/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Map the columns of hubspot-crm-exports-all-companies.csv")
    expect(page.locator(".page-head")).to_contain_text("semicolon-separated")
    suggested = {"Record ID": "external_id", "Company name": "name", "Company owner": "owner",
                 "Lifecycle Stage": "lifecycle_stage", "Service tier": "program", "Annual Revenue": "",
                 "CS Segment": "", "Company Domain Name": ""}  # fmt: skip
    for header, field in suggested.items():
        expect(field_of(page, header)).to_have_value(field)
    custom = page.locator("table.import-mapping tr", has_text="CS Segment")
    expect(custom).to_contain_text("not recognised")
    expect(custom).to_contain_text("Mid-market · Enterprise · SMB")  # sample values to decide by

    # 2. The manager maps the custom segment column and checks the file: HubSpot's lifecycle
    #    stages are not ours, and one owner is nobody here. Row errors, nothing saved.
    field_of(page, "CS Segment").select_option("segment")
    page.get_by_role("button", name="Check the file with this mapping").click()
    page.wait_for_url("**/imports/*/")
    problems = page.locator("table.import-errors tbody tr")
    expect(page.get_by_role("alert")).to_contain_text("4 problems found — nothing was saved")
    expect(problems.filter(has_text="Lifecycle Stage")).to_have_count(3)
    expect(problems.filter(has_text="Company owner")).to_contain_text("no active user 'tony@former-rep.example'")
    expect(page.locator(".import-preview")).to_contain_text("alice@csm.test → Alice Anderson")
    assert not Account.objects.exists()

    # 3. Back to the mapping: ignore HubSpot's lifecycle stage (new accounts start onboarding).
    page.get_by_role("alert").get_by_role("link", name="change the column mapping").click()
    expect(field_of(page, "CS Segment")).to_have_value("segment")  # the choice was kept
    field_of(page, "Lifecycle Stage").select_option("")
    page.get_by_role("button", name="Check the file with this mapping").click()
    page.wait_for_url("**/imports/*/")
    expect(page.get_by_role("alert")).to_contain_text("1 problem found — nothing was saved")
    expect(problems).to_have_count(1)
    expect(problems).to_contain_text("Company owner")

    # 4. The file fixed (the owner by full name) and uploaded again: the same headers take the
    #    remembered mapping, so it goes straight to the check, which passes, with a preview.
    upload(page, export(owner="Alice Anderson"))
    page.wait_for_url("**/imports/*/")
    assert "/mapping/" not in page.url
    expect(page.get_by_role("heading", name="Dry run passed: every row is valid")).to_be_visible()
    expect(page.locator(".import-reading")).to_contain_text("Ignored: Company Domain Name, Annual Revenue")
    preview = page.locator(".import-preview")
    expect(preview).to_contain_text("Preview: the first 3 of 3 rows")
    expect(preview.locator("tbody tr").nth(2)).to_contain_text("Alice Anderson → Alice Anderson")
    expect(preview.locator("tbody tr").nth(1)).to_contain_text("bob@csm.test → Bob")
    assert not Account.objects.exists()

    # 5. Import: every row in one transaction, then the accounts are in the team's list.
    page.get_by_role("button", name="Import 3 rows").click()
    expect(page.locator(".import-done")).to_contain_text("3 created, 0 updated")
    imported = {
        a.external_id: (a.name, a.owner.username, a.segment, a.program.name, a.lifecycle_stage)
        for a in Account.objects.select_related("owner", "program")
    }
    assert imported == {
        "5012345601": ("Umbrella Corp", "alice", "mid_market", "Professional", "onboarding"),
        "5012345602": ("Wayne Enterprises", "bob", "enterprise", "Professional", "onboarding"),
        "5012345603": ("Stark Industries", "alice", "smb", "Professional", "onboarding"),
    }  # fmt: skip
    assert OnboardingItem.objects.filter(title="Kick-off call").count() == 3  # onboarding started
    saved = ColumnMapping.objects.get(user=carol)
    assert (saved.mapping["CS Segment"], saved.mapping["Lifecycle Stage"]) == ("segment", "")
    assert list(ImportJob.objects.values_list("status", flat=True).order_by("pk")) == ["invalid", "imported"]

    page.goto("/accounts/")
    for name in ("Umbrella Corp", "Wayne Enterprises", "Stark Industries"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
