"""Settlement: a double-entry journal per organization, invoices with China fapiao data and three-way match,
payment terms, bank transfer with statement reconciliation, and escrow (担保交易)."""
