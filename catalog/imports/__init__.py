"""Bulk import of materials, supplier offers and price lists from CSV and XLSX files (all-or-nothing per file)."""
