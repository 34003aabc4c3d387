"""Every write of the sales organisation: teams, reps, pairs, users, invitations, handovers, the
``organisation`` import.

Keyword-only, ``acting_user`` first checked against ``customers.policy``, one transaction each,
history rows (django-simple-history) carry the acting user; figures that change (a portfolio
handed over) publish ``CustomersChanged`` on commit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.eventbus import publish
from config.intake import ErrorList, Layout, read_chunks
from config.roles import MANAGER, REP, ROLE_LABELS, ROLES
from customers import policy
from customers.events import CustomersChanged
from customers.models import Customer, Period
from customers.services import ImportResult

from ..models import PortfolioAssignment, RepPair, SalesRep, Team

User = get_user_model()
ORGANISATION_LAYOUT = Layout(("username", "name", "email", "role"), ("rep_kind", "pair", "team"))
USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")


# --- checks -----------------------------------------------------------------------------------


def _require_organiser(acting_user) -> None:
    if acting_user is not None and not policy.may_manage_organisation(acting_user):
        raise PermissionDenied(_("Only managers and administrators set up the sales organisation."))


def _require_team(acting_user, team: Team) -> None:
    if acting_user is not None and not policy.organisation_teams(acting_user).filter(pk=team.pk).exists():
        raise PermissionDenied(_("Team %(team)s is not one of the teams you manage.") % {"team": team.name})


def _audited(obj, acting_user):
    obj._history_user = acting_user
    return obj


def _full_clean(obj, **kwargs) -> None:
    obj.full_clean(**kwargs)


# --- teams ------------------------------------------------------------------------------------


def team_create(*, name: str, acting_user, manager=None) -> Team:
    """A new team; a manager who creates it manages it (an administrator may name another manager)."""
    _require_organiser(acting_user)
    if manager is None and acting_user is not None and not acting_user.is_superuser:
        manager = acting_user
    if manager is not None and acting_user is not None and manager != acting_user:
        if not policy.may_manage_users(acting_user):
            raise PermissionDenied(_("Only an administrator makes someone else a team's manager."))
    team = Team(name=(name or "").strip(), manager=manager)
    _full_clean(team)
    with transaction.atomic():
        _audited(team, acting_user).save()
    return team


def team_update(*, team: Team, acting_user, name: str | None = None, manager=None) -> Team:
    _require_organiser(acting_user)
    _require_team(acting_user, team)
    if name is not None:
        team.name = name.strip()
    if manager is not None and manager != team.manager:
        if acting_user is not None and not policy.may_manage_users(acting_user):
            raise PermissionDenied(_("Only an administrator changes a team's manager."))
        team.manager = manager
    _full_clean(team)
    with transaction.atomic():
        _audited(team, acting_user).save()
    return team


# --- reps and pairs ---------------------------------------------------------------------------


def rep_create(*, team: Team, code: str, name: str, kind: str, acting_user, user=None) -> SalesRep:
    _require_organiser(acting_user)
    _require_team(acting_user, team)
    rep = SalesRep(team=team, code=(code or "").strip(), name=(name or "").strip(), kind=kind, user=user)
    _full_clean(rep)
    with transaction.atomic():
        _audited(rep, acting_user).save()
    return rep


def rep_update(*, rep: SalesRep, acting_user, name: str | None = None, kind: str | None = None) -> SalesRep:
    _require_organiser(acting_user)
    _require_team(acting_user, rep.team)
    if name is not None:
        rep.name = name.strip()
    if kind is not None and kind != rep.kind:
        if _active_pairs_of(rep).exists():
            raise ValidationError(
                {"kind": [_("%(rep)s is in a pair: a pair needs one outside and one inside rep.") % {"rep": rep}]}
            )
        rep.kind = kind
    _full_clean(rep)
    with transaction.atomic():
        _audited(rep, acting_user).save()
    return rep


def _active_pairs_of(rep: SalesRep):
    from django.db.models import Q

    return RepPair.objects.filter(Q(outside_rep=rep) | Q(inside_rep=rep), active=True)


def pair_rules(*, outside_rep: SalesRep, inside_rep: SalesRep, team: Team, pair: RepPair | None = None) -> dict:
    """The errors of a pair: one outside and one inside rep, both active, of the pair's team, in no other pair."""
    errors: dict[str, list[str]] = defaultdict(list)
    if outside_rep.kind != SalesRep.Kind.OUTSIDE:
        errors["outside_rep"].append(_("%(rep)s is an inside rep: choose an outside rep.") % {"rep": outside_rep})
    if inside_rep.kind != SalesRep.Kind.INSIDE:
        errors["inside_rep"].append(_("%(rep)s is an outside rep: choose an inside rep.") % {"rep": inside_rep})
    for field, rep in (("outside_rep", outside_rep), ("inside_rep", inside_rep)):
        if not rep.active:
            errors[field].append(_("%(rep)s is no longer active.") % {"rep": rep})
        if rep.team_id != team.pk:
            errors[field].append(_("%(rep)s is not in team %(team)s.") % {"rep": rep, "team": team})
        other = _active_pairs_of(rep).exclude(pk=pair.pk if pair else None).first()
        if other is not None:
            errors[field].append(
                _("%(rep)s is already in pair %(pair)s: a rep is in one pair.") % {"rep": rep, "pair": other.code}
            )
    return dict(errors)


def pair_create(
    *,
    team: Team,
    code: str,
    outside_rep: SalesRep,
    inside_rep: SalesRep,
    acting_user,
    outside_share: Decimal = Decimal("50"),
) -> RepPair:
    _require_organiser(acting_user)
    _require_team(acting_user, team)
    errors = pair_rules(outside_rep=outside_rep, inside_rep=inside_rep, team=team)
    if errors:
        raise ValidationError(errors)
    pair = RepPair(
        team=team,
        code=(code or "").strip(),
        outside_rep=outside_rep,
        inside_rep=inside_rep,
        outside_share=outside_share,
    )
    _full_clean(pair)
    with transaction.atomic():
        _audited(pair, acting_user).save()
    return pair


def pair_update(
    *,
    pair: RepPair,
    acting_user,
    outside_rep: SalesRep | None = None,
    inside_rep: SalesRep | None = None,
    outside_share: Decimal | None = None,
) -> RepPair:
    _require_organiser(acting_user)
    _require_team(acting_user, pair.team)
    outside_rep = outside_rep or pair.outside_rep
    inside_rep = inside_rep or pair.inside_rep
    errors = pair_rules(outside_rep=outside_rep, inside_rep=inside_rep, team=pair.team, pair=pair)
    if errors:
        raise ValidationError(errors)
    pair.outside_rep, pair.inside_rep = outside_rep, inside_rep
    if outside_share is not None:
        pair.outside_share = outside_share
    _full_clean(pair)
    with transaction.atomic():
        _audited(pair, acting_user).save()
        # The credit split of this pair's customers may change: their figures move.
        publish(CustomersChanged(period_ids=_open_period_ids(since=timezone.localdate())))
    return pair


def _open_period_ids(*, since: dt.date) -> tuple[int, ...]:
    """Open periods that end on or after ``since`` (a closed period's figures stay frozen)."""
    return tuple(Period.objects.filter(end__gte=since, closed=False).values_list("id", flat=True))


def rep_deactivate(*, rep: SalesRep, handover_pair: RepPair, acting_user, on: dt.date | None = None) -> int:
    """The rep leaves: the rep and every pair they are in become inactive, their login is switched off,
    and the customers of those pairs go to ``handover_pair`` from ``on`` (default today).

    Reassignment keeps history: each open assignment ends the day before ``on`` and a new one starts
    on ``on``, so results up to that day stay credited to the old pair and later ones to the new
    pair (``selectors.pair_weights``). Returns the number of customers handed over.
    """
    _require_organiser(acting_user)
    _require_team(acting_user, rep.team)
    _require_team(acting_user, handover_pair.team)
    on = on or timezone.localdate()
    if not rep.active:
        raise ValidationError({"rep": [_("%(rep)s is already inactive.") % {"rep": rep}]})
    if not handover_pair.active or handover_pair.outside_rep_id == rep.pk or handover_pair.inside_rep_id == rep.pk:
        raise ValidationError({"handover_pair": [_("Choose an active pair the leaving rep is not in.")]})
    closed = Period.objects.filter(closed=True, start__lte=on, end__gte=on - dt.timedelta(days=1)).first()
    if closed is not None:
        from customers.period_services import closed_period_message

        raise ValidationError({"on": [closed_period_message(closed.name)]})
    with transaction.atomic():
        pairs = list(_active_pairs_of(rep).select_for_update())
        customers = list(Customer.objects.filter(pair__in=pairs).select_for_update())
        moved = _hand_over(customers=customers, to_pair=handover_pair, on=on, acting_user=acting_user)
        for pair in pairs:
            pair.active = False
            _audited(pair, acting_user).save(update_fields=["active"])
        rep.active = False
        _audited(rep, acting_user).save(update_fields=["active"])
        if rep.user_id:
            user = rep.user
            user.is_active = False
            _audited(user, acting_user).save(update_fields=["is_active"])
        publish(CustomersChanged(period_ids=_open_period_ids(since=on - dt.timedelta(days=1))))
    return moved


def _hand_over(*, customers: list[Customer], to_pair: RepPair, on: dt.date, acting_user) -> int:
    ids = [c.pk for c in customers]
    open_rows = {
        a.customer_id: a for a in PortfolioAssignment.objects.select_for_update().filter(customer_id__in=ids, end=None)
    }
    for customer in customers:
        current = open_rows.get(customer.pk)
        if current is None:
            # Never recorded: the old pair owned it up to the handover (the first row covers the past).
            PortfolioAssignment.objects.create(
                customer=customer,
                pair_id=customer.pair_id,
                start=on - dt.timedelta(days=1),
                end=on - dt.timedelta(days=1),
            )
        elif current.start >= on:
            current.pair = to_pair
            _audited(current, acting_user).save(update_fields=["pair"])
            customer.pair = to_pair
            _audited(customer, acting_user).save(update_fields=["pair"])
            continue
        else:
            current.end = on - dt.timedelta(days=1)
            _audited(current, acting_user).save(update_fields=["end"])
        _audited(PortfolioAssignment(customer=customer, pair=to_pair, start=on), acting_user).save()
        customer.pair = to_pair
        _audited(customer, acting_user).save(update_fields=["pair"])
    return len(customers)


# --- users and invitations --------------------------------------------------------------------


def _site_url() -> str:
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def invitation_send(*, user, acting_user, site_url: str | None = None) -> None:
    """Email ``user`` a one-time link to set their password (console backend unless SMTP is configured)."""
    from config.accounts import password_set_url

    if not user.email:
        raise ValidationError(
            {"email": [_("%(user)s has no email address to send the invitation to.") % {"user": user}]}
        )
    link = (site_url or _site_url()).rstrip("/") + password_set_url(user)
    inviter = (acting_user.get_full_name() or acting_user.username) if acting_user is not None else "Klantwaarde"
    subject = _("You are invited to Klantwaarde")
    body = _(
        "Hello %(name)s,\n\n%(inviter)s invited you to Klantwaarde. Your username is %(username)s.\n"
        "Choose your password here (the link works once):\n\n%(link)s\n"
    ) % {"name": user.get_full_name() or user.username, "inviter": inviter, "username": user.username, "link": link}
    transaction.on_commit(lambda: send_mail(subject, body, None, [user.email]))


def _split_name(name: str) -> tuple[str, str]:
    first, _sep, last = (name or "").strip().partition(" ")
    return first[:150], last[:150]


def _check_user_fields(*, username: str, email: str, name: str) -> dict:
    errors: dict[str, list[str]] = {}
    if not USERNAME_RE.match(username or ""):
        errors["username"] = [_("Use letters, digits and . @ + - _ only (at most 150).")]
    try:
        validate_email(email or "")
    except ValidationError:
        errors["email"] = [_("Enter a valid email address.")]
    if not (name or "").strip():
        errors["name"] = [_("Enter the person's name.")]
    return errors


def user_invite(
    *,
    username: str,
    name: str,
    email: str,
    role: str,
    acting_user,
    rep: SalesRep | None = None,
    site_url: str | None = None,
):
    """Create a user with the role, without a usable password, and email them the set-password link.

    A manager invites reps of their teams (``rep`` links the new login to that rep); the manager and
    finance roles are granted by administrators only.
    """
    _require_organiser(acting_user)
    if role not in ROLES:
        raise ValidationError({"role": [_("Choose one of the roles: %(roles)s.") % {"roles": ", ".join(ROLES)}]})
    if role != REP and acting_user is not None and not policy.may_manage_users(acting_user):
        raise PermissionDenied(_("Only an administrator grants the manager or finance role."))
    if rep is not None:
        _require_team(acting_user, rep.team)
        if rep.user_id:
            raise ValidationError({"rep": [_("%(rep)s already has a login.") % {"rep": rep}]})
    errors = _check_user_fields(username=username, email=email, name=name)
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("The username %(username)s is taken.") % {"username": username}]
    if errors:
        raise ValidationError(errors)
    first, last = _split_name(name)
    with transaction.atomic():
        user = User(username=username, email=email, first_name=first, last_name=last)
        user.set_unusable_password()
        _audited(user, acting_user).save()
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        if rep is not None:
            rep.user = user
            _audited(rep, acting_user).save(update_fields=["user"])
        invitation_send(user=user, acting_user=acting_user, site_url=site_url)
    return user


def user_roles_set(*, user, roles: list[str], acting_user) -> bool:
    """Give ``user`` exactly these roles; returns whether anything changed.

    Administrators change anyone's roles; a manager changes only the rep role, of the reps of the
    teams they manage (``customers.policy.role_change_scope``, 404 outside it), and can neither grant
    nor take away manager or finance. The change is in the user's history (groups), with who did it.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValidationError({"roles": [_("Unknown role(s): %(roles)s.") % {"roles": ", ".join(sorted(unknown))}]})
    current = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    wanted = set(roles)
    if acting_user is not None:
        user = policy.user_for_role_change(acting_user, user.pk)
        beyond = (current ^ wanted) - set(policy.grantable_roles(acting_user))
        if beyond:
            raise PermissionDenied(
                _("Only an administrator grants or takes away the role(s): %(roles)s.")
                % {"roles": ", ".join(str(ROLE_LABELS[r]) for r in sorted(beyond))}
            )
    if current == wanted:
        return False
    with transaction.atomic():
        user._history_user = acting_user
        user.groups.remove(*Group.objects.filter(name__in=current - wanted))
        user.groups.add(*[Group.objects.get_or_create(name=r)[0] for r in sorted(wanted - current)])
    user.__dict__.pop("_klantwaarde_roles", None)  # config.roles caches a user's roles on the object
    return True


# --- the organisation import ------------------------------------------------------------------


@dataclass
class _Person:
    row: int
    username: str
    name: str
    email: str
    role: str
    rep_kind: str
    pair: str
    team: str


def _read_people(path, errors: ErrorList, progress) -> list[_Person]:
    people: list[_Person] = []
    for chunk in read_chunks(path, ORGANISATION_LAYOUT):
        for rec in chunk.to_dict("records"):
            people.append(
                _Person(
                    row=int(rec["_row"]),
                    username=rec["username"],
                    name=rec["name"],
                    email=rec["email"],
                    role=rec["role"].lower(),
                    rep_kind=rec["rep_kind"].lower(),
                    pair=rec["pair"],
                    team=rec["team"],
                )
            )
        if progress:
            progress(len(people))
    return people


def _validate_people(people: list[_Person], errors: ErrorList, acting_user) -> None:
    """Every rule of the file: fields, roles, duplicate usernames, pairs of one outside + one inside rep."""
    by_username: dict[str, _Person] = {}
    may_grant = acting_user is None or policy.may_manage_users(acting_user)
    managed = (
        set() if acting_user is None else set(policy.organisation_teams(acting_user).values_list("name", flat=True))
    )
    existing_teams = set(Team.objects.values_list("name", flat=True))
    for p in people:
        for field, messages in _check_user_fields(username=p.username, email=p.email, name=p.name).items():
            errors.add(p.row, field, getattr(p, field), " ".join(messages))
        key = p.username.lower()
        if key in by_username:
            first = by_username[key]
            if p.role == REP and first.role == REP and p.pair != first.pair:
                reason = _("a rep in two pairs (%(a)s on row %(row)s and %(b)s): one row per person, one pair per rep")
                errors.add(p.row, "pair", p.pair, reason % {"a": first.pair, "row": first.row, "b": p.pair})
            else:
                reason = _("duplicate username: it is already on row %(row)s (one row per person)")
                errors.add(p.row, "username", p.username, reason % {"row": first.row})
            continue
        by_username[key] = p
        if p.role not in ROLES:
            errors.add(p.row, "role", p.role, _("unknown role; use rep, manager or finance"))
            continue
        if p.role != REP and not may_grant:
            errors.add(p.row, "role", p.role, _("only an administrator imports managers and finance"))
        if p.role == REP:
            if p.rep_kind not in SalesRep.Kind.values:
                errors.add(p.row, "rep_kind", p.rep_kind, _("a rep is outside or inside"))
            if not p.pair:
                errors.add(p.row, "pair", "", _("a rep row names their pair (its code)"))
            if not p.team:
                errors.add(p.row, "team", "", _("a rep row names their team"))
        elif p.role == MANAGER:
            if not p.team:
                errors.add(p.row, "team", "", _("a manager row names the team they manage"))
            for field in ("rep_kind", "pair"):
                if getattr(p, field):
                    errors.add(p.row, field, getattr(p, field), _("only rep rows have a %(field)s") % {"field": field})
        else:
            for field in ("rep_kind", "pair", "team"):
                if getattr(p, field):
                    errors.add(p.row, field, getattr(p, field), _("only rep rows have a %(field)s") % {"field": field})
        if p.team and len(p.team) > 100:
            errors.add(p.row, "team", p.team, _("at most 100 characters"))
        if p.pair and len(p.pair) > 50:
            errors.add(p.row, "pair", p.pair, _("at most 50 characters"))
        if acting_user is not None and p.team and p.team in existing_teams and p.team not in managed:
            errors.add(p.row, "team", p.team, _("not one of the teams you manage"))
    _validate_pairs([p for p in by_username.values() if p.role == REP], errors)
    _validate_existing(list(by_username.values()), errors, acting_user)


def _rep_usernames(rep: SalesRep) -> set[str]:
    """The file usernames that name this stored rep (``_rep_upsert`` finds a rep by its login or its code)."""
    names = {rep.code.lower()}
    if rep.user_id:
        names.add(rep.user.username.lower())
    return names


def _merged_pairs(reps: list[_Person]) -> dict[str, dict[str, list[tuple[str, SalesRep | _Person]]]]:
    """Each pair the file names, as it will be after the import: ``{code: {kind: [(source, member)]}}``.

    The file's rows of a pair take their kind's place; a place the file leaves empty keeps the stored
    pair's rep of that kind (active pair, active rep) unless the file names that rep elsewhere (another
    pair or another kind). So one row adds or replaces one rep of a stored pair, and the rule of one
    outside and one inside rep is checked on the merged pair, never on the file alone.
    """
    named: dict[str, dict[str, list[tuple[str, SalesRep | _Person]]]] = defaultdict(
        lambda: {SalesRep.Kind.OUTSIDE: [], SalesRep.Kind.INSIDE: [], "other": []}
    )
    in_file = {p.username.lower(): p for p in reps}
    for p in reps:
        if p.pair:
            slot = p.rep_kind if p.rep_kind in SalesRep.Kind.values else "other"
            named[p.pair][slot].append(("file", p))
    stored = RepPair.objects.filter(code__in=list(named), active=True).select_related(
        "outside_rep__user", "inside_rep__user"
    )
    for pair in stored:
        for kind, rep in ((SalesRep.Kind.OUTSIDE, pair.outside_rep), (SalesRep.Kind.INSIDE, pair.inside_rep)):
            members = named[pair.code]
            if members[kind] or not rep.active:
                continue  # the file fills this place (replacing the stored rep), or it is empty
            if any(name in in_file for name in _rep_usernames(rep)):
                continue  # the file moves this rep (another pair or kind): its place is free
            members[kind].append(("stored", rep))
    return named


def _member_text(source: str, member) -> str:
    if source == "file":
        return f"{member.username} ({member.rep_kind or '?'})"
    return _("%(rep)s (%(kind)s, already in the pair)") % {"rep": member.code, "kind": member.kind}


def _validate_pairs(reps: list[_Person], errors: ErrorList) -> None:
    merged = _merged_pairs(reps)
    pairs: dict[str, list[_Person]] = defaultdict(list)
    for p in reps:
        if p.pair:
            pairs[p.pair].append(p)
    existing = {pair.code: pair for pair in RepPair.objects.filter(code__in=list(pairs)).select_related("team")}
    for code, members in pairs.items():
        slots = merged[code]
        if len(slots[SalesRep.Kind.OUTSIDE]) != 1 or len(slots[SalesRep.Kind.INSIDE]) != 1 or slots["other"]:
            names = ", ".join(_member_text(s, m) for kind in slots.values() for s, m in kind)
            reason = _(
                "pair %(pair)s needs exactly one outside and one inside rep (the file's rows and the reps "
                "already in the pair); it would have: %(names)s"
            ) % {"pair": code, "names": names}
            for p in members:
                errors.add(p.row, "pair", code, reason)
        teams = {p.team for p in members}
        if len(teams) > 1:
            for p in members:
                errors.add(p.row, "team", p.team, _("both reps of pair %(pair)s are in one team") % {"pair": code})
        pair = existing.get(code)
        if pair is not None and teams and pair.team.name not in teams:
            for p in members:
                errors.add(
                    p.row,
                    "team",
                    p.team,
                    _("pair %(pair)s is in team %(team)s") % {"pair": code, "team": pair.team.name},
                )


def _validate_existing(people: list[_Person], errors: ErrorList, acting_user) -> None:
    """Rows that update existing users and reps: a rep already in another (active) pair, users out of scope."""
    users = {u.username.lower(): u for u in User.objects.filter(username__in=[p.username for p in people])}
    reps = {r.code.lower(): r for r in SalesRep.objects.filter(code__in=[p.username for p in people])}
    in_file_pairs = {p.pair for p in people if p.role == REP}
    for p in people:
        user = users.get(p.username.lower())
        if user is not None and acting_user is not None and not policy.may_manage_users(acting_user):
            if not policy.user_scope(acting_user).filter(pk=user.pk).exists():
                errors.add(p.row, "username", p.username, _("this user is outside your teams"))
        rep = reps.get(p.username.lower())
        if rep is None or p.role != REP:
            continue
        for pair in _active_pairs_of(rep):
            if pair.code != p.pair and pair.code not in in_file_pairs:
                reason = _(
                    "a rep in two pairs: %(rep)s is in pair %(old)s; list pair %(old)s in the file too, or deactivate"
                )
                errors.add(p.row, "pair", p.pair, reason % {"rep": p.username, "old": pair.code})


def organisation_import(*, path: str | Path, acting_user=None, progress: Callable[[int], None] | None = None):
    """Upsert people by username; teams and pairs are created or updated. All or nothing."""
    if acting_user is not None:
        policy.import_scope(acting_user, "organisation")  # PermissionDenied for a role that may not
    errors = ErrorList()
    people = _read_people(path, errors, progress)
    _validate_people(people, errors, acting_user)
    errors.raise_if_any()
    result = ImportResult(kind="organisation", rows=len(people))
    new_users = []
    with transaction.atomic():
        groups = {r: Group.objects.get_or_create(name=r)[0] for r in ROLES}
        teams = {t.name: t for t in Team.objects.all()}
        managers = [p for p in people if p.role == MANAGER]
        users, status = {}, {}
        for p in people:
            user, status[p.username] = _user_upsert(p, groups, acting_user)
            users[p.username] = user
            if status[p.username] == "created":
                new_users.append(user)
        for p in [*managers, *[p for p in people if p.role == REP]]:
            if p.team not in teams:
                team = Team(name=p.team, manager=None)
                if acting_user is not None and not acting_user.is_superuser:
                    team.manager = acting_user
                teams[p.team] = _audited(team, acting_user)
                team.save()
        for p in managers:
            team = teams[p.team]
            if team.manager_id != users[p.username].pk:
                team.manager = users[p.username]
                _audited(team, acting_user).save()
        reps = {}
        for p in people:
            if p.role == REP:
                reps[p.username], changed = _rep_upsert(p, users[p.username], teams[p.team], acting_user)
                if changed and status[p.username] == "unchanged":
                    status[p.username] = "updated"
        _pairs_upsert([p for p in people if p.role == REP], reps, teams, acting_user)
        result.created = sum(1 for v in status.values() if v == "created")
        result.updated = sum(1 for v in status.values() if v == "updated")
        result.unchanged = sum(1 for v in status.values() if v == "unchanged")
        for user in new_users:
            if user.email:
                invitation_send(user=user, acting_user=acting_user)
    return result


def _user_upsert(p: _Person, groups: dict, acting_user):
    first, last = _split_name(p.name)
    user = User.objects.filter(username__iexact=p.username).first()
    created = user is None
    if created:
        user = User(username=p.username)
        user.set_unusable_password()
    changed = (user.email, user.first_name, user.last_name) != (p.email, first, last)
    user.email, user.first_name, user.last_name = p.email, first, last
    if created or changed:
        _audited(user, acting_user).save()
    current = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    if current != {p.role}:
        changed = True
        user._history_user = acting_user
        user.groups.remove(*[groups[r] for r in current - {p.role}])
        user.groups.add(groups[p.role])
    return user, "created" if created else ("updated" if changed else "unchanged")


def _rep_upsert(p: _Person, user, team: Team, acting_user) -> SalesRep:
    rep = SalesRep.objects.filter(user=user).first() or SalesRep.objects.filter(code=p.username).first()
    rep = rep or SalesRep(code=p.username)
    values = {"name": p.name.strip(), "kind": p.rep_kind, "team": team, "user": user, "active": True}
    changed = rep.pk is None or any(getattr(rep, k) != v for k, v in values.items())
    if changed:
        for key, value in values.items():
            setattr(rep, key, value)
        _audited(rep, acting_user).save()
    return rep, changed


def _pairs_upsert(reps_rows: list[_Person], reps: dict, teams: dict, acting_user) -> None:
    """Create or update the file's pairs; a place the file leaves empty keeps the stored rep (``_merged_pairs``)."""
    by_pair: dict[str, dict] = defaultdict(dict)
    for p in reps_rows:
        by_pair[p.pair][p.rep_kind] = reps[p.username]
        by_pair[p.pair]["team"] = teams[p.team]
    for code, members in by_pair.items():
        pair = RepPair.objects.filter(code=code).first() or RepPair(code=code)
        values = {
            "team": members["team"],
            "outside_rep": members.get(SalesRep.Kind.OUTSIDE) or pair.outside_rep,
            "inside_rep": members.get(SalesRep.Kind.INSIDE) or pair.inside_rep,
            "active": True,
        }
        if pair.pk is None or any(getattr(pair, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(pair, key, value)
            _audited(pair, acting_user).save()
