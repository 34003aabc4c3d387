"""Pages of the sales-force workflow, one module per page area: the rep's start page (home), visits,
visit effectiveness and norms, targets, bonus, the roll-up per rep and pair (reps) and one customer's
sales tab (customers); ``common`` holds what they share.

Each view: login, role check (``roles_required``, readable by the permission test through the
``required_roles`` attribute), parse input, call a selector or service, render the page or, for
htmx requests, one of its partials.
``salesforce_tasks.urls`` imports the modules themselves; nothing is re-exported here.
"""
