"""Project-level error pages (400, 403, 404, 500): JSON under /api/, a page elsewhere.

The home page and the progress fragment read the core, so they live in ``customers.pages``.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _


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
