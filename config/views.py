"""Project-level pages: the home page per role and the recompute progress fragment."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.roles import FINANCE, MANAGER, REP, user_roles


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
    from customers.selectors import computation_status, period_get

    period = period_get(name=request.GET.get("period"))
    status = computation_status(period=period) if period else None
    response = render(request, "partials/progress.html", {"status": status, "period": period})
    seen = request.GET.get("seen")
    if status and not status["stale"] and seen not in (None, "", str(status["version"])):
        # Figures changed since the page was drawn: sections listening for it refresh themselves.
        response["HX-Trigger"] = "figuresUpdated"
    return response


def _api_or_page(request, status: int, message: str, template: str):
    from django.http import JsonResponse

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, template, {"message": message}, status=status)


def not_found(request, exception=None):
    return _api_or_page(request, 404, _("Not found."), "404.html")


def server_error(request):
    return _api_or_page(request, 500, _("Server error."), "500.html")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else _("You do not have permission for this page.")
    return _api_or_page(request, 403, message, "403.html")


def bad_request(request, exception=None):
    return _api_or_page(request, 400, _("Bad request."), "400.html")
