import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# A production release that skipped collectstatic would answer every page with a 500: refuse to boot.
from config.checks import require_static_manifest  # noqa: E402  (needs the apps loaded above)

require_static_manifest()
