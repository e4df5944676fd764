"""Catalogue business operations, one module per use case; other packages call these, never the tables.

- ``classes``: browse the class tree and the attribute templates of its leaves;
- ``materials``: create, read, find by code (following merges), list, update with history;
- ``lifecycle``: draft → active → blocked → retired;
- ``attachments``: spec sheets, drawings, certificates in content-addressed storage;
- ``offers``: supplier offers with price breaks and stock;
- ``price_lists``: customer and contract prices between one supplier and one buyer;
- ``pricing``: the price engine (``price_for``) and the comparison of suppliers (``quotes_for``).
"""
