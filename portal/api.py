"""REST API for customer-page links: list, create and revoke, each change through the portal service."""

from django.contrib.auth.models import User
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Account, Contact
from csm import filters as csm_filters
from csm.api import Pagination, parsed
from csm.requests import SignedInRequest

from . import services
from .models import CustomerLink


class CustomerLinkSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    revoked_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    url = serializers.SerializerMethodField(help_text="The customer page; empty once the link is revoked.")
    view_count = serializers.IntegerField(read_only=True, help_text="How often the page or its PDF was opened.")
    last_viewed_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = CustomerLink
        fields = ["id", "account", "contact", "url", "created_by", "created_at", "expires_at", "revoked_at",
                  "revoked_by", "view_count", "last_viewed_at"]  # fmt: skip
        read_only_fields = fields

    def get_url(self, link: CustomerLink) -> str:
        return "" if link.revoked_at else services.url_for(link)


@extend_schema_field(OpenApiTypes.INT)
class EditableContactField(serializers.PrimaryKeyRelatedField):
    """A contact of an account the caller may change; another book's contact reads as not found."""

    def get_queryset(self) -> QuerySet[Contact]:
        return Contact.objects.filter(account__in=Account.objects.editable_by(self.context["request"].user))


class CustomerLinkCreateSerializer(serializers.Serializer):
    contact = EditableContactField()
    days = serializers.IntegerField(
        min_value=1, max_value=services.MAX_DAYS, required=False, default=services.DEFAULT_DAYS
    )


class CustomerLinkFilter(csm_filters.FilterSet):
    account = csm_filters.IdFilter(field_name="account")
    contact = csm_filters.IdFilter(field_name="contact")

    class Meta:
        model = CustomerLink
        fields = ["account", "contact"]


class CustomerLinkViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Links to the customer page, one per contact and creation; a revoked link opens nothing."""

    serializer_class = CustomerLinkSerializer
    pagination_class = Pagination
    filterset_class = CustomerLinkFilter
    ordering_fields = ["created_at", "expires_at"]

    def get_queryset(self) -> QuerySet[CustomerLink]:
        return (
            CustomerLink.objects.visible_to(self.request.user)  # type: ignore[return-value]  # an annotated queryset
            .select_related("created_by", "revoked_by")
            .annotate(view_count=Count("views"), last_viewed_at=Max("views__viewed_at"))
            .order_by("-created_at", "-pk")
        )

    def _fresh(self, link: CustomerLink) -> dict:
        return CustomerLinkSerializer(self.get_queryset().get(pk=link.pk)).data

    @extend_schema(request=CustomerLinkCreateSerializer, responses={201: CustomerLinkSerializer})
    def create(self, request: SignedInRequest) -> Response:  # type: ignore[override]  # API requests are signed in
        data = parsed(CustomerLinkCreateSerializer, request)
        link = services.create_link(by=request.user, now=timezone.now(), **data)
        return Response(self._fresh(link), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: CustomerLinkSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: SignedInRequest, pk: str) -> Response:
        """Withdraw the link: it opens nothing from now on (revoking twice changes nothing)."""
        link = services.revoke_link(link=self.get_object(), by=request.user, now=timezone.now())
        return Response(self._fresh(link))
