"""REST API for contracts and renewals (read; operations arrive as @actions on renewals services)."""

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from csm.api import Pagination, router

from .models import Contract, Renewal


class ContractSerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(source="account.external_id", read_only=True)

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


class ContractFilter(django_filters.FilterSet):
    ends_after = django_filters.DateFilter(field_name="ends_on", lookup_expr="gte")
    ends_before = django_filters.DateFilter(field_name="ends_on", lookup_expr="lte")

    class Meta:
        model = Contract
        fields = ["account", "status", "program", "auto_renew", "ends_after", "ends_before"]


class ContractViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ContractSerializer
    pagination_class = Pagination
    filterset_class = ContractFilter
    ordering_fields = ["ends_on", "starts_on", "recurring_amount"]

    def get_queryset(self) -> QuerySet[Contract]:
        return Contract.objects.visible_to(self.request.user).select_related("account").order_by("ends_on", "pk")


class RenewalSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="contract.account_id", read_only=True)
    ends_on = serializers.DateField(source="contract.ends_on", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reason = serializers.SlugRelatedField(slug_field="code", read_only=True)

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


class RenewalFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__username")
    account = django_filters.NumberFilter(field_name="contract__account")
    ends_after = django_filters.DateFilter(field_name="contract__ends_on", lookup_expr="gte")
    ends_before = django_filters.DateFilter(field_name="contract__ends_on", lookup_expr="lte")

    class Meta:
        model = Renewal
        fields = ["stage", "owner", "account", "ends_after", "ends_before"]


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


router.register("contracts", ContractViewSet, basename="contract")
router.register("renewals", RenewalViewSet, basename="renewal")
