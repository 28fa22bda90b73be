"""CSV import pages: upload → dry run with row errors → import all or nothing."""

import csv
import io
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from csm import input_guards
from csm.requests import SignedInHttpRequest
from csm.roles import can_write

from . import mapping
from . import services as imports
from .models import ImportJob


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportJob.Kind.choices, label="What the file holds")
    file = forms.FileField(label="CSV file (UTF-8, header row first)")

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_BYTES:
            raise ValidationError(f"The file is over {imports.MAX_BYTES // (1024 * 1024)} MB; split it.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text; save it as “CSV UTF-8”.") from None
        return input_guards.reject_nul(text)


@login_required
def import_list(request: SignedInHttpRequest) -> HttpResponse:
    form = UploadForm()
    if request.method == "POST":
        if not can_write(request.user):
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            job = imports.dry_run_import(
                kind=form.cleaned_data["kind"],
                file_name=cast(UploadedFile, request.FILES["file"]).name or "",
                content=form.cleaned_data["file"],
                user=request.user,
            )
            unmapped = job.status == ImportJob.Status.INVALID and job.errors[0]["field"] == "file"
            if job.mapping and (job.mapping_to_review or unmapped):
                return redirect("imports:import-mapping", pk=job.pk)
            return redirect("imports:import-detail", pk=job.pk)
    jobs = imports.jobs_of(request.user).defer("content")[:20]
    return render(
        request,
        "imports/import_list.html",
        {"form": form, "jobs": jobs, "columns": imports.COLUMNS, "max_rows": imports.MAX_ROWS},
        status=400 if form.is_bound else 200,  # a bound form here did not validate
    )


@login_required
def import_detail(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(imports.jobs_of(request.user), pk=pk)
    preview = imports.preview_rows(job) if job.status != ImportJob.Status.IMPORTED else None
    return render(request, "imports/import_detail.html", {"job": job, "preview": preview, **reading_summary(job)})


def reading_summary(job: ImportJob) -> dict:
    """What the page says about how the file was read: delimiter, date format, mapped columns."""
    date_format = mapping.DATE_FORMATS.get(job.date_format)
    in_file = [header for header in mapping.read_header(job.content, job.delimiter) if header in job.mapping]
    columns = in_file + sorted(set(job.mapping) - set(in_file))
    return {
        "delimiter_name": mapping.DELIMITER_NAMES.get(job.delimiter, repr(job.delimiter)),
        "date_format_label": date_format.label if date_format else job.date_format,
        # In the file's column order (PostgreSQL's jsonb keeps no key order).
        "mapped_columns": [(header, job.mapping[header]) for header in columns if job.mapping[header]],
        "ignored_columns": [header for header in columns if not job.mapping[header]],
    }


class MappingForm(forms.Form):
    """One select per column of the file (its field, or ignored), and the date format."""

    def __init__(self, *args: Any, job: ImportJob, samples: dict[str, list[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = imports.fields_of(job.kind)
        required = imports.COLUMNS[job.kind][0]
        choices = [(mapping.IGNORE, "— ignore this column —")] + [
            (name, f"{name}{' (required)' if name in required else ''}") for name in fields
        ]
        self.columns = []
        # The file's own column order: the stored mapping (jsonb on PostgreSQL) keeps no order.
        self.headers = mapping.read_header(job.content, job.delimiter)
        for index, header in enumerate(self.headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                choices=choices, required=False, label=header, initial=job.mapping.get(header, "")
            )
            known = bool(job.mapping.get(header)) or mapping.normalize(header) in mapping.KNOWN_IGNORED
            self.columns.append(
                {"field": self[name], "header": header, "samples": samples.get(header, []), "known": known}
            )
        self.fields["date_format"] = forms.ChoiceField(
            label="Dates in this file are written",
            choices=[(mapping.AUTO, "Guess from the file")]
            + [(code, fmt.label) for code, fmt in mapping.DATE_FORMATS.items()],
            initial=mapping.AUTO if job.date_format_guessed else job.date_format,
        )

    def columns_chosen(self, job: ImportJob) -> dict[str, str]:
        return {header: self.cleaned_data.get(f"column_{i}") or "" for i, header in enumerate(self.headers)}


def _samples(job: ImportJob, count: int = 3) -> dict[str, list[str]]:
    reader = csv.DictReader(io.StringIO(job.content.lstrip("\ufeff")), delimiter=job.delimiter)
    headers = mapping.read_header(job.content, job.delimiter)
    reader.fieldnames = headers
    next(reader, None)
    samples: dict[str, list[str]] = {header: [] for header in headers}
    for row, _ in zip(reader, range(count), strict=False):
        for header in headers:
            value = (row.get(header) or "").strip()
            if value:
                samples[header].append(value[:40])
    return samples


@login_required
def import_mapping(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    """The mapping step: which field each column of the file fills (remembered for next time)."""
    job = get_object_or_404(imports.jobs_of(request.user), pk=pk)
    if job.status == ImportJob.Status.IMPORTED or not job.mapping:
        return redirect("imports:import-detail", pk=job.pk)
    form = MappingForm(request.POST or None, job=job, samples=_samples(job))
    if request.method == "POST":
        if not can_write(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                job = imports.remap_import(
                    job,
                    columns=form.columns_chosen(job),
                    date_format=form.cleaned_data["date_format"],
                    user=request.user,
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                return redirect("imports:import-detail", pk=job.pk)
    status = 400 if request.method == "POST" else 200
    context = {"job": job, "form": form, **reading_summary(job)}
    return render(request, "imports/import_mapping.html", context, status=status)


@login_required
@require_POST
def import_run(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    if not can_write(request.user):
        raise PermissionDenied
    job = get_object_or_404(imports.jobs_of(request.user).defer("content"), pk=pk)
    try:
        job = imports.run_import(job, user=request.user, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.headers.get("HX-Request"):
        return render(request, "imports/_import_result.html", {"job": job})
    return redirect("imports:import-detail", pk=job.pk)


@login_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """An empty CSV with the expected header, to fill in."""
    if kind not in imports.COLUMNS:
        raise Http404
    required, optional = imports.COLUMNS[kind]
    buffer = io.StringIO()
    csv.writer(buffer).writerow([*required, *optional])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
