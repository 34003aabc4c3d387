"""Setting up and running the sales organisation: teams, reps, pairs, users and invitations,
portfolio handovers, the periods' life (open ahead, close, reopen), approvals and history.

The models stay in ``salesforce_tasks.models`` for now; who may do what is ``customers.policy``.
"""
