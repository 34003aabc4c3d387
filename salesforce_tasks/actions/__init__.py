"""Actions on loss-making customers: the model, its services and selectors, the what-if, the board
(views, urls), the API (api, api_urls) and the "actions" report kind (reports).

Kept empty of imports: import the submodules directly (``from salesforce_tasks.actions import selectors``).
"""
