"""CSV import pages: upload → dry run with row errors → import all or nothing."""

import csv
import io
from typing import cast

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
            return redirect("imports:import-detail", pk=job.pk)
    jobs = imports.jobs_of(request.user).defer("content")[:20]
    return render(
        request,
        "imports/import_list.html",
        {"form": form, "jobs": jobs, "columns": imports.COLUMNS, "max_rows": imports.MAX_ROWS},
    )


@login_required
def import_detail(request: SignedInHttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(imports.jobs_of(request.user).defer("content"), pk=pk)
    return render(request, "imports/import_detail.html", {"job": job})


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
