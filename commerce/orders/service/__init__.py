"""Purchase-order operations, one module per use case; other packages call these, never the tables.

- ``create``: ``create_order`` (prices agreed elsewhere: award, call-off) and ``create_order_from_cart``
  (prices from the catalogue's price engine);
- ``transitions``: submit, approve, reject approval, confirm (fully or partially), reject, production,
  shipping, receipt, close, cancel;
- ``changes``: change orders proposed by one party and accepted or declined by the other;
- ``queries``: one order with lines and timeline, lists, the approval queue and the supplier inbox;
- ``approval_rules``: the buyer's approval thresholds and cost-centre budgets.
"""
