"""Pages of the customers app: dashboard, pyramid, migration, retention, 80/20, list, detail, import.

Every view parses its input, checks the role, calls a report builder or selector and renders a full
page, or a partial of the same template when htmx asks for one (``HX-Target`` names the section).
One module per page area; this package names the views the URLconf mounts.
"""

from .customer_list import customer_list
from .customer_page import customer_detail, customer_page_url, customer_tabs
from .dashboard import dashboard
from .imports import import_example, import_page, import_result_dict, run_uploaded_import
from .levels import level_customers_url, level_labels
from .migration import migration
from .moved import concentration_moved
from .pyramid import pyramid_page
from .retention import retention

__all__ = [
    "concentration_moved",
    "customer_detail",
    "customer_list",
    "customer_page_url",
    "customer_tabs",
    "dashboard",
    "import_example",
    "import_page",
    "import_result_dict",
    "level_customers_url",
    "level_labels",
    "migration",
    "pyramid_page",
    "retention",
    "run_uploaded_import",
]
