"""``GET /api/metrics/``: the metrics page's figures as JSON, under the same visibility rules."""

from decimal import Decimal

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Account

from . import report as metrics


class MetricsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=metrics.PERIOD_KINDS, default="quarter")
    on = serializers.DateField(required=False, help_text="A day inside the period; default today.")
    csm = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Owner (success manager) user id."
    )
    segment = serializers.ChoiceField(choices=Account.Segment.choices, required=False)
    program = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    trend = serializers.IntegerField(required=False, min_value=1, max_value=24, default=6)


class MetricsViewSet(viewsets.ViewSet):
    """Recurring-revenue figures, the eight success metrics, loss reasons and the trend, with formulas."""

    @extend_schema(
        parameters=[MetricsQuerySerializer],
        responses={200: OpenApiTypes.OBJECT},
    )
    def list(self, request: Request) -> Response:
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        accounts = metrics.scoped_accounts(
            request.user, csm=data.get("csm"), segment=data.get("segment"), program=data.get("program")
        )
        report = metrics.build_report(
            accounts, kind=data["period"], on=data.get("on") or timezone.localdate(), trend_periods=data["trend"]
        )
        return Response(as_json(report.as_dict()))


def as_json(value: object) -> object:
    """Money and rates as exact decimal strings ("120.00", "120.0"), never floats."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
