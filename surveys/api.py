"""REST API for survey answers: read-only, scoped to the caller's book, filterable by account and kind.

Answers are recorded only by the customer's signed link (``services.record_response``); the API
lists them for integrations and reports.
"""

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from csm import filters as csm_filters
from csm.api import Pagination
from renewals.models import ReasonCode

from .models import Survey, SurveyResponse


class SurveyResponseSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    group = serializers.CharField(
        read_only=True, help_text="NPS only: promoter (9-10), passive (7-8), detractor (0-6)."
    )
    occasion = serializers.CharField(source="invite.survey.occasion", read_only=True)
    reason: serializers.SlugRelatedField[ReasonCode] = serializers.SlugRelatedField(
        slug_field="label", read_only=True, allow_null=True, help_text="Exit surveys: the reason the customer gave."
    )

    class Meta:
        model = SurveyResponse
        fields = ["id", "account", "contact", "contact_name", "kind", "occasion", "score", "group", "reason",
                  "comment", "answered_at", "answered_on"]  # fmt: skip
        read_only_fields = fields


class SurveyResponseFilter(csm_filters.FilterSet):
    account = csm_filters.IdFilter(field_name="account")
    contact = csm_filters.IdFilter(field_name="contact")
    kind = django_filters.ChoiceFilter(choices=Survey.Kind.choices)
    answered_after = django_filters.DateFilter(field_name="answered_on", lookup_expr="gte")
    answered_before = django_filters.DateFilter(field_name="answered_on", lookup_expr="lte")

    class Meta:
        model = SurveyResponse
        fields = ["account", "contact", "kind", "answered_after", "answered_before"]


class SurveyResponseViewSet(viewsets.ReadOnlyModelViewSet):
    """Survey answers in the caller's book, newest first."""

    serializer_class = SurveyResponseSerializer
    pagination_class = Pagination
    filterset_class = SurveyResponseFilter
    ordering_fields = ["answered_at", "score"]

    def get_queryset(self) -> QuerySet[SurveyResponse]:
        return (
            SurveyResponse.objects.visible_to(self.request.user)
            .select_related("contact", "reason", "invite__survey")
            .order_by("-answered_at", "-pk")
        )
