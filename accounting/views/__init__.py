"""Pages of customer based accounting: cost pools (finance), profit (managers), the customer waterfall,
the 80/20 page.

Every view parses input, checks the role, calls a selector or service and renders a full page
or, for htmx, the partial named in its template (``"accounting/page.html#partial"``).
One module per page area; this package names the views the URLconf mounts.
"""

from .concentration import concentration
from .pools import (
    interest_rate_update,
    pool_create,
    pool_customer_options,
    pool_delete,
    pool_history,
    pool_preview,
    pool_revert,
    pool_update,
    pool_validate,
    pools,
)
from .profit import profit, profit_lossmaking
from .shared import customer_url, level_customers_url
from .waterfall import customer_waterfall
from .why import why_text

__all__ = [
    "concentration",
    "customer_url",
    "customer_waterfall",
    "interest_rate_update",
    "level_customers_url",
    "pool_create",
    "pool_customer_options",
    "pool_delete",
    "pool_history",
    "pool_preview",
    "pool_revert",
    "pool_update",
    "pool_validate",
    "pools",
    "profit",
    "profit_lossmaking",
    "why_text",
]
