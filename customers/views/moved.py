"""Addresses of pages that moved to an app above the core, kept so bookmarks keep working."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from config.roles import FINANCE, MANAGER, require_role


@login_required
@require_GET
def concentration_moved(request):
    """``/customers/concentration/``: the 80/20 page needs profit and lives in accounting now (issue 16).

    Checked like the page itself (managers and finance), so the old address tells nobody else more.
    The URL is reversed by name: the core does not import accounting.
    """
    require_role(request.user, MANAGER, FINANCE)
    query = request.META.get("QUERY_STRING", "")
    target = reverse("accounting:concentration")
    return redirect(f"{target}?{query}" if query else target, permanent=True)
