"""Every write of the actions on loss-making customers: propose, and move through the states.

States: proposed -> agreed -> done, and proposed or agreed -> dropped. Who may do what:

    propose                 a rep or a manager, for a customer in their scope
    proposed -> agreed      a manager (approve)
    proposed -> dropped     a manager (reject)
    agreed -> done          a rep or a manager
    agreed -> dropped       a manager
    finance                 reads, never writes

done and dropped are final. Each change stamps its date (agreed_at, done_at, dropped_at), adds
the note to the action's notes, and writes a history record with the acting user.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.money import to_decimal
from config.roles import MANAGER, REP, user_roles
from customers.models import Customer, Period
from customers.policy import customer_scope

from . import selectors
from .models import Action

State = Action.State
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    (State.PROPOSED, State.AGREED): (MANAGER,),
    (State.PROPOSED, State.DROPPED): (MANAGER,),
    (State.AGREED, State.DONE): (REP, MANAGER),
    (State.AGREED, State.DROPPED): (MANAGER,),
}
_STAMP = {State.AGREED: "agreed_at", State.DONE: "done_at", State.DROPPED: "dropped_at"}


def _require_writer(user, message: str) -> None:
    if not user_roles(user) & {REP, MANAGER}:
        raise PermissionDenied(message)


def _require_scope(user, customer_id: int) -> None:
    if not customer_scope(user).filter(pk=customer_id).exists():
        raise PermissionDenied(_("This customer is not in your portfolio."))


def _note_line(note: str, user, label: str) -> str:
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return f"{stamp} {user.get_username()} ({label}): {note.strip()}"


def action_propose(
    *,
    customer: Customer,
    period: Period,
    action_type: str,
    parameter: Decimal | None = None,
    description: str = "",
    note: str = "",
    acting_user,
) -> Action:
    """Propose an action with its what-if computed and stored (customer profit after, company change)."""
    _require_writer(acting_user, _("Finance can read actions but not propose them."))
    _require_scope(acting_user, customer.pk)
    if action_type not in Action.Type.values:
        raise ValidationError({"type": [_("Choose one of the listed actions.")]})
    if action_type == Action.Type.OTHER and not description.strip():
        raise ValidationError({"description": [_("Describe the action: 'other' has no computed what-if.")]})
    effect = selectors.action_whatif_get(customer=customer, period=period, action_type=action_type, parameter=parameter)
    action = Action(
        customer=customer,
        period=period,
        type=action_type,
        parameter=effect.parameter if effect else None,
        description=description.strip(),
        notes=_note_line(note, acting_user, State.PROPOSED.label) if note.strip() else "",
        proposed_by=acting_user,
        whatif_customer_profit=to_decimal(effect.customer_profit_after_cents) if effect else None,
        whatif_company_profit_change=to_decimal(effect.company_profit_change_cents) if effect else None,
    )
    action.full_clean(exclude=["proposed_by", "decided_by"])
    with transaction.atomic():
        action._history_user = acting_user
        action.save()
    return action


def action_transition(*, action: Action, state: str, acting_user, note: str = "") -> Action:
    """Move an action to ``state``; ValidationError for a move the states do not allow,
    PermissionDenied for a move the user's role does not allow."""
    _require_writer(acting_user, _("Finance can read actions but not change them."))
    _require_scope(acting_user, action.customer_id)
    if state not in State.values:
        raise ValidationError({"state": [_("Unknown state '%(state)s'.") % {"state": state}]})
    with transaction.atomic():
        locked = Action.objects.select_for_update().get(pk=action.pk)
        _check_transition(locked, state, acting_user)
        now = timezone.now()
        locked.state = state
        setattr(locked, _STAMP[state], now)
        if state in (State.AGREED, State.DROPPED):
            locked.decided_by = acting_user
        if note.strip():
            line = _note_line(note, acting_user, State(state).label)
            locked.notes = f"{locked.notes}\n{line}" if locked.notes else line
        locked._history_user = acting_user
        locked.save()
    return locked


def action_undo_drop(*, action: Action, acting_user) -> Action:
    """Undo a drop: the action gets back the state, decision and notes it had before it was dropped
    (from its history). Who may drop may undo: a manager, for a customer in their scope."""
    _require_writer(acting_user, _("Finance can read actions but not change them."))
    _require_scope(acting_user, action.customer_id)
    if not user_roles(acting_user) & {MANAGER}:
        raise PermissionDenied(_("Only a manager can agree to or drop an action; ask your manager."))
    with transaction.atomic():
        locked = Action.objects.select_for_update().get(pk=action.pk)
        if locked.state != State.DROPPED:
            raise ValidationError({"state": [_("This action is not dropped: there is nothing to undo.")]})
        before = locked.history.exclude(state=State.DROPPED).order_by("-history_date", "-history_id").first()
        if before is None:
            raise ValidationError({"state": [_("This action has no state from before its drop to go back to.")]})
        locked.state = before.state
        locked.dropped_at = None
        locked.decided_by_id = before.decided_by_id
        locked.notes = before.notes
        locked._history_user = acting_user
        locked.save()
    return locked


def _check_transition(action: Action, state: str, user) -> None:
    current = State(action.state)
    if current in (State.DONE, State.DROPPED):
        raise ValidationError(
            {"state": [_("This action is already %(state)s; it cannot change any more.") % {"state": current.label}]}
        )
    allowed = TRANSITIONS.get((current, state))
    if allowed is None:
        if current == State.PROPOSED:
            message = _("A proposed action is first agreed or dropped by a manager; it cannot become %(state)s.")
        else:
            message = _("An agreed action can be marked done or dropped; it cannot become %(state)s.")
        raise ValidationError({"state": [message % {"state": State(state).label}]})
    if not user_roles(user) & set(allowed):
        if state == State.DONE:
            raise PermissionDenied(_("Only a rep or a manager can mark an action done."))
        raise PermissionDenied(_("Only a manager can agree to or drop an action; ask your manager."))


def actions_whatif_fill(*, period: Period) -> int:
    """Compute and store the what-if of the period's open actions that have none yet (seeded ones,
    e.g. the demo's, written before profit was computed), exactly as a proposal stores it.

    Actions whose what-if cannot be computed (no figures, a parameter the customer cannot take) keep
    none. Returns the number of actions filled. A system step: no user, no history user.
    """
    todo = list(
        Action.objects.filter(
            period=period, whatif_company_profit_change__isnull=True, state__in=(State.PROPOSED, State.AGREED)
        )
        .exclude(type=Action.Type.OTHER)
        .select_related("customer")
    )
    if not todo:
        return 0
    inputs = selectors.whatif_inputs(period=period)
    filled = []
    for action in todo:
        try:
            effect = selectors.action_whatif_get(
                customer=action.customer,
                period=period,
                action_type=action.type,
                parameter=action.parameter,
                inputs=inputs,
            )
        except ValidationError:
            continue
        if effect is None:
            continue
        action.parameter = effect.parameter
        action.whatif_customer_profit = to_decimal(effect.customer_profit_after_cents)
        action.whatif_company_profit_change = to_decimal(effect.company_profit_change_cents)
        filled.append(action)
    with transaction.atomic():
        Action.objects.bulk_update(filled, ["parameter", "whatif_customer_profit", "whatif_company_profit_change"])
    return len(filled)
