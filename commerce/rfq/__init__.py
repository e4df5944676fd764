"""Requests for quotation (询价) and sealed quotations (报价): matching, Q&A, comparison and award."""
