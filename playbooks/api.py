"""Handoffs from a CRM (POST /api/handoffs/, idempotent by deal id) and the task list."""

from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Account, Program
from csm import input_guards
from csm.api import parsed
from csm.requests import SignedInRequest

from . import services
from .models import Handoff, Task


class OutcomeSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    metric = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    target = input_guards.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, default=None)
    due_on = serializers.DateField(required=False, allow_null=True, default=None)


class StakeholderSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(services.CONTACT_ROLES)), required=False, default=list
    )


class ContractInSerializer(serializers.Serializer):
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    recurring_amount = input_guards.DecimalField(max_digits=14, decimal_places=2, min_value=0)


class HandoffInSerializer(serializers.Serializer):
    deal_id = serializers.CharField(max_length=100)
    account_name = serializers.CharField(max_length=200)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    program = input_guards.SlugRelatedField(
        slug_field="name", queryset=Program.objects.filter(is_active=True), required=False, allow_null=True
    )
    csm = input_guards.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    segment = serializers.ChoiceField(choices=Account.Segment.choices, required=False, allow_blank=True, default="")
    contract = ContractInSerializer(required=False, allow_null=True)
    what_sold = serializers.CharField()
    outcomes = OutcomeSerializer(many=True, required=False, default=list)
    stakeholders = StakeholderSerializer(many=True, required=False, default=list)
    expectations = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the users the caller may assign exist for this field: another book's CSM reads
        # as an unknown user name, the same answer as a name nobody has.
        request = self.context.get("request")
        if request is not None:
            self.fields["csm"].queryset = services.assignable_csms(request.user)  # type: ignore[attr-defined]  # a SlugRelatedField


class HandoffSerializer(serializers.ModelSerializer):
    class Meta:
        model = Handoff
        fields = (
            "id", "deal_id", "account", "contract", "what_sold", "outcomes", "stakeholders", "expectations",
            "created_at", "updated_at",
        )  # fmt: skip


class HandoffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = HandoffSerializer

    def get_queryset(self) -> QuerySet:
        return Handoff.objects.visible_to(self.request.user).order_by("-created_at")

    @extend_schema(
        request=HandoffInSerializer,
        responses={
            201: HandoffSerializer,
            200: OpenApiResponse(HandoffSerializer, description="A replay: the deal id was handed off before."),
        },
    )
    def create(self, request: Request) -> Response:
        data = dict(parsed(HandoffInSerializer, request))
        if input_guards.contains_nul(request.data):
            # The request is kept as received (jsonb), which cannot hold a NUL.
            raise serializers.ValidationError({"payload": [input_guards.NUL_MESSAGE]})
        contract = data.pop("contract", None) or {}
        handoff, created = services.record_handoff(
            **data,
            contract_starts_on=contract.get("starts_on"),
            contract_ends_on=contract.get("ends_on"),
            recurring_amount=contract.get("recurring_amount"),
            payload=request.data if isinstance(request.data, dict) else {},
            by=request.user,
            today=timezone.localdate(),
        )
        return Response(
            HandoffSerializer(handoff).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class TaskSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", default=None, read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = (
            "id", "account", "assignee", "title", "description", "reason", "due_on", "status", "snoozed_until",
            "source", "rule", "rule_name", "created_at", "completed_at",
        )  # fmt: skip
        read_only_fields = fields


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateField()


class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    """Tasks on visible accounts; ``?mine=1`` for the caller's, ``?open=1`` for open ones."""

    serializer_class = TaskSerializer
    filterset_fields = ("account", "assignee", "status", "rule")
    ordering_fields = ("due_on", "created_at")

    def get_queryset(self) -> QuerySet:
        tasks = Task.objects.visible_to(self.request.user).select_related("rule").order_by("due_on", "pk")
        if self.request.query_params.get("mine"):
            tasks = tasks.filter(assignee=self.request.user)
        if self.request.query_params.get("open"):
            tasks = tasks.open()
        return tasks

    @extend_schema(request=None, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    def done(self, request: SignedInRequest, pk: str | None = None) -> Response:
        task = services.complete_task(self.get_object(), by=request.user, now=timezone.now())
        return Response(TaskSerializer(task).data)

    @extend_schema(request=SnoozeSerializer, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    def snooze(self, request: SignedInRequest, pk: str | None = None) -> Response:
        task = self.get_object()
        data = parsed(SnoozeSerializer, request)
        task = services.snooze_task(task, until=data["until"], today=timezone.localdate(), by=request.user)
        return Response(TaskSerializer(task).data)
