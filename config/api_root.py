"""``GET /api/v1/``: the list of endpoints, like DRF's browsable API root.

Built from the URL patterns mounted under /api/v1/ (config.urls.api_v1), so a new endpoint
appears here without anyone remembering to add it. Needs a login like every other endpoint.
"""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, prefix + route


def api_endpoints() -> list[tuple[str, str]]:
    """(name, path template under /api/v1/) of every named endpoint, in URL order, no formats."""
    from config.urls import api_v1

    seen: dict[str, str] = {}
    for name, route in _walk(api_v1):
        route = route.lstrip("^").rstrip("$")
        if "format" in route or route == "":
            continue
        seen.setdefault(name, _CONVERTER.sub(r"{\1}", route))
    return list(seen.items())


class ApiRootView(APIView):
    """The endpoints of this API: name -> URL (templates like ``{pk}`` for one object)."""

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="List of the API's endpoints")
    def get(self, request):
        base = reverse("api-root", request=request)
        return Response({name: base + route for name, route in api_endpoints()})
