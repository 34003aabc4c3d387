"""A small, hand-checkable data set built through the real import services.

Four customers over two fiscal years, two cost pools, invoices, a rep pair; recomputed in-process.
"""

from pathlib import Path

from django.db import transaction

CUSTOMERS = """external_id;name;status;industry;city
C1;Alpha BV;customer;bouw;Utrecht
C2;Beta BV;customer;horeca;Zwolle
C3;Gamma Prospect;prospect;zorg;Ede
C4;Delta BV;customer;retail;Gouda
C5;Epsilon BV;customer;bouw;Delft
"""

ORDERS = """order_id,customer_id,date,amount,cost,quantity,product,product_group
O1,C1,2024-03-01,1000.00,600,1,P1,G1
O1,C1,2024-03-01,500,300,2,P2,G1
O2,C2,2024-05-01,"250,50",100,1,P1,G1
O6,C5,2024-07-01,400,200,1,P2,G1
O3,C1,2025-02-01,2000,1000,1,P1,G1
O4,C4,2025-02-01,300,100,1,P2,G1
O5,C2,2025-06-01,-20,0,1,P1,G1
O7,C5,2025-03-01,150,50,1,P1,G1
O8,C5,2025-04-01,150,50,1,P1,G1
"""

COSTS = """period,pool,amount,key,nature
2025,Sales,900,per_customer,fixed
2025,Handling,300,orders,variable
2024,Sales,600,per_customer,fixed
"""

INVOICES = """customer_id,invoice_id,amount,issued,due,paid
C1,I1,2000,2025-02-01,2025-03-03,2025-04-02
C4,I2,300,2025-02-01,2025-03-03,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def build(tmp_path: Path, user=None) -> None:
    from config.eventbus import drain
    from config.intake import run_import

    for kind, text in (("customers", CUSTOMERS), ("orders", ORDERS), ("costs", COSTS), ("invoices", INVOICES)):
        with transaction.atomic():
            run_import(kind, write(tmp_path, f"{kind}.csv", text), acting_user=user)
    drain()
