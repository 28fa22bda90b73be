"""REST API for accounts, contacts, touchpoints and usage snapshots (incl. bulk usage upsert)."""

from datetime import date

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from accounts import ingest
from csm import filters as csm_filters
from csm import input_guards
from csm import schema as api_schema
from csm.api import IngestThrottle, Pagination, parsed
from csm.requests import SignedInRequest

from . import services
from .models import Account, Contact, HealthScore, Touchpoint, UsageSnapshot

MAX_BULK_BYTES = 5 * 1024 * 1024
# A blank name reads as the page's form and the model say it (accounts/forms.py).
BLANK_NAME = {"blank": services.BLANK}


@extend_schema_field(OpenApiTypes.INT)
class EditableAccountField(serializers.PrimaryKeyRelatedField):
    """An account the requesting user may change; another book's account reads as not found."""

    def get_queryset(self) -> QuerySet[Account]:
        return Account.objects.editable_by(self.context["request"].user)


class AccountSerializer(serializers.ModelSerializer):
    """Renders an account; parses a new one (owner defaults to the caller) and a PATCH of its
    name, external id, segment, program or stage. Owners change through ``assign-owner``."""

    owner = input_guards.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "external_id",
            "segment",
            "owner",
            "program",
            "lifecycle_stage",
            "time_zone",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness is the service's full_clean (one rule for every door).
        extra_kwargs = {"external_id": {"validators": []}, "name": {"error_messages": BLANK_NAME}}

    def get_fields(self) -> dict:
        fields = super().get_fields()
        if self.instance is not None:
            fields["owner"].read_only = True
        return fields


class AccountChangeSerializer(AccountSerializer):
    """What PUT and PATCH read (the owner changes through ``assign-owner``): the schema's body."""

    class Meta(AccountSerializer.Meta):
        fields = [name for name in AccountSerializer.Meta.fields if name != "owner"]


class AssignOwnerSerializer(serializers.Serializer):
    owner = input_guards.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True), allow_null=True
    )


class AccountFilter(csm_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = Account
        fields = ["segment", "program", "lifecycle_stage", "external_id", "owner"]


@extend_schema_view(
    update=extend_schema(request=AccountChangeSerializer), partial_update=extend_schema(request=AccountChangeSerializer)
)
class AccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AccountSerializer
    pagination_class = Pagination
    filterset_class = AccountFilter
    search_fields = ["name", "external_id"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def get_queryset(self) -> QuerySet[Account]:
        return Account.objects.visible_to(self.request.user).select_related("owner").order_by("name", "pk")

    def create(self, request: SignedInRequest) -> Response:  # type: ignore[override]  # API requests are signed in
        data = parsed(AccountSerializer, request)
        account = services.create_account(by=request.user, **data)
        return Response(AccountSerializer(account).data, status=status.HTTP_201_CREATED)

    def update(self, request: SignedInRequest, pk: str | None = None, partial: bool = False) -> Response:  # type: ignore[override]  # API requests are signed in
        account = self.get_object()
        data = parsed(AccountSerializer, request, instance=account, partial=partial)
        account = services.update_account(account, by=request.user, **data)
        return Response(AccountSerializer(account).data)

    @extend_schema(request=AssignOwnerSerializer, responses={200: AccountSerializer})
    @action(detail=True, methods=["post"], url_path="assign-owner")
    def assign_owner(self, request: SignedInRequest, pk: str | None = None) -> Response:
        """Give the account to another success manager (managers and admins only)."""
        account = self.get_object()
        data = parsed(AssignOwnerSerializer, request)
        account = services.assign_owner(account, owner=data["owner"], by=request.user)
        return Response(AccountSerializer(account).data)


CONTACT_WRITABLE = list(services.CONTACT_FIELDS)


class ContactSerializer(serializers.ModelSerializer):
    """Renders a contact; parses its details and roles. Leaving (``left_on``, ``successor``) is
    the ``mark-left`` action, so the successor always inherits the roles."""

    account = EditableAccountField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "name",
            "email",
            "phone",
            "title",
            "is_decision_maker",
            "is_renewal",
            "is_billing",
            "is_champion",
            "is_technical",
            "is_executive_sponsor",
            "is_primary",
            "was_primary",
            "left_on",
            "successor",
            "email_opt_out",
            "created_at",
        ]
        read_only_fields = ["was_primary", "left_on", "successor", "created_at"]
        extra_kwargs = {"name": {"error_messages": BLANK_NAME}}

    def get_fields(self) -> dict:
        fields = super().get_fields()
        if self.instance is not None:
            fields["account"].read_only = True  # a contact does not move between accounts
        return fields


class ContactChangeSerializer(ContactSerializer):
    """What PUT and PATCH read (a contact does not move between accounts): the schema's body."""

    class Meta(ContactSerializer.Meta):
        fields = [name for name in ContactSerializer.Meta.fields if name != "account"]


@extend_schema_field(OpenApiTypes.INT)
class VisibleContactField(serializers.PrimaryKeyRelatedField):
    """A contact the caller sees; another book's contact reads as not found."""

    def get_queryset(self) -> QuerySet[Contact]:
        return Contact.objects.visible_to(self.context["request"].user)


class MarkLeftSerializer(serializers.Serializer):
    left_on = serializers.DateField()
    successor = VisibleContactField(required=False, allow_null=True, default=None)


@extend_schema_view(
    update=extend_schema(request=ContactChangeSerializer), partial_update=extend_schema(request=ContactChangeSerializer)
)
class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Contacts who leave are marked with ``mark-left`` (their history matters), never deleted."""

    serializer_class = ContactSerializer
    pagination_class = Pagination
    filterset_fields = ["account", "is_decision_maker", "is_renewal", "is_billing", "is_primary"]
    search_fields = ["name", "email"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self) -> QuerySet[Contact]:
        return Contact.objects.visible_to(self.request.user).order_by("account_id", "name", "pk")

    def create(self, request: SignedInRequest) -> Response:  # type: ignore[override]  # API requests are signed in
        data = parsed(ContactSerializer, request)
        contact = services.add_contact(by=request.user, today=timezone.localdate(), **data)
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)

    def update(self, request: SignedInRequest, pk: str | None = None, partial: bool = False) -> Response:  # type: ignore[override]  # API requests are signed in
        contact = self.get_object()
        data = parsed(ContactSerializer, request, instance=contact, partial=partial)
        contact = services.update_contact(contact, by=request.user, today=timezone.localdate(), **data)
        return Response(ContactSerializer(contact).data)

    @extend_schema(request=MarkLeftSerializer, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"], url_path="mark-left")
    def mark_left(self, request: SignedInRequest, pk: str | None = None) -> Response:
        """The contact left the customer; the successor, if named, inherits their roles."""
        contact = self.get_object()
        data = parsed(MarkLeftSerializer, request)
        contact = services.mark_contact_left(contact, by=request.user, today=timezone.localdate(), **data)
        return Response(ContactSerializer(contact).data)


class TouchpointSerializer(serializers.ModelSerializer):
    account = EditableAccountField()
    by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Touchpoint
        fields = ["id", "account", "contact", "kind", "outcome", "notes", "occurred_at", "by", "created_at"]
        read_only_fields = ["created_at"]


class TouchpointFilter(csm_filters.FilterSet):
    occurred_after = input_guards.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = input_guards.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Touchpoint
        fields = ["account", "kind", "outcome", "occurred_after", "occurred_before"]


class TouchpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Touchpoints are a log: they are added, never edited through the API."""

    serializer_class = TouchpointSerializer
    pagination_class = Pagination
    filterset_class = TouchpointFilter
    ordering_fields = ["occurred_at"]

    def get_queryset(self) -> QuerySet[Touchpoint]:
        return Touchpoint.objects.visible_to(self.request.user).select_related("by").order_by("-occurred_at", "pk")

    def create(self, request: SignedInRequest) -> Response:  # type: ignore[override]  # API requests are signed in
        # The same rules as the page's form (services.log_touchpoint): never in the future,
        # the contact at the account.
        data = parsed(TouchpointSerializer, request)
        touchpoint = services.log_touchpoint(by=request.user, now=timezone.now(), **data)
        return Response(TouchpointSerializer(touchpoint).data, status=status.HTTP_201_CREATED)


class UsageSnapshotSerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(source="account.external_id", read_only=True, allow_null=True)

    class Meta:
        model = UsageSnapshot
        fields = [
            "id",
            "account",
            "account_external_id",
            "date",
            "licenses_purchased",
            "licenses_active",
            "basic_users",
            "advanced_users",
            "availability_pct",
            "open_support_cases",
            "escalations",
        ]


class UsageFilter(csm_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    account_external_id = django_filters.CharFilter(field_name="account__external_id")

    class Meta:
        model = UsageSnapshot
        fields = ["account", "account_external_id", "date", "date_from", "date_to"]


class PercentField(input_guards.DecimalField):
    # The schema's number: 0 to 100 with up to two decimal places (ingest.parse_percent).
    schema_number = r"(?:100(?:\.0{1,2})?|\d{1,2}(?:\.\d{1,2})?)"
    # ingest.parse_percent also reads a JSON number from 0 to 100.
    schema_also_number = (0, 100)


COUNT_OR_ZERO = "Missing or null: 0 (the bulk service reads it so)."


class UsageRowSerializer(serializers.Serializer):
    """One row of a bulk upsert (documentation only; rows are validated set-wise by the service)."""

    account_external_id = serializers.CharField()
    date = serializers.DateField()
    licenses_purchased = serializers.IntegerField(min_value=0, max_value=ingest.MAX_COUNT)
    licenses_active = serializers.IntegerField(min_value=0, max_value=ingest.MAX_COUNT)
    basic_users = serializers.IntegerField(
        min_value=0, max_value=ingest.MAX_COUNT, required=False, allow_null=True, help_text=COUNT_OR_ZERO
    )
    advanced_users = serializers.IntegerField(
        min_value=0, max_value=ingest.MAX_COUNT, required=False, allow_null=True, help_text=COUNT_OR_ZERO
    )
    availability_pct = PercentField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    open_support_cases = serializers.IntegerField(
        min_value=0, max_value=ingest.MAX_COUNT, required=False, allow_null=True, help_text=COUNT_OR_ZERO
    )
    escalations = serializers.IntegerField(
        min_value=0, max_value=ingest.MAX_COUNT, required=False, allow_null=True, help_text=COUNT_OR_ZERO
    )


class UsageSnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = UsageSnapshotSerializer
    pagination_class = Pagination
    filterset_class = UsageFilter
    throttle_scope = "ingest"
    ordering_fields = ["date"]

    def get_queryset(self) -> QuerySet[UsageSnapshot]:
        return UsageSnapshot.objects.visible_to(self.request.user).select_related("account").order_by("-date", "pk")

    @extend_schema(
        request=inline_serializer("UsageBulk", {"rows": UsageRowSerializer(many=True)}),
        responses={
            200: inline_serializer(
                "UsageBulkResult",
                {
                    "received": serializers.IntegerField(),
                    "created": serializers.IntegerField(),
                    "updated": serializers.IntegerField(),
                },
            ),
            413: OpenApiResponse(
                api_schema.DETAIL, description=f"Over 5 MB or over {ingest.MAX_ROWS:,} rows; send smaller batches."
            ),
        },
        description=(
            f"Upsert up to {ingest.MAX_ROWS:,} daily usage snapshots keyed by account external id and date. "
            "Idempotent: replaying a batch creates nothing new. A batch with any bad row saves nothing and "
            "answers 400 with every bad row."
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk", throttle_classes=[UserRateThrottle, IngestThrottle])
    def bulk(self, request: Request) -> Response:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BULK_BYTES:
            return Response({"detail": "Request body over 5 MB; send smaller batches."}, status=413)
        rows = request.data.get("rows") if isinstance(request.data, dict) else None
        if not isinstance(rows, list):
            raise ValidationError({"rows": ['Send a JSON object with a list of rows: {"rows": [...]}.']})
        if len(rows) > ingest.MAX_ROWS:
            return Response(
                {"detail": f"At most {ingest.MAX_ROWS:,} rows per batch; this one has {len(rows):,}."},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            result = ingest.upsert_usage(rows=rows, accounts=Account.objects.editable_by(request.user))
        except ingest.RowError as exc:
            # Row numbers stay numbers (DRF's ValidationError would turn them into strings).
            return Response({"errors": exc.rows}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"received": result.received, "created": result.created, "updated": result.updated})


class HealthScoreSerializer(serializers.ModelSerializer):
    id = serializers.SerializerMethodField(
        help_text="The score's key: account id and day, as ``<account>:<YYYY-MM-DD>``."
    )
    account_external_id = serializers.CharField(source="account.external_id", read_only=True, allow_null=True)
    # Plain text, so the schema names the band choices once (BandEnum).
    previous_band = serializers.CharField(read_only=True, help_text="green, yellow, red, or empty for the first score.")

    class Meta:
        model = HealthScore
        fields = ["id", "account", "account_external_id", "day", "score", "band", "previous_score", "previous_band",
                  "score_drop", "band_worsened", "flagged", "check_overdue", "components"]  # fmt: skip
        read_only_fields = fields

    def get_id(self, score: HealthScore) -> str:
        return f"{score.account_id}:{score.day.isoformat()}"


class HealthScoreFilter(csm_filters.FilterSet):
    day_from = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    day_to = django_filters.DateFilter(field_name="day", lookup_expr="lte")
    latest = csm_filters.BooleanFilter(method="filter_latest", label="Only each account's latest score")

    class Meta:
        model = HealthScore
        fields = ["account", "band", "day", "day_from", "day_to", "flagged", "latest"]

    def filter_latest(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return queryset
        newest = HealthScore.objects.filter(account=OuterRef("account")).order_by("-day").values("day")[:1]
        return queryset.filter(day=Subquery(newest))


class HealthScoreViewSet(viewsets.ReadOnlyModelViewSet):
    """Nightly health scores with their components (read only: the nightly job writes them)."""

    serializer_class = HealthScoreSerializer
    pagination_class = Pagination
    filterset_class = HealthScoreFilter
    ordering_fields = ["day", "score"]
    # A score is keyed by (account, day): ``/api/health/<account>:<YYYY-MM-DD>/``.
    lookup_value_regex = r"[0-9]+:[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def get_queryset(self) -> QuerySet[HealthScore]:
        return HealthScore.objects.visible_to(self.request.user).select_related("account").order_by("-day", "pk")

    def get_object(self) -> HealthScore:
        account, _, day = str(self.kwargs["pk"]).partition(":")
        try:
            key = {"account_id": int(account), "day": date.fromisoformat(day)}
        except ValueError as exc:
            raise NotFound() from exc
        score = self.get_queryset().filter(**key).first()
        if score is None:
            raise NotFound()
        self.check_object_permissions(self.request, score)
        return score
