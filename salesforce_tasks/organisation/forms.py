"""Forms of the organisation pages: they parse input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from config.roles import MANAGER, ROLE_LABELS, ROLES

from ..models import RepPair, SalesRep


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)


class RepForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=50, help_text=_("Short and unique, e.g. the username."))
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=SalesRep.Kind.choices)


class PairForm(forms.Form):
    code = forms.CharField(label=_("Pair code"), max_length=50)
    outside_rep = forms.ModelChoiceField(label=_("Outside rep"), queryset=SalesRep.objects.none())
    inside_rep = forms.ModelChoiceField(label=_("Inside rep"), queryset=SalesRep.objects.none())

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        reps = SalesRep.objects.filter(team=team, active=True)
        self.fields["outside_rep"].queryset = reps.filter(kind=SalesRep.Kind.OUTSIDE)
        self.fields["inside_rep"].queryset = reps.filter(kind=SalesRep.Kind.INSIDE)


class InviteForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"))


class UserInviteForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    name = forms.CharField(label=_("Name"), max_length=300)
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=[(r, ROLE_LABELS[r]) for r in ROLES])


class UserRolesForm(forms.Form):
    """The roles of one user; only the roles the editor may grant are offered (``policy.grantable_roles``)."""

    roles = forms.MultipleChoiceField(label=_("Roles"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, grantable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(r, ROLE_LABELS[r]) for r in grantable]


class TeamManagerForm(forms.Form):
    """Administrators: who manages a team (a user with the manager role)."""

    manager = forms.ModelChoiceField(label=_("Manager"), queryset=None)

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = (
            get_user_model().objects.filter(groups__name=MANAGER, is_active=True).order_by("username").distinct()
        )
        self.fields["manager"].label_from_instance = lambda u: f"{u.get_full_name() or u.username} ({u.username})"


class DeactivateForm(forms.Form):
    handover_pair = forms.ModelChoiceField(label=_("Hand the portfolio to"), queryset=RepPair.objects.none())
    on = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, pairs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handover_pair"].queryset = pairs if pairs is not None else RepPair.objects.none()


class YearOpenForm(forms.Form):
    name = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2999)
    copy_pools_from = forms.TypedChoiceField(
        label=_("Copy cost pools and interest from"), required=False, coerce=int, empty_value=None, choices=()
    )
    roll_targets_growth = forms.DecimalField(
        label=_("Roll last year's customer targets, growth %"), required=False, max_digits=7, decimal_places=2
    )

    def __init__(self, *args, period_names=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["copy_pools_from"].choices = [("", _("— none —"))] + [(n, n) for n in period_names]


class HistoryFilterForm(forms.Form):
    user = forms.CharField(label=_("User"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=())
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("all"))] + list(kinds)
