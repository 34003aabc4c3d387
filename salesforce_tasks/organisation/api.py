"""API of the sales organisation: teams, reps, pairs, invitations and the periods' life.

Reads are scoped by ``customers.policy`` (finance reads everything; a manager their teams; a rep
their own team and pair); writes go through ``organisation.services`` and ``organisation.periods``
and look their object up with the policy's ``*_for_update`` (404 outside the writer's scope).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.roles import FINANCE, MANAGER, REP, ROLES, RolePermission
from customers import policy
from customers.models import Period

from ..models import RepPair, SalesRep, Team
from . import periods, services


class _OrganisationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)
    write_roles = (MANAGER,)
    ordering = ["id"]
    lookup_value_regex = r"\d+"  # a non-numeric id is a 404 by the URL, never a ValueError in a lookup

    def _write_response(self, obj, created: bool):
        data = self.get_serializer(obj).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# --- teams ------------------------------------------------------------------------------------


class TeamSerializer(serializers.ModelSerializer):
    manager = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        help_text="Username of the team's manager (administrators only; a manager creating a team manages it).",
    )

    class Meta:
        model = Team
        fields = ["id", "name", "manager"]
        read_only_fields = ["id"]


class TeamViewSet(_OrganisationViewSet, mixins.CreateModelMixin, mixins.UpdateModelMixin):
    serializer_class = TeamSerializer
    queryset = Team.objects.none()
    ordering_fields = ["id", "name"]

    def get_queryset(self):
        return policy.teams_for_user(self.request.user).select_related("manager")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        team = services.team_create(name=data["name"], manager=data.get("manager"), acting_user=request.user)
        return self._write_response(team, True)

    def update(self, request, *args, **kwargs):
        team = policy.team_for_update(request.user, kwargs["pk"])
        serializer = self.get_serializer(team, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        team = services.team_update(
            team=team, name=data.get("name"), manager=data.get("manager"), acting_user=request.user
        )
        return self._write_response(team, False)


# --- reps -------------------------------------------------------------------------------------


class RepSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="name", queryset=Team.objects.all(), help_text="Team name.")
    username = serializers.CharField(source="user.username", read_only=True, allow_null=True)

    class Meta:
        model = SalesRep
        fields = ["id", "code", "name", "kind", "team", "active", "username"]
        read_only_fields = ["id", "active", "username"]


class RepDeactivateSerializer(serializers.Serializer):
    handover_pair = serializers.SlugRelatedField(
        slug_field="code", queryset=RepPair.objects.all(), help_text="Code of the pair that takes the portfolio."
    )
    on = serializers.DateField(required=False, help_text="First day of the new owner (default today).")


class RepViewSet(_OrganisationViewSet, mixins.CreateModelMixin, mixins.UpdateModelMixin):
    serializer_class = RepSerializer
    queryset = SalesRep.objects.none()
    ordering_fields = ["id", "code", "name"]

    def get_queryset(self):
        return policy.reps_for_user(self.request.user).select_related("team", "user")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        team = policy.team_for_update(request.user, d["team"].pk)
        rep = services.rep_create(team=team, code=d["code"], name=d["name"], kind=d["kind"], acting_user=request.user)
        return self._write_response(rep, True)

    def update(self, request, *args, **kwargs):
        rep = policy.rep_for_update(request.user, kwargs["pk"])
        serializer = self.get_serializer(rep, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        if "team" in d and d["team"] != rep.team:
            raise serializers.ValidationError({"team": ["A rep's team cannot change; deactivate and create anew."]})
        if "code" in d and d["code"] != rep.code:
            raise serializers.ValidationError({"code": ["A rep's code cannot change."]})
        rep = services.rep_update(rep=rep, name=d.get("name"), kind=d.get("kind"), acting_user=request.user)
        return self._write_response(rep, False)

    @extend_schema(
        request=RepDeactivateSerializer,
        responses={200: inline_serializer("RepDeactivated", {"customers_handed_over": serializers.IntegerField()})},
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """The rep leaves: their pairs' customers go to ``handover_pair`` from ``on`` (history kept)."""
        rep = policy.rep_for_update(request.user, pk)
        serializer = RepDeactivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = policy.pair_for_update(request.user, serializer.validated_data["handover_pair"].pk)
        moved = services.rep_deactivate(
            rep=rep, handover_pair=pair, on=serializer.validated_data.get("on"), acting_user=request.user
        )
        return Response({"customers_handed_over": moved})


# --- pairs ------------------------------------------------------------------------------------


class PairSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="name", queryset=Team.objects.all(), help_text="Team name.")
    outside_rep = serializers.SlugRelatedField(slug_field="code", queryset=SalesRep.objects.all())
    inside_rep = serializers.SlugRelatedField(slug_field="code", queryset=SalesRep.objects.all())
    outside_share = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), required=False
    )

    class Meta:
        model = RepPair
        fields = ["id", "code", "team", "outside_rep", "inside_rep", "outside_share", "active"]
        read_only_fields = ["id", "active"]


class PairViewSet(_OrganisationViewSet, mixins.CreateModelMixin, mixins.UpdateModelMixin):
    serializer_class = PairSerializer
    queryset = RepPair.objects.none()
    ordering_fields = ["id", "code"]

    def get_queryset(self):
        return policy.pairs_for_user(self.request.user).select_related("team", "outside_rep", "inside_rep")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        team = policy.team_for_update(request.user, d["team"].pk)
        pair = services.pair_create(
            team=team,
            code=d["code"],
            outside_rep=d["outside_rep"],
            inside_rep=d["inside_rep"],
            outside_share=d.get("outside_share", Decimal("50")),
            acting_user=request.user,
        )
        return self._write_response(pair, True)

    def update(self, request, *args, **kwargs):
        pair = policy.pair_for_update(request.user, kwargs["pk"])
        serializer = self.get_serializer(pair, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        for field in ("team", "code"):
            if field in d and d[field] != getattr(pair, field):
                raise serializers.ValidationError({field: ["A pair's team and code cannot change."]})
        pair = services.pair_update(
            pair=pair,
            outside_rep=d.get("outside_rep"),
            inside_rep=d.get("inside_rep"),
            outside_share=d.get("outside_share"),
            acting_user=request.user,
        )
        return self._write_response(pair, False)


# --- users: invitations -----------------------------------------------------------------------


class InvitationSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    name = serializers.CharField(max_length=300)
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=list(ROLES))
    rep = serializers.SlugRelatedField(
        slug_field="code", queryset=SalesRep.objects.all(), required=False, help_text="Link the login to this rep."
    )


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")
    email = serializers.EmailField()
    is_active = serializers.BooleanField()
    roles = serializers.SerializerMethodField()

    def get_roles(self, user) -> list[str]:
        return sorted(g.name for g in user.groups.all() if g.name in ROLES)


class UserRolesSerializer(serializers.Serializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=list(ROLES)),
        allow_empty=True,
        help_text="The user's roles, all of them (a manager changes only the rep role of their teams' reps).",
    )


class UserViewSet(_OrganisationViewSet, mixins.CreateModelMixin, mixins.UpdateModelMixin):
    """Users and their roles in the caller's scope; POST invites a new user by email; PUT/PATCH sets a
    user's roles (administrators any role; a manager the rep role of the reps of their teams)."""

    serializer_class = UserSerializer
    queryset = get_user_model().objects.none()
    read_roles = (MANAGER,)
    ordering_fields = ["id", "username"]

    def get_queryset(self):
        return policy.user_scope(self.request.user).prefetch_related("groups").order_by("id")

    def get_serializer_class(self):
        if self.action == "create":
            return InvitationSerializer
        if self.action in ("update", "partial_update"):
            return UserRolesSerializer
        return UserSerializer

    @extend_schema(request=UserRolesSerializer, responses={200: UserSerializer})
    def update(self, request, *args, **kwargs):
        user = policy.user_for_role_change(request.user, kwargs["pk"])  # 404 before the body is read
        serializer = UserRolesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_roles_set(user=user, roles=serializer.validated_data["roles"], acting_user=request.user)
        return Response(UserSerializer(get_user_model().objects.prefetch_related("groups").get(pk=user.pk)).data)

    @extend_schema(request=UserRolesSerializer, responses={200: UserSerializer})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(request=InvitationSerializer, responses={201: UserSerializer})
    def create(self, request, *args, **kwargs):
        serializer = InvitationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        rep = policy.rep_for_update(request.user, d["rep"].pk) if d.get("rep") else None
        user = services.user_invite(
            username=d["username"],
            name=d["name"],
            email=d["email"],
            role=d["role"],
            rep=rep,
            acting_user=request.user,
            site_url=request.build_absolute_uri("/"),
        )
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


# --- periods ----------------------------------------------------------------------------------


class YearSerializer(serializers.ModelSerializer):
    class Meta:
        model = Period
        fields = ["name", "start", "end", "closed"]
        read_only_fields = ["start", "end", "closed"]


class YearOpenSerializer(serializers.Serializer):
    name = serializers.IntegerField(min_value=1900, max_value=2999, help_text="The year the period starts in.")
    copy_pools_from = serializers.IntegerField(required=False, help_text="Copy cost pools and interest from this.")
    roll_targets_growth = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, help_text="Roll last period's targets, grown by this %."
    )


class YearViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Periods and their state; finance opens one ahead, closes and reopens."""

    permission_classes = [RolePermission]
    read_roles = (MANAGER, FINANCE)
    write_roles = (FINANCE,)
    serializer_class = YearSerializer
    queryset = Period.objects.order_by("name")
    lookup_field = "name"
    lookup_value_regex = r"\d+"
    ordering = ["name"]
    ordering_fields = ["name"]

    @extend_schema(request=YearOpenSerializer, responses={201: YearSerializer})
    def create(self, request, *args, **kwargs):
        serializer = YearOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        opened = periods.year_open(
            name=d["name"],
            copy_pools_from=d.get("copy_pools_from"),
            roll_targets_growth=d.get("roll_targets_growth"),
            acting_user=request.user,
        )
        return Response(YearSerializer(opened.period).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: YearSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, name=None):
        return Response(YearSerializer(periods.year_close(name=self.get_object().name, acting_user=request.user)).data)

    @extend_schema(request=None, responses={200: YearSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, name=None):
        return Response(YearSerializer(periods.year_reopen(name=self.get_object().name, acting_user=request.user)).data)
