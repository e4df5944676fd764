"""Reconciliation statements (对账单) between a supplier and a buyer per currency and period, from the journal."""
