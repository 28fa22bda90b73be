"""REST API for expansion opportunities, suggestions and renewal checkpoints; every change is one growth service."""

from decimal import Decimal
from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import EditableAccountField
from csm import filters as csm_filters
from csm import input_guards
from csm.api import Pagination, parsed
from csm.requests import SignedInRequest

from . import services
from .models import Checkpoint, Opportunity, Suggestion


class OpportunitySerializer(serializers.ModelSerializer):
    owner: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    weighted_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "id", "account", "kind", "title", "amount", "currency", "stage", "probability", "weighted_amount",
            "close_date", "owner", "reason", "closed_on", "lost_reason", "revenue_entry", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class OpportunityCreateSerializer(serializers.Serializer):
    account = EditableAccountField()
    kind = serializers.ChoiceField(choices=Opportunity.Kind.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    amount = input_guards.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="USD")
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False, default=50)
    close_date = serializers.DateField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class OpportunityUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Opportunity.Kind.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    amount = input_guards.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    probability = serializers.IntegerField(min_value=0, max_value=100)
    close_date = serializers.DateField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class WinSerializer(serializers.Serializer):
    effective_on = serializers.DateField(required=False, allow_null=True, default=None)


class LoseSerializer(serializers.Serializer):
    lost_reason = serializers.CharField(max_length=300)


class OpportunityFilter(csm_filters.FilterSet):
    account = csm_filters.IdFilter(field_name="account")
    owner = django_filters.CharFilter(field_name="owner__username")
    close_after = django_filters.DateFilter(field_name="close_date", lookup_expr="gte")
    close_before = django_filters.DateFilter(field_name="close_date", lookup_expr="lte")

    class Meta:
        model = Opportunity
        fields = ["account", "stage", "kind", "owner", "close_after", "close_before"]


class OpportunityViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = OpportunitySerializer
    pagination_class = Pagination
    filterset_class = OpportunityFilter
    ordering_fields = ["close_date", "amount", "updated_at"]

    def get_queryset(self) -> QuerySet[Opportunity]:
        return Opportunity.objects.visible_to(self.request.user).select_related("owner").order_by("close_date", "pk")

    @extend_schema(request=OpportunityCreateSerializer, responses={201: OpportunitySerializer})
    def create(self, request: SignedInRequest) -> Response:  # type: ignore[override]  # API requests are signed in
        data = parsed(OpportunityCreateSerializer, request)
        opportunity = services.create_opportunity(by=request.user, **data)
        return Response(OpportunitySerializer(opportunity).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OpportunityUpdateSerializer, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def edit(self, request: SignedInRequest, pk: str) -> Response:
        """Change an open opportunity: kind, title, amount, probability, close date, reason."""
        opportunity = self.get_object()
        data = parsed(OpportunityUpdateSerializer, request)
        opportunity = services.update_opportunity(opportunity, by=request.user, owner=opportunity.owner, **data)
        return Response(OpportunitySerializer(opportunity).data)

    @extend_schema(request=WinSerializer, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def win(self, request: SignedInRequest, pk: str) -> Response:
        """Close won: the running contract grows by the amount (an expansion in the revenue ledger)."""
        opportunity = self.get_object()
        data = parsed(WinSerializer, request)
        opportunity = services.win_opportunity(
            opportunity, by=request.user, today=timezone.localdate(), effective_on=data["effective_on"]
        )
        return Response(OpportunitySerializer(opportunity).data)

    @extend_schema(request=LoseSerializer, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def lose(self, request: SignedInRequest, pk: str) -> Response:
        """Close lost, with the reason."""
        opportunity = self.get_object()
        data = parsed(LoseSerializer, request)
        opportunity = services.lose_opportunity(
            opportunity, by=request.user, today=timezone.localdate(), reason=data["lost_reason"]
        )
        return Response(OpportunitySerializer(opportunity).data)


class SuggestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suggestion
        fields = ["id", "account", "signal", "period", "reason", "kind", "status", "raised_on", "decided_on", "note",
                  "opportunity"]  # fmt: skip
        read_only_fields = fields


class AcceptSerializer(serializers.Serializer):
    amount = input_guards.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    close_date = serializers.DateField()
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False, default=50)
    kind = serializers.ChoiceField(choices=Opportunity.Kind.choices, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DismissSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class SuggestionFilter(csm_filters.FilterSet):
    account = csm_filters.IdFilter(field_name="account")

    class Meta:
        model = Suggestion
        fields = ["account", "signal", "status"]


class SuggestionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SuggestionSerializer
    pagination_class = Pagination
    filterset_class = SuggestionFilter

    def get_queryset(self) -> QuerySet[Suggestion]:
        return Suggestion.objects.visible_to(self.request.user).order_by("-raised_on", "-pk")

    @extend_schema(request=AcceptSerializer, responses={201: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: SignedInRequest, pk: str) -> Response:
        """Turn the suggestion into an open opportunity carrying its reason."""
        suggestion = self.get_object()
        data: dict[str, Any] = parsed(AcceptSerializer, request)
        opportunity = services.accept_suggestion(suggestion, by=request.user, today=timezone.localdate(), **data)
        return Response(OpportunitySerializer(opportunity).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DismissSerializer, responses={200: SuggestionSerializer})
    @action(detail=True, methods=["post"])
    def dismiss(self, request: SignedInRequest, pk: str) -> Response:
        """Not now: the signal is not suggested again for this period."""
        suggestion = self.get_object()
        data = parsed(DismissSerializer, request)
        suggestion = services.dismiss_suggestion(
            suggestion, by=request.user, today=timezone.localdate(), note=data["note"]
        )
        return Response(SuggestionSerializer(suggestion).data)


class CheckpointSerializer(serializers.ModelSerializer):
    csm_call = serializers.CharField(
        read_only=True, help_text="The CSM's call: likely, at_risk or will_churn; empty until they make it."
    )
    asked_of: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    escalated_to: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Checkpoint
        fields = ["id", "renewal", "account", "days_before", "recorded_on", "auto_call", "auto_reason", "csm_call",
                  "csm_note", "called_on", "asked_of", "escalated_to"]  # fmt: skip
        read_only_fields = fields


class CallSerializer(serializers.Serializer):
    call = serializers.ChoiceField(choices=Checkpoint.Call.choices)
    note = serializers.CharField(max_length=2000)


class CheckpointFilter(csm_filters.FilterSet):
    account = csm_filters.IdFilter(field_name="account")
    renewal = csm_filters.IdFilter(field_name="renewal")
    days_before = csm_filters.SmallIntegerFilter(field_name="days_before")

    class Meta:
        model = Checkpoint
        fields = ["account", "renewal", "days_before", "auto_call", "csm_call"]


class CheckpointViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CheckpointSerializer
    pagination_class = Pagination
    filterset_class = CheckpointFilter

    def get_queryset(self) -> QuerySet[Checkpoint]:
        return (
            Checkpoint.objects.visible_to(self.request.user)
            .select_related("asked_of", "escalated_to")
            .order_by("-recorded_on", "-pk")
        )

    @extend_schema(request=CallSerializer, responses={200: CheckpointSerializer})
    @action(detail=True, methods=["post"])
    def call(self, request: SignedInRequest, pk: str) -> Response:
        """The CSM's call (likely, at risk, will churn) with a required note; a disagreement goes to the manager."""
        checkpoint = self.get_object()
        data = parsed(CallSerializer, request)
        checkpoint = services.record_csm_call(
            checkpoint, by=request.user, today=timezone.localdate(), now=timezone.now(), **data
        )
        return Response(CheckpointSerializer(checkpoint).data)
