"""Pages every app shares that need the core: the home page per role, the recompute progress
fragment, and the period a page shows (``?period=``).

They live here, not in ``config``, because they read the core's periods and computations and
``config`` imports no domain app (README, Architecture).
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.roles import FINANCE, MANAGER, REP, user_roles

from .selectors import computation_status, period_get


def chosen_period(request):
    """The ``?period=`` of the request, the latest period without one; 404 for an unknown name."""
    name = request.GET.get("period") or request.POST.get("period")
    period = period_get(name=name)
    if period is None and name not in (None, ""):
        raise Http404(_("Unknown period %(name)s.") % {"name": name})
    return period


@login_required
@require_GET
def home(request):
    roles = user_roles(request.user)
    if MANAGER in roles or FINANCE in roles:
        return redirect("customers:dashboard")
    if REP in roles:
        return redirect("salesforce:rep_home")
    return render(request, "no_role.html", status=403)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def progress(request):
    """Recompute status of a period: 'computed at' and a progress bar while figures are stale."""
    period = period_get(name=request.GET.get("period"))
    status = computation_status(period=period) if period else None
    response = render(request, "partials/progress.html", {"status": status, "period": period})
    seen = request.GET.get("seen")
    if status and not status["stale"] and seen not in (None, "", str(status["version"])):
        # Figures changed since the page was drawn: sections listening for it refresh themselves.
        response["HX-Trigger"] = "figuresUpdated"
    return response
