"""Supply-chain finance: early payment of approved invoices by a financier (factoring) or by the buyer (dynamic
discounting), the assignment of the receivable, and the buyer's payment at maturity redirected to the financier."""
