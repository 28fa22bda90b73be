"""REST API for contracts and renewals; every change is an @action calling one renewals service."""

from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import EditableAccountField
from accounts.models import Program
from csm import filters as csm_filters
from csm import input_guards
from csm.api import Pagination, as_json, parsed
from csm.requests import SignedInRequest

from . import forecast, services
from .models import Contract, ReasonCode, Renewal


class ReasonField(input_guards.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", queryset=ReasonCode.objects.filter(is_active=True), **kwargs)


class ContractCreateSerializer(serializers.Serializer):
    account = EditableAccountField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    recurring_amount = input_guards.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    program = serializers.PrimaryKeyRelatedField(queryset=Program.objects.all(), required=False, allow_null=True)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="USD")
    auto_renew = serializers.BooleanField(required=False, default=False)


class ChangeAmountSerializer(serializers.Serializer):
    amount = input_guards.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    effective_on = serializers.DateField()
    reason = ReasonField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class RenewSerializer(serializers.Serializer):
    ends_on = serializers.DateField()
    amount = input_guards.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    starts_on = serializers.DateField(required=False, allow_null=True, default=None)
    reason = ReasonField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class AdvanceSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Renewal.OPEN_STAGES)


class MarkLostSerializer(serializers.Serializer):
    reason = ReasonField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class ContractSerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(source="account.external_id", read_only=True, allow_null=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "account",
            "account_external_id",
            "program",
            "starts_on",
            "ends_on",
            "recurring_amount",
            "currency",
            "auto_renew",
            "status",
            "previous",
            "created_at",
        ]
        read_only_fields = fields


class ContractFilter(csm_filters.FilterSet):
    ends_after = django_filters.DateFilter(field_name="ends_on", lookup_expr="gte")
    ends_before = django_filters.DateFilter(field_name="ends_on", lookup_expr="lte")

    class Meta:
        model = Contract
        fields = ["account", "status", "program", "auto_renew", "ends_after", "ends_before"]


class ContractViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ContractSerializer
    pagination_class = Pagination
    filterset_class = ContractFilter
    ordering_fields = ["ends_on", "starts_on", "recurring_amount"]

    def get_queryset(self) -> QuerySet[Contract]:
        return Contract.objects.visible_to(self.request.user).select_related("account").order_by("ends_on", "pk")

    @extend_schema(request=ContractCreateSerializer, responses={201: ContractSerializer})
    def create(self, request: SignedInRequest) -> Response:  # type: ignore[override]  # API requests are signed in
        data = parsed(ContractCreateSerializer, request)
        contract = services.create_contract(
            account=data["account"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            amount=data["recurring_amount"],
            program=data.get("program"),
            currency=data["currency"],
            auto_renew=data["auto_renew"],
            by=request.user,
        )
        return Response(ContractSerializer(contract).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ChangeAmountSerializer, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"], url_path="change-amount")
    def change_amount(self, request: SignedInRequest, pk: str) -> Response:
        """Change the running term's amount mid-term: an expansion, or a contraction (needs a reason)."""
        contract = self.get_object()
        data = parsed(ChangeAmountSerializer, request)
        services.change_contract_amount(contract, by=request.user, **data)
        contract.refresh_from_db()
        return Response(ContractSerializer(contract).data)

    @extend_schema(request=RenewSerializer, responses={201: ContractSerializer})
    @action(detail=True, methods=["post"])
    def renew(self, request: SignedInRequest, pk: str) -> Response:
        """Close the renewal (renewed, expanded or downgraded) and create the next term."""
        contract = self.get_object()
        data = parsed(RenewSerializer, request)
        next_term = services.renew_contract(contract, by=request.user, today=timezone.localdate(), **data)
        return Response(ContractSerializer(next_term).data, status=status.HTTP_201_CREATED)


class RenewalSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="contract.account_id", read_only=True)
    ends_on = serializers.DateField(source="contract.ends_on", read_only=True)
    owner: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    reason: serializers.SlugRelatedField[ReasonCode] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Renewal
        fields = [
            "id",
            "contract",
            "account",
            "ends_on",
            "stage",
            "owner",
            "forecast_amount",
            "uplift_pct",
            "probability",
            "close_date",
            "closed_on",
            "reason",
            "reason_notes",
            "updated_at",
        ]
        read_only_fields = fields


class RenewalFilter(csm_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__username")
    # Bounded like a BIGINT id: a larger number is a 400, not a database overflow.
    account = csm_filters.IdFilter(field_name="contract__account")
    ends_after = django_filters.DateFilter(field_name="contract__ends_on", lookup_expr="gte")
    ends_before = django_filters.DateFilter(field_name="contract__ends_on", lookup_expr="lte")

    class Meta:
        model = Renewal
        fields = ["stage", "owner", "account", "ends_after", "ends_before"]


class ForecastQuerySerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=forecast.BUCKETS, default="quarter")
    periods = serializers.IntegerField(
        required=False, min_value=1, max_value=36, help_text="How many; 12 months or 4 quarters by default."
    )


class RenewalViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RenewalSerializer
    pagination_class = Pagination
    filterset_class = RenewalFilter
    ordering_fields = ["contract__ends_on", "updated_at"]

    def get_queryset(self) -> QuerySet[Renewal]:
        return (
            Renewal.objects.visible_to(self.request.user)
            .select_related("contract", "owner", "reason")
            .order_by("contract__ends_on", "pk")
        )

    @extend_schema(parameters=[ForecastQuerySerializer], responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"])
    def forecast(self, request: SignedInRequest) -> Response:
        """Pipeline, committed and probability-weighted forecast per month or quarter, in the base currency."""
        query = ForecastQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = forecast.renewal_forecast(
            Renewal.objects.visible_to(request.user),
            by=query.validated_data["by"],
            today=timezone.localdate(),
            periods=query.validated_data.get("periods"),
        )
        return Response(as_json(result.as_dict()))

    @extend_schema(request=AdvanceSerializer, responses={200: RenewalSerializer})
    @action(detail=True, methods=["post"])
    def advance(self, request: SignedInRequest, pk: str) -> Response:
        """Move an open renewal to another open stage (upcoming, notified, in discussion, committed)."""
        renewal = self.get_object()
        data = parsed(AdvanceSerializer, request)
        renewal = services.advance_renewal(renewal, stage=data["stage"], by=request.user)
        return Response(RenewalSerializer(renewal).data)

    @extend_schema(request=MarkLostSerializer, responses={200: RenewalSerializer})
    @action(detail=True, methods=["post"], url_path="mark-lost")
    def mark_lost(self, request: SignedInRequest, pk: str) -> Response:
        """The customer will not renew: close with the reason and record the churn in the ledger."""
        renewal = self.get_object()
        data = parsed(MarkLostSerializer, request)
        renewal = services.mark_renewal_lost(
            renewal, reason=data["reason"], notes=data["notes"], by=request.user, today=timezone.localdate()
        )
        return Response(RenewalSerializer(renewal).data)
