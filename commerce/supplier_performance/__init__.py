"""Supplier performance: scorecards (on-time delivery, quality, confirmation responsiveness, quotation response,
invoice accuracy, buyer reviews) weighted into a 0–100 score and a 1–5 star rating, per buyer and platform-wide.

Facts are read through one SECURITY DEFINER SQL function (migration 0140) that returns monthly aggregates only;
``scoring`` turns them into scores without I/O. See docs/supplier-performance.md and decision 0018.
"""
